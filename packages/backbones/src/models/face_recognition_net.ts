import { add, avgPool, conv2d, mul, pad, relu, serialization, tidy, type Tensor, type Tensor1D, type Tensor4D } from '@tensorflow/tfjs-core';
import { initializers, layers, model as functionalModel, input, type LayersModel, type LayerVariable, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { heNormalFanOut, singleInput, singleShape, type BaseLayerArgs, type CallKwargs, type LayerShape } from '../layers/common.js';
import { assertInputShape, assertPositiveInteger } from './common.js';

/** Variables of one dlib "con + affine" unit (`conv/filters`, `conv/bias`, `scale/weights`, `scale/biases`). */
interface ConvScaleVariables {
  filters: LayerVariable;
  bias: LayerVariable;
  weights: LayerVariable;
  biases: LayerVariable;
}

type AddWeightFn = (name: string, shape: number[], init: ReturnType<typeof initializers.zeros>) => LayerVariable;

function addConvScaleWeights(addWeight: AddWeightFn, prefix: string, kernelSize: number, cin: number, cout: number): ConvScaleVariables {
  return {
    filters: addWeight(`${prefix}conv/filters`, [kernelSize, kernelSize, cin, cout], heNormalFanOut()),
    bias: addWeight(`${prefix}conv/bias`, [cout], initializers.zeros()),
    weights: addWeight(`${prefix}scale/weights`, [cout], initializers.ones()),
    biases: addWeight(`${prefix}scale/biases`, [cout], initializers.zeros()),
  };
}

/** `conv2d(x) + bias`, then dlib's affine layer `· weights + biases` (face-api `convLayer`). */
function convScale(x: Tensor4D, v: ConvScaleVariables, strides: number, padding: 'same' | 'valid'): Tensor4D {
  const y = add(conv2d(x, v.filters.read() as Tensor4D, strides, padding), v.bias.read() as Tensor1D);
  return add(mul(y, v.weights.read() as Tensor1D), v.biases.read() as Tensor1D);
}

/** Arguments of {@link DlibConv}. */
export interface DlibConvArgs extends NonNullable<BaseLayerArgs> {
  /** Output channels. */
  filters: number;
  /** Square kernel side. @default 3 */
  kernelSize?: number;
  /** Stride. @default 1 */
  strides?: number;
  /** tfjs padding of the convolution. @default 'same' */
  padding?: 'same' | 'valid';
  /** ReLU after the affine layer. @default true */
  relu?: boolean;
}

/**
 * dlib's `con` + `affine` (+ `relu`) as one layer, as face-api.js runs it (`convLayer`): a biased
 * convolution followed by a per-channel scale and shift (dlib's inference form of batch norm). Weights
 * `conv/filters` `[k, k, Cin, filters]`, `conv/bias`, `scale/weights`, `scale/biases` `[filters]`: the
 * names of face-api's weight manifest under this layer's name, so loading is a pure renaming.
 */
export class DlibConv extends layers.Layer {
  /** Serialization class name. */
  static className = 'DlibConv';
  /** Resolved `filters`. */
  readonly filters: number;
  /** Resolved `kernelSize`. */
  readonly kernelSize: number;
  /** Resolved `strides`. */
  readonly strides: number;
  /** Resolved `padding`. */
  readonly padding: 'same' | 'valid';
  /** Resolved `relu`. */
  readonly relu: boolean;
  private v?: ConvScaleVariables;

  constructor(args: DlibConvArgs) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize ?? 3;
    this.strides = args.strides ?? 1;
    this.padding = args.padding ?? 'same';
    this.relu = args.relu ?? true;
    for (const [name, value] of [['filters', this.filters], ['kernelSize', this.kernelSize], ['strides', this.strides]] as const) {
      assertPositiveInteger('DlibConv', name, value);
    }
  }

  override build(inputShape: LayerShape | LayerShape[]): void {
    const cin = singleShape(inputShape)[3];
    if (cin == null) throw new Error(`Error in DlibConv: input channels must be known, but got ${cin}.`);
    this.v = addConvScaleWeights((n, s, i) => this.addWeight(n, s, 'float32', i), '', this.kernelSize, cin, this.filters);
    this.built = true;
  }

  override computeOutputShape(inputShape: LayerShape | LayerShape[]): LayerShape {
    const [n, h, w] = singleShape(inputShape);
    const k = this.kernelSize;
    const s = this.strides;
    const out = (size: number | null | undefined) => (size == null ? null : this.padding === 'same' ? Math.ceil(size / s) : Math.floor((size - k) / s) + 1);
    return [n ?? null, out(h), out(w), this.filters];
  }

  override call(inputs: Tensor | Tensor[], _kwargs: CallKwargs): Tensor {
    return tidy(() => {
      const y = convScale(singleInput(inputs) as Tensor4D, this.v!, this.strides, this.padding);
      return this.relu ? relu(y) : y;
    });
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, padding: this.padding, relu: this.relu };
  }
}
serialization.registerClass(DlibConv, '@ldl/backbones');

/** Arguments of {@link DlibResidual}. */
export interface DlibResidualArgs extends NonNullable<BaseLayerArgs> {
  /** Output channels (≥ the input channels; equal unless `down`). */
  filters: number;
  /** Downsampling block (dlib `ares_down`): stride-2 'valid' first conv, 2×2 average-pool shortcut. @default false */
  down?: boolean;
}

/**
 * dlib's residual block of the face-recognition ResNet, as face-api.js runs it (`residual` /
 * `residualDown`): `conv1` 3×3 (+ affine, ReLU) → `conv2` 3×3 (+ affine) → + shortcut → ReLU. The
 * downsampling block's `conv1` has stride 2 and 'valid' padding; its shortcut is a 2×2/2 average pool
 * whose channels are zero-padded up to `filters`, and the residual branch gets one zero row/column at
 * the bottom/right where it is a pixel smaller than the pooled shortcut (as face-api does).
 * Weights `conv1/conv/filters`, `conv1/conv/bias`, `conv1/scale/weights`, `conv1/scale/biases`, the same
 * for `conv2`.
 */
export class DlibResidual extends layers.Layer {
  /** Serialization class name. */
  static className = 'DlibResidual';
  /** Resolved `filters`. */
  readonly filters: number;
  /** Resolved `down`. */
  readonly down: boolean;
  private v?: { conv1: ConvScaleVariables; conv2: ConvScaleVariables };

  constructor(args: DlibResidualArgs) {
    super(args);
    this.filters = args.filters;
    this.down = args.down ?? false;
    assertPositiveInteger('DlibResidual', 'filters', this.filters);
  }

  override build(inputShape: LayerShape | LayerShape[]): void {
    const cin = singleShape(inputShape)[3];
    if (cin == null) throw new Error(`Error in DlibResidual: input channels must be known, but got ${cin}.`);
    if (this.down ? cin > this.filters : cin !== this.filters) {
      throw new Error(`Error in DlibResidual: filters must be ${this.down ? '≥' : 'equal to'} the input channels (${cin}), but got ${this.filters}.`);
    }
    const addWeight: AddWeightFn = (n, s, i) => this.addWeight(n, s, 'float32', i);
    this.v = { conv1: addConvScaleWeights(addWeight, 'conv1/', 3, cin, this.filters), conv2: addConvScaleWeights(addWeight, 'conv2/', 3, this.filters, this.filters) };
    this.built = true;
  }

  override computeOutputShape(inputShape: LayerShape | LayerShape[]): LayerShape {
    const [n, h, w] = singleShape(inputShape);
    if (!this.down) return [n ?? null, h ?? null, w ?? null, this.filters];
    const half = (size: number | null | undefined) => (size == null ? null : Math.floor(size / 2));
    return [n ?? null, half(h), half(w), this.filters];
  }

  override call(inputs: Tensor | Tensor[], _kwargs: CallKwargs): Tensor {
    return tidy(() => {
      const x = singleInput(inputs) as Tensor4D;
      const v = this.v!;
      let y = relu(convScale(x, v.conv1, this.down ? 2 : 1, this.down ? 'valid' : 'same'));
      y = convScale(y, v.conv2, 1, 'same');
      let shortcut = x;
      if (this.down) {
        shortcut = avgPool(x, 2, 2, 'valid');
        const [, ph, pw, pc] = shortcut.shape;
        if (pc < this.filters) shortcut = pad(shortcut, [[0, 0], [0, 0], [0, 0], [0, this.filters - pc]]);
        const [, yh, yw] = y.shape;
        if (yh !== ph || yw !== pw) y = pad(y, [[0, 0], [0, ph - yh], [0, pw - yw], [0, 0]]);
      }
      return relu(add(y, shortcut));
    });
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, down: this.down };
  }
}
serialization.registerClass(DlibResidual, '@ldl/backbones');

/** Options of {@link faceRecognitionNet}. */
export interface FaceRecognitionNetConfig {
  /** Input `[H, W, 3]`, RGB, `(pixel − mean) / 255` (see `PRETRAINED_CFGS`). @default [150, 150, 3] */
  inputShape?: [number, number, number];
  /** Adds the descriptor layer `fc` (no bias); without it the model outputs the pooled 256 features (`pool`). @default true */
  includeTop?: boolean;
  /** Outputs of `fc` (the face descriptor). @default 128 */
  numClasses?: number;
  /** Model name. @default 'facerec_resnet34' */
  name?: string;
}

/** Blocks of the face-recognition ResNet, stage by stage (face-api.js / dlib `dlib_face_recognition_resnet_model_v1`). */
export const FACEREC_STAGES = {
  layer1: ['conv32_1', 'conv32_2', 'conv32_3'],
  layer2: ['conv64_down', 'conv64_1', 'conv64_2', 'conv64_3'],
  layer3: ['conv128_down', 'conv128_1', 'conv128_2'],
  layer4: ['conv256_down', 'conv256_1', 'conv256_2', 'conv256_down_out'],
} as const;

/**
 * dlib's face-recognition ResNet (`dlib_face_recognition_resnet_model_v1`, a 29-conv ResNet-34 variant with
 * half the channels) as face-api.js's `FaceRecognitionNet` runs it, as a trainable tfjs-layers model:
 * `conv32_down` 7×7/2 'valid' (+ affine, ReLU) → 3×3/2 'valid' max-pool → stages of {@link DlibResidual}
 * blocks (`FACEREC_STAGES`: 32, 64, 128, 256 channels) → global average pool `pool` (256) → `fc` (256 → 128,
 * no bias). At 150 px the stage outputs are 35², 17², 8² and 2². Layer and weight names are face-api's
 * (`conv64_down/conv1/conv/filters`), so its weights load by name (`createModel('facerec_resnet34',
 * { pretrained: true })`).
 * @throws Error when `inputShape` is below 103×103 (a downsampling block would get fewer than 3 pixels).
 */
export function faceRecognitionNet(config: FaceRecognitionNetConfig = {}): LayersModel {
  const fn = 'faceRecognitionNet';
  const { inputShape = [150, 150, 3], includeTop = true, numClasses = 128, name = 'facerec_resnet34' } = config;
  assertInputShape(fn, inputShape);
  assertPositiveInteger(fn, 'numClasses', numClasses);
  // Every downsampling block's 3×3/2 'valid' conv needs at least 3 pixels: 103 px and up.
  const smallest = (side: number) => Math.floor((Math.floor((side - 7) / 2) + 1 - 3) / 2) + 1;
  if (Math.min(smallest(inputShape[0]), smallest(inputShape[1])) < 24) {
    throw new Error(`Error in ${fn}: inputShape must be at least 103×103 (the stem and five 2× reductions), but got [${inputShape.join(', ')}].`);
  }
  const x = input({ shape: inputShape, name: 'input' });
  let y = new DlibConv({ filters: 32, kernelSize: 7, strides: 2, padding: 'valid', name: 'conv32_down' }).apply(x) as SymbolicTensor;
  y = layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'maxpool' }).apply(y) as SymbolicTensor;
  const widths = { layer1: 32, layer2: 64, layer3: 128, layer4: 256 } as const;
  for (const stage of Object.keys(FACEREC_STAGES) as (keyof typeof FACEREC_STAGES)[]) {
    for (const block of FACEREC_STAGES[stage]) {
      y = new DlibResidual({ filters: widths[stage], down: block.includes('_down'), name: block }).apply(y) as SymbolicTensor;
    }
  }
  y = layers.globalAveragePooling2d({ name: 'pool' }).apply(y) as SymbolicTensor;
  if (includeTop) y = layers.dense({ units: numClasses, useBias: false, name: 'fc' }).apply(y) as SymbolicTensor;
  return functionalModel({ inputs: x, outputs: y, name });
}
