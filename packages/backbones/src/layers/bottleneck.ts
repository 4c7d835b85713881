import {
  add,
  batchNorm,
  conv2d,
  engine,
  getBackend,
  getGradient,
  getKernel,
  moments,
  mul,
  relu,
  serialization,
  sub,
  tidy,
  type Tensor,
  type Tensor1D,
  type Tensor4D,
} from '@tensorflow/tfjs-core';
import { initializers, layers, type LayerVariable } from '@tensorflow/tfjs-layers';
import { groupedConv2d, type GroupedConvStrategy } from '../ops/grouped_conv.js';
import { addSqueezeExciteWeights, makeDivisible, readSqueezeExcite, squeezeExcite, type SqueezeExciteWeights } from './squeeze_excite.js';
import { heNormalFanOut, singleInput, singleShape, type AddWeight, type BaseLayerArgs, type CallKwargs, type LayerInitializer, type LayerShape } from './common.js';

/** Variables of one batch-norm (`${name}/gamma`, `beta`, `moving_mean`, `moving_variance`, as tfjs-layers names them). */
export interface BatchNormVariables {
  /** Scale (PyTorch `weight`). */
  gamma: LayerVariable;
  /** Shift (PyTorch `bias`). */
  beta: LayerVariable;
  /** Moving mean (PyTorch `running_mean`), not trainable. */
  movingMean: LayerVariable;
  /** Moving variance (PyTorch `running_var`), not trainable. */
  movingVariance: LayerVariable;
}

/** Creates the four batch-norm variables of `channels` channels named `${name}/…` (moving stats not trainable). */
export function addBatchNormWeights(
  addWeight: AddWeight,
  name: string,
  channels: number,
  gammaInitializer: LayerInitializer = initializers.ones(),
): BatchNormVariables {
  return {
    gamma: addWeight(`${name}/gamma`, [channels], gammaInitializer),
    beta: addWeight(`${name}/beta`, [channels], initializers.zeros()),
    movingMean: addWeight(`${name}/moving_mean`, [channels], initializers.zeros(), false),
    movingVariance: addWeight(`${name}/moving_variance`, [channels], initializers.ones(), false),
  };
}

/**
 * Kernel that computes training-mode batch norm with its batch statistics in one call, and its
 * gradient (registered by `@ldl/kernels`' `enableFastKernels()` on wasm, cpu, webgpu and tfjs-node's CPU build): inputs
 * `{ x, gamma, beta }`, attrs `{ epsilon }`, outputs `[y, mean, biased variance]`.
 */
const BATCH_NORM_TRAINING_KERNEL = 'LdlBatchNormTraining';
/** `@ldl/kernels`' moving-average kernel: `average − (average − value)·(1 − momentum)`. */
const MOVING_AVERAGE_KERNEL = 'LdlMovingAverage';

function batchNormTrainingKernelAvailable(): boolean {
  return getKernel(BATCH_NORM_TRAINING_KERNEL, getBackend()) !== undefined && getGradient(BATCH_NORM_TRAINING_KERNEL) !== undefined;
}

/**
 * Batch normalisation over `[N, H, W]` like tfjs-layers' `BatchNormalization`: in training, batch
 * statistics are used and the moving statistics updated as `moving = momentum·moving + (1-momentum)·batch`
 * (TF convention: PyTorch `momentum=0.1` is `0.9` here; the batch variance is the biased one, as in
 * tfjs-layers); otherwise the moving statistics are used. In training, one `LdlBatchNormTraining`
 * kernel call where the backend has it (`@ldl/kernels`), else `tf.moments` + `tf.batchNorm`.
 */
export function applyBatchNorm(x: Tensor4D, v: BatchNormVariables, training: boolean, momentum: number, epsilon: number): Tensor4D {
  const gamma = v.gamma.read() as Tensor1D;
  const beta = v.beta.read() as Tensor1D;
  if (!training) {
    return batchNorm(x, v.movingMean.read() as Tensor1D, v.movingVariance.read() as Tensor1D, beta, gamma, epsilon);
  }
  let y: Tensor4D;
  let mean: Tensor;
  let variance: Tensor;
  if (batchNormTrainingKernelAvailable()) {
    [y, mean, variance] = engine().runKernel(BATCH_NORM_TRAINING_KERNEL, { x, gamma, beta }, { epsilon }) as [Tensor4D, Tensor, Tensor];
  } else {
    ({ mean, variance } = moments(x, [0, 1, 2]));
    y = batchNorm(x, mean as Tensor1D, variance as Tensor1D, beta, gamma, epsilon);
  }
  // `@ldl/kernels`' LdlMovingAverage where registered: the same formula as one kernel instead of three ops.
  const fused = getKernel(MOVING_AVERAGE_KERNEL, getBackend()) !== undefined;
  tidy(() => {
    for (const [variable, value] of [
      [v.movingMean, mean],
      [v.movingVariance, variance],
    ] as const) {
      const old = variable.read();
      variable.write(
        fused
          ? (engine().runKernel(MOVING_AVERAGE_KERNEL, { average: old, value }, { momentum }) as Tensor)
          : sub(old, mul(sub(old, value), 1 - momentum)),
      );
    }
  });
  return y;
}

/** Arguments of {@link Bottleneck}. */
export interface BottleneckArgs extends NonNullable<BaseLayerArgs> {
  /** Base channels ("planes"); the block outputs `planes · expansion` channels. */
  planes: number;
  /** Stride of the 3×3 convolution and of the shortcut 1×1 convolution. @default 1 */
  stride?: number;
  /** Groups of the 3×3 convolution (ResNeXt cardinality). @default 1 */
  cardinality?: number;
  /** Channels per group at `planes = 64` (ResNeXt "d"): width = `max(1, floor(planes·baseWidth/64))·cardinality`. @default 64 */
  baseWidth?: number;
  /** Output channels per planes. @default 4 */
  expansion?: number;
  /** Channel attention after the last batch-norm, before the residual add. @default null */
  attention?: 'se' | null;
  /** SE reduction ratio (hidden = `makeDivisible(out / seReduction, 8)`, timm). @default 16 */
  seReduction?: number;
  /** Batch-norm momentum in the TF convention (PyTorch `0.1` ⇒ `0.9`). @default 0.9 */
  bnMomentum?: number;
  /** Batch-norm epsilon (PyTorch default). @default 1e-5 */
  bnEpsilon?: number;
  /** Grouped-convolution implementation. @default 'auto' */
  groupedConvStrategy?: GroupedConvStrategy;
  /** Initialise `bn3`'s gamma to zero (timm `zero_init_last`), so a new block starts as its shortcut. @default true */
  zeroInitLast?: boolean;
}

/**
 * The ResNet / ResNeXt / SE-ResNeXt bottleneck block of timm (`timm.models.resnet.Bottleneck`), as ONE
 * serialisable layer: `conv1` 1×1 → `bn1` → ReLU → `conv2` 3×3 (stride, groups = cardinality, symmetric
 * padding 1) → `bn2` → ReLU → `conv3` 1×1 → `bn3` → [`se`] → + shortcut → ReLU. The shortcut is
 * `downsample.0` (1×1 conv, stride) + `downsample.1` (batch-norm) when the stride or channel count
 * changes. Weight names mirror the PyTorch module paths (`conv2/kernel` ⇔ `conv2.weight`,
 * `downsample/1/moving_mean` ⇔ `downsample.1.running_mean`, `se/fc1/kernel` ⇔ `se.fc1.weight`).
 */
export class Bottleneck extends layers.Layer {
  /** Serialization class name. */
  static className = 'Bottleneck';
  /** Resolved `planes` (see {@link BottleneckArgs}). */
  readonly planes: number;
  /** Resolved `stride` (see {@link BottleneckArgs}). */
  readonly stride: number;
  /** Resolved `cardinality` (see {@link BottleneckArgs}). */
  readonly cardinality: number;
  /** Resolved `baseWidth` (see {@link BottleneckArgs}). */
  readonly baseWidth: number;
  /** Resolved `expansion` (see {@link BottleneckArgs}). */
  readonly expansion: number;
  /** Resolved `attention` (see {@link BottleneckArgs}). */
  readonly attention: 'se' | null;
  /** Resolved `seReduction` (see {@link BottleneckArgs}). */
  readonly seReduction: number;
  /** Resolved `bnMomentum` (see {@link BottleneckArgs}). */
  readonly bnMomentum: number;
  /** Resolved `bnEpsilon` (see {@link BottleneckArgs}). */
  readonly bnEpsilon: number;
  /** Resolved `groupedConvStrategy` (see {@link BottleneckArgs}). */
  readonly groupedConvStrategy: GroupedConvStrategy;
  /** Resolved `zeroInitLast` (see {@link BottleneckArgs}). */
  readonly zeroInitLast: boolean;
  private v?: {
    conv1: LayerVariable;
    bn1: BatchNormVariables;
    conv2: LayerVariable;
    bn2: BatchNormVariables;
    conv3: LayerVariable;
    bn3: BatchNormVariables;
    se?: Record<keyof SqueezeExciteWeights, LayerVariable>;
    downsample?: { conv: LayerVariable; bn: BatchNormVariables };
  };

  constructor(args: BottleneckArgs) {
    super(args);
    this.planes = args.planes;
    this.stride = args.stride ?? 1;
    this.cardinality = args.cardinality ?? 1;
    this.baseWidth = args.baseWidth ?? 64;
    this.expansion = args.expansion ?? 4;
    this.attention = args.attention ?? null;
    this.seReduction = args.seReduction ?? 16;
    this.bnMomentum = args.bnMomentum ?? 0.9;
    this.bnEpsilon = args.bnEpsilon ?? 1e-5;
    this.groupedConvStrategy = args.groupedConvStrategy ?? 'auto';
    this.zeroInitLast = args.zeroInitLast ?? true;
    for (const [name, value] of [
      ['planes', this.planes],
      ['stride', this.stride],
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

  override build(inputShape: LayerShape | LayerShape[]): void {
    const cin = singleShape(inputShape)[3];
    if (cin == null) throw new Error(`Error in Bottleneck: input channels must be known, but got ${cin}.`);
    const w = this.width;
    const out = this.outChannels;
    const addWeight: AddWeight = (name, shape, init, trainable = true) => this.addWeight(name, shape, 'float32', init, undefined, trainable);
    this.v = {
      conv1: addWeight('conv1/kernel', [1, 1, cin, w], heNormalFanOut()),
      bn1: addBatchNormWeights(addWeight, 'bn1', w),
      conv2: addWeight('conv2/kernel', [3, 3, w / this.cardinality, w], heNormalFanOut()),
      bn2: addBatchNormWeights(addWeight, 'bn2', w),
      conv3: addWeight('conv3/kernel', [1, 1, w, out], heNormalFanOut()),
      // timm's default `zero_init_last=True`: each residual branch starts at zero (block = identity + shortcut).
      bn3: addBatchNormWeights(addWeight, 'bn3', out, this.zeroInitLast ? initializers.zeros() : initializers.ones()),
    };
    if (this.attention === 'se') this.v.se = addSqueezeExciteWeights(addWeight, 'se/', out, makeDivisible(out / this.seReduction, 8));
    if (this.stride !== 1 || cin !== out) {
      this.v.downsample = {
        conv: addWeight('downsample/0/kernel', [1, 1, cin, out], heNormalFanOut()),
        bn: addBatchNormWeights(addWeight, 'downsample/1', out),
      };
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
      const v = this.v!;
      const training = kwargs.training === true;
      const bn = (t: Tensor4D, p: BatchNormVariables) => applyBatchNorm(t, p, training, this.bnMomentum, this.bnEpsilon);
      const x = singleInput(inputs) as Tensor4D;
      let y = relu(bn(conv2d(x, v.conv1.read() as Tensor4D, 1, 'valid'), v.bn1));
      y = relu(
        bn(
          groupedConv2d(y, v.conv2.read() as Tensor4D, {
            groups: this.cardinality,
            strides: this.stride,
            pad: 1,
            strategy: this.groupedConvStrategy,
          }),
          v.bn2,
        ),
      );
      y = bn(conv2d(y, v.conv3.read() as Tensor4D, 1, 'valid'), v.bn3);
      if (v.se) y = squeezeExcite(y, readSqueezeExcite(v.se));
      const shortcut = v.downsample ? bn(conv2d(x, v.downsample.conv.read() as Tensor4D, this.stride, 'valid'), v.downsample.bn) : x;
      return relu(add(y, shortcut));
    });
  }

  override getConfig(): serialization.ConfigDict {
    return {
      ...super.getConfig(),
      planes: this.planes,
      stride: this.stride,
      cardinality: this.cardinality,
      baseWidth: this.baseWidth,
      expansion: this.expansion,
      attention: this.attention,
      seReduction: this.seReduction,
      bnMomentum: this.bnMomentum,
      bnEpsilon: this.bnEpsilon,
      groupedConvStrategy: this.groupedConvStrategy,
      zeroInitLast: this.zeroInitLast,
    };
  }
}
serialization.registerClass(Bottleneck, '@ldl/backbones');
