import { batchNorm, serialization, tidy, type Tensor, type Tensor1D } from '@tensorflow/tfjs-core';
import { initializers, layers, type LayerVariable } from '@tensorflow/tfjs-layers';
import { batchNormTraining, movingAverage } from '@ldl/kernels/ops';
import { singleInput, singleShape, type AddWeight, type BaseLayerArgs, type CallKwargs, type LayerInitializer, type LayerShape } from './common.js';

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

/**
 * Creates the four batch-norm variables of `channels` channels named `${prefix}gamma`, `${prefix}beta`,
 * `${prefix}moving_mean`, `${prefix}moving_variance` (moving statistics not trainable); e.g. prefix
 * `'bn1/'` in a block, `''` in a {@link BatchNorm} layer.
 */
export function addBatchNormWeights(
  addWeight: AddWeight,
  prefix: string,
  channels: number,
  gammaInitializer: LayerInitializer = initializers.ones(),
): BatchNormVariables {
  return {
    gamma: addWeight(`${prefix}gamma`, [channels], gammaInitializer),
    beta: addWeight(`${prefix}beta`, [channels], initializers.zeros()),
    movingMean: addWeight(`${prefix}moving_mean`, [channels], initializers.zeros(), false),
    movingVariance: addWeight(`${prefix}moving_variance`, [channels], initializers.ones(), false),
  };
}

/**
 * The batch normalisation of every @ldl/backbones network, over every axis but the last (channels
 * last), as tfjs-layers' `BatchNormalization`: in training, the batch statistics are used
 * (`batchNormTraining` of @ldl/kernels: one kernel where registered) and the moving statistics updated
 * as `moving = momentum·moving + (1-momentum)·batch` (`movingAverage`; TF convention: PyTorch
 * `momentum=0.1` is `0.9` here; the batch variance is the biased one, as in tfjs-layers); otherwise the
 * moving statistics are used.
 *
 * @param x `[..., C]`.
 * @param v the four variables, `[C]` each.
 * @param training batch statistics and moving-average updates (true), or the moving statistics (false).
 * @param momentum weight of the old moving statistics, in [0, 1].
 * @param epsilon added to the variance.
 * @returns `x`'s shape.
 */
export function applyBatchNorm<T extends Tensor>(x: T, v: BatchNormVariables, training: boolean, momentum: number, epsilon: number): T {
  const gamma = v.gamma.read() as Tensor1D;
  const beta = v.beta.read() as Tensor1D;
  if (!training) return batchNorm(x, v.movingMean.read() as Tensor1D, v.movingVariance.read() as Tensor1D, beta, gamma, epsilon) as T;
  const { y, mean, variance } = batchNormTraining(x, gamma, beta, epsilon);
  tidy(() => {
    v.movingMean.write(movingAverage(v.movingMean.read(), mean, momentum));
    v.movingVariance.write(movingAverage(v.movingVariance.read(), variance, momentum));
  });
  return y;
}

/** Arguments of {@link BatchNorm}. */
export interface BatchNormArgs extends NonNullable<BaseLayerArgs> {
  /** Weight of the old moving statistics (TF convention: PyTorch `momentum=0.1` is `0.9`). @default 0.9 */
  momentum?: number;
  /** Added to the variance (PyTorch's default; Keras' `ResNet50` of keras-applications 1.0.x uses `1e-3`). @default 1e-5 */
  epsilon?: number;
}

/**
 * Batch normalisation over every axis but the last, as ONE serialisable layer with tfjs-layers'
 * weight names (`gamma`, `beta`, `moving_mean`, `moving_variance`, so that weights saved from or for
 * its `BatchNormalization` load by name), running {@link applyBatchNorm} — the batch norm of the
 * residual blocks, so a network has one batch-norm path. Unlike tfjs-layers' `BatchNormalization`,
 * a frozen layer (`trainable` false) runs in inference mode, moving statistics unchanged, as Keras does.
 */
export class BatchNorm extends layers.Layer {
  /** Serialization class name. */
  static className = 'BatchNorm';
  /** Resolved `momentum` (see {@link BatchNormArgs}). */
  readonly momentum: number;
  /** Resolved `epsilon` (see {@link BatchNormArgs}). */
  readonly epsilon: number;
  private v?: BatchNormVariables;

  constructor(args: BatchNormArgs = {}) {
    super(args);
    this.momentum = args.momentum ?? 0.9;
    this.epsilon = args.epsilon ?? 1e-5;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new Error(`Error in BatchNorm: momentum must be a number in [0, 1], but got ${this.momentum}.`);
    if (!(Number.isFinite(this.epsilon) && this.epsilon > 0)) throw new Error(`Error in BatchNorm: epsilon must be a positive number, but got ${this.epsilon}.`);
  }

  override build(inputShape: LayerShape | LayerShape[]): void {
    const shape = singleShape(inputShape);
    const channels = shape[shape.length - 1];
    if (channels == null) throw new Error(`Error in BatchNorm: the last (channel) axis must be known, but got ${channels}.`);
    this.v = addBatchNormWeights((name, s, init, trainable = true) => this.addWeight(name, s, 'float32', init, undefined, trainable), '', channels);
    this.built = true;
  }

  override computeOutputShape(inputShape: LayerShape | LayerShape[]): LayerShape {
    return singleShape(inputShape);
  }

  override call(inputs: Tensor | Tensor[], kwargs: CallKwargs): Tensor {
    return tidy(() => applyBatchNorm(singleInput(inputs), this.v!, kwargs.training === true && this.trainable, this.momentum, this.epsilon));
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon };
  }
}
serialization.registerClass(BatchNorm, '@ldl/backbones');
