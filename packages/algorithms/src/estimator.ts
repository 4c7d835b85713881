import { type Matrix, type MatrixLike, fail, toMatrix } from './matrix';

/**
 * A label distribution learner: `fit(X, D)` on feature vectors `X [n, d]` and their label
 * distributions `D [n, L]`, then `predict(X) → [m, L]` distributions (rows sum to 1).
 */
export interface LdlEstimator {
  /** Trains on `X [n, d]`, `D [n, L]`; resolves to the estimator itself. */
  fit(X: MatrixLike, D: MatrixLike): this | Promise<this>;
  /** Predicted label distributions `[m, L]` for `X [m, d]`. */
  predict(X: MatrixLike): number[][];
}

/** Reads and checks the `(X, D)` pair of a `fit` call. */
export function readFitArgs(fn: string, X: MatrixLike, D: MatrixLike): [Matrix, Matrix] {
  const x = toMatrix(fn, 'X', X);
  const d = toMatrix(fn, 'D', D);
  if (x.rows !== d.rows) fail(fn, 'D.rows', `${x.rows} (the rows of X)`, d.rows);
  return [x, d];
}

/** Reads the `X` of a `predict` call, checking its width against the training features. */
export function readPredictArg(fn: string, X: MatrixLike, features: number | undefined): Matrix {
  if (features === undefined) throw new Error(`Error in ${fn}: call fit(X, D) before predict(X).`);
  const x = toMatrix(fn, 'X', X);
  if (x.cols !== features) fail(fn, 'X.cols', `${features} (the features seen by fit)`, x.cols);
  return x;
}
