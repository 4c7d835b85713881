/**
 * `@ldl/kernels`: @ldl's custom ops and faster TensorFlow.js training kernels.
 *
 * - The ops (tfjs-core's pattern): {@link groupedConv2d}, {@link batchNormTraining},
 *   {@link movingAverage}, {@link adamUpdate}. Each runs its kernel (names in one module,
 *   `LdlGroupedConv2D`, …) where the active backend registers it, else one composite of stock ops,
 *   and registers its gradient on import.
 * - The kernels: {@link enableFastKernels} registers implementations of those kernels and faster
 *   stock-kernel replacements (convolution and depthwise gradients as matMuls, slicing and
 *   batched-matMul kernels without the wasm slow paths, a `Tile`-free batch-norm gradient) on wasm,
 *   cpu, webgpu and tfjs-node.
 * - Backend set-up in Node: {@link enableWasmThreads}, {@link installDawnWebgpu}.
 *
 * @module @ldl/kernels
 */
export { groupedConv2d, type GroupedConv2dOptions } from './ops/grouped_conv2d';
export { batchNormTraining, type BatchNormTrainingResult } from './ops/batch_norm_training';
export { movingAverage } from './ops/moving_average';
export { adamUpdate } from './ops/adam_update';
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
} from './ops/kernel_names';
export { enableFastKernels, disableFastKernels } from './enable';
export type { EnableFastKernelsOptions, EnableFastKernelsResult, FastKernelBackend } from './enable';
export { fusedBatchNormGradConfig } from './batch_norm_grad';
export { enableWasmThreads } from './wasm_threads';
export type { EnableWasmThreadsOptions } from './wasm_threads';
export { groupedConvForward, groupedConvBackpropInput, groupedConvBackpropFilter } from './grouped_conv';
export type { GroupedConvGeometry } from './grouped_conv';
export { fusedAdam, FusedAdamOptimizer } from './fused_adam';
export { installDawnWebgpu, type InstallDawnWebgpuOptions, type DawnAdapterInfo } from './dawn';
