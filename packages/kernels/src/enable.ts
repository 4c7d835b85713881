import {
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
  unregisterKernel,
} from '@tensorflow/tfjs-core';

import { fusedBatchNormGradConfig } from './batch_norm_grad';
import { conv2DBackpropFilterKernel, conv2DBackpropInputKernel } from './conv2d';
import { depthwiseBackpropFilterKernel, depthwiseBackpropInputKernel } from './depthwise';

/** Backends {@link enableFastKernels} knows how to speed up. */
export type FastKernelBackend = 'wasm' | 'cpu' | 'webgpu';

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

const ALL_BACKENDS: FastKernelBackend[] = ['wasm', 'cpu', 'webgpu'];

/** Kernels replaced on every backend, by name. */
const FAST_KERNELS: Record<string, (backendName: string) => KernelFunc> = {
  [Conv2DBackpropFilter]: conv2DBackpropFilterKernel as (b: string) => KernelFunc,
  [Conv2DBackpropInput]: conv2DBackpropInputKernel as (b: string) => KernelFunc,
  [DepthwiseConv2dNativeBackpropFilter]: depthwiseBackpropFilterKernel as (b: string) => KernelFunc,
  [DepthwiseConv2dNativeBackpropInput]: depthwiseBackpropInputKernel as (b: string) => KernelFunc,
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
 * stock filter gradients at all, so this is what lets it train. Globally: the
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
    for (const [kernelName, make] of Object.entries(FAST_KERNELS)) {
      const key = `${kernelName}/${backendName}`;
      if (!replacedKernels.has(key)) {
        const stock = getKernel(kernelName, backendName);
        replacedKernels.set(key, stock);
        if (stock != null) unregisterKernel(kernelName, backendName);
        registerKernel({ kernelName, backendName, kernelFunc: make(backendName) });
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
