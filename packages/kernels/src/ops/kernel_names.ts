/**
 * The names, inputs and attrs of the kernels that @ldl's own ops run (tfjs-core's `kernel_names.ts`
 * pattern): every name is defined here once. The op functions (`./grouped_conv2d`,
 * `./batch_norm_training`, `./moving_average`, `./adam_update`) run these kernels where the active
 * backend registers them and their composite fallback elsewhere; `enableFastKernels()` registers
 * implementations of them for wasm, cpu, webgpu and tensorflow (tfjs-node).
 */
import type { backend_util, NamedTensorInfoMap } from '@tensorflow/tfjs-core';

/**
 * Grouped 2-D convolution (PyTorch `Conv2d(groups=G)`): `Conv2D`'s contract with a grouped filter
 * `[kh, kw, in/groups, out]` (as TensorFlow's own kernels take it), `groups = in / filter.shape[2]`.
 * Inputs {@link GroupedConv2DInputs}, attrs {@link GroupedConv2DAttrs}, output `[N, Ho, Wo, out]`.
 */
export const LdlGroupedConv2D = 'LdlGroupedConv2D';
/** Inputs of {@link LdlGroupedConv2D}: `x [N, H, W, in]`, `filter [kh, kw, in/groups, out]`. */
export type GroupedConv2DInputs = Pick<NamedTensorInfoMap, 'x' | 'filter'>;
/** Attrs of {@link LdlGroupedConv2D}: tfjs-core's `Conv2DAttrs`, NHWC only. */
export interface GroupedConv2DAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC';
  dilations: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Input gradient of {@link LdlGroupedConv2D}: inputs `{ dy, filter }`, attrs + `inputShape`, output `dx` `[N, H, W, in]`. */
export const LdlGroupedConv2DBackpropInput = 'LdlGroupedConv2DBackpropInput';
/** Inputs of {@link LdlGroupedConv2DBackpropInput}. */
export type GroupedConv2DBackpropInputInputs = Pick<NamedTensorInfoMap, 'dy' | 'filter'>;
/** Attrs of {@link LdlGroupedConv2DBackpropInput}. */
export interface GroupedConv2DBackpropInputAttrs extends GroupedConv2DAttrs {
  inputShape: [number, number, number, number];
}

/** Filter gradient of {@link LdlGroupedConv2D}: inputs `{ x, dy }`, attrs + `filterShape`, output `df` `[kh, kw, in/groups, out]`. */
export const LdlGroupedConv2DBackpropFilter = 'LdlGroupedConv2DBackpropFilter';
/** Inputs of {@link LdlGroupedConv2DBackpropFilter}. */
export type GroupedConv2DBackpropFilterInputs = Pick<NamedTensorInfoMap, 'x' | 'dy'>;
/** Attrs of {@link LdlGroupedConv2DBackpropFilter}. */
export interface GroupedConv2DBackpropFilterAttrs extends GroupedConv2DAttrs {
  filterShape: [number, number, number, number];
}

/**
 * Training-mode batch normalisation over every axis but the last (channels last): inputs
 * {@link BatchNormTrainingInputs}, attrs {@link BatchNormTrainingAttrs}, outputs
 * `[y (x's shape), mean [C], variance [C]]` with the batch mean and the biased batch variance (as
 * tfjs-layers' `BatchNormalization`), `y = γ·(x − mean)/√(variance + ε) + β`.
 */
export const LdlBatchNormTraining = 'LdlBatchNormTraining';
/** Inputs of {@link LdlBatchNormTraining}: `x [..., C]`, `gamma [C]`, `beta [C]`. */
export type BatchNormTrainingInputs = Pick<NamedTensorInfoMap, 'x' | 'gamma' | 'beta'>;
/** Attrs of {@link LdlBatchNormTraining} and {@link LdlBatchNormTrainingGrad}. */
export interface BatchNormTrainingAttrs {
  /** Added to the variance, ≥ 0. */
  epsilon: number;
}

/**
 * Gradient of {@link LdlBatchNormTraining}: inputs {@link BatchNormTrainingGradInputs}, attrs
 * {@link BatchNormTrainingAttrs}, outputs `[dx, dgamma, dbeta]` — the total derivative, the batch
 * statistics being functions of `x` (plus the terms of `dmean`/`dvariance`, the gradients reaching the
 * statistics outputs).
 */
export const LdlBatchNormTrainingGrad = 'LdlBatchNormTrainingGrad';
/** Inputs of {@link LdlBatchNormTrainingGrad}. */
export type BatchNormTrainingGradInputs = Pick<NamedTensorInfoMap, 'x' | 'dy' | 'gamma' | 'mean' | 'variance' | 'dmean' | 'dvariance'>;

/**
 * Moving-average update in the TF convention: inputs {@link MovingAverageInputs} (same shape,
 * float32), attrs {@link MovingAverageAttrs}, output `average − (average − value)·(1 − momentum)`
 * (float32 after each operation).
 */
export const LdlMovingAverage = 'LdlMovingAverage';
/** Inputs of {@link LdlMovingAverage}. */
export type MovingAverageInputs = Pick<NamedTensorInfoMap, 'average' | 'value'>;
/** Attrs of {@link LdlMovingAverage}. */
export interface MovingAverageAttrs {
  /** Weight of the old average, in [0, 1] (TF convention: PyTorch `momentum=0.1` is `0.9`). */
  momentum: number;
}

/**
 * One Adam step for one variable: inputs {@link AdamUpdateInputs} (same shape, float32), attrs
 * {@link AdamUpdateAttrs}, outputs `[value', m', v']` with `m' = β₁m + (1−β₁)g`,
 * `v' = β₂v + (1−β₂)g²`, `value' = value − lr·(m'/c₁) / (√(v'/c₂) + ε)` — tfjs's `AdamOptimizer`
 * formula, in its order of operations.
 */
export const LdlAdamUpdate = 'LdlAdamUpdate';
/** Inputs of {@link LdlAdamUpdate}. */
export type AdamUpdateInputs = Pick<NamedTensorInfoMap, 'value' | 'm' | 'v' | 'gradient'>;
/** The attr names of {@link LdlAdamUpdate}, in the order its implementations read them. */
export const ADAM_UPDATE_ATTR_NAMES = ['learningRate', 'beta1', 'beta2', 'epsilon', 'correction1', 'correction2'] as const;
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
