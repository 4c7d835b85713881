// The evaluation protocol of the LDL literature (Geng, TKDE 2016; PyLDL's `experiment.run`):
// k-fold cross validation (10 folds), optionally repeated, reporting mean ± std of the measures.
import { ldlMeasures, type LdlMeasureName, type LdlMeasures, Rng } from '@ldl/core';
import type { LdlDataset } from './dataset';
import type { LdlEstimator } from './estimator';
import { fail, takeRows, toRows } from './matrix';

/** Options of {@link kFoldIndices} and {@link crossValidate}. */
export interface CrossValidationOptions {
  /** Number of folds k ≥ 2. @default 10 */
  folds?: number;
  /** Number of repetitions, each with its own shuffle (seed `seed + r`). @default 1 */
  repeats?: number;
  /** Seed of the shuffles. @default 0 */
  seed?: number;
  /** Called after each fold (for progress bars). */
  onFold?: (done: number, total: number, result: FoldResult) => void;
}

/** One fold's test indices, its measures and its wall time (fit + predict). */
export interface FoldResult {
  repeat: number;
  fold: number;
  testIndices: number[];
  measures: LdlMeasures;
  seconds: number;
}

/** Result of {@link crossValidate}. */
export interface CrossValidationResult {
  folds: FoldResult[];
  /** Mean of each measure over all folds (of all repeats). */
  mean: LdlMeasures;
  /** Population standard deviation (ddof 0, as NumPy's `std`) of each measure over all folds. */
  std: LdlMeasures;
  /** Wall time of the whole run in seconds. */
  seconds: number;
}

/**
 * Mean and population standard deviation (ddof 0, as NumPy's `std`) of each measure over runs (folds).
 * @throws `Error in summarizeMeasures: …` for no runs.
 */
export function summarizeMeasures(runs: readonly LdlMeasures[]): { mean: LdlMeasures; std: LdlMeasures } {
  if (runs.length === 0) fail('summarizeMeasures', 'runs', 'non-empty', 0);
  const mean = {} as LdlMeasures;
  const std = {} as LdlMeasures;
  for (const name of Object.keys(runs[0]) as LdlMeasureName[]) {
    const v = runs.map((r) => r[name]);
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    mean[name] = m;
    std[name] = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
  }
  return { mean, std };
}

/**
 * Seeded k-fold split of `n` samples, as scikit-learn's `KFold(shuffle=True)`: a random permutation
 * (`Rng` of `@ldl/core`, xoshiro128** seeded with `seed`) cut into k consecutive folds, the first `n mod k` one sample larger.
 *
 * @returns k arrays of test indices (each sorted ascending); together a partition of `0..n-1`.
 * @throws `Error in kFoldIndices: …` when `k` is not an integer in `[2, n]`.
 */
export function kFoldIndices(n: number, k = 10, seed = 0): number[][] {
  if (!Number.isInteger(n) || n < 2) fail('kFoldIndices', 'n', 'an integer >= 2', n);
  if (!Number.isInteger(k) || k < 2 || k > n) fail('kFoldIndices', 'folds', `an integer in [2, ${n}] (the number of samples)`, k);
  const perm = new Rng(seed).shuffle(Array.from({ length: n }, (_, i) => i));
  const out: number[][] = [];
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = Math.floor(n / k) + (f < n % k ? 1 : 0);
    out.push(perm.slice(start, start + size).sort((a, b) => a - b));
    start += size;
  }
  return out;
}

/**
 * k-fold cross validation of an LDL estimator: for each fold a fresh estimator from `create` is fitted
 * on the other folds and scored on the fold with {@link ldlMeasures}.
 *
 * @param create returns a new, unfitted estimator (called once per fold with the repeat and fold).
 * @returns per-fold measures, mean and std over folds, wall time.
 *
 * @example
 * ```ts
 * const data = await readLdlDataset('SJAFFE.mat');
 * const cv = await crossValidate(data, () => new SaBfgs());
 * console.log(cv.mean.kullbackLeibler, cv.std.kullbackLeibler);
 * ```
 */
export async function crossValidate(
  data: LdlDataset,
  create: (repeat: number, fold: number) => LdlEstimator,
  options: CrossValidationOptions = {},
): Promise<CrossValidationResult> {
  const { folds = 10, repeats = 1, seed = 0, onFold } = options;
  if (!Number.isInteger(repeats) || repeats < 1) fail('crossValidate', 'repeats', 'an integer >= 1', repeats);
  const n = data.features.rows;
  const start = performance.now();
  const results: FoldResult[] = [];
  for (let r = 0; r < repeats; r++) {
    const split = kFoldIndices(n, folds, seed + r);
    for (let f = 0; f < split.length; f++) {
      const test = split[f];
      const inTest = new Uint8Array(n);
      for (const i of test) inTest[i] = 1;
      const train = Array.from({ length: n }, (_, i) => i).filter((i) => !inTest[i]);
      const t0 = performance.now();
      const model = await create(r, f).fit(takeRows(data.features, train), takeRows(data.labels, train));
      const predicted = model.predict(takeRows(data.features, test));
      const measures = ldlMeasures(toRows(takeRows(data.labels, test)), predicted);
      const result = { repeat: r, fold: f, testIndices: test, measures, seconds: (performance.now() - t0) / 1000 };
      results.push(result);
      onFold?.(results.length, repeats * split.length, result);
    }
  }
  const { mean, std } = summarizeMeasures(results.map((r) => r.measures));
  return { folds: results, mean, std, seconds: (performance.now() - start) / 1000 };
}
