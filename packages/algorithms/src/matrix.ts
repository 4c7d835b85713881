// Dense row-major float64 matrices: the feature and distribution matrices the estimators work on.

/** A dense row-major float64 matrix `[rows, cols]`. */
export interface Matrix {
  rows: number;
  cols: number;
  /** `rows * cols` values, row after row. */
  data: Float64Array;
}

/** Features `[n, d]` or label distributions `[n, L]`: a {@link Matrix}, or an array of rows. */
export type MatrixLike = Matrix | ArrayLike<ArrayLike<number>>;

/** Throws `Error in <fn>: <arg> must be <expected>, but got <got>.` */
export function fail(fn: string, arg: string, expected: string, got: unknown): never {
  throw new Error(`Error in ${fn}: ${arg} must be ${expected}, but got ${String(got)}.`);
}

function isMatrix(x: unknown): x is Matrix {
  return typeof x === 'object' && x !== null && (x as Matrix).data instanceof Float64Array && typeof (x as Matrix).rows === 'number';
}

/**
 * Reads `x` into a {@link Matrix} (a copy for an array of rows; the same object for a Matrix),
 * checking that it is non-empty, rectangular and (unless `allowNonFinite`, for a caller with its own message) finite.
 */
export function toMatrix(fn: string, arg: string, x: MatrixLike, allowNonFinite = false): Matrix {
  if (isMatrix(x)) {
    if (x.data.length !== x.rows * x.cols) fail(fn, `${arg}.data.length`, `rows * cols = ${x.rows * x.cols}`, x.data.length);
    for (let i = 0; i < x.data.length && !allowNonFinite; i++) {
      if (!Number.isFinite(x.data[i])) fail(fn, `${arg}[${Math.floor(i / x.cols)}][${i % x.cols}]`, 'a finite number', x.data[i]);
    }
    return x;
  }
  if (!Array.isArray(x) || x.length === 0) fail(fn, arg, 'a non-empty array of rows or a Matrix', Array.isArray(x) ? 'an empty array' : typeof x);
  const rows = x.length;
  const cols = x[0]?.length ?? 0;
  if (cols === 0) fail(fn, `${arg}[0].length`, '> 0', cols);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const row = x[i];
    if (row?.length !== cols) fail(fn, `${arg}[${i}].length`, `${cols} (the length of ${arg}[0])`, row?.length);
    for (let j = 0; j < cols; j++) {
      const v = row[j];
      if (typeof v !== 'number' || (!allowNonFinite && !Number.isFinite(v))) fail(fn, `${arg}[${i}][${j}]`, 'a finite number', v);
      data[i * cols + j] = v;
    }
  }
  return { rows, cols, data };
}

/** The rows of `m` as plain arrays. */
export function toRows(m: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}

/** The rows `indices` of `m`, in that order. */
export function takeRows(m: Matrix, indices: ArrayLike<number>): Matrix {
  const out = new Float64Array(indices.length * m.cols);
  for (let i = 0; i < indices.length; i++) out.set(m.data.subarray(indices[i] * m.cols, (indices[i] + 1) * m.cols), i * m.cols);
  return { rows: indices.length, cols: m.cols, data: out };
}

/** `a · b` for `a [n, k]`, `b [k, m]` (plain loops, cache-friendly i-k-j order). */
export function matMul(a: Matrix, b: Matrix): Matrix {
  const { rows: n, cols: k } = a;
  const m = b.cols;
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    const o = i * m;
    for (let p = 0; p < k; p++) {
      const v = a.data[i * k + p];
      if (v === 0) continue;
      const bo = p * m;
      for (let j = 0; j < m; j++) out[o + j] += v * b.data[bo + j];
    }
  }
  return { rows: n, cols: m, data: out };
}

/** `aᵀ · b` for `a [n, k]`, `b [n, m]` → `[k, m]`. */
export function matMulTransposeA(a: Matrix, b: Matrix): Matrix {
  const { rows: n, cols: k } = a;
  const m = b.cols;
  const out = new Float64Array(k * m);
  for (let i = 0; i < n; i++) {
    const bo = i * m;
    for (let p = 0; p < k; p++) {
      const v = a.data[i * k + p];
      if (v === 0) continue;
      const o = p * m;
      for (let j = 0; j < m; j++) out[o + j] += v * b.data[bo + j];
    }
  }
  return { rows: k, cols: m, data: out };
}

/** Row-wise softmax of `z` in place (max-shifted), returned for chaining. */
export function softmaxRows(z: Matrix): Matrix {
  const { rows, cols, data } = z;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) max = Math.max(max, data[o + j]);
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(data[o + j] - max);
      data[o + j] = e;
      sum += e;
    }
    for (let j = 0; j < cols; j++) data[o + j] /= sum;
  }
  return z;
}
