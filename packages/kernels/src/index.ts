/**
 * Faster training kernels for the TensorFlow.js wasm, cpu and webgpu backends —
 * convolution and depthwise gradients as matMuls, slicing and batched-matMul
 * kernels without the wasm slow paths, a `Tile`-free batch-norm gradient —
 * opted into with one call: {@link enableFastKernels}.
 *
 * @packageDocumentation
 */
export { enableFastKernels, disableFastKernels } from './enable';
export type { EnableFastKernelsOptions, EnableFastKernelsResult, FastKernelBackend } from './enable';
export { fusedBatchNormGradConfig } from './batch_norm_grad';
export { enableWasmThreads } from './wasm_threads';
export type { EnableWasmThreadsOptions } from './wasm_threads';
export { LdlBatchNormTraining, LdlBatchNormTrainingGrad } from './batch_norm_training';
export { groupedConvForward, groupedConvBackpropInput, groupedConvBackpropFilter, GROUPED_CONV_KERNEL } from './grouped_conv';
export type { GroupedConvGeometry } from './grouped_conv';
export { fusedAdam, FusedAdamOptimizer, LdlAdamUpdate } from './adam';
export type { AdamUpdateAttrs } from './adam';
export { LdlMovingAverage } from './moving_average';
