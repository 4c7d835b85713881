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

/** Inserts `sh - 1` zero rows after every row and `sw - 1` zero columns after every column of NHWC `x`. */
export function interleaveZeros(ctx: KernelContext, x: TensorInfo, sh: number, sw: number): TensorInfo {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const x6 = ctx.reshape(x, [n, h, 1, w, 1, c]);
  const padded = ctx.pad(x6, [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  return ctx.reshape(padded, [n, h * sh, w * sw, c]);
}

function isPointwise(info: backend_util.Conv2DInfo): boolean {
  const { filterHeight, filterWidth, padInfo } = info;
  return filterHeight === 1 && filterWidth === 1 && padInfo.top === 0 && padInfo.bottom === 0 && padInfo.left === 0 && padInfo.right === 0;
}

/**
 * Filter gradient of a 2-D convolution, NHWC `x` `[N, H, W, Ci]` and `dy`
 * `[N, Ho, Wo, Co]` → `[kh, kw, Ci, Co]`, as matMuls of strided slices of `x`
 * (im2col in `[K, N·Ho·Wo]` layout, so no transposed matMul is needed).
 */
export function conv2dFilterGradNHWC(ctx: KernelContext, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: ho, outWidth: wo, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const m = n * ho * wo;
  const dy3 = ctx.reshape(dy, [1, m, co]);
  if (isPointwise(info)) {
    const xs =
      h === ho && w === wo
        ? x
        : ctx.stridedSlice(x, [0, 0, 0, 0], [n, (ho - 1) * sh + 1, (wo - 1) * sw + 1, ci], [1, sh, sw, 1]);
    const xt = ctx.transpose(ctx.reshape(xs, [m, ci]), [1, 0]);
    const out = ctx.matMul(ctx.reshape(xt, [1, ci, m]), dy3);
    return ctx.reshape(out, [1, 1, ci, co]);
  }
  const { top, left } = info.padInfo;
  const bottom = Math.max(0, (ho - 1) * sh + (kh - 1) * dh + 1 - top - h);
  const right = Math.max(0, (wo - 1) * sw + (kw - 1) * dw + 1 - left - w);
  const xt = ctx.transpose(x, [3, 0, 1, 2]);
  const xp = top > 0 || bottom > 0 || left > 0 || right > 0 ? ctx.pad(xt, [[0, 0], [0, 0], [top, bottom], [left, right]]) : xt;
  const tap = (i: number, j: number) =>
    ctx.reshape(
      ctx.stridedSlice(xp, [0, 0, i * dh, j * dw], [ci, n, i * dh + (ho - 1) * sh + 1, j * dw + (wo - 1) * sw + 1], [1, 1, sh, sw]),
      [1, ci, m],
    );
  let grads: TensorInfo;
  if (ci >= PER_TAP_MIN_CHANNELS) {
    const parts: TensorInfo[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const t = tap(i, j);
        parts.push(ctx.matMul(t, dy3));
        ctx.free(t);
      }
    }
    grads = ctx.concat(parts, 1);
  } else {
    const taps: TensorInfo[] = [];
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) taps.push(tap(i, j));
    grads = ctx.matMul(ctx.concat(taps, 1), dy3);
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
    const wt = ctx.reshape(ctx.transpose(ctx.reshape(filter, [ci, co]), [1, 0]), [1, co, ci]);
    const r = ctx.reshape(ctx.matMul(ctx.reshape(dy, [1, n * ho * wo, co]), wt), [n, ho, wo, ci]);
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
