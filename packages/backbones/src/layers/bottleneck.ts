import { relu, serialization, type Tensor4D } from '@tensorflow/tfjs-core';
import type { AddWeight } from './common.js';
import { addBatchNormWeights, type BatchNormVariables } from './batch_norm.js';
import { applyConv, ResNetBlock, type BlockBatchNorm, type ConvVariables, type ResNetBlockArgs } from './resnet_block.js';

/** Arguments of {@link Bottleneck}. */
export interface BottleneckArgs extends ResNetBlockArgs {
  /** Groups of the 3×3 convolution (ResNeXt cardinality). @default 1 */
  cardinality?: number;
  /** Channels per group at `planes = 64` (ResNeXt "d"): width = `max(1, floor(planes·baseWidth/64))·cardinality`. @default 64 */
  baseWidth?: number;
  /** Output channels per planes. @default 4 */
  expansion?: number;
  /**
   * Put the stride on the first 1×1 convolution `conv1` instead of the 3×3 `conv2`: the original MSRA /
   * Caffe ResNet ("v1", Keras' `ResNet50`; detectron2 `STRIDE_IN_1X1`). timm and torchvision stride the
   * 3×3 ("v1.5"). @default false
   */
  strideIn1x1?: boolean;
}

/**
 * The ResNet / ResNeXt / SE-ResNeXt bottleneck block of timm (`timm.models.resnet.Bottleneck`), as ONE
 * serialisable layer: `conv1` 1×1 → `bn1` → ReLU → `conv2` 3×3 (stride, groups = cardinality, symmetric
 * padding 1) → `bn2` → ReLU → `conv3` 1×1 → `bn3` → [`se`] → + shortcut → ReLU (shortcut and weight
 * names: {@link ResNetBlock}). `strideIn1x1` and `convBias` give Caffe/Keras' ResNet v1 block instead.
 */
export class Bottleneck extends ResNetBlock {
  /** Serialization class name. */
  static className = 'Bottleneck';
  /** Resolved `cardinality` (see {@link BottleneckArgs}). */
  readonly cardinality: number;
  /** Resolved `baseWidth` (see {@link BottleneckArgs}). */
  readonly baseWidth: number;
  /** Resolved `expansion` (see {@link BottleneckArgs}). */
  readonly expansion: number;
  /** Resolved `strideIn1x1` (see {@link BottleneckArgs}). */
  readonly strideIn1x1: boolean;
  private v?: { conv1: ConvVariables; bn1: BatchNormVariables; conv2: ConvVariables; bn2: BatchNormVariables; conv3: ConvVariables; bn3: BatchNormVariables };

  constructor(args: BottleneckArgs) {
    super(args);
    this.cardinality = args.cardinality ?? 1;
    this.baseWidth = args.baseWidth ?? 64;
    this.expansion = args.expansion ?? 4;
    this.strideIn1x1 = args.strideIn1x1 ?? false;
    for (const [name, value] of [
      ['cardinality', this.cardinality],
      ['baseWidth', this.baseWidth],
      ['expansion', this.expansion],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`Error in Bottleneck: ${name} must be a positive integer, but got ${value}.`);
    }
  }

  /** Channels of the grouped 3×3 convolution: `max(1, floor(planes·baseWidth/64))·cardinality` (timm rule, ≥ 1 per group). */
  get width(): number {
    return Math.max(1, Math.floor((this.planes * this.baseWidth) / 64)) * this.cardinality;
  }

  /** Output channels `planes · expansion`. */
  get outChannels(): number {
    return this.planes * this.expansion;
  }

  protected buildResidual(addWeight: AddWeight, cin: number): void {
    const w = this.width;
    const out = this.outChannels;
    this.v = {
      conv1: this.addConv(addWeight, 'conv1', [1, 1, cin, w]),
      bn1: addBatchNormWeights(addWeight, 'bn1/', w),
      conv2: this.addConv(addWeight, 'conv2', [3, 3, w / this.cardinality, w]),
      bn2: addBatchNormWeights(addWeight, 'bn2/', w),
      conv3: this.addConv(addWeight, 'conv3', [1, 1, w, out]),
      bn3: this.addLastBatchNorm(addWeight, 'bn3/', out),
    };
  }

  protected residual(x: Tensor4D, bn: BlockBatchNorm): Tensor4D {
    const v = this.v!;
    const [s1, s2] = this.strideIn1x1 ? [this.stride, 1] : [1, this.stride];
    let y = relu(bn(applyConv(x, v.conv1, s1, 0), v.bn1));
    y = relu(bn(applyConv(y, v.conv2, s2, 1, this.cardinality), v.bn2));
    return bn(applyConv(y, v.conv3, 1, 0), v.bn3);
  }

  override getConfig(): serialization.ConfigDict {
    return {
      ...super.getConfig(),
      cardinality: this.cardinality,
      baseWidth: this.baseWidth,
      expansion: this.expansion,
      strideIn1x1: this.strideIn1x1,
    };
  }
}
serialization.registerClass(Bottleneck, '@ldl/backbones');
