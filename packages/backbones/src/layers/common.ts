import { initializers, type LayerVariable, type layers } from '@tensorflow/tfjs-layers';
import type { Tensor } from '@tensorflow/tfjs-core';

/** Keyword arguments TF.js passes to `Layer.call` (only `training` is read here). */
export type CallKwargs = { training?: boolean } & Record<string, unknown>;

/** Shape type of `Layer.computeOutputShape` / `build` (`null` = unknown dimension). */
export type LayerShape = (number | null)[];

/** The one input tensor of a single-input layer. */
export function singleInput(inputs: Tensor | Tensor[]): Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}

/** The one input shape of a single-input layer. */
export function singleShape(inputShape: LayerShape | LayerShape[]): LayerShape {
  return Array.isArray(inputShape[0]) ? (inputShape[0] as LayerShape) : (inputShape as LayerShape);
}

/** timm/torchvision ResNet conv init: He normal, fan-out, ReLU gain (`kaiming_normal_(mode='fan_out')`). */
export const heNormalFanOut = () => initializers.varianceScaling({ scale: 2, mode: 'fanOut', distribution: 'normal' });

/** A `LayerArgs` alias so layer args interfaces can extend it without deep imports. */
export type BaseLayerArgs = ConstructorParameters<typeof layers.Layer>[0];

/** An initializer as created by `initializers.*` of tfjs-layers. */
export type LayerInitializer = ReturnType<typeof initializers.randomUniform>;

/** A layer's `addWeight` bound to it (float32), handed to helpers that create groups of weights. */
export type AddWeight = (name: string, shape: number[], initializer: LayerInitializer, trainable?: boolean) => LayerVariable;
