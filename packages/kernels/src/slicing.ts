import { type KernelBackend, type KernelFunc, type NamedAttrMap, slice_util, type SliceAttrs, type TensorInfo, type UnpackAttrs, util } from '@tensorflow/tfjs-core';

import { withContext } from './kernel_context';

/**
 * `Slice` with the geometry simplified first: axes of size 1 dropped and each
 * axis merged into the one before it where it is taken whole. The stock wasm
 * and cpu kernels copy one innermost row per JS call (and rank ≥ 5 element by
 * element), so `x[:, 1:17, 1:17, :]` of `[N, 18, 18, C]` costs `N·16·16` copies
 * of `C` floats, but only `N·16` copies of `16·C` floats once axes 2 and 3 are
 * merged.
 *
 * @param stock The backend's own `Slice` kernel, run on the simplified geometry.
 */
export function simplifiedSliceKernel(backendName: string, stock: KernelFunc) {
  return ({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: KernelBackend; attrs?: NamedAttrMap }) => {
    const x = inputs.x as TensorInfo;
    const { begin, size } = attrs as unknown as SliceAttrs;
    const [b, s] = slice_util.parseSliceParams(x, begin, size);
    const merged = mergeSliceAxes(x.shape, b, s);
    if (x.dtype === 'string' || merged.shape.length === x.shape.length) {
      return stock({ inputs: { x }, backend, attrs: { begin: b, size: s } });
    }
    return withContext(backendName, backend, (ctx) => {
      const xr = ctx.reshape(x, merged.shape);
      const out = stock({ inputs: { x: xr }, backend, attrs: { begin: merged.begin, size: merged.size } }) as TensorInfo;
      return ctx.reshape(ctx.adopt(out), s);
    });
  };
}

/** The equivalent slice of lowest rank (see {@link simplifiedSliceKernel}). */
export function mergeSliceAxes(shape: number[], begin: number[], size: number[]): { shape: number[]; begin: number[]; size: number[] } {
  const out = { shape: [] as number[], begin: [] as number[], size: [] as number[] };
  for (let i = 0; i < shape.length; i++) {
    const n = shape[i] as number;
    if (n === 1) continue;
    const last = out.shape.length - 1;
    // Axis i taken whole: fold it into the previous kept axis.
    if (last >= 0 && begin[i] === 0 && size[i] === n) {
      out.shape[last] = (out.shape[last] as number) * n;
      out.begin[last] = (out.begin[last] as number) * n;
      out.size[last] = (out.size[last] as number) * n;
      continue;
    }
    out.shape.push(n);
    out.begin.push(begin[i] as number);
    out.size.push(size[i] as number);
  }
  if (out.shape.length === 0) return { shape: [1], begin: [0], size: [1] };
  return out;
}

/**
 * `Unpack` (the gradient of `stack`) as one transpose that brings the unpacked
 * axis first, then one contiguous slice per output. The stock wasm kernel
 * slices each output directly, element by element for rank ≥ 5.
 */
export function unpackKernel(backendName: string) {
  return ({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: KernelBackend; attrs?: NamedAttrMap }) => {
    const value = inputs.value as TensorInfo;
    const rank = value.shape.length;
    const axis = ((attrs as unknown as UnpackAttrs).axis + rank) % rank;
    const count = value.shape[axis] as number;
    const outer = util.sizeFromShape(value.shape.slice(0, axis));
    const inner = util.sizeFromShape(value.shape.slice(axis + 1));
    const outShape = value.shape.filter((_, i) => i !== axis);
    return withContext(backendName, backend, (ctx) => {
      const major =
        outer === 1 ? ctx.reshape(value, [count, 1, inner]) : ctx.transpose(ctx.reshape(value, [outer, count, inner]), [1, 0, 2]);
      return Array.from({ length: count }, (_, i) => ctx.reshape(ctx.slice(major, [i, 0, 0], [1, outer, inner]), outShape));
    });
  };
}
