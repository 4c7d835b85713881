import { tensor2d, type Tensor2D } from '@tensorflow/tfjs-core';
import {
  type AgesLike,
  type SigmaLike,
  checkBoolean,
  checkFinite,
  checkInteger,
  checkNonNegative,
  fail,
  readAges,
  readSigma,
} from './validate';

/** Options of {@link gaussianLabels}. */
export interface GaussianLabelsOptions {
  /**
   * Number of age classes (columns of the result).
   * @default 101
   */
  numClasses?: number;
  /**
   * Age of class 0; class `k` stands for age `minAge + k`.
   * @default 0
   */
  minAge?: number;
  /**
   * Standard deviation of the Gaussian, in years: one number for the batch, or one per sample
   * (array or `Tensor1D [N]`). Every value must be > 0.
   * @default 2
   */
  sigma?: SigmaLike;
  /**
   * Rescale each row to sum 1 (DLDL-v2). The paper's seed leaves the rows unnormalised.
   * @default false
   */
  normalize?: boolean;
  /**
   * Values below `floor` are raised to it (applied before `normalize`), so the target is never
   * exactly 0 and `log(target)` stays finite.
   * @default 1e-15
   */
  floor?: number;
}

/** Label-grid settings resolved and validated once (shared by the losses). */
export interface ResolvedLabelOptions {
  numClasses: number;
  minAge: number;
  normalize: boolean;
  floor: number;
}

/** Validates `minAge`, `normalize` and `floor` (and `numClasses`, already known). */
export function resolveLabelOptions(
  fn: string,
  numClasses: number,
  options: { minAge?: number; normalize?: boolean; floor?: number },
): ResolvedLabelOptions {
  const { minAge = 0, normalize = false, floor = 1e-15 } = options;
  checkInteger(fn, 'numClasses', numClasses, 1);
  checkFinite(fn, 'minAge', minAge);
  checkBoolean(fn, 'normalize', normalize);
  checkNonNegative(fn, 'floor', floor);
  return { numClasses, minAge, normalize, floor };
}

/**
 * Builds the Gaussian target from already validated numbers. Computed in float64 on the CPU, then
 * uploaded as one float32 `[N, numClasses]` tensor (a few thousand values per batch).
 */
export function gaussianMatrix(ages: readonly number[], sigmas: readonly number[], o: ResolvedLabelOptions): Tensor2D {
  const labelValues = Array.from({ length: o.numClasses }, (_, k) => o.minAge + k);
  return gaussianRows(ages, sigmas, labelValues, o);
}

/**
 * `max(exp(-(v_k - centre)² / 2σ²) / (σ√(2π)), floor)` for each centre and label value `v_k`, optionally
 * normalised per row, as one float32 `[N, labelValues.length]` tensor. Internal: inputs are trusted.
 */
export function gaussianRows(
  centres: readonly number[],
  sigmas: readonly number[],
  labelValues: readonly number[],
  o: { normalize: boolean; floor: number },
): Tensor2D {
  const n = centres.length;
  const c = labelValues.length;
  const out = new Float32Array(n * c);
  const row = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    const s = sigmas[i];
    const scale = 1 / (s * Math.sqrt(2 * Math.PI));
    let sum = 0;
    for (let k = 0; k < c; k++) {
      const d = labelValues[k] - centres[i];
      const v = Math.max(scale * Math.exp(-(d * d) / (2 * s * s)), o.floor);
      row[k] = v;
      sum += v;
    }
    const div = o.normalize ? sum : 1;
    for (let k = 0; k < c; k++) out[i * c + k] = row[k] / div;
  }
  return tensor2d(out, [n, c]);
}

/**
 * Gaussian label distribution of the paper (Liu 2020, after DLDL-v2): for each age `a` and class
 * `k` (age `minAge + k`), `exp(-(minAge + k - a)² / 2σ²) / (σ√(2π))`, raised to at least `floor`,
 * optionally normalised per row.
 *
 * @param ages Ages of the batch, `number[]` or `Tensor1D [N]`; each must lie in
 *   `[minAge, minAge + numClasses - 1]` (fractional ages are fine).
 * @returns `Tensor2D [N, numClasses]`, float32.
 * @throws `Error in gaussianLabels: ...` on a NaN/out-of-range age, `sigma <= 0`, a `sigma`
 *   array whose length differs from `ages`, or a bad option.
 *
 * @example
 * ```ts
 * const target = gaussianLabels([25, 40.5], { sigma: 2 }); // shape [2, 101]
 * ```
 */
export function gaussianLabels(ages: AgesLike, options: GaussianLabelsOptions = {}): Tensor2D {
  const fn = 'gaussianLabels';
  const o = resolveLabelOptions(fn, options.numClasses ?? 101, options);
  const values = readAges(fn, 'ages', ages, o);
  if (values.length === 0) fail(fn, 'ages', 'non-empty', ages);
  const sigmas = readSigma(fn, options.sigma ?? 2, values.length);
  return gaussianMatrix(values, sigmas, o);
}
