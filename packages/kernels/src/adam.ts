import {
  AdamOptimizer,
  add,
  div,
  engine,
  getBackend,
  getKernel,
  mul,
  scalar,
  sqrt,
  square,
  tidy,
  zerosLike,
  type KernelBackend,
  type KernelFunc,
  type Tensor,
  type TensorInfo,
  type Variable,
} from '@tensorflow/tfjs-core';

import { sameShapeFloat32 } from './checks';
import { allocFloat32, readFloat32 } from './wasm_module';
import { runWgsl, type WgslKernel, type WgslUniform } from './webgpu_program';

/**
 * Kernel name of one Adam step for one variable: inputs `{ value, m, v, gradient }` (same shape,
 * float32), attrs {@link AdamUpdateAttrs}, outputs `[value', m', v']` with
 * `m' = β₁m + (1−β₁)g`, `v' = β₂v + (1−β₂)g²`,
 * `value' = value − lr·(m'/c₁) / (√(v'/c₂) + ε)` — tfjs's `AdamOptimizer` formula, in its order of
 * operations. Run by {@link FusedAdamOptimizer} where the backend registers it.
 */
export const LdlAdamUpdate = 'LdlAdamUpdate';

/** Attrs of {@link LdlAdamUpdate}. */
export interface AdamUpdateAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Bias correction of the first moment, `1 − β₁ᵗ` (t = 1 at the first step). */
  correction1: number;
  /** Bias correction of the second moment, `1 − β₂ᵗ`. */
  correction2: number;
}

const ATTR_NAMES = ['learningRate', 'beta1', 'beta2', 'epsilon', 'correction1', 'correction2'] as const;
const INPUT_NAMES = ['value', 'm', 'v', 'gradient'] as const;
type Inputs = Record<(typeof INPUT_NAMES)[number], TensorInfo>;

function checked(inputs: Partial<Inputs>, attrs: Partial<AdamUpdateAttrs>): { t: Inputs; a: AdamUpdateAttrs } {
  const fn = LdlAdamUpdate;
  const t = sameShapeFloat32(fn, inputs, INPUT_NAMES);
  for (const name of ATTR_NAMES) {
    const v = attrs[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`Error in ${fn}: attrs.${name} must be a finite number, but got ${String(v)}.`);
  }
  return { t, a: attrs as AdamUpdateAttrs };
}

/** {@link LdlAdamUpdate} for backends whose tensors live in JS or wasm memory (registered on cpu): one loop, writing the outputs in place. */
export const adamUpdateKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { t, a } = checked(inputs as Partial<Inputs>, attrs as Partial<AdamUpdateAttrs>);
  const b = backend as KernelBackend;
  const outputs = allocFloat32(b, t.value.shape, 3);
  const [x2, m2, v2] = outputs.views as [Float32Array, Float32Array, Float32Array];
  const [x, m, v, g] = INPUT_NAMES.map((name) => readFloat32(LdlAdamUpdate, b, t[name])) as ArrayLike<number>[] as [
    ArrayLike<number>,
    ArrayLike<number>,
    ArrayLike<number>,
    ArrayLike<number>,
  ];
  // Rounded to float32 after every operation, as tfjs's elementwise kernels do: the same values as its Adam.
  const f = Math.fround;
  const [lr, b1, b2, eps, c1, c2] = ATTR_NAMES.map((k) => f(a[k])) as [number, number, number, number, number, number];
  const [ob1, ob2] = [f(1 - a.beta1), f(1 - a.beta2)];
  for (let i = 0; i < x2.length; i++) {
    const gi = g[i]!;
    const mi = f(f(m[i]! * b1) + f(gi * ob1));
    const vi = f(f(v[i]! * b2) + f(f(gi * gi) * ob2));
    m2[i] = mi;
    v2[i] = vi;
    x2[i] = f(f(f(f(mi / c1) / f(f(Math.sqrt(f(vi / c2))) + eps)) * -lr) + x[i]!);
  }
  return outputs.finish();
};

/** The shaders' names of {@link ATTR_NAMES}, in that order. */
const SHADER_SCALARS = ['lr', 'b1', 'b2', 'eps', 'c1', 'c2'] as const;

/** The three webgpu shaders (value', m', v'), each reading only what it needs (an unread input would be a binding the pipeline lacks). */
function adamShader(output: 'value' | 'm' | 'v'): WgslKernel {
  const mNew = 'let mNew = m[index] * uniforms.b1 + g * (1.0 - uniforms.b1);';
  const vNew = 'let vNew = v[index] * uniforms.b2 + (g * g) * (1.0 - uniforms.b2);';
  const { inputs, lets, result } = {
    value: {
      inputs: INPUT_NAMES,
      lets: `${mNew} ${vNew}`,
      result: 'value[index] + (mNew / uniforms.c1) / (sqrt(vNew / uniforms.c2) + uniforms.eps) * (-uniforms.lr)',
    },
    m: { inputs: ['m', 'gradient'], lets: mNew, result: 'mNew' },
    v: { inputs: ['v', 'gradient'], lets: vNew, result: 'vNew' },
  }[output];
  return {
    name: `adam_update_${output}`,
    inputs,
    uniforms: [...SHADER_SCALARS.map((name): WgslUniform => ({ name, type: 'f32' })), { name: 'count', type: 'i32' }],
    workgroupSize: 256,
    body: `
  fn main(index : i32) {
    if (index >= uniforms.count) { return; }
    let g = gradient[index];
    ${lets}
    setOutputAtIndex(index, ${result});
  }`,
  };
}

const ADAM_SHADERS = [adamShader('value'), adamShader('m'), adamShader('v')] as const;

/** {@link LdlAdamUpdate} on webgpu: three elementwise dispatches, the scalars as uniforms (no uploads). */
export const adamUpdateWebGpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const { t, a } = checked(inputs as Partial<Inputs>, attrs as Partial<AdamUpdateAttrs>);
  const shape = t.value.shape;
  const n = shape.reduce((p, q) => p * q, 1);
  const values = [...ATTR_NAMES.map((k) => a[k]), n];
  return ADAM_SHADERS.map((k) => runWgsl(backend as KernelBackend, k, k.inputs.map((name) => t[name as keyof Inputs]), shape, n, values));
};

/**
 * {@link LdlAdamUpdate} as stock ops, in `tf.train.adam`'s order of operations: the update where the
 * backend registers no kernel but per-variable learning rates are needed.
 */
function adamUpdateOps(value: Tensor, m: Tensor, v: Tensor, gradient: Tensor, a: AdamUpdateAttrs): [Tensor, Tensor, Tensor] {
  const m2 = add(mul(m, a.beta1), mul(gradient, 1 - a.beta1));
  const v2 = add(mul(v, a.beta2), mul(square(gradient), 1 - a.beta2));
  const step = div(div(m2, a.correction1), add(sqrt(div(v2, a.correction2)), a.epsilon));
  return [add(mul(step, -a.learningRate), value), m2, v2];
}

/** `Optimizer.applyGradients`' argument (tfjs-core does not export these types from its index). */
type VariableGradients = Parameters<AdamOptimizer['applyGradients']>[0];

/** AdamOptimizer's own state, read here to update it in place (checkpoints stay interchangeable). */
interface AdamState {
  accBeta1: Variable;
  accBeta2: Variable;
  accumulatedFirstMoment: { originalName: string; variable: Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: Variable }[];
}

/**
 * tfjs's `AdamOptimizer` (same hyper-parameters, state, `getWeights`/`setWeights` and checkpoints)
 * whose update runs one {@link LdlAdamUpdate} kernel per variable where the current backend
 * registers it (`enableFastKernels()`: webgpu — 3 dispatches a variable instead of ~14 plus 6 scalar
 * uploads — and cpu, one JS loop), and the stock update elsewhere (wasm, whose stock ops are faster
 * than a JS loop; tfjs-node).
 */
export class FusedAdamOptimizer extends AdamOptimizer {
  /**
   * Learning-rate multipliers by variable name (PyTorch parameter groups: e.g. 0.03 for a pretrained
   * backbone, 1 for a new head); variables not listed use 1. Empty: every variable at `learningRate`.
   */
  lrScales: ReadonlyMap<string, number> = new Map();

  /** The current base learning rate. */
  getLearningRate(): number {
    return this.learningRate;
  }

  /**
   * Sets the base learning rate for the next steps (a schedule), keeping the moments and step count.
   * @throws Error when `lr` is not a finite number ≥ 0.
   */
  setLearningRate(lr: number): void {
    if (!(Number.isFinite(lr) && lr >= 0)) throw new Error(`Error in FusedAdamOptimizer.setLearningRate: lr must be a finite number ≥ 0, but got ${lr}.`);
    this.learningRate = lr;
  }

  override applyGradients(variableGradients: VariableGradients): void {
    const fused = getKernel(LdlAdamUpdate, getBackend()) != null;
    if (!fused && this.lrScales.size === 0) {
      super.applyGradients(variableGradients);
      return;
    }
    const state = this as unknown as AdamState;
    if (!Array.isArray(state.accumulatedFirstMoment) || !Array.isArray(state.accumulatedSecondMoment) || state.accBeta1 == null) {
      throw new Error('Error in FusedAdamOptimizer: tfjs AdamOptimizer must keep accBeta1 and accumulatedFirst/SecondMoment, but this version does not.');
    }
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    // accBeta1 = β₁ᵗ at step t = iterations + 1, as AdamOptimizer keeps (and setWeights restores) it.
    const t = this.iterations + 1;
    const attrs: AdamUpdateAttrs = {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      correction1: 1 - this.beta1 ** t,
      correction2: 1 - this.beta2 ** t,
    };
    tidy(() => {
      names.forEach((name, i) => {
        const value = engine().registeredVariables[name];
        if (value == null) throw new Error(`Error in FusedAdamOptimizer: variable ${name} must be registered, but got none.`);
        state.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tidy(() => zerosLike(value).variable(false)) };
        state.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tidy(() => zerosLike(value).variable(false)) };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        const m = state.accumulatedFirstMoment[i]!.variable;
        const v = state.accumulatedSecondMoment[i]!.variable;
        const scaled = { ...attrs, learningRate: attrs.learningRate * (this.lrScales.get(name) ?? 1) };
        const [value2, m2, v2] = fused
          ? (engine().runKernel(LdlAdamUpdate, { value, m, v, gradient }, scaled as unknown as Record<string, number>) as Tensor[])
          : adamUpdateOps(value, m, v, gradient, scaled);
        m.assign(m2!);
        v.assign(v2!);
        value.assign(value2!);
      });
      state.accBeta1.assign(scalar(this.beta1 ** (t + 1)));
      state.accBeta2.assign(scalar(this.beta2 ** (t + 1)));
    });
    this.incrementIterations();
  }
}

/**
 * `tf.train.adam` with the fused update of {@link FusedAdamOptimizer}.
 *
 * @param learningRate @default 0.001
 * @param beta1 @default 0.9
 * @param beta2 @default 0.999
 * @param epsilon @default tfjs's backend epsilon (1e-7 for float32)
 */
export function fusedAdam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number): FusedAdamOptimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
