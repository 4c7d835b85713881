import {
  batchNorm,
  engine,
  moments,
  registerGradient,
  tidy,
  type GradConfig,
  type NamedAttrMap,
  type Tensor,
  type Tensor1D,
} from '@tensorflow/tfjs-core';

import { LdlBatchNormTraining, LdlBatchNormTrainingGrad, type BatchNormTrainingAttrs } from './kernel_names';
import { kernelsRegistered } from './op_utils';

/** Outputs of {@link batchNormTraining}. */
export interface BatchNormTrainingResult<T extends Tensor> {
  /** `γ·(x − mean)/√(variance + ε) + β`, `x`'s shape. */
  y: T;
  /** Batch mean over every axis but the last, `[C]`. */
  mean: Tensor1D;
  /** Biased batch variance over every axis but the last (as tfjs-layers' `BatchNormalization`), `[C]`. */
  variance: Tensor1D;
}

/**
 * Training-mode batch normalisation over every axis but the last (channels last), returning the batch
 * statistics for the moving averages: tfjs-layers' `BatchNormalization` in training.
 *
 * Runs the {@link LdlBatchNormTraining} kernel where the active backend registers it and its gradient
 * kernel `LdlBatchNormTrainingGrad` (`enableFastKernels()`: two passes over `x` forward and two
 * backward instead of ~20 full-size ops), else `tf.moments` + `tf.batchNorm`. Both are differentiable
 * with respect to `x`, `gamma`, `beta` and through the returned statistics.
 *
 * @param x `[..., C]`, rank ≥ 2.
 * @param gamma scale `[C]`.
 * @param beta shift `[C]`.
 * @param epsilon added to the variance, ≥ 0 (PyTorch's default `1e-5`).
 * @throws Error when `x` has rank < 2, `gamma`/`beta` are not `[C]`, or `epsilon` is not a number ≥ 0.
 */
export function batchNormTraining<T extends Tensor>(x: T, gamma: Tensor1D, beta: Tensor1D, epsilon: number): BatchNormTrainingResult<T> {
  const fn = 'batchNormTraining';
  const c = x.shape[x.rank - 1] ?? 0;
  if (x.rank < 2 || c < 1) throw new Error(`Error in ${fn}: x must have rank >= 2 and channels last, but got shape [${x.shape.join(', ')}].`);
  for (const [name, v] of [
    ['gamma', gamma],
    ['beta', beta],
  ] as const) {
    if (v.rank !== 1 || v.shape[0] !== c) throw new Error(`Error in ${fn}: ${name} must have shape [${c}], but got [${v.shape.join(', ')}].`);
  }
  if (typeof epsilon !== 'number' || !(epsilon >= 0)) throw new Error(`Error in ${fn}: epsilon must be a number >= 0, but got ${String(epsilon)}.`);
  if (kernelsRegistered([LdlBatchNormTraining, LdlBatchNormTrainingGrad])) {
    const attrs: BatchNormTrainingAttrs = { epsilon };
    const [y, mean, variance] = engine().runKernel(LdlBatchNormTraining, { x, gamma, beta }, attrs as unknown as NamedAttrMap) as [T, Tensor1D, Tensor1D];
    return { y, mean, variance };
  }
  return tidy(() => {
    const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
    const { mean, variance } = moments(x, axes);
    const y = batchNorm(x, mean as Tensor1D, variance as Tensor1D, beta, gamma, epsilon) as T;
    return { y, mean: mean as Tensor1D, variance: variance as Tensor1D };
  });
}

/**
 * Gradient of {@link LdlBatchNormTraining}: one {@link LdlBatchNormTrainingGrad} kernel call, with
 * the gradients reaching the `mean` and `variance` outputs included (zeros where they feed nothing,
 * e.g. only the moving averages).
 */
const batchNormTrainingGradConfig: GradConfig = {
  kernelName: LdlBatchNormTraining,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [dy, dmean, dvariance] = dys as [Tensor, Tensor, Tensor];
    const [x, gamma, mean, variance] = saved as [Tensor, Tensor, Tensor, Tensor];
    const [dx, dgamma, dbeta] = engine().runKernel(LdlBatchNormTrainingGrad, { x, dy, gamma, mean, variance, dmean, dvariance }, attrs) as Tensor[];
    return { x: () => dx as Tensor, gamma: () => dgamma as Tensor, beta: () => dbeta as Tensor };
  },
};
registerGradient(batchNormTrainingGradConfig);
