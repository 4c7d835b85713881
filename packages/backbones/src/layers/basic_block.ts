import { relu, serialization, type Tensor4D } from '@tensorflow/tfjs-core';
import type { AddWeight } from './common.js';
import { addBatchNormWeights, type BatchNormVariables } from './batch_norm.js';
import { applyConv, ResNetBlock, type BlockBatchNorm, type ConvVariables, type ResNetBlockArgs } from './resnet_block.js';

/** Arguments of {@link BasicBlock}. */
export type BasicBlockArgs = ResNetBlockArgs;

/**
 * The basic block of ResNet-18/34 (timm `timm.models.resnet.BasicBlock`, expansion 1), as ONE serialisable
 * layer: `conv1` 3×3 (stride, symmetric padding 1) → `bn1` → ReLU → `conv2` 3×3 → `bn2` (gamma zero-initialised,
 * timm `zero_init_last`) → [`se`] → + shortcut → ReLU; it outputs `planes` channels. Shortcut
 * (`downsample.0` 1×1 conv + `downsample.1` batch-norm) and weight names: {@link ResNetBlock}.
 */
export class BasicBlock extends ResNetBlock {
  /** Serialization class name. */
  static className = 'BasicBlock';
  private v?: { conv1: ConvVariables; bn1: BatchNormVariables; conv2: ConvVariables; bn2: BatchNormVariables };

  /** Output channels (`planes`: expansion 1). */
  get outChannels(): number {
    return this.planes;
  }

  protected buildResidual(addWeight: AddWeight, cin: number): void {
    const p = this.planes;
    this.v = {
      conv1: this.addConv(addWeight, 'conv1', [3, 3, cin, p]),
      bn1: addBatchNormWeights(addWeight, 'bn1/', p),
      conv2: this.addConv(addWeight, 'conv2', [3, 3, p, p]),
      bn2: this.addLastBatchNorm(addWeight, 'bn2/', p),
    };
  }

  protected residual(x: Tensor4D, bn: BlockBatchNorm): Tensor4D {
    const v = this.v!;
    const y = relu(bn(applyConv(x, v.conv1, this.stride, 1), v.bn1));
    return bn(applyConv(y, v.conv2, 1, 1), v.bn2);
  }
}
serialization.registerClass(BasicBlock, '@ldl/backbones');
