import { image, serialization, tidy, type Tensor, type Tensor4D } from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import { singleInput, singleShape, type BaseLayerArgs, type CallKwargs, type LayerShape } from './common.js';
import { assertPositiveInteger } from '../models/common.js';

/** Arguments of {@link ResizeBilinear}. */
export interface ResizeBilinearArgs extends NonNullable<BaseLayerArgs> {
  /** Output height, pixels. */
  height: number;
  /** Output width, pixels. */
  width: number;
}

/**
 * Bilinear resize of `[N, H, W, C]` to `[N, height, width, C]` (`tf.image.resizeBilinear`, `alignCorners`
 * false, half-pixel centres): feeds one input to backbones trained at different sizes. Unlike tfjs-layers'
 * `Resizing`, it keeps the channel dimension in its output shape.
 */
export class ResizeBilinear extends layers.Layer {
  /** Serialization class name. */
  static className = 'ResizeBilinear';
  /** Output height. */
  readonly height: number;
  /** Output width. */
  readonly width: number;

  constructor(args: ResizeBilinearArgs) {
    super(args);
    assertPositiveInteger('ResizeBilinear', 'height', args.height);
    assertPositiveInteger('ResizeBilinear', 'width', args.width);
    this.height = args.height;
    this.width = args.width;
  }

  override computeOutputShape(inputShape: LayerShape | LayerShape[]): LayerShape {
    const [n, , , c] = singleShape(inputShape);
    return [n ?? null, this.height, this.width, c ?? null];
  }

  override call(inputs: Tensor | Tensor[], _kwargs: CallKwargs): Tensor {
    return tidy(() => image.resizeBilinear(singleInput(inputs) as Tensor4D, [this.height, this.width], false, true));
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), height: this.height, width: this.width };
  }
}
serialization.registerClass(ResizeBilinear, '@ldl/backbones');
