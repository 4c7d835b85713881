import { type LdlEstimator, readFitArgs, readPredictArg } from './estimator';
import { type Matrix, type MatrixLike, fail } from './matrix';

/** Options of {@link AaKnn}. */
export interface AaKnnArgs {
  /** Number of neighbours. @default 5 (PyLDL) */
  k?: number;
}

/**
 * AA-kNN (Geng, TKDE 2016): the predicted distribution of `x` is the mean of the label
 * distributions of its k nearest training samples (Euclidean distance, brute force; ties broken by
 * training order), as PyLDL's `AA_KNN` (scikit-learn `NearestNeighbors`).
 */
export class AaKnn implements LdlEstimator {
  static readonly className = 'AA-kNN';
  private readonly k: number;
  private x: Matrix | undefined;
  private d: Matrix | undefined;

  constructor(args: AaKnnArgs = {}) {
    const { k = 5 } = args;
    if (!Number.isInteger(k) || k < 1) fail('AaKnn', 'k', 'an integer >= 1', k);
    this.k = k;
  }

  getConfig(): Required<AaKnnArgs> {
    return { k: this.k };
  }

  fit(X: MatrixLike, D: MatrixLike): this {
    const [x, d] = readFitArgs('AaKnn.fit', X, D);
    if (x.rows < this.k) fail('AaKnn.fit', 'X.rows', `>= k = ${this.k}`, x.rows);
    this.x = x;
    this.d = d;
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const q = readPredictArg('AaKnn.predict', X, this.x?.cols);
    const x = this.x as Matrix;
    const d = this.d as Matrix;
    const dist = new Float64Array(x.rows);
    const order = Array.from({ length: x.rows }, (_, i) => i);
    const out: number[][] = [];
    for (let i = 0; i < q.rows; i++) {
      const qo = i * q.cols;
      for (let r = 0; r < x.rows; r++) {
        let s = 0;
        const xo = r * x.cols;
        for (let j = 0; j < x.cols; j++) {
          const t = q.data[qo + j] - x.data[xo + j];
          s += t * t;
        }
        dist[r] = s;
      }
      order.sort((a, b) => dist[a] - dist[b] || a - b);
      const row = new Array<number>(d.cols).fill(0);
      for (let n = 0; n < this.k; n++) {
        const o = order[n] * d.cols;
        for (let j = 0; j < d.cols; j++) row[j] += d.data[o + j] / this.k;
      }
      out.push(row);
    }
    return out;
  }
}
