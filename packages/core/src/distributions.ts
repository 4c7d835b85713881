// Label-distribution helpers for any label set (expressions, star ratings, time points, ages…):
// normalising, building distributions from single labels, and decoding distributions back to a label.
import { argMax, gather, matMul, reshape, softmax, tensor1d, tensor2d, tidy, type Tensor1D, type Tensor2D } from '@tensorflow/tfjs-core';
import { gaussianRows } from './labels';
import { checkFinite, checkInteger, checkMatrix, checkOneOf, fail, isTensor, readClassIndices, readSigma, readVector, type AgesLike, type SigmaLike } from './validate';

/** What a decoder's input holds: raw `'logits'` (a softmax is applied) or `'probabilities'` (rows summing to 1). */
export type DistributionInput = 'logits' | 'probabilities';

/** Options of {@link expectedLabel} and {@link argmaxLabel}. */
export interface LabelDecodeOptions {
  /**
   * What the input holds.
   * @default 'probabilities'
   */
  from?: DistributionInput;
}

/** Options of {@link gaussianDistribution}. */
export interface GaussianDistributionOptions {
  /**
   * Standard deviation, in the unit of the label values: one number or one per sample. Every value > 0.
   * @default 1
   */
  sigma?: SigmaLike;
}

/** Options of {@link normalizeDistribution}. */
export interface NormalizeDistributionOptions {
  /**
   * Relative tolerance below which a row sum counts as zero (such a row cannot be normalised).
   * @default 0
   */
  minSum?: number;
}

function readLabelValues(fn: string, labelValues: unknown, width?: number): number[] {
  const values = readVector(fn, 'labelValues', labelValues, width, 'columns of the distributions');
  if (values.length === 0) fail(fn, 'labelValues', 'non-empty', labelValues);
  return values;
}

/**
 * Divides each row by its sum so it becomes a label distribution. Reads the tensor back (`dataSync`)
 * to check it first: no silent NaN rows.
 *
 * @param scores `Tensor2D [N, L]` of non-negative scores (e.g. annotator votes or description degrees).
 * @returns `Tensor2D [N, L]` whose rows sum to 1.
 * @throws `Error in normalizeDistribution: …` for a negative or non-finite value, or a row that sums to 0.
 */
export function normalizeDistribution(scores: Tensor2D, options: NormalizeDistributionOptions = {}): Tensor2D {
  const fn = 'normalizeDistribution';
  const { minSum = 0 } = options;
  checkMatrix(fn, 'scores', scores);
  checkFinite(fn, 'minSum', minSum);
  const [n, l] = scores.shape;
  const data = scores.dataSync();
  const out = new Float32Array(n * l);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < l; j++) {
      const v = data[i * l + j];
      if (!Number.isFinite(v) || v < 0) fail(fn, `scores[${i}][${j}]`, 'a finite number >= 0', v);
      sum += v;
    }
    if (!(sum > minSum)) fail(fn, `the sum of scores[${i}]`, `> ${minSum}`, sum);
    for (let j = 0; j < l; j++) out[i * l + j] = data[i * l + j] / sum;
  }
  return tensor2d(out, [n, l]);
}

/**
 * Label smoothing: one-hot label distributions of the given classes mixed with the uniform
 * distribution, `(1 − ε)·onehot + ε / numClasses` (Szegedy et al., CVPR 2016).
 *
 * @param classes class indices `number[]` or `Tensor1D [N]`, integers in `[0, numClasses − 1]`.
 * @param numClasses L ≥ 1.
 * @param epsilon ε in `[0, 1]`; 0 gives the plain one-hot rows.
 * @returns `Tensor2D [N, L]`, float32, rows summing to 1.
 * @throws `Error in smoothLabels: …` for a bad class index, `numClasses` or `epsilon`.
 */
export function smoothLabels(classes: AgesLike, numClasses: number, epsilon = 0.1): Tensor2D {
  const fn = 'smoothLabels';
  checkInteger(fn, 'numClasses', numClasses, 1);
  checkFinite(fn, 'epsilon', epsilon);
  if (epsilon < 0 || epsilon > 1) fail(fn, 'epsilon', 'within [0, 1]', epsilon);
  const n = isTensor(classes) ? classes.shape[0] : classes.length;
  const idx = readClassIndices(fn, 'classes', classes, n, numClasses);
  const out = new Float32Array(idx.length * numClasses).fill(epsilon / numClasses);
  idx.forEach((k, i) => {
    out[i * numClasses + k] += 1 - epsilon;
  });
  return tensor2d(out, [idx.length, numClasses]);
}

/**
 * Gaussian label distribution over ordinal label values (DLDL, Gao et al., TIP 2017): for each target
 * `y` and label value `v_k`, `exp(−(v_k − y)² / 2σ²)`, normalised per row. Works for any ordered
 * label set — ratings `[1, 2, 3, 4, 5]`, ages `0..100`, head poses in degrees.
 *
 * @param targets target values `number[]` or `Tensor1D [N]` (any finite number; need not be a label value).
 * @param labelValues the L label values, `number[]` or `Tensor1D [L]`.
 * @returns `Tensor2D [N, L]`, float32, rows summing to 1.
 * @throws `Error in gaussianDistribution: …` for a non-finite target or label value, `sigma <= 0`.
 */
export function gaussianDistribution(
  targets: AgesLike,
  labelValues: AgesLike,
  options: GaussianDistributionOptions = {},
): Tensor2D {
  const fn = 'gaussianDistribution';
  const values = readLabelValues(fn, labelValues);
  const centres = readVector(fn, 'targets', targets);
  if (centres.length === 0) fail(fn, 'targets', 'non-empty', targets);
  const sigmas = readSigma(fn, options.sigma ?? 1, centres.length);
  return gaussianRows(centres, sigmas, values, { normalize: true, floor: 0 });
}

function probabilities(fn: string, x: Tensor2D, from: DistributionInput): Tensor2D {
  checkMatrix(fn, 'distributions', x);
  checkOneOf(fn, 'from', from, ['logits', 'probabilities'] as const);
  return from === 'logits' ? softmax(x) : x;
}

/**
 * Expectation decoding over given label values: `Σ_k p_k · v_k` per row (the mean rating, the
 * expected age, …).
 *
 * @param distributions `Tensor2D [N, L]` (probabilities by default; logits with `from: 'logits'`).
 * @param labelValues the L label values, `number[]` or `Tensor1D [L]`.
 * @returns `Tensor1D [N]`, float32.
 * @throws `Error in expectedLabel: …` when `labelValues` does not have L finite values.
 */
export function expectedLabel(
  distributions: Tensor2D,
  labelValues: AgesLike,
  options: LabelDecodeOptions = {},
): Tensor1D {
  const fn = 'expectedLabel';
  checkMatrix(fn, 'distributions', distributions);
  const values = readLabelValues(fn, labelValues, distributions.shape[1]);
  return tidy(() => {
    const p = probabilities(fn, distributions, options.from ?? 'probabilities');
    return reshape(matMul(p, tensor2d(values, [values.length, 1])), [p.shape[0]]) as Tensor1D;
  });
}

/**
 * Argmax decoding over given label values: the label value of the most probable label per row.
 *
 * @param distributions `Tensor2D [N, L]` (logits or probabilities: the argmax is the same).
 * @param labelValues the L label values, `number[]` or `Tensor1D [L]`.
 * @returns `Tensor1D [N]`, float32.
 * @throws `Error in argmaxLabel: …` when `labelValues` does not have L finite values.
 */
export function argmaxLabel(distributions: Tensor2D, labelValues: AgesLike): Tensor1D {
  const fn = 'argmaxLabel';
  checkMatrix(fn, 'distributions', distributions);
  const values = readLabelValues(fn, labelValues, distributions.shape[1]);
  return tidy(() => gather(tensor1d(values), argMax(distributions, 1)) as Tensor1D);
}
