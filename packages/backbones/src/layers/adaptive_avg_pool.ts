import { matMul, reshape, serialization, tensor2d, tidy, transpose, type Tensor, type Tensor2D, type Tensor4D } from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import { singleInput, singleShape, type BaseLayerArgs, type LayerShape } from './common.js';

/** PyTorch's adaptive-average-pooling matrix `[out, in]`: row `i` averages `[floor(i·in/out), ceil((i+1)·in/out))`. */
function poolMatrix(inSize: number, outSize: number): Tensor2D {
  const m = new Float32Array(outSize * inSize);
  for (let i = 0; i < outSize; i++) {
    const start = Math.floor((i * inSize) / outSize);
    const end = Math.ceil(((i + 1) * inSize) / outSize);
    for (let j = start; j < end; j++) m[i * inSize + j] = 1 / (end - start);
  }
  return tensor2d(m, [outSize, inSize]);
}

/**
 * PyTorch `F.adaptive_avg_pool2d` (NHWC) as two matrix products (differentiable everywhere).
 * @param x `[N, H, W, C]`
 * @param outputSize `[Ho, Wo]`
 * @returns `[N, Ho, Wo, C]`
 */
export function adaptiveAvgPool2d(x: Tensor4D, outputSize: [number, number]): Tensor4D {
  return tidy(() => {
    const [n, h, w, c] = x.shape;
    const [ho, wo] = outputSize;
    // pool H: [H, N·W·C] → [Ho, N·W·C]
    const ph = matMul(poolMatrix(h, ho), reshape(transpose(x, [1, 0, 2, 3]), [h, n * w * c]));
    // [Ho, N, W, C] → [W, N·Ho·C] → pool W → [Wo, N, Ho, C]
    const byW = reshape(transpose(reshape(ph, [ho, n, w, c]), [2, 1, 0, 3]), [w, n * ho * c]);
    const pw = reshape(matMul(poolMatrix(w, wo), byW), [wo, n, ho, c]);
    return transpose(pw, [1, 2, 0, 3]) as Tensor4D;
  });
}

/** Arguments of {@link AdaptiveAvgPool2D}. */
export interface AdaptiveAvgPool2DArgs extends NonNullable<BaseLayerArgs> {
  /** Output spatial size `[Ho, Wo]`. */
  outputSize: [number, number];
}

/** PyTorch `nn.AdaptiveAvgPool2d(outputSize)` for NHWC inputs of known spatial size (no weights). */
export class AdaptiveAvgPool2D extends layers.Layer {
  /** Serialization class name. */
  static className = 'AdaptiveAvgPool2D';
  /** Resolved `outputSize` (see {@link AdaptiveAvgPool2DArgs}). */
  readonly outputSize: [number, number];

  constructor(args: AdaptiveAvgPool2DArgs) {
    super(args);
    this.outputSize = [...args.outputSize];
  }

  override computeOutputShape(inputShape: LayerShape | LayerShape[]): LayerShape {
    const s = singleShape(inputShape);
    return [s[0] ?? null, ...this.outputSize, s[3] ?? null];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return adaptiveAvgPool2d(singleInput(inputs) as Tensor4D, this.outputSize);
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), outputSize: this.outputSize };
  }
}
serialization.registerClass(AdaptiveAvgPool2D, '@ldl/backbones');
