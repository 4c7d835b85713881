import { type LdlEstimator, readFitArgs, readPredictArg } from '../estimator';
import { type Matrix, type MatrixLike, toRows } from '../matrix';
import { nonNegative, positive, resolveParams, type ParamValues } from '../params';
import { type LibSvm, loadLibSvm } from './libsvm';
import { normalizeRows } from './simplex';

const PARAMS = {
  cost: positive(1, 'SVR cost C (scikit-learn `SVR` default)'),
  epsilon: nonNegative(0.1, 'width of the ε-insensitive tube (scikit-learn `SVR` default)'),
  tolerance: positive(1e-7, 'stopping tolerance of libsvm (PyLDL `tol`)'),
  gamma: nonNegative(0, 'RBF γ; 0 = PyLDL\'s 1 / (2 · mean pairwise distance²) of the training features'),
};

const EPS = Number.EPSILON;

/** Mean Euclidean distance over all pairs of rows (SciPy's `pdist` mean), zero entries skipped. */
export function meanPairwiseDistance(x: Matrix): number {
  const { rows: n, cols: d, data } = x;
  const idx: Int32Array[] = [];
  const val: Float64Array[] = [];
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const nz: number[] = [];
    for (let p = 0; p < d; p++) if (data[i * d + p] !== 0) nz.push(p);
    idx.push(Int32Array.from(nz));
    val.push(Float64Array.from(nz, (p) => data[i * d + p]));
    for (const v of val[i]) norms[i] += v * v;
  }
  let sum = 0;
  const dense = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < idx[i].length; k++) dense[idx[i][k]] = val[i][k];
    for (let j = i + 1; j < n; j++) {
      let dot = 0;
      const ij = idx[j];
      const vj = val[j];
      for (let k = 0; k < ij.length; k++) dot += dense[ij[k]] * vj[k];
      sum += Math.sqrt(Math.max(norms[i] + norms[j] - 2 * dot, 0));
    }
    for (let k = 0; k < idx[i].length; k++) dense[idx[i][k]] = 0;
  }
  return sum / ((n * (n - 1)) / 2);
}

/**
 * LDSVR (Geng & Hou, "Pre-release Prediction of Crowd Opinion on Movies by Label Distribution Learning",
 * IJCAI 2015), as PyLDL's `LDSVR`: each label's description degree mapped by the logit
 * `−log((1 + ε)/clip(d, ε, 1) − 1)` and regressed by its own RBF ε-SVR (libsvm, as scikit-learn's `SVR`
 * in PyLDL's `MultiOutputRegressor`), `γ = 1 / (2 · mean pairwise distance²)`; predictions go back
 * through the sigmoid and are normalised to sum to 1. Fits asynchronously (libsvm-js loads WebAssembly).
 */
export class Ldsvr implements LdlEstimator {
  static readonly className = 'LDSVR';
  static readonly params = PARAMS;
  private readonly args: ParamValues<typeof PARAMS>;
  private models: LibSvm[] | undefined;
  private features: number | undefined;

  constructor(args: Partial<ParamValues<typeof PARAMS>> = {}) {
    this.args = resolveParams('Ldsvr', PARAMS, args);
  }

  getConfig(): ParamValues<typeof PARAMS> {
    return { ...this.args };
  }

  async fit(X: MatrixLike, D: MatrixLike): Promise<this> {
    const [x, d] = readFitArgs('Ldsvr.fit', X, D);
    const SVM = await loadLibSvm();
    const gamma = this.args.gamma > 0 ? this.args.gamma : 1 / (2 * meanPairwiseDistance(x) ** 2);
    const rows = toRows(x);
    this.free();
    this.models = [];
    for (let j = 0; j < d.cols; j++) {
      const target = Array.from({ length: d.rows }, (_, i) => {
        const v = Math.min(Math.max(d.data[i * d.cols + j], EPS), 1);
        return -Math.log((1 + EPS) / v - 1);
      });
      const svm = new SVM({
        type: SVM.SVM_TYPES.EPSILON_SVR,
        kernel: SVM.KERNEL_TYPES.RBF,
        gamma,
        cost: this.args.cost,
        epsilon: this.args.epsilon,
        tolerance: this.args.tolerance,
        shrinking: true,
        cacheSize: 200,
        quiet: true,
      });
      svm.train(rows, target);
      this.models.push(svm);
    }
    this.features = x.cols;
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const x = readPredictArg('Ldsvr.predict', X, this.features);
    const models = this.models as LibSvm[];
    const L = models.length;
    const rows = toRows(x);
    const out = new Float64Array(x.rows * L);
    models.forEach((svm, j) => svm.predict(rows).forEach((v, i) => (out[i * L + j] = 1 / (1 + Math.exp(-v)))));
    return toRows({ rows: x.rows, cols: L, data: normalizeRows(out, x.rows, L) });
  }

  /** Frees libsvm's WebAssembly memory of the fitted models. */
  free(): void {
    for (const m of this.models ?? []) m.free();
    this.models = undefined;
  }
}
