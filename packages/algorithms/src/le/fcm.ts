import { Rng } from '@ldl/core';
import { fail, type MatrixLike, toMatrix } from '../matrix';
import { type LabelEnhancer, notFitted, readLeArgs, softmaxToRows, squaredDistances } from './enhancer';

/** Options of {@link FuzzyCMeans}. */
export interface FuzzyCMeansArgs {
  /** Number of fuzzy clusters C. @default 50 (PyLDL `FCM.fit(n_clusters=50)`) */
  nClusters?: number;
  /** Fuzzifier m > 1. @default 2 (PyLDL `beta=2`) */
  beta?: number;
  /** Stop when the Frobenius norm of the membership change is below this. @default 1e-7 (PyLDL) */
  error?: number;
  /** Most iterations. @default 10000 (PyLDL) */
  maxIterations?: number;
  /** Seed of the random initial memberships. @default 0 */
  seed?: number;
  /**
   * Initial memberships `[C, n]` (columns normalised); replaces the random start (for parity with a
   * given scikit-fuzzy start).
   */
  init?: MatrixLike;
}

const EPS = 2.220446049250313e-16;

/**
 * FCM, fuzzy C-means label enhancement (Xu et al., 2018, as PyLDL's `FCM`): scikit-fuzzy's `cmeans` of the
 * features into C fuzzy clusters (memberships `u [C, n]`), the label–cluster association `A = Lᵀ uᵀ`
 * `[L, C]`, `D_ij = max_c u_ci A_jc` (max-product composition), then a row softmax.
 *
 * The start is uniform random memberships from `Rng(seed)` (scikit-fuzzy draws NumPy's global
 * generator, unseeded in PyLDL), so results match PyLDL only given the same `init`.
 */
export class FuzzyCMeans implements LabelEnhancer {
  static readonly className = 'FCM';
  private readonly args: Required<Omit<FuzzyCMeansArgs, 'init'>> & { init?: MatrixLike };
  private result: number[][] | undefined;
  /** Iterations the last `fit` ran. */
  iterations = 0;

  /** @throws `Error in FuzzyCMeans: …` for a hyper-parameter out of range. */
  constructor(args: FuzzyCMeansArgs = {}) {
    const { nClusters = 50, beta = 2, error = 1e-7, maxIterations = 10000, seed = 0, init } = args;
    if (!Number.isInteger(nClusters) || nClusters < 2) fail('FuzzyCMeans', 'nClusters', 'an integer >= 2', nClusters);
    if (!(beta > 1 && Number.isFinite(beta))) fail('FuzzyCMeans', 'beta', 'a number > 1', beta);
    if (!(error > 0)) fail('FuzzyCMeans', 'error', 'a number > 0', error);
    if (!Number.isInteger(maxIterations) || maxIterations < 1) fail('FuzzyCMeans', 'maxIterations', 'an integer >= 1', maxIterations);
    this.args = { nClusters, beta, error, maxIterations, seed, init };
  }

  getConfig(): Omit<FuzzyCMeansArgs, 'init'> {
    const { init: _, ...rest } = this.args;
    return rest;
  }

  fit(X: MatrixLike, L: MatrixLike): this {
    const [x, l] = readLeArgs('FuzzyCMeans.fit', X, L);
    const { nClusters: C, beta: m, error, maxIterations } = this.args;
    const n = x.rows;
    const d = x.cols;
    let u: Float64Array = new Float64Array(C * n);
    if (this.args.init !== undefined) {
      const init = toMatrix('FuzzyCMeans', 'init', this.args.init);
      if (init.rows !== C || init.cols !== n) fail('FuzzyCMeans', 'init shape', `[${C}, ${n}] (nClusters, samples)`, `[${init.rows}, ${init.cols}]`);
      u.set(init.data);
    } else {
      const rng = new Rng(this.args.seed);
      for (let i = 0; i < u.length; i++) u[i] = rng.next();
    }
    normalizeColumns(u, C, n);
    for (let i = 0; i < u.length; i++) u[i] = Math.max(u[i], EPS);
    this.iterations = 0;
    while (this.iterations < maxIterations) {
      const old = u;
      u = step(x.data, old, C, n, d, m);
      this.iterations++;
      let diff = 0;
      for (let i = 0; i < u.length; i++) diff += (u[i] - old[i]) ** 2;
      if (Math.sqrt(diff) < error) break;
    }
    // A = Lᵀ uᵀ [c, C]; D_ij = max_k u_ki A_jk
    const c = l.cols;
    const A = new Float64Array(c * C);
    for (let j = 0; j < c; j++) {
      for (let k = 0; k < C; k++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += l.data[i * c + j] * u[k * n + i];
        A[j * C + k] = s;
      }
    }
    const D = new Float64Array(n * c);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < c; j++) {
        let best = -Infinity;
        for (let k = 0; k < C; k++) best = Math.max(best, u[k * n + i] * A[j * C + k]);
        D[i * c + j] = best;
      }
    }
    this.result = softmaxToRows(D, n, c);
    return this;
  }

  transform(): number[][] {
    return this.result ?? notFitted('FuzzyCMeans.transform');
  }
}

function normalizeColumns(u: Float64Array, rows: number, cols: number): void {
  for (let i = 0; i < cols; i++) {
    let s = 0;
    for (let k = 0; k < rows; k++) s += u[k * cols + i];
    for (let k = 0; k < rows; k++) u[k * cols + i] /= s;
  }
}

/** One scikit-fuzzy `_cmeans0` step: centres from `u^m`, distances, new memberships. */
function step(x: Float64Array, uOld: Float64Array, C: number, n: number, d: number, m: number): Float64Array {
  const u = Float64Array.from(uOld);
  normalizeColumns(u, C, n);
  for (let i = 0; i < u.length; i++) u[i] = Math.max(u[i], EPS) ** m;
  const centres = new Float64Array(C * d);
  for (let k = 0; k < C; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const w = u[k * n + i];
      s += w;
      for (let j = 0; j < d; j++) centres[k * d + j] += w * x[i * d + j];
    }
    for (let j = 0; j < d; j++) centres[k * d + j] /= s;
  }
  const dist = squaredDistances({ rows: C, cols: d, data: centres }, { rows: n, cols: d, data: x }).map((s) => Math.max(Math.sqrt(s), EPS));
  // normalize_power_columns(dist, −2 / (m − 1)), in scikit-fuzzy's safe order.
  const exponent = -2 / (m - 1);
  const out = new Float64Array(C * n);
  for (let i = 0; i < n; i++) {
    let max = 0;
    for (let k = 0; k < C; k++) max = Math.max(max, dist[k * n + i]);
    let min = Infinity;
    for (let k = 0; k < C; k++) {
      const v = Math.max(dist[k * n + i] / max, EPS);
      out[k * n + i] = v;
      min = Math.min(min, v);
    }
    let s = 0;
    for (let k = 0; k < C; k++) {
      out[k * n + i] = (out[k * n + i] / min) ** exponent;
      s += out[k * n + i];
    }
    for (let k = 0; k < C; k++) out[k * n + i] /= s;
  }
  return out;
}
