import { add, matMul, mean, mul, relu, reshape, serialization, sigmoid, tidy, type Tensor, type Tensor1D, type Tensor2D, type Tensor4D } from '@tensorflow/tfjs-core';
import { initializers, layers, type LayerVariable } from '@tensorflow/tfjs-layers';
import { singleInput, singleShape, type AddWeight, type BaseLayerArgs, type LayerShape } from './common.js';

/**
 * timm's `make_divisible(v, divisor, round_limit=0)` as used by its `SEModule`: `v` rounded to the
 * nearest multiple of `divisor`, at least `divisor`.
 */
export function makeDivisible(v: number, divisor = 8): number {
  return Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
}

/** Weights of {@link squeezeExcite}: two 1×1 convolutions stored as dense matrices. */
export interface SqueezeExciteWeights {
  /** `[C, R]` */
  fc1Kernel: Tensor2D;
  /** `[R]` */
  fc1Bias: Tensor1D;
  /** `[R, C]` */
  fc2Kernel: Tensor2D;
  /** `[C]` */
  fc2Bias: Tensor1D;
}

/**
 * Squeeze-and-excitation (Hu et al. 2018; timm `SEModule`): `x · sigmoid(fc2(relu(fc1(mean_HW(x)))))`.
 * @param x `[N, H, W, C]`
 * @returns `[N, H, W, C]`
 */
export function squeezeExcite(x: Tensor4D, w: SqueezeExciteWeights): Tensor4D {
  return tidy(() => {
    const [n, , , c] = x.shape;
    const s = mean(x, [1, 2]) as Tensor2D; // [N, C]
    const hidden = relu(add(matMul(s, w.fc1Kernel), w.fc1Bias));
    const gate = sigmoid(add(matMul(hidden as Tensor2D, w.fc2Kernel), w.fc2Bias));
    return mul(x, reshape(gate, [n, 1, 1, c]));
  });
}

/** Arguments of {@link SqueezeExcite}. */
export interface SqueezeExciteArgs extends NonNullable<BaseLayerArgs> {
  /** Reduction ratio: hidden channels `makeDivisible(C / reduction, divisor)`. @default 16 */
  reduction?: number;
  /** Rounding divisor for the hidden channels (timm `rd_divisor`). @default 8 */
  divisor?: number;
}

/**
 * Squeeze-and-excitation layer with timm `SEModule` weights `fc1/kernel [C, R]`, `fc1/bias [R]`,
 * `fc2/kernel [R, C]`, `fc2/bias [C]` (PyTorch 1×1 conv weights `[R, C, 1, 1]` squeezed and transposed).
 */
export class SqueezeExcite extends layers.Layer {
  /** Serialization class name. */
  static className = 'SqueezeExcite';
  /** Resolved `reduction` (see {@link SqueezeExciteArgs}). */
  readonly reduction: number;
  /** Resolved `divisor` (see {@link SqueezeExciteArgs}). */
  readonly divisor: number;
  private w?: Record<keyof SqueezeExciteWeights, LayerVariable>;

  constructor(args: SqueezeExciteArgs = {}) {
    super(args);
    this.reduction = args.reduction ?? 16;
    this.divisor = args.divisor ?? 8;
  }

  override build(inputShape: LayerShape | LayerShape[]): void {
    const c = singleShape(inputShape)[3];
    if (c == null) throw new Error(`Error in SqueezeExcite: input channels must be known, but got ${c}.`);
    this.w = addSqueezeExciteWeights((name, shape, init) => this.addWeight(name, shape, 'float32', init), '', c, makeDivisible(c / this.reduction, this.divisor));
    this.built = true;
  }

  override computeOutputShape(inputShape: LayerShape | LayerShape[]): LayerShape {
    return singleShape(inputShape);
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return squeezeExcite(singleInput(inputs) as Tensor4D, readSqueezeExcite(this.w!));
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), reduction: this.reduction, divisor: this.divisor };
  }
}
serialization.registerClass(SqueezeExcite, '@ldl/backbones');

/**
 * Creates SE weights through a layer's `addWeight`, named `${prefix}fc1/kernel` … (PyTorch `nn.Conv2d`
 * default init: uniform ±1/sqrt(fan_in) for weights and biases).
 */
export function addSqueezeExciteWeights(
  addWeight: AddWeight,
  prefix: string,
  channels: number,
  hidden: number,
): Record<keyof SqueezeExciteWeights, LayerVariable> {
  const u = (fanIn: number) => initializers.randomUniform({ minval: -1 / Math.sqrt(fanIn), maxval: 1 / Math.sqrt(fanIn) });
  return {
    fc1Kernel: addWeight(`${prefix}fc1/kernel`, [channels, hidden], u(channels)),
    fc1Bias: addWeight(`${prefix}fc1/bias`, [hidden], u(channels)),
    fc2Kernel: addWeight(`${prefix}fc2/kernel`, [hidden, channels], u(hidden)),
    fc2Bias: addWeight(`${prefix}fc2/bias`, [channels], u(hidden)),
  };
}

/** Reads SE variables into the tensors {@link squeezeExcite} takes. */
export function readSqueezeExcite(w: Record<keyof SqueezeExciteWeights, LayerVariable>): SqueezeExciteWeights {
  return {
    fc1Kernel: w.fc1Kernel.read() as Tensor2D,
    fc1Bias: w.fc1Bias.read() as Tensor1D,
    fc2Kernel: w.fc2Kernel.read() as Tensor2D,
    fc2Bias: w.fc2Bias.read() as Tensor1D,
  };
}
