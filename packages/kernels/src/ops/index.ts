/**
 * `@ldl/kernels/ops`: @ldl's custom ops alone, in tfjs-core's pattern — each runs its kernel (names
 * defined once, in `kernel_names.ts`) where the active backend registers it, else one composite of stock
 * ops, and registers its gradient on import. Browser-safe: no kernels, no Node API. `@ldl/backbones`
 * imports its ops from here; `enableFastKernels()` of the root entry registers the faster implementations.
 *
 * @module @ldl/kernels/ops
 */
export { groupedConv2d, type GroupedConv2dOptions } from './grouped_conv2d';
export { batchNormTraining, type BatchNormTrainingResult } from './batch_norm_training';
export { movingAverage } from './moving_average';
export { adamUpdate } from './adam_update';
export {
  LdlGroupedConv2D,
  LdlGroupedConv2DBackpropInput,
  LdlGroupedConv2DBackpropFilter,
  LdlBatchNormTraining,
  LdlBatchNormTrainingGrad,
  LdlMovingAverage,
  LdlAdamUpdate,
  type GroupedConv2DInputs,
  type GroupedConv2DAttrs,
  type GroupedConv2DBackpropInputInputs,
  type GroupedConv2DBackpropInputAttrs,
  type GroupedConv2DBackpropFilterInputs,
  type GroupedConv2DBackpropFilterAttrs,
  type BatchNormTrainingInputs,
  type BatchNormTrainingAttrs,
  type BatchNormTrainingGradInputs,
  type MovingAverageInputs,
  type MovingAverageAttrs,
  type AdamUpdateInputs,
  type AdamUpdateAttrs,
} from './kernel_names';
