/**
 * Tensor versions of the pipeline's image ops for the browser (or any tfjs backend), so the same
 * alignment can feed a model in a page: rotate with PIL's expanded frame, crop + resize.
 */
import { type Tensor3D, type Tensor4D, cast, expandDims, image as tfImage, squeeze, tensor2d, tidy } from '@tensorflow/tfjs-core';
import { type Box, rotationFrame } from './geometry';

function batched<T extends Tensor3D | Tensor4D>(fn: string, image: T): Tensor4D {
  if (image.rank !== 3 && image.rank !== 4) {
    throw new Error(`Error in ${fn}: image must be rank 3 or 4, but got rank ${image.rank}.`);
  }
  const x = image.rank === 3 ? expandDims<Tensor4D>(image, 0) : (image as Tensor4D);
  return x.dtype === 'float32' ? x : cast(x, 'float32');
}

/** Options of {@link rotateExpandTensor}. */
export interface RotateExpandTensorOptions {
  /**
   * Resampling.
   * @default 'bilinear'
   */
  interpolation?: 'bilinear' | 'nearest';
  /**
   * Value of the uncovered corners.
   * @default 0
   */
  fillValue?: number;
}

/**
 * Rotates `[h, w, c]` or `[n, h, w, c]` images counter-clockwise by `deg` with canvas expansion, in
 * the frame of PIL's `rotate(deg, expand=True)` (same size and pixel positions as `rotateExpand`).
 * Returns float32 `[h', w', c]` / `[n, h', w', c]` with `(h', w')` from `rotatedSize`.
 */
export function rotateExpandTensor<T extends Tensor3D | Tensor4D>(image: T, deg: number, options: RotateExpandTensorOptions = {}): T {
  const { interpolation = 'bilinear', fillValue = 0 } = options;
  return tidy(() => {
    const x = batched('rotateExpandTensor', image);
    const [n, h, w] = x.shape;
    const frame = rotationFrame({ width: w, height: h }, deg);
    const [a, b, c, d, e, f] = frame.inverse;
    // tf.image.transform maps output pixel indices to input pixel indices (centres at integers).
    const t = [a, b, a * 0.5 + b * 0.5 + c - 0.5, d, e, d * 0.5 + e * 0.5 + f - 0.5, 0, 0];
    const transforms = tensor2d(Array.from({ length: n }, () => t), [n, 8]);
    const out = tfImage.transform(x, transforms, interpolation, 'constant', fillValue, [frame.height, frame.width]);
    return (image.rank === 3 ? squeeze(out, [0]) : out) as T;
  });
}

/**
 * Crops `box = [x1, y1, x2, y2]` (pixel edges, e.g. from `expandBox`) from `[h, w, c]` or
 * `[n, h, w, c]` images and resizes it bilinearly to `size × size` (or `[height, width]`), sampling at
 * pixel centres (half-pixel aligned, no antialiasing). Returns float32.
 */
export function cropResizeTensor<T extends Tensor3D | Tensor4D>(image: T, box: Box, size: number | [number, number]): T {
  const [outH, outW] = typeof size === 'number' ? [size, size] : size;
  const [x1, y1, x2, y2] = box;
  if (!box.every(Number.isFinite) || x2 <= x1 || y2 <= y1) {
    throw new Error(`Error in cropResizeTensor: box must be finite with x1 < x2 and y1 < y2, but got [${box.join(', ')}].`);
  }
  if (!Number.isInteger(outH) || !Number.isInteger(outW) || outH < 1 || outW < 1) {
    throw new Error(`Error in cropResizeTensor: size must be positive integers, but got ${String(size)}.`);
  }
  return tidy(() => {
    const x = batched('cropResizeTensor', image);
    const [n, h, w] = x.shape;
    // Output pixel j samples x1 + (j + 0.5)·bw/outW − 0.5; cropAndResize spaces samples from box
    // start to end over (outW − 1) steps in units of (w − 1).
    const sx = (x2 - x1) / outW;
    const sy = (y2 - y1) / outH;
    const nx = (v: number) => v / Math.max(w - 1, 1);
    const ny = (v: number) => v / Math.max(h - 1, 1);
    const norm = [
      ny(y1 + 0.5 * sy - 0.5),
      nx(x1 + 0.5 * sx - 0.5),
      ny(y1 + (outH - 0.5) * sy - 0.5),
      nx(x1 + (outW - 0.5) * sx - 0.5),
    ];
    const boxes = tensor2d(Array.from({ length: n }, () => norm), [n, 4]);
    const indices = Array.from({ length: n }, (_, i) => i);
    const out = tfImage.cropAndResize(x, boxes, indices, [outH, outW], 'bilinear');
    return (image.rank === 3 ? squeeze(out, [0]) : out) as T;
  });
}
