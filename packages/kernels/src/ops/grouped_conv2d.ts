import {
  concat,
  conv2d,
  engine,
  pad as padOp,
  registerGradient,
  split,
  tidy,
  type GradConfig,
  type NamedAttrMap,
  type Tensor,
  type Tensor4D,
} from '@tensorflow/tfjs-core';

import {
  LdlGroupedConv2D,
  LdlGroupedConv2DBackpropFilter,
  LdlGroupedConv2DBackpropInput,
  type GroupedConv2DAttrs,
  type GroupedConv2DBackpropFilterAttrs,
  type GroupedConv2DBackpropInputAttrs,
} from './kernel_names';
import { kernelsRegistered } from './op_utils';

/** Options of {@link groupedConv2d}. */
export interface GroupedConv2dOptions {
  /** Number of groups; `in` and `out` channels must both be divisible by it. @default 1 */
  groups?: number;
  /** Stride `s` or `[sH, sW]`. @default 1 */
  strides?: number | [number, number];
  /**
   * Symmetric zero padding as in PyTorch's `padding`: `p` or `[pH, pW]` pixels on each side.
   * (TF's `'same'` pads stride-2 layers asymmetrically, which changes pretrained outputs.) @default 0
   */
  pad?: number | [number, number];
  /** Dilation `d` or `[dH, dW]`. @default 1 */
  dilations?: number | [number, number];
}

interface Geometry {
  n: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  groups: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  ho: number;
  wo: number;
}

const GROUPED_CONV_KERNELS = [LdlGroupedConv2D, LdlGroupedConv2DBackpropInput, LdlGroupedConv2DBackpropFilter] as const;

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

function geometry(x: Tensor4D, filter: Tensor4D, options: GroupedConv2dOptions): Geometry {
  const fn = 'groupedConv2d';
  if (x.rank !== 4) throw new Error(`Error in ${fn}: x must be rank 4 [N, H, W, C], but got shape [${x.shape.join(', ')}].`);
  if (filter.rank !== 4) {
    throw new Error(`Error in ${fn}: filter must be rank 4 [k, k, in/groups, out], but got shape [${filter.shape.join(', ')}].`);
  }
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`Error in ${fn}: groups must be a positive integer, but got ${groups}.`);
  const [n, h, w, cin] = x.shape;
  const [kh, kw, cg, cout] = filter.shape;
  if (cin % groups !== 0 || cin / groups !== cg) {
    throw new Error(`Error in ${fn}: filter.shape[2] must be in/groups = ${cin}/${groups}, but got ${cg}.`);
  }
  if (cout % groups !== 0) throw new Error(`Error in ${fn}: filter.shape[3] (out) must be divisible by groups = ${groups}, but got ${cout}.`);
  const [sh, sw] = pair(options.strides ?? 1);
  const [ph, pw] = pair(options.pad ?? 0);
  const [dh, dw] = pair(options.dilations ?? 1);
  for (const [name, v, min] of [
    ['strides', sh, 1],
    ['strides', sw, 1],
    ['dilations', dh, 1],
    ['dilations', dw, 1],
    ['pad', ph, 0],
    ['pad', pw, 0],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new Error(`Error in ${fn}: ${name} must be integers >= ${min}, but got ${v}.`);
  }
  const ho = Math.floor((h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const wo = Math.floor((w + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  if (ho < 1 || wo < 1) throw new Error(`Error in ${fn}: x spatial size must fit the kernel, but got ${h}x${w} for kernel ${kh}x${kw}.`);
  return { n, h, w, cin, cout, kh, kw, groups, sh, sw, ph, pw, dh, dw, ho, wo };
}

function padInput(x: Tensor4D, g: Geometry): Tensor4D {
  if (g.ph === 0 && g.pw === 0) return x;
  return padOp(x, [
    [0, 0],
    [g.ph, g.ph],
    [g.pw, g.pw],
    [0, 0],
  ]);
}

/**
 * The composite fallback: pad, split input and filter into `groups` parts, one stock `conv2d` each,
 * `concat`. It runs wherever `conv2d` runs and differentiates wherever `conv2d` does (as the dense
 * convolutions of the same network), and was within 2× of the fastest stock-op composite on cpu and wasm
 * and the fastest on webgpu (the strided-window + batchMatMul composite, the only one that
 * differentiates on stock wasm, was 2–12× slower forward; README of @ldl/kernels).
 */
function splitConv(x: Tensor4D, filter: Tensor4D, g: Geometry): Tensor4D {
  const xp = padInput(x, g);
  const conv = (xi: Tensor4D, fi: Tensor4D) => conv2d(xi, fi, [g.sh, g.sw], 'valid', 'NHWC', [g.dh, g.dw]);
  if (g.groups === 1) return conv(xp, filter);
  const xs = split(xp, g.groups, 3) as Tensor4D[];
  const fs = split(filter, g.groups, 3) as Tensor4D[];
  return concat(
    xs.map((xi, i) => conv(xi, fs[i]!)),
    3,
  );
}

/**
 * Grouped 2-D convolution (PyTorch `Conv2d(groups=G)`).
 *
 * Runs the {@link LdlGroupedConv2D} kernel where the active backend registers it and its two gradient
 * kernels (`enableFastKernels()`: a WebAssembly SIMD kernel on wasm and cpu, compute shaders on webgpu,
 * TensorFlow's grouped `Conv2D` on tfjs-node), else one composite of stock ops (one `conv2d` per
 * group, concatenated: differentiable where `conv2d` is, dilations 1 only, as tfjs's `conv2d`
 * gradient). One group is an ordinary `conv2d`.
 *
 * @param x input `[N, H, W, in]` (NHWC).
 * @param filter `[k_h, k_w, in/groups, out]` — PyTorch's `[out, in/groups, k_h, k_w]` transposed
 *   `(2, 3, 1, 0)`; output channel `o` reads input group `floor(o / (out/groups))`.
 * @param options groups, strides, symmetric padding, dilations (see {@link GroupedConv2dOptions}).
 * @returns `[N, Ho, Wo, out]` with `Ho = floor((H + 2p - d(k-1) - 1)/s) + 1`.
 * @throws Error when the shapes or options are inconsistent (named in the message).
 */
export function groupedConv2d(x: Tensor4D, filter: Tensor4D, options: GroupedConv2dOptions = {}): Tensor4D {
  const g = geometry(x, filter, options);
  if (g.groups === 1 || !kernelsRegistered(GROUPED_CONV_KERNELS)) return tidy(() => splitConv(x, filter, g));
  const attrs: GroupedConv2DAttrs = {
    strides: [g.sh, g.sw],
    pad: [
      [0, 0],
      [g.ph, g.ph],
      [g.pw, g.pw],
      [0, 0],
    ],
    dataFormat: 'NHWC',
    dilations: [g.dh, g.dw],
  };
  return engine().runKernel(LdlGroupedConv2D, { x, filter }, attrs as unknown as NamedAttrMap) as Tensor4D;
}

/** Gradient of {@link LdlGroupedConv2D}: its two backprop kernels, with the forward attrs. */
const groupedConv2dGradConfig: GradConfig = {
  kernelName: LdlGroupedConv2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, filter] = saved as [Tensor4D, Tensor4D];
    const forward = attrs as unknown as GroupedConv2DAttrs;
    const inputAttrs: GroupedConv2DBackpropInputAttrs = { ...forward, inputShape: x.shape };
    const filterAttrs: GroupedConv2DBackpropFilterAttrs = { ...forward, filterShape: filter.shape };
    return {
      x: () => engine().runKernel(LdlGroupedConv2DBackpropInput, { dy: dy as Tensor, filter }, inputAttrs as unknown as NamedAttrMap) as Tensor,
      filter: () => engine().runKernel(LdlGroupedConv2DBackpropFilter, { x, dy: dy as Tensor }, filterAttrs as unknown as NamedAttrMap) as Tensor,
    };
  },
};
registerGradient(groupedConv2dGradConfig);
