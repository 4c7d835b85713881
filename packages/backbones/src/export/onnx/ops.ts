/**
 * tfjs computations as ONNX nodes (opset 17), shared by the layer converters: convolutions with tfjs
 * kernels, batch norm, dense, activations, TF's 'same' padding. Rank-4 values are NCHW in the graph.
 */
import { transpose, type Tensor } from '@tensorflow/tfjs-core';
import { int, ints, type GraphBuilder } from './graph.js';

/** A tensor's values (float32, optionally transposed by `perm`), read synchronously (export runs once, off the training path). */
export function values(t: Tensor, perm?: number[]): Float32Array {
  if (!perm) return t.dataSync() as Float32Array;
  // Not through tidy: it walks a returned typed array element by element (33 of 35 s of a ResNet-50 export).
  const p = transpose(t, perm);
  try {
    return p.dataSync() as Float32Array;
  } finally {
    p.dispose();
  }
}

/**
 * TF's 'same' padding of one spatial axis: output `ceil(size / stride)`, the extra pixel at the end.
 * @returns `[before, after]`.
 */
export function samePadding(size: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Geometry of a 2-D convolution or pooling window. */
export interface Window {
  kernel: [number, number];
  strides: [number, number];
  /** ONNX order `[top, left, bottom, right]`. */
  pads: [number, number, number, number];
  dilations?: [number, number];
}

/**
 * The window's pads for tfjs `padding` on a `[N, H, W, C]` input of known size.
 * @throws Error (through `fail`) when the spatial size is unknown and padding is 'same'.
 */
export function tfPads(padding: string, shape: readonly (number | null)[], kernel: [number, number], strides: [number, number], dilations: [number, number] = [1, 1]): [number, number, number, number] | null {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same') return null;
  const [h, w] = [shape[1], shape[2]];
  if (h == null || w == null) return null;
  const [t, b] = samePadding(h, kernel[0], strides[0], dilations[0]);
  const [l, r] = samePadding(w, kernel[1], strides[1], dilations[1]);
  return [t, l, b, r];
}

/**
 * `Conv` of an NCHW value with a tfjs kernel `[kH, kW, Cin/groups, Cout]` (→ ONNX `[Cout, Cin/groups, kH, kW]`)
 * and an optional bias `[Cout]`.
 */
export function conv(g: GraphBuilder, x: string, name: string, kernel: Tensor, bias: Tensor | null, w: Omit<Window, 'kernel'> & { groups?: number }): string {
  const [kh, kw, cinPerGroup, cout] = kernel.shape as [number, number, number, number];
  const k = g.float(`${name}.weight`, values(kernel, [3, 2, 0, 1]), [cout, cinPerGroup, kh, kw]);
  const inputs = [x, k];
  if (bias) inputs.push(g.float(`${name}.bias`, values(bias), [cout]));
  return g.op('Conv', inputs, name, {
    kernel_shape: ints([kh, kw]),
    strides: ints(w.strides),
    pads: ints(w.pads),
    dilations: ints(w.dilations ?? [1, 1]),
    group: int(w.groups ?? 1),
  });
}

/** A depthwise convolution with a tfjs depthwise kernel `[kH, kW, C, multiplier]` (→ ONNX `[C·multiplier, 1, kH, kW]`, `group = C`). */
export function depthwiseConv(g: GraphBuilder, x: string, name: string, kernel: Tensor, w: Omit<Window, 'kernel'>): string {
  const [kh, kw, c, m] = kernel.shape as [number, number, number, number];
  // ONNX output channel c·m + j reads input channel c with tfjs kernel [.., c, j].
  const k = g.float(`${name}.weight`, values(kernel, [2, 3, 0, 1]), [c * m, 1, kh, kw]);
  return g.op('Conv', [x, k], name, { kernel_shape: ints([kh, kw]), strides: ints(w.strides), pads: ints(w.pads), dilations: ints(w.dilations ?? [1, 1]), group: int(c) });
}

/** Inference batch norm over axis 1 (`BatchNormalization`, the moving statistics). */
export function batchNorm(g: GraphBuilder, x: string, name: string, v: { gamma: Tensor; beta: Tensor; mean: Tensor; variance: Tensor }, epsilon: number): string {
  const c = v.gamma.shape[0]!;
  const inputs = [
    g.float(`${name}.weight`, values(v.gamma), [c]),
    g.float(`${name}.bias`, values(v.beta), [c]),
    g.float(`${name}.running_mean`, values(v.mean), [c]),
    g.float(`${name}.running_var`, values(v.variance), [c]),
  ];
  return g.op('BatchNormalization', [x, ...inputs], name, { epsilon });
}

/** `x·kernel [+ bias]` of a `[N, in]` value with a tfjs kernel `[in, out]`. */
export function dense(g: GraphBuilder, x: string, name: string, kernel: Tensor, bias: Tensor | null): string {
  const [i, o] = kernel.shape as [number, number];
  const y = g.op('MatMul', [x, g.float(`${name}.weight`, values(kernel), [i, o])], `${name}_matmul`);
  return bias ? g.op('Add', [y, g.float(`${name}.bias`, values(bias), [o])], name) : y;
}

/** Per-channel (axis 1) `x · scale + shift` of an NCHW value, each `[C]` (dlib's affine layer). */
export function channelAffine(g: GraphBuilder, x: string, name: string, scale: Tensor, shift: Tensor): string {
  const c = scale.shape[0]!;
  const y = g.op('Mul', [x, g.float(`${name}.weight`, values(scale), [c, 1, 1])], `${name}_mul`);
  return g.op('Add', [y, g.float(`${name}.bias`, values(shift), [c, 1, 1])], name);
}

/** Activations tfjs serialises by these names, as ONNX ops over the last axis (`softmax`). */
const ACTIVATIONS: Record<string, ((g: GraphBuilder, x: string, name: string) => string) | null> = {
  linear: null,
  relu: (g, x, name) => g.op('Relu', [x], name),
  sigmoid: (g, x, name) => g.op('Sigmoid', [x], name),
  tanh: (g, x, name) => g.op('Tanh', [x], name),
  softmax: (g, x, name) => g.op('Softmax', [x], name, { axis: int(-1) }),
  elu: (g, x, name) => g.op('Elu', [x], name, { alpha: 1 }),
  softplus: (g, x, name) => g.op('Softplus', [x], name),
};

/**
 * Applies a tfjs activation by its serialised name (`'relu'`, `'linear'`, …).
 * @returns the output name, or `null` when the activation has no ONNX form here.
 */
export function activation(g: GraphBuilder, x: string, name: string, act: string, rank: number): string | null {
  if (!(act in ACTIVATIONS)) return null;
  // Softmax over channels of an NCHW value would be axis 1; only the [N, C] case (classifier heads) is supported.
  if (act === 'softmax' && rank !== 2) return null;
  const f = ACTIVATIONS[act];
  return f ? f(g, x, name) : x;
}

/** `Pad` (constant 0) of an NCHW value by ONNX pads `[top, left, bottom, right]` on H and W, and `[before, after]` on C. */
export function pad(g: GraphBuilder, x: string, name: string, spatial: [number, number, number, number], channels: [number, number] = [0, 0]): string {
  const [t, l, b, r] = spatial;
  return g.op('Pad', [x, g.int64(`${name}.pads`, [0, channels[0], t, l, 0, channels[1], b, r])], name, { mode: 'constant' });
}
