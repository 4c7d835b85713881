import { layers, model as functionalModel, input, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { AdaptiveAvgPool2D } from '../layers/adaptive_avg_pool.js';
import { BatchNorm } from '../layers/batch_norm.js';
import { heNormalFanOut } from '../layers/common.js';
import { assertInputShape, assertPositive, assertPositiveInteger, scaleChannels } from './common.js';

/** One entry of a VGG feature configuration: a 3×3 conv + BN + ReLU of that many channels, or `'M'` (2×2 max-pool). */
export type VggLayerSpec = number | 'M';

/** timm/torchvision `cfgs['vgg16']` ("D"). */
export const VGG16_CFG: readonly VggLayerSpec[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];

/** Configuration of {@link vgg} (timm `VGG` with batch-norm). */
export interface VggConfig {
  /** Feature layers, e.g. {@link VGG16_CFG}. */
  cfg: readonly VggLayerSpec[];
  /** Classifier outputs (`head.fc`). @default 1000 */
  numClasses?: number;
  /** Input `[H, W, 3]`. @default [224, 224, 3] */
  inputShape?: [number, number, number];
  /** Multiplies every conv width and the pre-logits width (4096). @default 1 */
  widthScale?: number;
  /** Pre-logits features (timm `num_features`). @default 4096 */
  numFeatures?: number;
  /** Hidden width of `pre_logits.fc1` relative to `numFeatures` (timm `mlp_ratio`). @default 1 */
  mlpRatio?: number;
  /** Dropout after `pre_logits.fc1` (timm `drop_rate`). @default 0 */
  dropRate?: number;
  /** Adds `head.fc`; without it the model outputs the pooled pre-logits features (`pool`). @default true */
  includeTop?: boolean;
  /** Model name. @default 'vgg' */
  name?: string;
}

/**
 * Builds timm's VGG with batch-norm: `features.i` (3×3 conv with bias, padding 1 → BN → ReLU, or 2×2
 * max-pool), `pre_logits` (timm `ConvMlp`: `fc1` 7×7 conv → ReLU → [dropout] → `fc2` 1×1 conv → ReLU),
 * global average pool (`pool`), `head.fc`. As in timm, feature maps smaller than 7×7 are first
 * adaptively average-pooled up to 7×7, so small test inputs work. Layer names equal timm's module paths.
 */
export function vgg(config: VggConfig): LayersModel {
  const fn = 'vgg';
  const {
    cfg,
    numClasses = 1000,
    inputShape = [224, 224, 3],
    widthScale = 1,
    numFeatures = 4096,
    mlpRatio = 1,
    dropRate = 0,
    includeTop = true,
    name = 'vgg',
  } = config;
  assertPositive(fn, 'widthScale', widthScale);
  assertPositive(fn, 'mlpRatio', mlpRatio);
  assertInputShape(fn, inputShape);
  assertPositiveInteger(fn, 'numClasses', numClasses);
  if (!cfg.every((v) => v === 'M' || (Number.isInteger(v) && v > 0))) {
    throw new Error(`Error in ${fn}: cfg must hold positive integers and 'M', but got ${JSON.stringify(cfg)}.`);
  }
  const x = input({ shape: inputShape, name: 'input' });
  let y: SymbolicTensor = x;
  let index = 0;
  for (const v of cfg) {
    if (v === 'M') {
      y = layers.maxPooling2d({ poolSize: 2, strides: 2, name: `features.${index++}` }).apply(y) as SymbolicTensor;
      continue;
    }
    // 3×3 stride 1: TF 'same' pads 1 on every side, exactly PyTorch's padding=1.
    y = layers.conv2d({ filters: scaleChannels(v, widthScale), kernelSize: 3, padding: 'same', name: `features.${index++}`, kernelInitializer: heNormalFanOut() }).apply(y) as SymbolicTensor;
    y = new BatchNorm({ momentum: 0.9, epsilon: 1e-5, name: `features.${index++}` }).apply(y) as SymbolicTensor;
    y = layers.reLU({ name: `features.${index++}` }).apply(y) as SymbolicTensor;
  }
  const [h, w] = [y.shape[1]!, y.shape[2]!];
  if (h < 1 || w < 1) throw new Error(`Error in ${fn}: inputShape must be large enough for ${cfg.length} feature layers, but got [${inputShape.join(', ')}].`);
  if (h < 7 || w < 7) y = new AdaptiveAvgPool2D({ outputSize: [Math.max(7, h), Math.max(7, w)], name: 'pre_logits.pool' }).apply(y) as SymbolicTensor;
  const features = scaleChannels(numFeatures, widthScale);
  const hidden = Math.floor(features * mlpRatio);
  y = layers.conv2d({ filters: hidden, kernelSize: 7, name: 'pre_logits.fc1', kernelInitializer: heNormalFanOut() }).apply(y) as SymbolicTensor;
  y = layers.reLU({ name: 'pre_logits.act1' }).apply(y) as SymbolicTensor;
  if (dropRate > 0) y = layers.dropout({ rate: dropRate, name: 'pre_logits.drop' }).apply(y) as SymbolicTensor;
  y = layers.conv2d({ filters: features, kernelSize: 1, name: 'pre_logits.fc2', kernelInitializer: heNormalFanOut() }).apply(y) as SymbolicTensor;
  y = layers.reLU({ name: 'pre_logits.act2' }).apply(y) as SymbolicTensor;
  y = layers.globalAveragePooling2d({ name: 'pool' }).apply(y) as SymbolicTensor;
  if (includeTop) {
    y = layers.dense({ units: numClasses, name: 'head.fc', kernelInitializer: 'randomNormal' }).apply(y) as SymbolicTensor;
  }
  return functionalModel({ inputs: x, outputs: y, name });
}
