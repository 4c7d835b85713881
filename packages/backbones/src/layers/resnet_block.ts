import { add, conv2d, relu, serialization, tidy, type Tensor, type Tensor1D, type Tensor4D } from '@tensorflow/tfjs-core';
import { initializers, layers, type LayerVariable } from '@tensorflow/tfjs-layers';
import { groupedConv2d } from '@ldl/kernels/ops';
import { addBatchNormWeights, applyBatchNorm, type BatchNormVariables } from './batch_norm.js';
import { addSqueezeExciteWeights, makeDivisible, readSqueezeExcite, squeezeExcite, type SqueezeExciteWeights } from './squeeze_excite.js';
import { heNormalFanOut, singleInput, singleShape, type AddWeight, type BaseLayerArgs, type CallKwargs, type LayerShape } from './common.js';

/** Arguments every ResNet block takes ({@link Bottleneck}, {@link BasicBlock}). */
export interface ResNetBlockArgs extends NonNullable<BaseLayerArgs> {
  /** Base channels ("planes"); the block outputs `planes · expansion` channels. */
  planes: number;
  /** Stride of the block (its strided convolution and the shortcut 1×1 convolution). @default 1 */
  stride?: number;
  /** Channel attention after the last batch-norm, before the residual add. @default null */
  attention?: 'se' | null;
  /** SE reduction ratio (hidden = `makeDivisible(out / seReduction, 8)`, timm). @default 16 */
  seReduction?: number;
  /** Batch-norm momentum in the TF convention (PyTorch `0.1` ⇒ `0.9`). @default 0.9 */
  bnMomentum?: number;
  /** Batch-norm epsilon (PyTorch default; Keras' ResNet50 of keras-applications 1.0.x uses `1e-3`). @default 1e-5 */
  bnEpsilon?: number;
  /** Initialise the last batch-norm's gamma to zero (timm `zero_init_last`), so a new block starts as its shortcut. @default true */
  zeroInitLast?: boolean;
  /**
   * Every convolution of the block (shortcut included) has a bias `${conv}/bias` (Caffe/Keras ResNet v1;
   * timm and torchvision have none, the batch-norm after each convolution makes it redundant). @default false
   */
  convBias?: boolean;
}

/** Variables of one convolution of a block: `${name}/kernel` `[k, k, in/groups, out]` and, with `convBias`, `${name}/bias` `[out]`. */
export interface ConvVariables {
  kernel: LayerVariable;
  bias?: LayerVariable;
}

/** Batch-norm of a block in the current (training or inference) mode. */
export type BlockBatchNorm = (x: Tensor4D, v: BatchNormVariables) => Tensor4D;

/** `conv(x) [+ bias]` with symmetric zero padding `pad` (pixels per side; `'valid'` for 1×1). */
export function applyConv(x: Tensor4D, v: ConvVariables, strides: number, pad: number, groups = 1): Tensor4D {
  const kernel = v.kernel.read() as Tensor4D;
  const y = pad === 0 && groups === 1 ? conv2d(x, kernel, strides, 'valid') : groupedConv2d(x, kernel, { groups, strides, pad });
  return v.bias ? add(y, v.bias.read() as Tensor1D) : y;
}

/**
 * What timm's ResNet blocks share, as a base for ONE serialisable layer per block: the residual branch
 * (subclass: {@link Bottleneck}, {@link BasicBlock}) → [`se`] → + shortcut → ReLU. The shortcut is
 * `downsample.0` (1×1 conv, stride) + `downsample.1` (batch-norm) when the stride or channel count
 * changes. Weight names mirror the PyTorch module paths (`conv2/kernel` ⇔ `conv2.weight`,
 * `downsample/1/moving_mean` ⇔ `downsample.1.running_mean`, `se/fc1/kernel` ⇔ `se.fc1.weight`).
 */
export abstract class ResNetBlock extends layers.Layer {
  /** Resolved `planes` (see {@link ResNetBlockArgs}). */
  readonly planes: number;
  /** Resolved `stride` (see {@link ResNetBlockArgs}). */
  readonly stride: number;
  /** Resolved `attention` (see {@link ResNetBlockArgs}). */
  readonly attention: 'se' | null;
  /** Resolved `seReduction` (see {@link ResNetBlockArgs}). */
  readonly seReduction: number;
  /** Resolved `bnMomentum` (see {@link ResNetBlockArgs}). */
  readonly bnMomentum: number;
  /** Resolved `bnEpsilon` (see {@link ResNetBlockArgs}). */
  readonly bnEpsilon: number;
  /** Resolved `zeroInitLast` (see {@link ResNetBlockArgs}). */
  readonly zeroInitLast: boolean;
  /** Resolved `convBias` (see {@link ResNetBlockArgs}). */
  readonly convBias: boolean;
  private shared?: { se?: Record<keyof SqueezeExciteWeights, LayerVariable>; downsample?: { conv: ConvVariables; bn: BatchNormVariables } };

  constructor(args: ResNetBlockArgs) {
    super(args);
    this.planes = args.planes;
    this.stride = args.stride ?? 1;
    this.attention = args.attention ?? null;
    this.seReduction = args.seReduction ?? 16;
    this.bnMomentum = args.bnMomentum ?? 0.9;
    this.bnEpsilon = args.bnEpsilon ?? 1e-5;
    this.zeroInitLast = args.zeroInitLast ?? true;
    this.convBias = args.convBias ?? false;
    for (const [name, value] of [
      ['planes', this.planes],
      ['stride', this.stride],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`Error in ${this.getClassName()}: ${name} must be a positive integer, but got ${value}.`);
    }
    if (!(Number.isFinite(this.bnEpsilon) && this.bnEpsilon > 0)) throw new Error(`Error in ${this.getClassName()}: bnEpsilon must be a positive number, but got ${this.bnEpsilon}.`);
  }

  /** Output channels. */
  abstract get outChannels(): number;

  /** Creates the residual branch's weights (before the SE and shortcut weights, in PyTorch module order). */
  protected abstract buildResidual(addWeight: AddWeight, inChannels: number): void;

  /** The residual branch up to its last batch-norm. */
  protected abstract residual(x: Tensor4D, bn: BlockBatchNorm): Tensor4D;

  /** Creates a convolution's kernel (He normal, fan-out) and, with `convBias`, its zero bias. */
  protected addConv(addWeight: AddWeight, name: string, shape: [number, number, number, number]): ConvVariables {
    const kernel = addWeight(`${name}/kernel`, shape, heNormalFanOut());
    return this.convBias ? { kernel, bias: addWeight(`${name}/bias`, [shape[3]], initializers.zeros()) } : { kernel };
  }

  /** Creates the last batch-norm of the residual branch (gamma zero with `zeroInitLast`, timm `zero_init_last`). */
  protected addLastBatchNorm(addWeight: AddWeight, prefix: string, channels: number): BatchNormVariables {
    return addBatchNormWeights(addWeight, prefix, channels, this.zeroInitLast ? initializers.zeros() : initializers.ones());
  }

  override build(inputShape: LayerShape | LayerShape[]): void {
    const cin = singleShape(inputShape)[3];
    if (cin == null) throw new Error(`Error in ${this.getClassName()}: input channels must be known, but got ${cin}.`);
    const out = this.outChannels;
    const addWeight: AddWeight = (name, shape, init, trainable = true) => this.addWeight(name, shape, 'float32', init, undefined, trainable);
    this.buildResidual(addWeight, cin);
    this.shared = {};
    if (this.attention === 'se') this.shared.se = addSqueezeExciteWeights(addWeight, 'se/', out, makeDivisible(out / this.seReduction, 8));
    if (this.stride !== 1 || cin !== out) {
      this.shared.downsample = { conv: this.addConv(addWeight, 'downsample/0', [1, 1, cin, out]), bn: addBatchNormWeights(addWeight, 'downsample/1/', out) };
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: LayerShape | LayerShape[]): LayerShape {
    const [n, h, w] = singleShape(inputShape);
    const out = (size: number | null | undefined) => (size == null ? null : Math.floor((size - 1) / this.stride) + 1);
    return [n ?? null, out(h), out(w), this.outChannels];
  }

  override call(inputs: Tensor | Tensor[], kwargs: CallKwargs): Tensor {
    return tidy(() => {
      const { se, downsample } = this.shared!;
      // A frozen block (trainable false, e.g. a fine-tuned backbone's lower stages) runs its batch norms in
      // inference mode — moving statistics, none updated — as Keras does.
      const training = kwargs.training === true && this.trainable;
      const bn: BlockBatchNorm = (t, p) => applyBatchNorm(t, p, training, this.bnMomentum, this.bnEpsilon);
      const x = singleInput(inputs) as Tensor4D;
      let y = this.residual(x, bn);
      if (se) y = squeezeExcite(y, readSqueezeExcite(se));
      const shortcut = downsample ? bn(applyConv(x, downsample.conv, this.stride, 0), downsample.bn) : x;
      return relu(add(y, shortcut));
    });
  }

  override getConfig(): serialization.ConfigDict {
    return {
      ...super.getConfig(),
      planes: this.planes,
      stride: this.stride,
      attention: this.attention,
      seReduction: this.seReduction,
      bnMomentum: this.bnMomentum,
      bnEpsilon: this.bnEpsilon,
      zeroInitLast: this.zeroInitLast,
      convBias: this.convBias,
    };
  }
}
