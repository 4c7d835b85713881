import { add, div, engine, mul, sqrt, square, type NamedAttrMap, type Tensor } from '@tensorflow/tfjs-core';

import { ADAM_UPDATE_ATTR_NAMES, LdlAdamUpdate, type AdamUpdateAttrs } from './kernel_names';
import { kernelsRegistered } from './op_utils';

/**
 * One Adam step for one variable, `tf.train.adam`'s formula in its order of operations:
 * `m' = β₁m + (1−β₁)g`, `v' = β₂v + (1−β₂)g²`, `value' = value − lr·(m'/c₁) / (√(v'/c₂) + ε)`.
 * Runs the {@link LdlAdamUpdate} kernel where the active backend registers it (`enableFastKernels()`:
 * webgpu, 3 dispatches instead of ~14 plus 6 scalar uploads; cpu, one loop), else the stock ops. No
 * gradient: an optimizer step is not differentiated (as tfjs's own optimizers).
 *
 * @param value the variable's value; `m`, `v`, `gradient` have its shape (float32).
 * @param attrs hyper-parameters and the two bias corrections (see {@link AdamUpdateAttrs}).
 * @returns `[value', m', v']`.
 * @throws Error when an attr is not a finite number or the shapes differ.
 */
export function adamUpdate(value: Tensor, m: Tensor, v: Tensor, gradient: Tensor, attrs: AdamUpdateAttrs): [Tensor, Tensor, Tensor] {
  const fn = 'adamUpdate';
  for (const name of ADAM_UPDATE_ATTR_NAMES) {
    const a = attrs[name];
    if (typeof a !== 'number' || !Number.isFinite(a)) throw new Error(`Error in ${fn}: attrs.${name} must be a finite number, but got ${String(a)}.`);
  }
  for (const [name, t] of [
    ['m', m],
    ['v', v],
    ['gradient', gradient],
  ] as const) {
    if (t.shape.join() !== value.shape.join()) {
      throw new Error(`Error in ${fn}: ${name} must have value's shape [${value.shape.join(', ')}], but got [${t.shape.join(', ')}].`);
    }
  }
  if (kernelsRegistered([LdlAdamUpdate])) {
    return engine().runKernel(LdlAdamUpdate, { value, m, v, gradient }, attrs as unknown as NamedAttrMap) as [Tensor, Tensor, Tensor];
  }
  const m2 = add(mul(m, attrs.beta1), mul(gradient, 1 - attrs.beta1));
  const v2 = add(mul(v, attrs.beta2), mul(square(gradient), 1 - attrs.beta2));
  const step = div(div(m2, attrs.correction1), add(sqrt(div(v2, attrs.correction2)), attrs.epsilon));
  return [add(mul(step, -attrs.learningRate), value), m2, v2];
}
