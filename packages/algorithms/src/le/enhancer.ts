// The label enhancement (LE) contract: logical labels `L [n, L]` (0/1: which labels describe a sample) and
// features `X [n, d]` in, label distributions `[n, L]` of the same samples out (PyLDL's `BaseLE`:
// `fit(X, L)` then `transform()`).
import { type Matrix, type MatrixLike, fail, toMatrix } from '../matrix';

/**
 * A label enhancer: `fit(X, L)` on features `X [n, d]` and logical labels `L [n, L]` (0/1), then
 * `transform() → [n, L]` label distributions of those n samples (rows sum to 1).
 */
export interface LabelEnhancer {
  /** Recovers distributions for `X [n, d]`, `L [n, L]`; resolves to the enhancer itself. */
  fit(X: MatrixLike, L: MatrixLike): this | Promise<this>;
  /** The recovered label distributions `[n, L]` of the samples given to `fit`. */
  transform(): number[][];
}

/**
 * Reads and checks the `(X, L)` pair of a label enhancer's `fit`: equal rows, `L` only 0 or 1, and every
 * label column with at least one 1 (a label no sample has cannot be enhanced).
 * @throws `Error in <fn>: …` naming the row and column of the first bad value.
 */
export function readLeArgs(fn: string, X: MatrixLike, L: MatrixLike): [Matrix, Matrix] {
  const x = toMatrix(fn, 'X', X);
  const l = toMatrix(fn, 'L', L);
  if (x.rows !== l.rows) fail(fn, 'L.rows', `${x.rows} (the rows of X)`, l.rows);
  if (x.rows < 2) fail(fn, 'X.rows', '>= 2', x.rows);
  const seen = new Uint8Array(l.cols);
  for (let i = 0; i < l.rows; i++) {
    for (let j = 0; j < l.cols; j++) {
      const v = l.data[i * l.cols + j];
      if (v !== 0 && v !== 1) fail(fn, `L[${i}][${j}]`, '0 or 1 (logical labels; binarize a distribution first)', v);
      if (v === 1) seen[j] = 1;
    }
  }
  const empty = seen.indexOf(0);
  if (empty >= 0) fail(fn, `L column ${empty}`, 'set (1) for at least one sample', 'a column of zeros');
  return [x, l];
}

/** Squared Euclidean distances `[n, m]` between the rows of `a [n, d]` and `b [m, d]`. */
export function squaredDistances(a: Matrix, b: Matrix): Float64Array {
  const out = new Float64Array(a.rows * b.rows);
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < b.rows; k++) {
      let s = 0;
      for (let j = 0; j < a.cols; j++) {
        const t = a.data[i * a.cols + j] - b.data[k * b.cols + j];
        s += t * t;
      }
      out[i * b.rows + k] = s;
    }
  }
  return out;
}

/** Mean Euclidean distance over the `n(n − 1)/2` pairs (SciPy's `np.mean(pdist(X))`), from squared distances `[n, n]`. */
export function meanPairDistance(sq: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) for (let k = i + 1; k < n; k++) s += Math.sqrt(sq[i * n + k]);
  return s / ((n * (n - 1)) / 2);
}

/** The `k` nearest other samples of sample `i` by squared distances `sq [n, n]` (ties by index), nearest first. */
export function nearestNeighbours(sq: Float64Array, n: number, i: number, k: number): number[] {
  return Array.from({ length: n }, (_, j) => j)
    .filter((j) => j !== i)
    .sort((a, b) => sq[i * n + a] - sq[i * n + b] || a - b)
    .slice(0, k);
}

/** Row-wise softmax `[n, c]` (max-shifted, as SciPy's `softmax(axis=1)`) into plain rows. */
export function softmaxToRows(z: Float64Array, n: number, c: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from(z.subarray(i * c, (i + 1) * c));
    const m = Math.max(...row);
    let s = 0;
    for (let j = 0; j < c; j++) {
      row[j] = Math.exp(row[j] - m);
      s += row[j];
    }
    out.push(row.map((v) => v / s));
  }
  return out;
}

/** `transform()` before `fit()`. */
export function notFitted(fn: string): never {
  throw new Error(`Error in ${fn}: call fit(X, L) before transform().`);
}
