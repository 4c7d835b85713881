import {
  BatchMatMul,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  engine,
  getGradient,
  getKernel,
  type GradConfig,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
  registerGradient,
  registerKernel,
  Slice,
  Step,
  Unpack,
  unregisterKernel,
} from '@tensorflow/tfjs-core';

import { adamUpdateKernel, adamUpdateWebGpu } from './adam';
import { fusedBatchNormGradConfig } from './batch_norm_grad';
import { batchNormTrainingGradKernel, batchNormTrainingKernel } from './batch_norm_training';
import { batchMatMulKernel } from './batch_matmul';
import { conv2DBackpropFilterKernel, conv2DBackpropInputKernel } from './conv2d';
import type { FusedAdamOptimizer } from './fused_adam';
import { groupedConvKernel, groupedConvTensorflowKernel } from './grouped_conv';
import { movingAverageKernel, movingAverageWebGpu } from './moving_average';
import {
  LdlAdamUpdate,
  LdlBatchNormTraining,
  LdlBatchNormTrainingGrad,
  LdlGroupedConv2D,
  LdlGroupedConv2DBackpropFilter,
  LdlGroupedConv2DBackpropInput,
  LdlMovingAverage,
} from './ops/kernel_names';
import { depthwiseBackpropFilterKernel, depthwiseBackpropInputKernel } from './depthwise';
import { simplifiedSliceKernel, unpackKernel } from './slicing';
import { batchNormTrainingGradTensorflow, batchNormTrainingTensorflow, stepTensorflow } from './tensorflow';
import { batchNormTrainingGradWebgpu, batchNormTrainingWebgpu } from './webgpu_batch_norm';

/** Backends {@link enableFastKernels} knows how to speed up (`tensorflow`: tfjs-node). */
export type FastKernelBackend = 'wasm' | 'cpu' | 'webgpu' | 'tensorflow';

const ALL_BACKENDS: readonly FastKernelBackend[] = ['wasm', 'cpu', 'webgpu', 'tensorflow'];

/** Options of {@link enableFastKernels}. */
export interface EnableFastKernelsOptions {
  /**
   * Backends to register the fast kernels for; backends in the list whose
   * factory is not registered with tfjs are skipped.
   * @default every one of `'wasm'`, `'cpu'`, `'webgpu'` that is registered
   */
  backends?: FastKernelBackend[];
}

/** What {@link enableFastKernels} changed. */
export interface EnableFastKernelsResult {
  /** `'<KernelName>/<backend>'` for each kernel registered, plus `'<KernelName>/gradient'` for gradients. */
  registered: string[];
}


/** A replacement kernel: the backends it is for and how to make it (from the stock kernel, if any). */
interface FastKernel {
  backends: readonly FastKernelBackend[];
  make: (backendName: string, stock: KernelConfig | undefined) => KernelFunc;
  /** Whether to register it on a backend of the list after all (default: yes). */
  applies?: (backendName: string) => boolean;
}

/**
 * Not on tfjs-node-gpu: cuDNN's fused batch norm keeps the inverse standard deviation and its own
 * third reserve space between forward and backward, which the `LdlBatchNormTraining` contract
 * (batch mean and variance) does not carry; only TensorFlow's CPU kernels were checked.
 */
function notTensorflowGpu(backendName: string): boolean {
  if (backendName !== 'tensorflow') return true;
  return (engine().findBackend('tensorflow') as { isUsingGpuDevice?: boolean } | null)?.isUsingGpuDevice !== true;
}

function requireStock(backendName: string, kernelName: string, stock: KernelConfig | undefined): KernelConfig {
  if (stock == null) throw new Error(`Error in enableFastKernels: backend ${backendName} must have a ${kernelName} kernel, but got none.`);
  return stock;
}

/** True where a strided k×k gradient is better left to webgpu's own shader (measured on an H200: bench/results). */
function stridedSpatial(inputs: NamedTensorInfoMap, attrs: NamedAttrMap | undefined): boolean {
  const { strides } = attrs as unknown as { strides: number | [number, number] };
  const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
  const filter = inputs.filter as TensorInfo | undefined;
  const spatial = filter == null || filter.shape[0] !== 1 || filter.shape[1] !== 1;
  return (sh > 1 || sw > 1) && spatial;
}

/** `fast`, except where `useStock` says the backend's own kernel is faster. */
function withStockFallback(fast: KernelFunc, stock: KernelConfig | undefined, useStock: typeof stridedSpatial): KernelFunc {
  if (stock == null) return fast;
  return (args) => (useStock(args.inputs, args.attrs) ? stock.kernelFunc(args) : fast(args));
}

/**
 * Kernels replaced, by name, with the backends each is faster on (per
 * `bench/kernels_check.ts`: on cpu only the filter gradient beats the stock JS
 * loops; on webgpu strided k×k input gradients and depthwise input gradients
 * stay with the stock shaders).
 */
const FAST_KERNELS: Record<string, FastKernel> = {
  [Conv2DBackpropFilter]: { backends: ['wasm', 'cpu', 'webgpu'], make: (b) => conv2DBackpropFilterKernel(b) as KernelFunc },
  // webgpu: its own shader for strided k×k. Not cpu: its stock JS loops beat the composed kernel.
  [Conv2DBackpropInput]: {
    backends: ['wasm', 'webgpu'],
    make: (b, stock) => {
      const composed = conv2DBackpropInputKernel(b) as KernelFunc;
      return b === 'webgpu' ? withStockFallback(composed, stock, stridedSpatial) : composed;
    },
  },
  [DepthwiseConv2dNativeBackpropFilter]: {
    backends: ['wasm', 'webgpu'],
    make: (b, stock) => withStockFallback(depthwiseBackpropFilterKernel(b) as KernelFunc, b === 'webgpu' ? stock : undefined, stridedSpatial),
  },
  [DepthwiseConv2dNativeBackpropInput]: { backends: ['wasm'], make: (b) => depthwiseBackpropInputKernel(b) as KernelFunc },
  // The JS row-copy kernels of wasm and cpu only (webgpu slices in a shader).
  [Slice]: { backends: ['wasm', 'cpu'], make: (b, stock) => simplifiedSliceKernel(b, requireStock(b, Slice, stock).kernelFunc) as KernelFunc },
  [Unpack]: { backends: ['wasm', 'cpu'], make: (b) => unpackKernel(b) as KernelFunc },
  [BatchMatMul]: { backends: ['wasm'], make: (b, stock) => batchMatMulKernel(b, requireStock(b, BatchMatMul, stock).kernelFunc) as KernelFunc },
  // The kernels of this package's ops (./ops): grouped convolution (the SIMD module on wasm and cpu, compute
  // shaders on webgpu, TensorFlow's grouped Conv2D kernels on tfjs-node) …
  ...groupedConvKernels(),
  // … training-mode batch norm in one pass pair.
  // tfjs-node: TensorFlow's own fused training batch norm and its gradient.
  [LdlBatchNormTraining]: {
    backends: ['wasm', 'cpu', 'webgpu', 'tensorflow'],
    make: (b) => (b === 'tensorflow' ? batchNormTrainingTensorflow : b === 'webgpu' ? batchNormTrainingWebgpu : batchNormTrainingKernel),
    applies: notTensorflowGpu,
  },
  [LdlBatchNormTrainingGrad]: {
    backends: ['wasm', 'cpu', 'webgpu', 'tensorflow'],
    make: (b) => (b === 'tensorflow' ? batchNormTrainingGradTensorflow : b === 'webgpu' ? batchNormTrainingGradWebgpu : batchNormTrainingGradKernel),
    applies: notTensorflowGpu,
  },
  // One Adam step per variable (the adamUpdate op, FusedAdamOptimizer): three shaders on webgpu, one JS loop on cpu (13× its stock ops).
  // Not wasm: its stock XNNPACK ops on 2 threads beat one JS loop (79 vs 173 ms for 12.4M parameters).
  [LdlAdamUpdate]: { backends: ['cpu', 'webgpu'], make: (b) => (b === 'webgpu' ? adamUpdateWebGpu : adamUpdateKernel) },
  // The batch norms' moving averages (the movingAverage op): one kernel instead of three ops.
  [LdlMovingAverage]: { backends: ['wasm', 'cpu', 'webgpu'], make: (b) => (b === 'webgpu' ? movingAverageWebGpu : movingAverageKernel) },
  // tfjs-node's Step (the ReLU gradient's mask) is seven TensorFlow ops; two do.
  [Step]: { backends: ['tensorflow'], make: (b, stock) => stepTensorflow(requireStock(b, Step, stock).kernelFunc) },
};

/** {@link LdlGroupedConv2D} and its two gradient kernels on wasm, cpu, webgpu and tensorflow. */
function groupedConvKernels(): Record<string, FastKernel> {
  const names = [LdlGroupedConv2D, LdlGroupedConv2DBackpropInput, LdlGroupedConv2DBackpropFilter];
  return Object.fromEntries(
    names.map((name): [string, FastKernel] => [
      name,
      { backends: ['wasm', 'cpu', 'webgpu', 'tensorflow'], make: (b) => (b === 'tensorflow' ? groupedConvTensorflowKernel(name) : groupedConvKernel(name, b as 'wasm' | 'cpu' | 'webgpu')) },
    ]),
  );
}

/** Stock kernels replaced (undefined: the backend had none), keyed `'<kernel>/<backend>'`. */
const replacedKernels = new Map<string, KernelConfig | undefined>();
/** Stock gradients replaced, keyed by kernel name. */
const replacedGradients = new Map<string, GradConfig | undefined>();

function isRegistered(backendName: string): boolean {
  return engine().registryFactory[backendName] != null;
}

/**
 * Registers faster convolution, grouped-convolution and batch-norm kernels:
 * the one opt-in call of this package.
 *
 * `Conv2DBackpropFilter` (matMuls of contiguous tap slices) on wasm, cpu and
 * webgpu; `Conv2DBackpropInput` (matMul, or a stride-1 forward `Conv2D`) and
 * `DepthwiseConv2dNativeBackpropFilter` (batched matMul) on wasm and webgpu;
 * `DepthwiseConv2dNativeBackpropInput` (forward depthwise convolution) on
 * wasm — all composed from kernels the backend already has, and registered
 * only where they beat the stock kernel. wasm has no stock filter gradients at
 * all, so this is what lets it train. On wasm and
 * cpu also `Slice` (axes merged so that rows are long) and `Unpack` (the
 * gradient of `stack`: one transpose, contiguous slices); on wasm `BatchMatMul`
 * (explicit transposes, one XNNPACK product per batch item). The kernels of
 * this package's ops (`groupedConv2d`, `batchNormTraining`, `movingAverage`,
 * `adamUpdate`, whose names are in `./ops/kernel_names`):
 * `LdlGroupedConv2D` and its two gradients (a WebAssembly SIMD kernel on wasm
 * and cpu, WGSL compute shaders on webgpu, TensorFlow's grouped `Conv2D`
 * kernels on tfjs-node); `LdlBatchNormTraining` / `LdlBatchNormTrainingGrad`
 * (training-mode batch norm with its statistics and total gradient fused; the
 * SIMD module on wasm and cpu, four WGSL compute shaders each on webgpu,
 * TensorFlow's fused ops on tfjs-node's CPU build); `LdlMovingAverage` (one
 * kernel instead of three ops); `LdlAdamUpdate` (one Adam step of one
 * variable; webgpu and cpu), which {@link FusedAdamOptimizer} runs. On
 * tfjs-node a two-op `Step` for the ReLU mask. Globally: the `FusedBatchNorm`
 * gradient without `Tile`. Safe to call twice; undo with
 * {@link disableFastKernels}.
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * import { enableFastKernels } from '@ldl/kernels';
 * enableFastKernels({ backends: ['wasm'] });
 * ```
 */
export function enableFastKernels(options: EnableFastKernelsOptions = {}): EnableFastKernelsResult {
  const requested = options.backends ?? ALL_BACKENDS;
  for (const b of requested) {
    if (!ALL_BACKENDS.includes(b)) {
      throw new Error(`Error in enableFastKernels: backends must contain only ${ALL_BACKENDS.join(', ')}, but got ${String(b)}.`);
    }
  }
  const registered: string[] = [];
  for (const backendName of requested.filter(isRegistered)) {
    for (const [kernelName, fast] of Object.entries(FAST_KERNELS)) {
      if (!fast.backends.includes(backendName) || fast.applies?.(backendName) === false) continue;
      const key = `${kernelName}/${backendName}`;
      if (!replacedKernels.has(key)) {
        const stock = getKernel(kernelName, backendName);
        const kernelFunc = fast.make(backendName, stock);
        replacedKernels.set(key, stock);
        if (stock != null) unregisterKernel(kernelName, backendName);
        // The stock kernel's setup (e.g. wasm's cwrap of its C function) still runs: the replacement may call it.
        registerKernel({ kernelName, backendName, kernelFunc, setupFunc: stock?.setupFunc, disposeFunc: stock?.disposeFunc });
      }
      registered.push(key);
    }
  }
  const config = fusedBatchNormGradConfig;
  if (!replacedGradients.has(config.kernelName)) {
    replacedGradients.set(config.kernelName, getGradient(config.kernelName));
    registerGradient(config);
  }
  registered.push(`${config.kernelName}/gradient`);
  return { registered };
}

/** Restores every kernel and gradient {@link enableFastKernels} replaced. */
export function disableFastKernels(): void {
  for (const [key, stock] of replacedKernels) {
    const [kernelName, backendName] = key.split('/') as [string, string];
    unregisterKernel(kernelName, backendName);
    if (stock != null) registerKernel(stock);
  }
  replacedKernels.clear();
  // tfjs has no unregisterGradient: where there was no stock gradient, the fast one stays.
  for (const stock of replacedGradients.values()) {
    if (stock != null) registerGradient(stock);
  }
  replacedGradients.clear();
}
