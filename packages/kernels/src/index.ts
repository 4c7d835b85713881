/**
 * Fast convolution gradients and a fused batch-norm gradient for the
 * TensorFlow.js wasm, cpu and webgpu backends, opted into with one call:
 * {@link enableFastKernels}.
 *
 * @packageDocumentation
 */
export { enableFastKernels, disableFastKernels } from './enable';
export type { EnableFastKernelsOptions, EnableFastKernelsResult, FastKernelBackend } from './enable';
export { fusedBatchNormGradConfig } from './batch_norm_grad';
