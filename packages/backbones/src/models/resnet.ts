import { layers, model as functionalModel, input, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { BasicBlock } from '../layers/basic_block.js';
import { Bottleneck } from '../layers/bottleneck.js';
import { GroupedConv2D } from '../layers/grouped_conv2d_layer.js';
import { BatchNorm } from '../layers/batch_norm.js';
import { assertInputShape, assertPositive, assertPositiveInteger, scaleChannels } from './common.js';

/**
 * Configuration of the ResNet family (timm `ResNet`): ResNet-18/34 (`block: 'basic'`, `depths [2, 2, 2, 2]` /
 * `[3, 4, 6, 3]`), ResNet-50 (`depths [3, 4, 6, 3]`), ResNeXt (`cardinality`, `baseWidth`), SE-ResNeXt
 * (`attention: 'se'`), and Caffe/Keras' ResNet v1 (`strideIn1x1`, `convBias`, `bnEpsilon`).
 */
export interface ResNetConfig {
  /** Blocks per stage `layer1..layer4` (e.g. `[3, 4, 6, 3]` for the 50-layer nets). */
  depths: number[];
  /**
   * Residual block: `'bottleneck'` (1×1 → 3×3 → 1×1, expansion 4, timm `Bottleneck`) or `'basic'` (two 3×3,
   * expansion 1, timm `BasicBlock`; no `cardinality`/`baseWidth`/`strideIn1x1`). @default 'bottleneck'
   */
  block?: 'basic' | 'bottleneck';
  /** Groups of every 3×3 convolution (bottleneck only). @default 1 */
  cardinality?: number;
  /** Channels per group at 64 planes (ResNeXt "d", bottleneck only). @default 64 */
  baseWidth?: number;
  /**
   * Stride of a downsampling bottleneck on its first 1×1 convolution instead of the 3×3: the original
   * MSRA/Caffe ResNet v1 as Keras' `ResNet50` (detectron2 `STRIDE_IN_1X1`); timm/torchvision ("v1.5")
   * stride the 3×3. @default false
   */
  strideIn1x1?: boolean;
  /** Every convolution (stem, blocks, shortcuts) has a bias, as Caffe/Keras' ResNet-50. @default false */
  convBias?: boolean;
  /** Epsilon of every batch-norm (PyTorch's; Keras' `ResNet50` of keras-applications 1.0.x: `1e-3`). @default 1e-5 */
  bnEpsilon?: number;
  /** Channel attention in every block. @default null */
  attention?: 'se' | null;
  /** Classifier outputs (`fc`). @default 1000 */
  numClasses?: number;
  /** Input `[H, W, 3]` (NHWC, any normalisation is up to the caller). @default [224, 224, 3] */
  inputShape?: [number, number, number];
  /** Multiplies every channel count (stem 64, planes 64…512); at least 1 channel per group. @default 1 */
  widthScale?: number;
  /** Multiplies every stage depth (rounded, at least 1). @default 1 */
  depthScale?: number;
  /** Adds the classifier `fc`; without it the model outputs the pooled features (`pool`). @default true */
  includeTop?: boolean;
  /** Model name. @default 'resnet' */
  name?: string;
  /**
   * Stem max-pool geometry: `'timm'` (3×3, stride 2, padding 1, as timm/torchvision) or `'cadene'`
   * (3×3, stride 2, no padding, `ceil_mode=True`, as Cadene's `pretrainedmodels` SE-ResNeXt).
   * @default 'timm'
   */
  stemPool?: 'timm' | 'cadene';
}

/** Stage names, as in timm/torchvision (`layer1` … `layer4`). */
export const RESNET_STAGES = ['layer1', 'layer2', 'layer3', 'layer4'] as const;

/** Spatial size after a 'valid' window: `floor((size - k) / s) + 1`. */
const validSize = (size: number, k: number, s: number) => Math.floor((size - k) / s) + 1;

/**
 * Builds a ResNet-family model equal to timm's (7×7/2 conv stem, 3×3/2 max-pool, four stages of
 * bottleneck blocks with the stride on the 3×3 conv, or of basic blocks, global average pool, linear
 * classifier), with PyTorch's symmetric padding. Layer names mirror timm's module names (`conv1`, `bn1`,
 * `layer1.0`, …, `pool`, `fc`) so PyTorch weights import by renaming (see `importPyTorchWeights`). Keras'
 * `ResNet50` (ZeroPadding2D(3) + 7×7/2 'valid' conv + BN + ReLU + ZeroPadding2D(1) + 3×3/2 max-pool: the
 * same stem) is `strideIn1x1`, `convBias`, `bnEpsilon: 1e-3`.
 * @throws Error for bad options (e.g. `cardinality` with basic blocks) or an input too small for the stem.
 */
export function resnet(config: ResNetConfig): LayersModel {
  const fn = 'resnet';
  const {
    depths,
    block = 'bottleneck',
    cardinality = 1,
    baseWidth = 64,
    attention = null,
    numClasses = 1000,
    inputShape = [224, 224, 3],
    widthScale = 1,
    depthScale = 1,
    includeTop = true,
    name = 'resnet',
    stemPool = 'timm',
    strideIn1x1 = false,
    convBias = false,
    bnEpsilon = 1e-5,
  } = config;
  if (!Array.isArray(depths) || depths.length === 0 || !depths.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`Error in ${fn}: depths must be a non-empty array of positive integers, but got ${JSON.stringify(depths)}.`);
  }
  if (depths.length > 4) throw new Error(`Error in ${fn}: depths must have at most 4 stages, but got ${depths.length}.`);
  assertPositive(fn, 'widthScale', widthScale);
  assertPositive(fn, 'depthScale', depthScale);
  assertInputShape(fn, inputShape);
  assertPositiveInteger(fn, 'numClasses', numClasses);
  assertPositive(fn, 'bnEpsilon', bnEpsilon);
  if (block !== 'basic' && block !== 'bottleneck') throw new Error(`Error in ${fn}: block must be 'basic' or 'bottleneck', but got ${JSON.stringify(block)}.`);
  if (block === 'basic' && (cardinality !== 1 || baseWidth !== 64 || strideIn1x1)) {
    // timm's BasicBlock asserts the same (cardinality 1, base_width 64); it has no 1×1 convolution.
    throw new Error(`Error in ${fn}: basic blocks need cardinality 1, baseWidth 64 and no strideIn1x1, but got cardinality ${cardinality}, baseWidth ${baseWidth}, strideIn1x1 ${strideIn1x1}.`);
  }
  if (stemPool !== 'timm' && stemPool !== 'cadene') throw new Error(`Error in ${fn}: stemPool must be 'timm' or 'cadene', but got ${JSON.stringify(stemPool)}.`);

  const x = input({ shape: inputShape, name: 'input' });
  let y = layers.zeroPadding2d({ padding: 3, name: 'conv1_pad' }).apply(x) as SymbolicTensor;
  // GroupedConv2D (one group) runs the plain `conv2d` op, whose gradient is only taken for inputs that
  // need one: tfjs-layers' Conv2D goes through `fused.conv2d`, whose gradient also computes the input
  // image's (0.4 s of a 112 px SE-ResNeXt-50 training step on wasm, thrown away).
  y = new GroupedConv2D({ filters: scaleChannels(64, widthScale), kernelSize: 7, strides: 2, useBias: convBias, name: 'conv1' }).apply(y) as SymbolicTensor;
  // The blocks' batch norm (tfjs-layers' weight names; a frozen stem runs in inference mode).
  y = new BatchNorm({ momentum: 0.9, epsilon: bnEpsilon, name: 'bn1' }).apply(y) as SymbolicTensor;
  y = layers.reLU({ name: 'act1' }).apply(y) as SymbolicTensor;
  // Max-pool after ReLU: every value is >= 0, so zero padding equals PyTorch's -inf padding (each
  // window keeps at least one real pixel because padding 1 < kernel 3).
  const h = y.shape[1]!;
  const w = y.shape[2]!;
  const poolPad: [[number, number], [number, number]] =
    stemPool === 'timm'
      ? [
          [1, 1],
          [1, 1],
        ]
      : [
          [0, (h - 3) % 2],
          [0, (w - 3) % 2],
        ]; // ceil_mode: one extra row/column where the last window would hang over the edge
  if (validSize(h + poolPad[0][0] + poolPad[0][1], 3, 2) < 1) {
    throw new Error(`Error in ${fn}: inputShape must be large enough for the stem, but got [${inputShape.join(', ')}].`);
  }
  y = layers.zeroPadding2d({ padding: poolPad, name: 'maxpool_pad' }).apply(y) as SymbolicTensor;
  y = layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'maxpool' }).apply(y) as SymbolicTensor;

  depths.forEach((depth, stage) => {
    const blocks = Math.max(1, Math.round(depth * depthScale));
    const planes = scaleChannels(64 * 2 ** stage, widthScale);
    for (let b = 0; b < blocks; b++) {
      const common = { name: `${RESNET_STAGES[stage]}.${b}`, planes, stride: b === 0 && stage > 0 ? 2 : 1, attention, convBias, bnEpsilon };
      const layer =
        block === 'basic'
          ? new BasicBlock(common)
          : new Bottleneck({ ...common, cardinality, baseWidth, strideIn1x1 });
      y = layer.apply(y) as SymbolicTensor;
    }
  });
  y = layers.globalAveragePooling2d({ name: 'pool' }).apply(y) as SymbolicTensor;
  if (includeTop) y = layers.dense({ units: numClasses, name: 'fc' }).apply(y) as SymbolicTensor;
  return functionalModel({ inputs: x, outputs: y, name });
}
