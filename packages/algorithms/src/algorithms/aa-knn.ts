import { type LdlEstimator, readFitArgs, readPredictArg } from '../estimator';
import { type Matrix, type MatrixLike, fail } from '../matrix';
import { linearInto } from './maxent';
import { integer, resolveParams, type ParamValues } from '../params';

const PARAMS = { k: integer(5, 1, 'number of neighbours (PyLDL `k`)') };

/** Options of {@link AaKnn}. */
export type AaKnnArgs = Partial<ParamValues<typeof PARAMS>>;

/**
 * AA-kNN (Geng, TKDE 2016): the predicted distribution of `x` is the mean of the label
 * distributions of its k nearest training samples (Euclidean distance, brute force computed as
 * `‖x‖² − 2 q·x` as scikit-learn's brute force does; ties broken by training order), as PyLDL's `AA_KNN` (scikit-learn `NearestNeighbors`).
 */
export class AaKnn implements LdlEstimator {
  static readonly className = 'AA-kNN';
  static readonly params = PARAMS;
  private readonly k: number;
  private x: Matrix | undefined;
  private d: Matrix | undefined;
  private xt: Matrix | undefined;
  private norms: Float64Array | undefined;

  constructor(args: AaKnnArgs = {}) {
    this.k = resolveParams('AaKnn', PARAMS, args).k;
  }

  getConfig(): ParamValues<typeof PARAMS> {
    return { k: this.k };
  }

  fit(X: MatrixLike, D: MatrixLike): this {
    const [x, d] = readFitArgs('AaKnn.fit', X, D);
    if (x.rows < this.k) fail('AaKnn.fit', 'X.rows', `>= k = ${this.k}`, x.rows);
    this.x = x;
    this.d = d;
    // Transposed features and squared norms: distances as ‖x‖² − 2 q·x (+ ‖q‖²), so that a sparse query
    // (Movie: 1 % non-zeros) costs its non-zeros times n.
    const xt = new Float64Array(x.rows * x.cols);
    const norms = new Float64Array(x.rows);
    for (let r = 0; r < x.rows; r++) {
      for (let j = 0; j < x.cols; j++) {
        const v = x.data[r * x.cols + j];
        xt[j * x.rows + r] = v;
        norms[r] += v * v;
      }
    }
    this.xt = { rows: x.cols, cols: x.rows, data: xt };
    this.norms = norms;
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const q = readPredictArg('AaKnn.predict', X, this.x?.cols);
    const d = this.d as Matrix;
    const norms = this.norms as Float64Array;
    const n = norms.length;
    const k = this.k;
    const out: number[][] = [];
    const chunk = 256;
    for (let start = 0; start < q.rows; start += chunk) {
      const rows = Math.min(chunk, q.rows - start);
      // q·xᵀ: unrolled dot products for dense queries, zero-skipping loops for sparse ones (maxent's kernel)
      const chunkRows = { rows, cols: q.cols, data: q.data.subarray(start * q.cols, (start + rows) * q.cols) };
      const dots = { data: linearInto(chunkRows, (this.xt as Matrix).data, n, new Float64Array(rows * n)) };
      for (let i = 0; i < rows; i++) {
        // k smallest distances by insertion (ties: lower training index first).
        const best = new Array<number>(k).fill(-1);
        const bestDist = new Array<number>(k).fill(Infinity);
        for (let r = 0; r < n; r++) {
          const dist = norms[r] - 2 * dots.data[i * n + r];
          if (dist >= bestDist[k - 1]) continue;
          let p = k - 1;
          while (p > 0 && bestDist[p - 1] > dist) {
            bestDist[p] = bestDist[p - 1];
            best[p] = best[p - 1];
            p--;
          }
          bestDist[p] = dist;
          best[p] = r;
        }
        const row = new Array<number>(d.cols).fill(0);
        for (const r of best) for (let j = 0; j < d.cols; j++) row[j] += d.data[r * d.cols + j] / k;
        out.push(row);
      }
    }
    return out;
  }
}
