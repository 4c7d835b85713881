import { layers, model as functionalModel, input, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { assertInputShape, assertPositiveInteger } from './common.js';

/** Options of {@link ageGenderNet}. */
export interface AgeGenderNetConfig {
  /** Input `[H, W, 3]`, RGB, `(pixel − mean) / 255` (see `getPretrainedCfg('agegender_tinyxception')`); at least 97 px. @default [112, 112, 3] */
  inputShape?: [number, number, number];
  /**
   * Adds the heads `fc/age` (512 → 1, linear: age in years) and `fc/gender` (512 → 2, softmax); the
   * model then outputs `[age [N, 1], gender [N, 2]]`. Without them it outputs the flattened average pool
   * `pooled`: `[N, 512]` from 97 to 128 px, in general `512 · ⌊(⌈H/16⌉ − 7) / 2 + 1⌋ · ⌊(⌈W/16⌉ − 7) / 2 + 1⌋`.
   * @default true
   */
  includeTop?: boolean;
  /** Residual blocks of the middle flow (face-api.js `new TinyXception(numMainBlocks)`). @default 2 */
  numMainBlocks?: number;
  /** Model name. @default 'agegender_tinyxception' */
  name?: string;
}

/** `layers.separableConv2d` 3×3 'same' with bias: face-api.js `depthwiseSeparableConv` (weights `depthwise_kernel`, `pointwise_kernel`, `bias`). */
function separableConv(x: SymbolicTensor, filters: number, name: string): SymbolicTensor {
  return layers.separableConv2d({ filters, kernelSize: 3, padding: 'same', name }).apply(x) as SymbolicTensor;
}

function relu(x: SymbolicTensor, name: string): SymbolicTensor {
  return layers.reLU({ name }).apply(x) as SymbolicTensor;
}

/**
 * face-api.js `reductionBlock`: [ReLU] → sepconv → ReLU → sepconv → 3×3/2 'same' max-pool, plus the
 * 1×1/2 `expansion_conv` of the block input (before the ReLU).
 */
function reductionBlock(x: SymbolicTensor, filters: number, prefix: string, activateInput: boolean): SymbolicTensor {
  let y = activateInput ? relu(x, `${prefix}/relu0`) : x;
  y = separableConv(y, filters, `${prefix}/separable_conv0`);
  y = separableConv(relu(y, `${prefix}/relu1`), filters, `${prefix}/separable_conv1`);
  y = layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: `${prefix}/maxpool` }).apply(y) as SymbolicTensor;
  const shortcut = layers.conv2d({ filters, kernelSize: 1, strides: 2, padding: 'same', name: `${prefix}/expansion_conv` }).apply(x) as SymbolicTensor;
  return layers.add({ name: `${prefix}/add` }).apply([y, shortcut]) as SymbolicTensor;
}

/** face-api.js `mainBlock`: three (ReLU → sepconv), plus the block input. */
function mainBlock(x: SymbolicTensor, prefix: string): SymbolicTensor {
  const filters = x.shape[3]!;
  let y = x;
  for (let i = 0; i < 3; i++) y = separableConv(relu(y, `${prefix}/relu${i}`), filters, `${prefix}/separable_conv${i}`);
  return layers.add({ name: `${prefix}/add` }).apply([y, x]) as SymbolicTensor;
}

/**
 * face-api.js's `AgeGenderNet` (its age-trained `TinyXception(2)` feature extractor and its two heads) as a
 * trainable tfjs-layers model made of built-in layers with the same math:
 * `entry_flow/conv_in` 3×3/2 (+ ReLU) → `entry_flow/reduction_block_0` (64, input not ReLU'd) →
 * `entry_flow/reduction_block_1` (128) → `middle_flow/main_block_{0…numMainBlocks−1}` (128) →
 * `exit_flow/reduction_block` (256) → `exit_flow/separable_conv` (512, + ReLU) → 7×7/2 'valid' average
 * pool `avgpool` → flatten `pooled` (512 at 112 px) → `fc/age` (1, years) and `fc/gender` (2, softmax).
 * Feature maps at 112 px: 56², 28², 14², 14², 7², 7². Layer names are face-api's weight paths and weights
 * keep tfjs names (`filters` → `kernel`, `depthwise_filter` → `depthwise_kernel`, `pointwise_filter` →
 * `pointwise_kernel`, `weights` → `kernel`), so its weights load by a renaming
 * (`createModel('agegender_tinyxception', { pretrained: true })`).
 * Source: `@vladmandic/face-api` `src/xception/TinyXception.ts`, `src/ageGenderNet/AgeGenderNet.ts`.
 * @throws Error when `inputShape` is below 97 px (the 7×7 pool needs a 7×7 map after the 16× reduction),
 * has other than 3 channels, or `numMainBlocks` is not a positive integer.
 */
export function ageGenderNet(config: AgeGenderNetConfig = {}): LayersModel {
  const fn = 'ageGenderNet';
  const { inputShape = [112, 112, 3], includeTop = true, numMainBlocks = 2, name = 'agegender_tinyxception' } = config;
  assertInputShape(fn, inputShape);
  assertPositiveInteger(fn, 'numMainBlocks', numMainBlocks);
  if (Math.min(inputShape[0], inputShape[1]) < 97 || inputShape[2] !== 3) {
    throw new Error(`Error in ${fn}: inputShape must be at least [97, 97, 3] with 3 channels (a 7×7 map for the pool after the 16× reduction), but got [${inputShape.join(', ')}].`);
  }
  const x = input({ shape: inputShape, name: 'input' });
  let y = layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', name: 'entry_flow/conv_in' }).apply(x) as SymbolicTensor;
  y = relu(y, 'entry_flow/relu');
  y = reductionBlock(y, 64, 'entry_flow/reduction_block_0', false);
  y = reductionBlock(y, 128, 'entry_flow/reduction_block_1', true);
  for (let i = 0; i < numMainBlocks; i++) y = mainBlock(y, `middle_flow/main_block_${i}`);
  y = reductionBlock(y, 256, 'exit_flow/reduction_block', true);
  y = relu(separableConv(y, 512, 'exit_flow/separable_conv'), 'exit_flow/relu');
  y = layers.averagePooling2d({ poolSize: 7, strides: 2, padding: 'valid', name: 'avgpool' }).apply(y) as SymbolicTensor;
  y = layers.flatten({ name: 'pooled' }).apply(y) as SymbolicTensor;
  if (!includeTop) return functionalModel({ inputs: x, outputs: y, name });
  const age = layers.dense({ units: 1, name: 'fc/age' }).apply(y) as SymbolicTensor;
  const gender = layers.dense({ units: 2, activation: 'softmax', name: 'fc/gender' }).apply(y) as SymbolicTensor;
  return functionalModel({ inputs: x, outputs: [age, gender], name });
}
