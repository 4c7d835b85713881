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
 * The ops alone, without the kernels and the Node set-up, are the browser-safe entry `@ldl/kernels/ops`
 * (what `@ldl/backbones` imports).
 *
 * @module @ldl/kernels
 */
export * from './ops/index';
export { enableFastKernels, disableFastKernels } from './enable';
export type { EnableFastKernelsOptions, EnableFastKernelsResult, FastKernelBackend } from './enable';
export { fusedBatchNormGradConfig } from './batch_norm_grad';
export { enableWasmThreads } from './wasm_threads';
export type { EnableWasmThreadsOptions } from './wasm_threads';
export { groupedConvForward, groupedConvBackpropInput, groupedConvBackpropFilter } from './grouped_conv';
export type { GroupedConvGeometry } from './grouped_conv';
export { fusedAdam, FusedAdamOptimizer } from './fused_adam';
export { installDawnWebgpu, type InstallDawnWebgpuOptions, type DawnAdapterInfo } from './dawn';
