import { checkBoolean, checkNonNegative, fail, readVector } from './validate';

/** Options of {@link cumulativeAccuracy} and {@link AgeMetrics}. */
export interface CumulativeAccuracyOptions {
  /**
   * Count an error equal to the threshold as correct (`|e| ≤ n`, DLDL-v2's convention) instead of
   * the paper's strict `|e| < n`.
   * @default false
   */
  inclusive?: boolean;
}

/** Options of {@link AgeMetrics}. */
export type AgeMetricsOptions = CumulativeAccuracyOptions;

/** MAE of the samples whose true age falls in one decade. */
export interface DecadeMae {
  /** First age of the decade: 0, 10, 20, … (ages 20–29.99 belong to decade 20). */
  decade: number;
  /** Number of samples in the decade. */
  count: number;
  /** Mean absolute error of those samples, in years. */
  mae: number;
}

/** Result of {@link AgeMetrics.result}. */
export interface AgeMetricsResult {
  /** Number of samples seen. */
  count: number;
  /** Mean absolute error, in years. */
  mae: number;
  /** Cumulative accuracy at 3 years, percentage 0..100. */
  ca3: number;
  /** Cumulative accuracy at 5 years, percentage 0..100. */
  ca5: number;
  /** Cumulative accuracy at 7 years, percentage 0..100. */
  ca7: number;
  /** MAE per decade of the true age, ascending, only decades that have samples. */
  maeByDecade: DecadeMae[];
}

/** Reads a prediction/truth pair of equal, non-zero length; returns the true ages and absolute errors. */
function readPair(fn: string, pred: ArrayLike<number>, truth: ArrayLike<number>): { truth: number[]; errors: number[] } {
  const p = readVector(fn, 'pred', pred);
  const t = readVector(fn, 'truth', truth, p.length, 'predictions');
  if (p.length === 0) fail(fn, 'pred', 'non-empty', pred);
  return { truth: t, errors: p.map((v, i) => Math.abs(v - t[i])) };
}

function isWithin(error: number, n: number, inclusive: boolean): boolean {
  return inclusive ? error <= n : error < n;
}

/**
 * Mean absolute error `mean_i |pred_i − truth_i|`.
 *
 * @param pred Predicted ages (any array-like, e.g. `await expectedAge(logits).data()`).
 * @param truth True ages, same length.
 * @returns The MAE in years.
 *
 * @example
 * ```ts
 * mae([20, 31], [22, 30]); // 1.5
 * ```
 */
export function mae(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  const { errors } = readPair('mae', pred, truth);
  return errors.reduce((s, e) => s + e, 0) / errors.length;
}

/**
 * Cumulative accuracy CA(n): the percentage of samples with `|pred − truth| < n` (the paper's
 * strict convention), or `≤ n` with `inclusive: true` (DLDL-v2's).
 *
 * @param pred Predicted ages.
 * @param truth True ages, same length.
 * @param n Threshold in years, ≥ 0.
 * @returns A percentage in `[0, 100]`.
 *
 * @example
 * ```ts
 * cumulativeAccuracy([20, 33], [23, 30], 3); // 0 (both errors are exactly 3)
 * cumulativeAccuracy([20, 33], [23, 30], 3, { inclusive: true }); // 100
 * ```
 */
export function cumulativeAccuracy(
  pred: ArrayLike<number>,
  truth: ArrayLike<number>,
  n: number,
  options: CumulativeAccuracyOptions = {},
): number {
  const fn = 'cumulativeAccuracy';
  const { inclusive = false } = options;
  checkNonNegative(fn, 'n', n);
  checkBoolean(fn, 'inclusive', inclusive);
  const { errors } = readPair(fn, pred, truth);
  return (100 * errors.filter((e) => isWithin(e, n, inclusive)).length) / errors.length;
}

const CA_THRESHOLDS = [3, 5, 7] as const;

/**
 * Streaming accumulator of the paper's metrics: call {@link AgeMetrics.update} per batch, then
 * {@link AgeMetrics.result} for MAE, CA(3/5/7) and MAE per decade over everything seen.
 *
 * @example
 * ```ts
 * const metrics = new AgeMetrics();
 * metrics.update(await expectedAge(logits).data(), batchAges);
 * const { mae, ca5, maeByDecade } = metrics.result();
 * ```
 */
export class AgeMetrics {
  private readonly inclusive: boolean;
  private n = 0;
  private errorSum = 0;
  private readonly withinCounts = CA_THRESHOLDS.map(() => 0);
  private readonly decades = new Map<number, { count: number; errorSum: number }>();

  constructor(options: AgeMetricsOptions = {}) {
    const { inclusive = false } = options;
    checkBoolean('AgeMetrics', 'inclusive', inclusive);
    this.inclusive = inclusive;
  }

  /** Adds a batch of predictions and true ages (equal lengths, finite numbers). */
  update(pred: ArrayLike<number>, truth: ArrayLike<number>): void {
    const { truth: ages, errors } = readPair('AgeMetrics.update', pred, truth);
    errors.forEach((e, i) => {
      this.n += 1;
      this.errorSum += e;
      CA_THRESHOLDS.forEach((t, j) => {
        if (isWithin(e, t, this.inclusive)) this.withinCounts[j] += 1;
      });
      const decade = Math.floor(ages[i] / 10) * 10;
      const d = this.decades.get(decade) ?? { count: 0, errorSum: 0 };
      d.count += 1;
      d.errorSum += e;
      this.decades.set(decade, d);
    });
  }

  /** Forgets everything seen. */
  reset(): void {
    this.n = 0;
    this.errorSum = 0;
    this.withinCounts.fill(0);
    this.decades.clear();
  }

  /** Number of samples seen since construction or the last {@link AgeMetrics.reset}. */
  get count(): number {
    return this.n;
  }

  /** Metrics over every sample seen; throws when none was seen. */
  result(): AgeMetricsResult {
    if (this.n === 0) fail('AgeMetrics.result', 'count', '> 0 (call update() first)', this.n);
    const [ca3, ca5, ca7] = this.withinCounts.map((c) => (100 * c) / this.n);
    return {
      count: this.n,
      mae: this.errorSum / this.n,
      ca3,
      ca5,
      ca7,
      maeByDecade: [...this.decades.entries()]
        .sort(([a], [b]) => a - b)
        .map(([decade, d]) => ({ decade, count: d.count, mae: d.errorSum / d.count })),
    };
  }
}
