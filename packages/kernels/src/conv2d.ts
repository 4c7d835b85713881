import {
  backend_util,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  type KernelBackend,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

import { withContext, type KernelContext } from './kernel_context';

/**
 * Input channels from which the filter gradient of a k×k convolution runs one
 * matMul per filter tap instead of one matMul over all taps: the im2col
 * matrix of all taps would be k² times the input, which does not fit the wasm
 * heap for ResNe(X)t stages at 224 px and batch 32.
 */
const PER_TAP_MIN_CHANNELS = 64;

/** Pads (positive entries) and crops (negative entries) axes 1 and 2 of NHWC `x`. */
export function padOrCrop(ctx: KernelContext, x: TensorInfo, top: number, bottom: number, left: number, right: number): TensorInfo {
  let out = x;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [n, h, w, c] = out.shape as [number, number, number, number];
    const t = Math.max(0, -top);
    const l = Math.max(0, -left);
    out = ctx.slice(out, [0, t, l, 0], [n, h - t - Math.max(0, -bottom), w - l - Math.max(0, -right), c]);
  }
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    out = ctx.pad(out, [
      [0, 0],
      [Math.max(0, top), Math.max(0, bottom)],
      [Math.max(0, left), Math.max(0, right)],
      [0, 0],
    ]);
  }
  return out;
}

/**
 * Inserts `sh - 1` zero rows after every row and `sw - 1` zero columns after
 * every column of NHWC `x`, with two rank-4 pads (webgpu's `Pad` shader does
 * not compile for rank 6).
 */
export function interleaveZeros(ctx: KernelContext, x: TensorInfo, sh: number, sw: number): TensorInfo {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape as [number, number, number, number];
  let out = x;
  if (sw > 1) {
    const cols = ctx.pad(ctx.reshape(out, [n * h, w, 1, c]), [
      [0, 0],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]);
    out = ctx.reshape(cols, [n, h, w * sw, c]);
  }
  if (sh > 1) {
    const rows = ctx.pad(ctx.reshape(out, [n, h, 1, w * sw * c]), [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
    ]);
    out = ctx.reshape(rows, [n, h * sh, w * sw, c]);
  }
  return out;
}

function isPointwise(info: backend_util.Conv2DInfo): boolean {
  const { filterHeight, filterWidth, padInfo } = info;
  return filterHeight === 1 && filterWidth === 1 && padInfo.top === 0 && padInfo.bottom === 0 && padInfo.left === 0 && padInfo.right === 0;
}

/**
 * The k×k taps of a convolution's input as `[C, M']` matrices, for filter
 * gradients. `x` (NHWC, padded) is split into its `s×s` stride phases; in each
 * phase `[C, N·Hq·Wq]` (channels first, flattened) the tap at offset `(i', j')`
 * is ONE contiguous slice starting at `i'·Wq + j'`: output `(n, r, q)` of the
 * flattened `Hq×Wq` grid reads `x` at `(n, s·(r+i')+a, s·(q+j')+b)`. Grid
 * points outside the real `Ho×Wo` output read garbage and are cancelled by
 * zero rows of {@link TapLayout.extendDy}. Slicing rows or strided elements
 * instead is what makes the obvious im2col slow on wasm (a JS copy per row).
 */
export interface TapLayout {
  /** Number of taps (`kh·kw`). */
  count: number;
  /** `M' = N·Hq·Wq`, the columns of every tap. */
  columns: number;
  /** Tap `t` as `[C, M']`, taps in filter order `(i, j)` row-major; made on demand. */
  tap: (t: number) => TensorInfo;
  /** Frees tap `t`'s own memory (a no-op where the tap is a whole phase, shared). */
  release: (tap: TensorInfo) => void;
  /** `dy` `[N, Ho, Wo, Co]` → `[M', Co]` with zeros at the garbage grid points. */
  extendDy: (dy: TensorInfo) => TensorInfo;
}

/** Splits NHWC `x` into the taps of `info`'s convolution (see {@link TapLayout}). */
export function convTaps(ctx: KernelContext, x: TensorInfo, info: backend_util.Conv2DInfo): TapLayout {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const hq = ho + Math.floor(((kh - 1) * dh) / sh);
  const wq = wo + Math.floor(((kw - 1) * dw) / sw);
  const m = n * hq * wq;
  // Pad (or crop) x to exactly sh·hq × sw·wq pixels so that each phase is hq × wq.
  const xp = padOrCrop(ctx, x, top, sh * hq - top - h, left, sw * wq - left - w);
  const maxOffset = Math.floor(((kh - 1) * dh) / sh) * wq + Math.floor(((kw - 1) * dw) / sw);
  const phases = new Map<string, TensorInfo>();
  const phase = (a: number, b: number): TensorInfo => {
    const key = `${a},${b}`;
    let flat = phases.get(key);
    if (flat == null) {
      let p = xp;
      if (sh > 1) p = ctx.slice(ctx.reshape(p, [n, hq, sh, sw * wq * c]), [0, 0, a, 0], [n, hq, 1, sw * wq * c]);
      if (sw > 1) p = ctx.slice(ctx.reshape(p, [n * hq, wq, sw * c]), [0, 0, b * c], [n * hq, wq, c]);
      const cm = ctx.transpose(ctx.reshape(p, [m, c]), [1, 0]);
      flat = maxOffset > 0 ? ctx.pad(cm, [[0, 0], [0, maxOffset]]) : cm;
      phases.set(key, flat);
    }
    return flat;
  };
  const tap = (t: number) => {
    const i = Math.floor(t / kw);
    const j = t % kw;
    const flat = phase((i * dh) % sh, (j * dw) % sw);
    const offset = Math.floor((i * dh) / sh) * wq + Math.floor((j * dw) / sw);
    return maxOffset === 0 ? flat : ctx.slice(flat, [0, offset], [c, m]);
  };
  const release = (t: TensorInfo) => {
    if (maxOffset > 0) ctx.free(t);
  };
  const extendDy = (dy: TensorInfo) => {
    const co = dy.shape[3] as number;
    const ext = hq > ho || wq > wo ? ctx.pad(dy, [[0, 0], [0, hq - ho], [0, wq - wo], [0, 0]]) : dy;
    return ctx.reshape(ext, [m, co]);
  };
  return { count: kh * kw, columns: m, tap, release, extendDy };
}

/**
 * Filter gradient of a 2-D convolution, NHWC `x` `[N, H, W, Ci]` and `dy`
 * `[N, Ho, Wo, Co]` → `[kh, kw, Ci, Co]`: `patchesᵀ · dy` with the patches
 * built by {@link convTaps}, as one matMul, or one per tap where the patches
 * would be large.
 */
export function conv2dFilterGradNHWC(ctx: KernelContext, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { inChannels: ci, outChannels: co, filterHeight: kh, filterWidth: kw } = info;
  const layout = convTaps(ctx, x, info);
  const m = layout.columns;
  const dyExt = ctx.reshape(layout.extendDy(dy), [1, m, co]);
  const taps = Array.from({ length: layout.count }, (_, t) => t);
  let grads: TensorInfo;
  if (ci >= PER_TAP_MIN_CHANNELS && layout.count > 1) {
    const parts = taps.map((t) => {
      const tap = layout.tap(t);
      const part = ctx.matMul(ctx.reshape(tap, [1, ci, m]), dyExt);
      layout.release(tap);
      return part;
    });
    grads = ctx.concat(parts, 1);
  } else {
    grads = ctx.matMul(ctx.reshape(ctx.concat(taps.map(layout.tap), 0), [1, kh * kw * ci, m]), dyExt);
  }
  return ctx.reshape(grads, [kh, kw, ci, co]);
}

/**
 * Input gradient of a 2-D convolution, NHWC `dy` `[N, Ho, Wo, Co]` and
 * `filter` `[kh, kw, Ci, Co]` → `[N, H, W, Ci]`: a matMul for 1×1 filters,
 * otherwise a stride-1 forward `Conv2D` (with the forward dilation) over `dy`
 * with zeros interleaved for the stride, and the filter flipped and transposed.
 */
export function conv2dInputGradNHWC(ctx: KernelContext, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: ho, outWidth: wo, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  if (isPointwise(info)) {
    const m = n * ho * wo;
    let r: TensorInfo;
    if (ctx.backendName === 'wasm' && 2 * m < ci) {
      // dxᵀ = W·dyᵀ: XNNPACK packs its right operand on every call (the filter changes every training
      // step), so pack the small dyᵀ [co, M] instead of transposing and packing the big filter.
      const dyT = ctx.reshape(ctx.transpose(ctx.reshape(dy, [m, co]), [1, 0]), [1, co, m]);
      const rT = ctx.matMul(ctx.reshape(filter, [1, ci, co]), dyT);
      r = ctx.reshape(ctx.transpose(ctx.reshape(rT, [ci, m]), [1, 0]), [n, ho, wo, ci]);
    } else {
      const wt = ctx.reshape(ctx.transpose(ctx.reshape(filter, [ci, co]), [1, 0]), [1, co, ci]);
      r = ctx.reshape(ctx.matMul(ctx.reshape(dy, [1, m, co]), wt), [n, ho, wo, ci]);
    }
    if (sh === 1 && sw === 1 && h === ho && w === wo) return r;
    return padOrCrop(ctx, interleaveZeros(ctx, r, sh, sw), 0, h - ho * sh, 0, w - wo * sw);
  }
  const { top, left } = info.padInfo;
  const dyd = interleaveZeros(ctx, dy, sh, sw);
  const pt = (kh - 1) * dh - top;
  const pl = (kw - 1) * dw - left;
  const pb = h + (kh - 1) * dh - pt - ho * sh;
  const pr = w + (kw - 1) * dw - pl - wo * sw;
  const flipped = ctx.transpose(ctx.run('Reverse', { x: filter }, { dims: [0, 1] }), [0, 1, 3, 2]);
  // Crop first where a pad is negative; the remaining (non-negative) pads go to Conv2D itself.
  const cropped = padOrCrop(ctx, dyd, Math.min(0, pt), Math.min(0, pb), Math.min(0, pl), Math.min(0, pr));
  const pad = [
    [0, 0],
    [Math.max(0, pt), Math.max(0, pb)],
    [Math.max(0, pl), Math.max(0, pr)],
    [0, 0],
  ];
  return ctx.run(
    'Conv2D',
    { x: cropped, filter: flipped },
    { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [dh, dw], dimRoundingMode: undefined } as unknown as NamedAttrMap,
  );
}

function toNHWC(ctx: KernelContext, t: TensorInfo, dataFormat: string): TensorInfo {
  return dataFormat === 'NCHW' ? ctx.transpose(t, [0, 2, 3, 1]) : t;
}

/** Kernel function for `Conv2DBackpropFilter` on `backendName`. */
export function conv2DBackpropFilterKernel(backendName: string) {
  return ({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: KernelBackend; attrs?: NamedAttrMap }) =>
    withContext(backendName, backend, (ctx) => {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
      const xh = toNHWC(ctx, x, dataFormat);
      const dyh = toNHWC(ctx, dy, dataFormat);
      const info = backend_util.computeConv2DInfo(
        xh.shape as [number, number, number, number],
        filterShape,
        strides,
        1,
        pad,
        dimRoundingMode,
        false,
        'channelsLast',
      );
      return conv2dFilterGradNHWC(ctx, xh, dyh, info);
    });
}

/** Kernel function for `Conv2DBackpropInput` on `backendName`. */
export function conv2DBackpropInputKernel(backendName: string) {
  return ({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: KernelBackend; attrs?: NamedAttrMap }) =>
    withContext(backendName, backend, (ctx) => {
      const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
      const [n, a, b, c] = inputShape;
      const xShape: [number, number, number, number] = dataFormat === 'NCHW' ? [n, b, c, a] : [n, a, b, c];
      const info = backend_util.computeConv2DInfo(
        xShape,
        filter.shape as [number, number, number, number],
        strides,
        1,
        pad,
        dimRoundingMode,
        false,
        'channelsLast',
      );
      const dx = conv2dInputGradNHWC(ctx, toNHWC(ctx, dy, dataFormat), filter, info);
      return dataFormat === 'NCHW' ? ctx.transpose(dx, [0, 3, 1, 2]) : dx;
    });
}
