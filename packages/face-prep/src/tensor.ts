/**
 * Tensor versions of the pipeline's image ops for the browser (or any tfjs backend), so the same
 * alignment can feed a model in a page: rotate with PIL's expanded frame, crop + resize.
 */
import { type Tensor3D, type Tensor4D, cast, expandDims, matMul, reshape, slice, squeeze, image as tfImage, tensor2d, tidy, tile, transpose } from '@tensorflow/tfjs-core';
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

/** Options of {@link cropResizeTensor}. */
export interface CropResizeTensorOptions {
  /**
   * Resampling: `'bilinear'` (tf.image.cropAndResize; no antialiasing, so shrinking aliases) or
   * `'lanczos3'`: the resampling of sharp's `cropResize` (libvips' reduce: an integer box pre-shrink by
   * `⌊s / 2⌋` for a shrink `s ≥ 4`, then separable Lanczos-3 whose support widens with the residual
   * shrink; edge pixels of the box repeat, as for an extracted region). Shrinking comes within about
   * 0.25/255 of sharp's pixels on average (libvips uses 12-bit integer weights); enlarging does not
   * match sharp, which shifts by up to half an output pixel.
   * @default 'bilinear'
   */
  kernel?: 'bilinear' | 'lanczos3';
}

/** Lanczos-3 window, `sinc(x)·sinc(x/3)` on `|x| < 3`. */
function lanczos3(x: number): number {
  if (x === 0) return 1;
  if (Math.abs(x) >= 3) return 0;
  const px = Math.PI * x;
  return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
}

/** `[out, m]` Lanczos-3 weights from `m` pixels with output `j` centred at `(j + 0.5)·step − 0.5`, edge pixels repeated. */
function lanczosRows(m: number, out: number, step: number): Float32Array {
  const scale = Math.max(step, 1);
  const w = new Float32Array(out * m);
  for (let j = 0; j < out; j++) {
    const c = (j + 0.5) * step - 0.5;
    const taps: [number, number][] = [];
    for (let i = Math.floor(c - 3 * scale); i <= Math.ceil(c + 3 * scale); i++) {
      const v = lanczos3((i - c) / scale);
      if (v !== 0) taps.push([Math.min(Math.max(i, 0), m - 1), v]);
    }
    const sum = taps.reduce((acc, [, v]) => acc + v, 0);
    for (const [i, v] of taps) w[j * m + i] += v / sum;
  }
  return w;
}

/**
 * `[out, n]` weights of sharp's (libvips') shrink of the input pixels `[lo, hi)` (of `n`) to `out`
 * pixels: for a shrink `s`, a box pre-shrink by the integer `k = max(1, ⌊s / 2⌋)` (libvips' reduce with
 * its default `gap` of 2; the last box may be partial), then Lanczos-3 with the residual `s / k`.
 */
function resampleWeights(lo: number, hi: number, n: number, out: number): Float32Array {
  const s = (hi - lo) / out;
  const k = Math.max(1, Math.floor(s / 2));
  const m = Math.ceil((hi - lo) / k);
  const rows = lanczosRows(m, out, s / k);
  const w = new Float32Array(out * n);
  for (let j = 0; j < out; j++) {
    for (let r = 0; r < m; r++) {
      const v = rows[j * m + r];
      if (v === 0) continue;
      const first = lo + r * k;
      const last = Math.min(first + k, hi);
      for (let i = first; i < last; i++) w[j * n + i] += v / (last - first);
    }
  }
  return w;
}

/**
 * Crops `box = [x1, y1, x2, y2]` (pixel edges, e.g. from `expandBox`) from `[h, w, c]` or
 * `[n, h, w, c]` images and resizes it bilinearly to `size × size` (or `[height, width]`), sampling at
 * pixel centres (half-pixel aligned). `kernel: 'bilinear'` does no antialiasing; `'lanczos3'` (integer
 * box inside the image, as `expandBox` gives) is the kernel of sharp's `cropResize`. Returns float32.
 *
 * @throws Error when the box is empty or not finite (or, for `'lanczos3'`, not integers inside the image), or `size` is not positive integers.
 */
export function cropResizeTensor<T extends Tensor3D | Tensor4D>(image: T, box: Box, size: number | [number, number], options: CropResizeTensorOptions = {}): T {
  const [outH, outW] = typeof size === 'number' ? [size, size] : size;
  const [x1, y1, x2, y2] = box;
  if (!box.every(Number.isFinite) || x2 <= x1 || y2 <= y1) {
    throw new Error(`Error in cropResizeTensor: box must be finite with x1 < x2 and y1 < y2, but got [${box.join(', ')}].`);
  }
  if (!Number.isInteger(outH) || !Number.isInteger(outW) || outH < 1 || outW < 1) {
    throw new Error(`Error in cropResizeTensor: size must be positive integers, but got ${String(size)}.`);
  }
  const { kernel = 'bilinear' } = options;
  if (kernel !== 'bilinear' && kernel !== 'lanczos3') {
    throw new Error(`Error in cropResizeTensor: kernel must be 'bilinear' or 'lanczos3', but got '${String(kernel)}'.`);
  }
  return tidy(() => {
    const x = batched('cropResizeTensor', image);
    const [n, h, w] = x.shape;
    if (kernel === 'lanczos3') {
      if (!box.every(Number.isInteger) || x1 < 0 || y1 < 0 || x2 > w || y2 > h) {
        throw new Error(`Error in cropResizeTensor: box must be integers inside the ${w}x${h} image for 'lanczos3', but got [${box.join(', ')}].`);
      }
      // The box alone (edges repeat), as channel-major matrices [n·c, bh, bw]: out = Wy · X · Wxᵀ.
      const [bh, bw, c] = [y2 - y1, x2 - x1, x.shape[3]];
      const planes = reshape(transpose(slice(x, [0, y1, x1, 0], [n, bh, bw, c]), [0, 3, 1, 2]), [n * c, bh, bw]);
      const wy = tile(reshape(tensor2d(resampleWeights(0, bh, bh, outH), [outH, bh]), [1, outH, bh]), [n * c, 1, 1]);
      const wxT = tile(reshape(transpose(tensor2d(resampleWeights(0, bw, bw, outW), [outW, bw])), [1, bw, outW]), [n * c, 1, 1]);
      const resized = transpose(reshape(matMul(matMul(wy, planes), wxT), [n, c, outH, outW]), [0, 2, 3, 1]) as Tensor4D;
      return (image.rank === 3 ? squeeze(resized, [0]) : resized) as T;
    }
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
