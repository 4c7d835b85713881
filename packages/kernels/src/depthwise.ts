import {
  backend_util,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type KernelBackend,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

import { convTaps, interleaveZeros, padOrCrop } from './conv2d';
import { withContext, type KernelContext } from './kernel_context';

/**
 * Filter gradient of a depthwise convolution, NHWC `x` `[N, H, W, C]` and `dy`
 * `[N, Ho, Wo, C·mult]` → `[kh, kw, C, mult]`, as one matMul batched over
 * channels: `[C, kh·kw, M'] × [C, M', mult]` with the taps of {@link convTaps}.
 */
export function depthwiseFilterGradNHWC(ctx: KernelContext, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { inChannels: c, filterHeight: kh, filterWidth: kw } = info;
  const mult = info.outChannels / c;
  const layout = convTaps(ctx, x, info);
  const m = layout.columns;
  const patches = ctx.concat(
    Array.from({ length: layout.count }, (_, t) => ctx.reshape(layout.tap(t), [c, 1, m])),
    1,
  );
  const dyt = ctx.transpose(ctx.reshape(layout.extendDy(dy), [m, c, mult]), [1, 0, 2]);
  const g = ctx.matMul(patches, dyt);
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
