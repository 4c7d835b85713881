import {
  add,
  argMax,
  cast,
  matMul,
  mul,
  range,
  reshape,
  reverse,
  softmax,
  tidy,
  type Tensor1D,
  type Tensor2D,
  type Tensor4D,
} from '@tensorflow/tfjs-core';
import { checkFinite, checkMatrix, checkOneOf, fail, isTensor } from './validate';

/** Options of {@link expectedAge}. */
export interface ExpectedAgeOptions {
  /**
   * Age of class 0; class `k` stands for age `minAge + k`.
   * @default 0
   */
  minAge?: number;
  /**
   * What the input holds: raw `'logits'` (a softmax is applied) or `'probabilities'` (rows that
   * already sum to 1, e.g. the output of {@link flipTTA}).
   * @default 'logits'
   */
  from?: 'logits' | 'probabilities';
}

/** Options of {@link argmaxAge}. */
export interface ArgmaxAgeOptions {
  /**
   * Age of class 0; class `k` stands for age `minAge + k`.
   * @default 0
   */
  minAge?: number;
}

/**
 * `Σ_k p_k · (minAge + k)` per row for probabilities `p` of shape `[N, C]` → `[N]`.
 * Internal: inputs are trusted. Uses one `matMul` so it stays fast on every backend.
 */
export function expectation(probs: Tensor2D, minAge: number): Tensor1D {
  const c = probs.shape[1];
  const ages = reshape(range(minAge, minAge + c, 1, 'float32'), [c, 1]);
  return reshape(matMul(probs, ages), [probs.shape[0]]);
}

/**
 * Expected age `Σ_k softmax(logits)_k · (minAge + k)`: the paper's (and DLDL-v2's) prediction.
 *
 * @param logits `Tensor2D [N, numClasses]`, float32 (or probabilities with `from: 'probabilities'`).
 * @returns `Tensor1D [N]`, float32 ages.
 *
 * @example
 * ```ts
 * const ages = expectedAge(model.predict(images) as tf.Tensor2D); // shape [N]
 * ```
 */
export function expectedAge(logits: Tensor2D, options: ExpectedAgeOptions = {}): Tensor1D {
  const fn = 'expectedAge';
  const { minAge = 0, from = 'logits' } = options;
  checkMatrix(fn, 'logits', logits);
  checkFinite(fn, 'minAge', minAge);
  checkOneOf(fn, 'from', from, ['logits', 'probabilities'] as const);
  return tidy(() => expectation(from === 'logits' ? softmax(logits) : logits, minAge));
}

/**
 * Age of the most probable class, `minAge + argmax_k logits_k` (the classification baseline's
 * prediction). Works the same on logits and on probabilities.
 *
 * @param logits `Tensor2D [N, numClasses]`, float32.
 * @returns `Tensor1D [N]`, float32 (whole ages).
 */
export function argmaxAge(logits: Tensor2D, options: ArgmaxAgeOptions = {}): Tensor1D {
  const fn = 'argmaxAge';
  const { minAge = 0 } = options;
  checkMatrix(fn, 'logits', logits);
  checkFinite(fn, 'minAge', minAge);
  return tidy(() => add(cast(argMax(logits, 1), 'float32'), minAge));
}

/**
 * Flip test-time augmentation: runs `predict` on the images and on their horizontal mirror
 * (`tf.reverse(images, 2)`, the width axis of NHWC) and averages the two softmax distributions.
 * All intermediate tensors are disposed.
 *
 * @param predict Maps `Tensor4D [N, H, W, C]` images to logits `Tensor2D [N, numClasses]`,
 *   e.g. `(x) => model.predict(x) as tf.Tensor2D`.
 * @param images `Tensor4D [N, H, W, C]` (NHWC).
 * @returns `Tensor2D [N, numClasses]` of probabilities (rows sum to 1); decode with
 *   `expectedAge(p, { from: 'probabilities' })` or `argmaxAge(p)`.
 *
 * @example
 * ```ts
 * const p = flipTTA((x) => model.predict(x) as tf.Tensor2D, images);
 * const ages = expectedAge(p, { from: 'probabilities' });
 * ```
 */
export function flipTTA(predict: (images: Tensor4D) => Tensor2D, images: Tensor4D): Tensor2D {
  const fn = 'flipTTA';
  if (typeof predict !== 'function') fail(fn, 'predict', 'a function (images: Tensor4D) => Tensor2D', predict);
  if (!isTensor(images) || images.rank !== 4) fail(fn, 'images', 'a rank-4 Tensor [N, H, W, C] (NHWC)', images);
  const n = images.shape[0];
  const run = (x: Tensor4D, arg: string): Tensor2D => {
    const out: unknown = predict(x);
    checkMatrix(fn, arg, out);
    if (out.shape[0] !== n) fail(fn, `${arg}.shape[0]`, `${n} (the number of images)`, out.shape[0]);
    return out;
  };
  return tidy(() => {
    const a = softmax(run(images, 'predict(images)'));
    const b = softmax(run(reverse(images, 2), 'predict(mirrored images)'));
    if (a.shape[1] !== b.shape[1]) fail(fn, 'predict(mirrored images).shape[1]', String(a.shape[1]), b.shape[1]);
    return mul(add(a, b), 0.5) as Tensor2D;
  });
}

