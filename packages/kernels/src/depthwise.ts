import {
  backend_util,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type KernelBackend,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

import { interleaveZeros, padOrCrop } from './conv2d';
import { withContext, type KernelContext } from './kernel_context';

/**
 * Filter gradient of a depthwise convolution, NHWC `x` `[N, H, W, C]` and `dy`
 * `[N, Ho, Wo, C·mult]` → `[kh, kw, C, mult]`, as one matMul batched over
 * channels: `[C, kh·kw, N·Ho·Wo] × [C, N·Ho·Wo, mult]`.
 */
export function depthwiseFilterGradNHWC(ctx: KernelContext, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const mult = info.outChannels / c;
  const m = n * ho * wo;
  const { top, left } = info.padInfo;
  const bottom = Math.max(0, (ho - 1) * sh + (kh - 1) * dh + 1 - top - h);
  const right = Math.max(0, (wo - 1) * sw + (kw - 1) * dw + 1 - left - w);
  const xt = ctx.transpose(x, [3, 0, 1, 2]);
  const xp = top > 0 || bottom > 0 || left > 0 || right > 0 ? ctx.pad(xt, [[0, 0], [0, 0], [top, bottom], [left, right]]) : xt;
  const taps: TensorInfo[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const tap = ctx.stridedSlice(xp, [0, 0, i * dh, j * dw], [c, n, i * dh + (ho - 1) * sh + 1, j * dw + (wo - 1) * sw + 1], [1, 1, sh, sw]);
      taps.push(ctx.reshape(tap, [c, 1, m]));
    }
  }
  const dyt = ctx.transpose(ctx.reshape(dy, [m, c, mult]), [1, 0, 2]);
  const g = ctx.matMul(ctx.concat(taps, 1), dyt);
  return ctx.reshape(ctx.transpose(g, [1, 0, 2]), [kh, kw, c, mult]);
}

/**
 * Input gradient of a depthwise convolution, NHWC `dy` `[N, Ho, Wo, C·mult]`
 * and `filter` `[kh, kw, C, mult]` → `[N, H, W, C]`: a stride-1 forward
 * depthwise convolution over `dy` with zeros interleaved for the stride and
 * the filter flipped, then a sum over the multiplier.
 */
export function depthwiseInputGradNHWC(ctx: KernelContext, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const mult = info.outChannels / c;
  const { top, left } = info.padInfo;
  const pt = (kh - 1) * dh - top;
  const pl = (kw - 1) * dw - left;
  const pb = h + (kh - 1) * dh - pt - ho * sh;
  const pr = w + (kw - 1) * dw - pl - wo * sw;
  const flipped = ctx.reshape(ctx.run('Reverse', { x: filter }, { dims: [0, 1] }), [kh, kw, c * mult, 1]);
  const cropped = padOrCrop(ctx, interleaveZeros(ctx, dy, sh, sw), Math.min(0, pt), Math.min(0, pb), Math.min(0, pl), Math.min(0, pr));
  const pad = [
    [0, 0],
    [Math.max(0, pt), Math.max(0, pb)],
    [Math.max(0, pl), Math.max(0, pr)],
    [0, 0],
  ];
  const r = ctx.run(
    'DepthwiseConv2dNative',
    { x: cropped, filter: flipped },
    { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [dh, dw], dimRoundingMode: undefined } as unknown as NamedAttrMap,
  );
  if (mult === 1) return r;
  return ctx.run('Sum', { x: ctx.reshape(r, [n, h, w, c, mult]) }, { axis: [4], keepDims: false });
}

/** Kernel function for `DepthwiseConv2dNativeBackpropFilter` on `backendName`. */
export function depthwiseBackpropFilterKernel(backendName: string) {
  return ({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: KernelBackend; attrs?: NamedAttrMap }) =>
    withContext(backendName, backend, (ctx) => {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
      const info = backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filterShape,
        strides,
        dilations,
        pad,
        dimRoundingMode,
        true,
      );
      return depthwiseFilterGradNHWC(ctx, x, dy, info);
    });
}

/** Kernel function for `DepthwiseConv2dNativeBackpropInput` on `backendName`. */
export function depthwiseBackpropInputKernel(backendName: string) {
  return ({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: KernelBackend; attrs?: NamedAttrMap }) =>
    withContext(backendName, backend, (ctx) => {
      const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
      const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
      const info = backend_util.computeConv2DInfo(
        inputShape,
        filter.shape as [number, number, number, number],
        strides,
        dilations,
        pad,
        dimRoundingMode,
        true,
      );
      return depthwiseInputGradNHWC(ctx, dy, filter, info);
    });
}
