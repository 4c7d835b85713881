import {
  BatchMatMul,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  engine,
  FusedBatchNorm,
  getGradient,
  getKernel,
  type GradConfig,
  type KernelConfig,
  type KernelFunc,
  registerGradient,
  registerKernel,
  Slice,
  Unpack,
  unregisterKernel,
} from '@tensorflow/tfjs-core';

import { fusedBatchNormGradConfig } from './batch_norm_grad';
import { batchMatMulKernel } from './batch_matmul';
import { conv2DBackpropFilterKernel, conv2DBackpropInputKernel } from './conv2d';
import { depthwiseBackpropFilterKernel, depthwiseBackpropInputKernel } from './depthwise';
import { simplifiedSliceKernel, unpackKernel } from './slicing';

/** Backends {@link enableFastKernels} knows how to speed up. */
export type FastKernelBackend = 'wasm' | 'cpu' | 'webgpu';

const ALL_BACKENDS: readonly FastKernelBackend[] = ['wasm', 'cpu', 'webgpu'];

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
}

/** Kernels replaced, by name. */
const FAST_KERNELS: Record<string, FastKernel> = {
  [Conv2DBackpropFilter]: { backends: ALL_BACKENDS, make: (b) => conv2DBackpropFilterKernel(b) as KernelFunc },
  [Conv2DBackpropInput]: { backends: ALL_BACKENDS, make: (b) => conv2DBackpropInputKernel(b) as KernelFunc },
  [DepthwiseConv2dNativeBackpropFilter]: { backends: ALL_BACKENDS, make: (b) => depthwiseBackpropFilterKernel(b) as KernelFunc },
  [DepthwiseConv2dNativeBackpropInput]: { backends: ALL_BACKENDS, make: (b) => depthwiseBackpropInputKernel(b) as KernelFunc },
  // The JS row-copy kernels of wasm and cpu only (webgpu slices in a shader).
  [Slice]: {
    backends: ['wasm', 'cpu'],
    make: (b, stock) => {
      if (stock == null) throw new Error(`Error in enableFastKernels: backend ${b} must have a Slice kernel, but got none.`);
      return simplifiedSliceKernel(b, stock.kernelFunc) as KernelFunc;
    },
  },
  [Unpack]: { backends: ['wasm', 'cpu'], make: (b) => unpackKernel(b) as KernelFunc },
  [BatchMatMul]: {
    backends: ['wasm'],
    make: (b, stock) => {
      if (stock == null) throw new Error(`Error in enableFastKernels: backend ${b} must have a BatchMatMul kernel, but got none.`);
      return batchMatMulKernel(b, stock.kernelFunc) as KernelFunc;
    },
  },
};

/** Stock kernels replaced (undefined: the backend had none), keyed `'<kernel>/<backend>'`. */
const replacedKernels = new Map<string, KernelConfig | undefined>();
/** Stock gradients replaced, keyed by kernel name. */
const replacedGradients = new Map<string, GradConfig | undefined>();

function isRegistered(backendName: string): boolean {
  return engine().registryFactory[backendName] != null;
}

/**
 * Registers faster convolution-gradient kernels and a fused batch-norm
 * gradient: the one opt-in call of this package.
 *
 * On each backend: `Conv2DBackpropFilter`, `Conv2DBackpropInput` (matMuls of
 * strided slices and a stride-1 forward `Conv2D`), `DepthwiseConv2dNativeBackpropFilter`
 * and `DepthwiseConv2dNativeBackpropInput` (batched matMul, forward depthwise
 * convolution), all composed from kernels the backend already has; wasm has no
 * stock filter gradients at all, so this is what lets it train. On wasm and
 * cpu also `Slice` (axes merged so that rows are long) and `Unpack` (the
 * gradient of `stack`: one transpose, contiguous slices); on wasm `BatchMatMul`
 * (explicit transposes, one XNNPACK product per batch item). Globally: the
 * `FusedBatchNorm` gradient without `Tile`. Safe to call twice; undo with
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
      if (!fast.backends.includes(backendName)) continue;
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
  if (!replacedGradients.has(FusedBatchNorm)) {
    replacedGradients.set(FusedBatchNorm, getGradient(FusedBatchNorm));
    registerGradient(fusedBatchNormGradConfig);
  }
  registered.push(`${FusedBatchNorm}/gradient`);
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
