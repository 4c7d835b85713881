/**
 * One converter per layer class: the layer's inference computation as ONNX nodes (opset 17). Rank-4 values
 * are NCHW in the graph (their tfjs shapes, `[N, H, W, C]`, travel beside them for padding arithmetic);
 * other ranks are as in tfjs. A setting with no converter here is an error, never skipped.
 */
import type { serialization, Tensor } from '@tensorflow/tfjs-core';
import type { layers } from '@tensorflow/tfjs-layers';
import { AdaptiveAvgPool2D } from '../../layers/adaptive_avg_pool.js';
import { BasicBlock } from '../../layers/basic_block.js';
import { BatchNorm } from '../../layers/batch_norm.js';
import { Bottleneck } from '../../layers/bottleneck.js';
import type { LayerShape } from '../../layers/common.js';
import { GroupedConv2D } from '../../layers/grouped_conv2d_layer.js';
import type { ResNetBlock } from '../../layers/resnet_block.js';
import { ResizeBilinear } from '../../layers/resize.js';
import { SqueezeExcite } from '../../layers/squeeze_excite.js';
import { DlibConv, DlibResidual } from '../../models/face_recognition_net.js';
import { int, ints, type GraphBuilder } from './graph.js';
import { activation, batchNorm, channelAffine, conv, dense, depthwiseConv, pad, tfPads, values } from './ops.js';

/** A value of the graph: its ONNX name and its tfjs (channels-last) shape. */
export interface OnnxValue {
  name: string;
  shape: LayerShape;
}

/** What a converter gets for one application of one layer. */
export interface LayerConversion {
  g: GraphBuilder;
  layer: InstanceType<typeof layers.Layer>;
  /** The layer's inputs. */
  inputs: OnnxValue[];
  /** Node and value name prefix (the layer's name, made unique by the walker for nested models). */
  name: string;
  /** The layer's weight `local` (`'conv1/kernel'`, `'gamma'`). @throws Error naming the layer and weight when absent. */
  weight(local: string): Tensor;
  /** Whether the layer has the weight `local`. */
  hasWeight(local: string): boolean;
  /** Throws `Error in exportOnnx: layer 'x' (class Y) <what> is not supported …`. */
  unsupported(what: string): never;
}

/** A layer converter: appends nodes, returns the output's value name. */
export type LayerConverter = (c: LayerConversion) => string;

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [Number(v[0]), Number(v[1])] : [Number(v), Number(v)]);
const single = (c: LayerConversion): OnnxValue => {
  if (c.inputs.length !== 1) c.unsupported(`with ${c.inputs.length} inputs`);
  return c.inputs[0]!;
};
const config = (c: LayerConversion): serialization.ConfigDict => c.layer.getConfig();

function channelsLast(c: LayerConversion): void {
  const f = config(c).dataFormat;
  if (f !== undefined && f !== 'channelsLast') c.unsupported(`with dataFormat '${String(f)}' (only 'channelsLast')`);
}

function applyActivation(c: LayerConversion, x: string, act: unknown, rank: number): string {
  const name = typeof act === 'string' ? act : 'linear';
  const y = activation(c.g, x, `${c.name}/${name}`, name, rank);
  if (y === null) c.unsupported(`with activation '${name}'${name === 'softmax' ? ` on a rank-${rank} output` : ''}`);
  return y;
}

function windowPads(c: LayerConversion, x: OnnxValue, padding: unknown, kernel: [number, number], strides: [number, number], dilations: [number, number] = [1, 1]) {
  const pads = tfPads(String(padding), x.shape, kernel, strides, dilations);
  if (!pads) c.unsupported(`with padding '${String(padding)}' on input [${x.shape.join(', ')}]`);
  return pads;
}

/** `[N, C, H, W]` (graph) → `[N, C]` by the mean over H and W. */
const globalMean = (g: GraphBuilder, x: string, name: string) => g.op('ReduceMean', [x], name, { axes: ints([2, 3]), keepdims: int(0) });

/** A convolution layer's input, config, kernel weight `kernelName` and window (strides, dilations, tfjs padding). */
function convWindow(c: LayerConversion, kernelName: string) {
  channelsLast(c);
  const x = single(c);
  const cfg = config(c);
  const kernel = c.weight(kernelName);
  const [kh, kw] = kernel.shape as number[];
  const strides = pair(cfg.strides);
  const dilations = pair(cfg.dilationRate);
  return { x, cfg, kernel, window: { strides, dilations, pads: windowPads(c, x, cfg.padding, [kh!, kw!], strides, dilations) } };
}

function conv2d(c: LayerConversion): string {
  const { x, cfg, kernel, window } = convWindow(c, 'kernel');
  const y = conv(c.g, x.name, c.name, kernel, cfg.useBias ? c.weight('bias') : null, window);
  return applyActivation(c, y, cfg.activation, 4);
}

function separableConv2d(c: LayerConversion): string {
  const { x, cfg, kernel, window } = convWindow(c, 'depthwise_kernel');
  const y = depthwiseConv(c.g, x.name, `${c.name}/depthwise`, kernel, window);
  const z = conv(c.g, y, c.name, c.weight('pointwise_kernel'), cfg.useBias ? c.weight('bias') : null, { strides: [1, 1], pads: [0, 0, 0, 0] });
  return applyActivation(c, z, cfg.activation, 4);
}

function depthwiseConv2d(c: LayerConversion): string {
  const { x, cfg, kernel, window } = convWindow(c, 'depthwise_kernel');
  let y = depthwiseConv(c.g, x.name, c.name, kernel, window);
  if (cfg.useBias) {
    const b = c.weight('bias');
    y = c.g.op('Add', [y, c.g.float(`${c.name}.bias`, values(b), [b.shape[0]!, 1, 1])], `${c.name}/bias`);
  }
  return applyActivation(c, y, cfg.activation, 4);
}

function pooling(op: 'MaxPool' | 'AveragePool') {
  return (c: LayerConversion): string => {
    channelsLast(c);
    const x = single(c);
    const cfg = config(c);
    const kernel = pair(cfg.poolSize);
    const strides = pair(cfg.strides ?? cfg.poolSize);
    const pads = windowPads(c, x, cfg.padding, kernel, strides);
    const padNode = op === 'MaxPool' ? c.g.producer(x.name) : undefined;
    if (padNode?.opType === 'Pad' && padNode.input.length === 2) {
      // onnxruntime's PadFusion folds a zero Pad into the MaxPool after it, whose own padding is −∞: wrong where the
      // input is negative (and refused where the pad reaches the kernel size). It only fuses a constant of exactly
      // zero bytes, so pad with −0, which pads the same values.
      padNode.input.push(c.g.float(`${padNode.name}.value`, Float32Array.of(-0), []));
    }
    // TF's 'same' average pool divides by the pixels inside the image: ONNX count_include_pad 0 (its default).
    return c.g.op(op, [x.name], c.name, { kernel_shape: ints(kernel), strides: ints(strides), pads: ints(pads), ...(op === 'AveragePool' ? { count_include_pad: int(0) } : {}) });
  };
}

function dense2d(c: LayerConversion): string {
  const x = single(c);
  if (x.shape.length !== 2) c.unsupported(`on a rank-${x.shape.length} input (only [N, features])`);
  const cfg = config(c);
  const y = dense(c.g, x.name, c.name, c.weight('kernel'), cfg.useBias ? c.weight('bias') : null);
  return applyActivation(c, y, cfg.activation, 2);
}

/** A tfjs axis (negative from the end, of a channels-last shape) as the graph's axis. */
function graphAxis(c: LayerConversion, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) c.unsupported(`with axis ${axis} on rank ${rank}`);
  return rank === 4 ? [0, 2, 3, 1][a]! : a;
}

function batchNormalization(c: LayerConversion): string {
  const x = single(c);
  const rank = x.shape.length;
  const cfg = config(c);
  if (c.layer instanceof BatchNorm) {
    return batchNorm(c.g, x.name, c.name, { gamma: c.weight('gamma'), beta: c.weight('beta'), mean: c.weight('moving_mean'), variance: c.weight('moving_variance') }, c.layer.epsilon);
  }
  // tfjs-layers' BatchNormalization: axis, center (beta), scale (gamma).
  if (graphAxis(c, Number(cfg.axis ?? -1), rank) !== 1) c.unsupported(`with axis ${String(cfg.axis)} (only the channel axis)`);
  const mean = c.weight('moving_mean');
  const gamma = cfg.scale === false ? null : c.weight('gamma');
  const beta = cfg.center === false ? null : c.weight('beta');
  if (!gamma || !beta) c.unsupported('with center or scale false');
  return batchNorm(c.g, x.name, c.name, { gamma, beta, mean, variance: c.weight('moving_variance') }, Number(cfg.epsilon));
}

function add(c: LayerConversion): string {
  if (c.inputs.length < 2) c.unsupported(`with ${c.inputs.length} inputs`);
  let y = c.inputs[0]!.name;
  for (let i = 1; i < c.inputs.length; i++) y = c.g.op('Add', [y, c.inputs[i]!.name], i === c.inputs.length - 1 ? c.name : `${c.name}_${i}`);
  return y;
}

function concatenate(c: LayerConversion): string {
  const rank = c.inputs[0]!.shape.length;
  return c.g.op('Concat', c.inputs.map((v) => v.name), c.name, { axis: int(graphAxis(c, Number(config(c).axis ?? -1), rank)) });
}

function flatten(c: LayerConversion): string {
  channelsLast(c);
  const x = single(c);
  // tfjs flattens channels-last: back to NHWC first so the features come out in its order.
  const y = x.shape.length === 4 ? c.g.op('Transpose', [x.name], `${c.name}_nhwc`, { perm: ints([0, 2, 3, 1]) }) : x.name;
  return c.g.op('Flatten', [y], c.name, { axis: int(1) });
}

function zeroPadding2d(c: LayerConversion): string {
  channelsLast(c);
  const x = single(c);
  const p = config(c).padding as number | [number, number] | [[number, number], [number, number]];
  const [[t, b], [l, r]] = (Array.isArray(p) ? p.map((v) => (Array.isArray(v) ? v : [v, v])) : [[p, p], [p, p]]) as [[number, number], [number, number]];
  return pad(c.g, x.name, c.name, [t, l, b, r]);
}

/** `ReLU`, and a capped one (`maxValue`, e.g. MobileNet's ReLU6) as `Clip(x, 0, maxValue)` (opset ≥ 11: bounds as scalar inputs). */
function reLU(c: LayerConversion): string {
  const cfg = config(c);
  const x = single(c).name;
  if (cfg.maxValue == null) return c.g.op('Relu', [x], c.name);
  const max = Number(cfg.maxValue);
  if (!Number.isFinite(max) || max <= 0) c.unsupported(`with maxValue ${String(cfg.maxValue)}`);
  return c.g.op('Clip', [x, c.g.float(`${c.name}.min`, new Float32Array([0]), []), c.g.float(`${c.name}.max`, new Float32Array([max]), [])], c.name);
}

function activationLayer(c: LayerConversion): string {
  const x = single(c);
  return applyActivation(c, x.name, config(c).activation, x.shape.length);
}

function groupedConv2d(c: LayerConversion): string {
  const l = c.layer as GroupedConv2D;
  const [ph, pw] = l.padding;
  return conv(c.g, single(c).name, c.name, c.weight('kernel'), l.useBias ? c.weight('bias') : null, { strides: l.strides, pads: [ph, pw, ph, pw], dilations: l.dilationRate, groups: l.groups });
}

/** Squeeze-and-excitation `x · sigmoid(fc2(relu(fc1(mean_HW(x)))))` with weights under `prefix`. */
function squeezeExcite(c: LayerConversion, x: string, prefix: string, name: string): string {
  const g = c.g;
  const s = globalMean(g, x, `${name}/squeeze`);
  const h = g.op('Relu', [dense(g, s, `${name}/fc1`, c.weight(`${prefix}fc1/kernel`), c.weight(`${prefix}fc1/bias`))], `${name}/relu`);
  const gate = g.op('Sigmoid', [dense(g, h, `${name}/fc2`, c.weight(`${prefix}fc2/kernel`), c.weight(`${prefix}fc2/bias`))], `${name}/gate`);
  const gate4 = g.op('Unsqueeze', [gate, g.int64(`${name}/axes`, [2, 3])], `${name}/gate_nchw`);
  return g.op('Mul', [x, gate4], name);
}

function squeezeExciteLayer(c: LayerConversion): string {
  return squeezeExcite(c, single(c).name, '', c.name);
}

function resnetBlock(c: LayerConversion): string {
  const l = c.layer as ResNetBlock;
  const g = c.g;
  const x = single(c).name;
  const bn = (y: string, prefix: string) =>
    batchNorm(g, y, `${c.name}/${prefix}`, { gamma: c.weight(`${prefix}/gamma`), beta: c.weight(`${prefix}/beta`), mean: c.weight(`${prefix}/moving_mean`), variance: c.weight(`${prefix}/moving_variance`) }, l.bnEpsilon);
  const cv = (y: string, n: string, stride: number, p: number, groups = 1) =>
    conv(g, y, `${c.name}/${n}`, c.weight(`${n}/kernel`), c.hasWeight(`${n}/bias`) ? c.weight(`${n}/bias`) : null, { strides: [stride, stride], pads: [p, p, p, p], groups });
  const relu = (y: string, n: string) => g.op('Relu', [y], `${c.name}/${n}`);
  let y: string;
  if (l instanceof Bottleneck) {
    const [s1, s2] = l.strideIn1x1 ? [l.stride, 1] : [1, l.stride];
    y = relu(bn(cv(x, 'conv1', s1, 0), 'bn1'), 'act1');
    y = relu(bn(cv(y, 'conv2', s2, 1, l.cardinality), 'bn2'), 'act2');
    y = bn(cv(y, 'conv3', 1, 0), 'bn3');
  } else if (l instanceof BasicBlock) {
    y = relu(bn(cv(x, 'conv1', l.stride, 1), 'bn1'), 'act1');
    y = bn(cv(y, 'conv2', 1, 1), 'bn2');
  } else {
    c.unsupported('(a ResNet block other than Bottleneck and BasicBlock)');
  }
  if (l.attention === 'se') y = squeezeExcite(c, y, 'se/', `${c.name}/se`);
  const shortcut = c.hasWeight('downsample/0/kernel') ? bn(cv(x, 'downsample/0', l.stride, 0), 'downsample/1') : x;
  return g.op('Relu', [g.op('Add', [y, shortcut], `${c.name}/add`)], c.name);
}

function adaptiveAvgPool2d(c: LayerConversion): string {
  const l = c.layer as AdaptiveAvgPool2D;
  const x = single(c);
  const [, h, w] = x.shape;
  if (h == null || w == null) c.unsupported(`on input [${x.shape.join(', ')}] of unknown spatial size`);
  const [ho, wo] = l.outputSize;
  // PyTorch's pooling matrices (adaptiveAvgPool2d): y = Ph · x · Pwᵀ on the H and W axes of [N, C, H, W].
  const matrix = (inSize: number, outSize: number, transposed: boolean) => {
    const m = new Float32Array(outSize * inSize);
    for (let i = 0; i < outSize; i++) {
      const start = Math.floor((i * inSize) / outSize);
      const end = Math.ceil(((i + 1) * inSize) / outSize);
      for (let j = start; j < end; j++) m[transposed ? j * outSize + i : i * inSize + j] = 1 / (end - start);
    }
    return m;
  };
  const byW = c.g.op('MatMul', [x.name, c.g.float(`${c.name}.pool_w`, matrix(w, wo, true), [w, wo])], `${c.name}_w`);
  return c.g.op('MatMul', [c.g.float(`${c.name}.pool_h`, matrix(h, ho, false), [ho, h]), byW], c.name);
}

function resizeBilinear(c: LayerConversion): string {
  const l = c.layer as ResizeBilinear;
  const g = c.g;
  const x = single(c).name;
  // Sizes [N, C, height, width] with the batch dimension read at run time (opset 17's Resize takes full sizes).
  const nc = g.op('Slice', [g.op('Shape', [x], `${c.name}/shape`), g.int64(`${c.name}/start`, [0]), g.int64(`${c.name}/end`, [2])], `${c.name}/nc`);
  const sizes = g.op('Concat', [nc, g.int64(`${c.name}/hw`, [l.height, l.width])], `${c.name}/sizes`, { axis: int(0) });
  // tf.image.resizeBilinear(alignCorners false, halfPixelCenters true) = ONNX 'half_pixel', no antialiasing.
  return g.op('Resize', [x, '', '', sizes], c.name, { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
}

/** dlib's con + affine under `prefix`, with tfjs `padding` and `stride`. */
function dlibConvScale(c: LayerConversion, x: OnnxValue, prefix: string, name: string, stride: number, padding: string): string {
  const filters = c.weight(`${prefix}conv/filters`);
  const [kh, kw] = filters.shape as number[];
  const pads = windowPads(c, x, padding, [kh!, kw!], [stride, stride]);
  const y = conv(c.g, x.name, `${name}/conv`, filters, c.weight(`${prefix}conv/bias`), { strides: [stride, stride], pads });
  return channelAffine(c.g, y, `${name}/scale`, c.weight(`${prefix}scale/weights`), c.weight(`${prefix}scale/biases`));
}

function dlibConv(c: LayerConversion): string {
  const l = c.layer as DlibConv;
  const y = dlibConvScale(c, single(c), '', c.name, l.strides, l.padding);
  return l.relu ? c.g.op('Relu', [y], `${c.name}/relu`) : y;
}

function dlibResidual(c: LayerConversion): string {
  const l = c.layer as DlibResidual;
  const g = c.g;
  const x = single(c);
  const [n, h, w, cin] = x.shape;
  if (h == null || w == null || cin == null) c.unsupported(`on input [${x.shape.join(', ')}] of unknown size`);
  const s = l.down ? 2 : 1;
  let y = g.op('Relu', [dlibConvScale(c, x, 'conv1/', `${c.name}/conv1`, s, l.down ? 'valid' : 'same')], `${c.name}/relu1`);
  const yh = l.down ? Math.floor((h - 3) / 2) + 1 : h;
  const yw = l.down ? Math.floor((w - 3) / 2) + 1 : w;
  y = dlibConvScale(c, { name: y, shape: [n ?? null, yh, yw, l.filters] }, 'conv2/', `${c.name}/conv2`, 1, 'same');
  let shortcut = x.name;
  if (l.down) {
    shortcut = g.op('AveragePool', [x.name], `${c.name}/pool`, { kernel_shape: ints([2, 2]), strides: ints([2, 2]), pads: ints([0, 0, 0, 0]) });
    const [ph, pw] = [Math.floor(h / 2), Math.floor(w / 2)];
    if (cin < l.filters) shortcut = pad(g, shortcut, `${c.name}/pool_pad`, [0, 0, 0, 0], [0, l.filters - cin]);
    if (yh !== ph || yw !== pw) y = pad(g, y, `${c.name}/conv2_pad`, [0, 0, ph - yh, pw - yw]);
  }
  return g.op('Relu', [g.op('Add', [y, shortcut], `${c.name}/add`)], c.name);
}

/** Converters by layer class name (`getClassName()`). */
export const LAYER_CONVERTERS: Readonly<Record<string, LayerConverter>> = {
  Conv2D: conv2d,
  SeparableConv2D: separableConv2d,
  DepthwiseConv2D: depthwiseConv2d,
  MaxPooling2D: pooling('MaxPool'),
  AveragePooling2D: pooling('AveragePool'),
  GlobalAveragePooling2D: (c) => {
    channelsLast(c);
    return globalMean(c.g, single(c).name, c.name);
  },
  Dense: dense2d,
  Activation: activationLayer,
  ReLU: reLU,
  Add: add,
  Concatenate: concatenate,
  Flatten: flatten,
  Dropout: (c) => c.g.op('Identity', [single(c).name], c.name),
  ZeroPadding2D: zeroPadding2d,
  BatchNormalization: batchNormalization,
  [BatchNorm.className]: batchNormalization,
  [GroupedConv2D.className]: groupedConv2d,
  [SqueezeExcite.className]: squeezeExciteLayer,
  [Bottleneck.className]: resnetBlock,
  [BasicBlock.className]: resnetBlock,
  [AdaptiveAvgPool2D.className]: adaptiveAvgPool2d,
  [ResizeBilinear.className]: resizeBilinear,
  [DlibConv.className]: dlibConv,
  [DlibResidual.className]: dlibResidual,
};
