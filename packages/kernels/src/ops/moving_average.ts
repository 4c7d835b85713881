import { engine, mul, registerGradient, sub, type GradConfig, type NamedAttrMap, type Tensor } from '@tensorflow/tfjs-core';

import { LdlMovingAverage, type MovingAverageAttrs } from './kernel_names';
import { kernelsRegistered } from './op_utils';

/**
 * Moving-average update in the TF convention, `average − (average − value)·(1 − momentum)`: the
 * update of a batch norm's moving mean and variance (tfjs-layers' `BatchNormalization` order of
 * operations). Runs the {@link LdlMovingAverage} kernel where the active backend registers it
 * (`enableFastKernels()`: one kernel, on webgpu one dispatch without an uploaded scalar), else
 * three stock ops.
 *
 * @param average `[...]` float32, the current average.
 * @param value `[...]` float32, average's shape: the new observation.
 * @param momentum weight of the old average in [0, 1] (PyTorch `momentum=0.1` is `0.9` here).
 * @returns the new average, `average`'s shape.
 * @throws Error when `momentum` is outside [0, 1] or the shapes differ.
 */
export function movingAverage<T extends Tensor>(average: T, value: Tensor, momentum: number): T {
  const fn = 'movingAverage';
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) {
    throw new Error(`Error in ${fn}: momentum must be a number in [0, 1], but got ${String(momentum)}.`);
  }
  if (average.shape.join() !== value.shape.join()) {
    throw new Error(`Error in ${fn}: value must have average's shape [${average.shape.join(', ')}], but got [${value.shape.join(', ')}].`);
  }
  if (kernelsRegistered([LdlMovingAverage])) {
    const attrs: MovingAverageAttrs = { momentum };
    return engine().runKernel(LdlMovingAverage, { average, value }, attrs as unknown as NamedAttrMap) as T;
  }
  return sub(average, mul(sub(average, value), 1 - momentum));
}

/** Gradient of {@link LdlMovingAverage}: `∂/∂average = momentum`, `∂/∂value = 1 − momentum`. */
const movingAverageGradConfig: GradConfig = {
  kernelName: LdlMovingAverage,
  gradFunc: (dy: Tensor | Tensor[], _saved: Tensor[], attrs: NamedAttrMap) => {
    const { momentum } = attrs as unknown as MovingAverageAttrs;
    return { average: () => mul(dy as Tensor, momentum), value: () => mul(dy as Tensor, 1 - momentum) };
  },
};
registerGradient(movingAverageGradConfig);
