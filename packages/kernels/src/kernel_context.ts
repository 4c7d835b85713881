import { getKernel, type KernelBackend, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';

/**
 * Runs other kernels of one backend from inside a kernel function and frees
 * every intermediate it created, except the tensors handed back by
 * {@link KernelContext.finish}.
 *
 * Kernels are looked up at call time through `getKernel(name, backendName)`, so
 * a composed kernel uses whatever implementation is registered when it runs
 * (including another fast kernel of this package).
 */
export class KernelContext {
  private readonly temporaries: TensorInfo[] = [];

  /**
   * @param backendName Name the backend is registered under (`'wasm'`, `'cpu'`, `'webgpu'`, ...).
   * @param backend The backend instance the kernel function received.
   */
  constructor(
    readonly backendName: string,
    readonly backend: KernelBackend,
  ) {}

  /** Runs kernel `name` and records its output as an intermediate. */
  run(name: string, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = getKernel(name, this.backendName);
    if (kernel == null) {
      throw new Error(`Error in @ldl/kernels: kernel '${name}' must be registered for backend '${this.backendName}', but got none.`);
    }
    const out = kernel.kernelFunc({ inputs: inputs as Record<string, TensorInfo>, backend: this.backend, attrs });
    if (Array.isArray(out)) {
      throw new Error(`Error in @ldl/kernels: kernel '${name}' must return one tensor, but got ${out.length}.`);
    }
    this.temporaries.push(out);
    return out;
  }

  /** `Reshape` of `x` to `shape` (shares the data; freed like any intermediate). */
  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  /** `Transpose` of `x` by `perm`. */
  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /** Zero padding of `x` by `paddings` (`[before, after]` per axis). */
  pad(x: TensorInfo, paddings: [number, number][]): TensorInfo {
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  /** `Slice` of `x` from `begin` with `size`. */
  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  /** Strided slice `x[begin:end:strides]` (plain `Slice` where all strides are 1). */
  stridedSlice(x: TensorInfo, begin: number[], end: number[], strides: number[]): TensorInfo {
    if (strides.every((s) => s === 1)) {
      return this.slice(
        x,
        begin,
        end.map((e, i) => e - (begin[i] ?? 0)),
      );
    }
    return this.run(
      'StridedSlice',
      { x },
      { begin, end, strides, beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 },
    );
  }

  /** `Concat` of `xs` along `axis`; a single input is returned as is. */
  concat(xs: TensorInfo[], axis: number): TensorInfo {
    if (xs.length === 1) return xs[0] as TensorInfo;
    return this.run('Concat', xs, { axis });
  }

  /** `BatchMatMul` of rank-3 `a` `[B, M, K]` and `b` `[B, K, N]` (no transposes: they are slow paths on wasm). */
  matMul(a: TensorInfo, b: TensorInfo): TensorInfo {
    return this.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
  }

  /** Frees intermediate `t` now (to lower peak memory) instead of at {@link KernelContext.finish}. */
  free(t: TensorInfo): void {
    const i = this.temporaries.indexOf(t);
    if (i < 0) throw new Error('Error in @ldl/kernels: free() must be given an intermediate of this kernel, but got another tensor.');
    this.temporaries.splice(i, 1);
    this.backend.disposeData(t.dataId);
  }

  /** Records `t`, made by a kernel function called directly, as an intermediate. */
  adopt(t: TensorInfo): TensorInfo {
    this.temporaries.push(t);
    return t;
  }

  /**
   * Frees every intermediate except `results` and returns them (each a new
   * reference where it is one of the kernel's inputs).
   */
  finishAll(results: TensorInfo[]): TensorInfo[] {
    // A kernel must hand back tensors it owns: an input passed through gets its own reference.
    const outs = results.map((r) => (this.temporaries.includes(r) ? r : this.reshape(r, r.shape)));
    for (const t of this.temporaries) {
      if (!outs.includes(t)) this.backend.disposeData(t.dataId);
    }
    this.temporaries.length = 0;
    return outs;
  }

  /** {@link KernelContext.finishAll} for one result. */
  finish(result: TensorInfo): TensorInfo {
    return this.finishAll([result])[0] as TensorInfo;
  }

  /** Frees every intermediate (used when a kernel throws). */
  disposeAll(): void {
    for (const t of this.temporaries) this.backend.disposeData(t.dataId);
    this.temporaries.length = 0;
  }
}

/** Runs `body` with a fresh {@link KernelContext}, freeing intermediates on success and on error. */
export function withContext(backendName: string, backend: KernelBackend, body: (ctx: KernelContext) => TensorInfo): TensorInfo;
export function withContext(backendName: string, backend: KernelBackend, body: (ctx: KernelContext) => TensorInfo[]): TensorInfo[];
export function withContext(
  backendName: string,
  backend: KernelBackend,
  body: (ctx: KernelContext) => TensorInfo | TensorInfo[],
): TensorInfo | TensorInfo[] {
  const ctx = new KernelContext(backendName, backend);
  let result: TensorInfo | TensorInfo[];
  try {
    result = body(ctx);
  } catch (e) {
    ctx.disposeAll();
    throw e;
  }
  return Array.isArray(result) ? ctx.finishAll(result) : ctx.finish(result);
}
