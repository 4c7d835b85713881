import { Rng } from '@ldl/core';
import { type LdlEstimator, readFitArgs, readPredictArg } from '../estimator';
import { type Matrix, type MatrixLike, toRows } from '../matrix';
import { nonNegative, resolveParams, SEED, type ParamValues } from '../params';
import { softmaxInPlace } from './maxent';
import { resampleSingleLabel } from './problem-transformation';

const PARAMS = {
  varSmoothing: nonNegative(0.1, 'added to every variance, times the largest feature variance (PyLDL `var_smoothing`)'),
  seed: SEED,
};

/**
 * PT-Bayes (Geng, TKDE 2016), as PyLDL's `PT_Bayes`: the label distributions turned into single labels
 * by resampling `n · L` (sample, label) pairs in proportion to `D`, then a Gaussian naive Bayes classifier
 * (scikit-learn's `GaussianNB` with the resampled class frequencies as priors: per-class feature means and
 * variances, each variance plus `varSmoothing · max_k var(x_k)`); the predicted distribution is its
 * class posterior. A label never drawn gets probability 0. Own code: Gaussian naive Bayes is a few lines
 * and `ml-naivebayes` has no variance smoothing nor priors.
 */
export class PtBayes implements LdlEstimator {
  static readonly className = 'PT-Bayes';
  static readonly params = PARAMS;
  private readonly args: ParamValues<typeof PARAMS>;
  private model: { mean: Float64Array; variance: Float64Array; logPrior: Float64Array; L: number; d: number } | undefined;

  constructor(args: Partial<ParamValues<typeof PARAMS>> = {}) {
    this.args = resolveParams('PtBayes', PARAMS, args);
  }

  getConfig(): ParamValues<typeof PARAMS> {
    return { ...this.args };
  }

  fit(X: MatrixLike, D: MatrixLike): this {
    const [x0, d0] = readFitArgs('PtBayes.fit', X, D);
    const { x, y } = resampleSingleLabel(x0, d0, new Rng(this.args.seed));
    const L = d0.cols;
    const dim = x.cols;
    const count = new Float64Array(L);
    const mean = new Float64Array(L * dim);
    const variance = new Float64Array(L * dim);
    for (let t = 0; t < x.rows; t++) {
      count[y[t]]++;
      for (let p = 0; p < dim; p++) mean[y[t] * dim + p] += x.data[t * dim + p];
    }
    for (let c = 0; c < L; c++) for (let p = 0; p < dim; p++) mean[c * dim + p] /= count[c] || 1;
    for (let t = 0; t < x.rows; t++) {
      for (let p = 0; p < dim; p++) variance[y[t] * dim + p] += (x.data[t * dim + p] - mean[y[t] * dim + p]) ** 2;
    }
    for (let c = 0; c < L; c++) for (let p = 0; p < dim; p++) variance[c * dim + p] /= count[c] || 1;
    // epsilon = var_smoothing · max over features of the variance of the (resampled) training features
    const featureMean = new Float64Array(dim);
    const featureVar = new Float64Array(dim);
    for (let t = 0; t < x.rows; t++) for (let p = 0; p < dim; p++) featureMean[p] += x.data[t * dim + p];
    for (let p = 0; p < dim; p++) featureMean[p] /= x.rows;
    for (let t = 0; t < x.rows; t++) for (let p = 0; p < dim; p++) featureVar[p] += (x.data[t * dim + p] - featureMean[p]) ** 2;
    const maxVar = featureVar.reduce((m, v) => Math.max(m, v / x.rows), 0);
    const epsilon = this.args.varSmoothing * maxVar;
    for (let k = 0; k < variance.length; k++) variance[k] += epsilon;
    const logPrior = Float64Array.from(count, (c) => (c > 0 ? Math.log(c / x.rows) : -Infinity));
    this.model = { mean, variance, logPrior, L, d: dim };
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const x = readPredictArg('PtBayes.predict', X, this.model?.d);
    const { mean, variance, logPrior, L, d } = this.model as NonNullable<PtBayes['model']>;
    // log p(c) − ½ Σ_p log(2π σ²_cp) − Σ_p (x_p − μ_cp)² / (2σ²_cp)
    const base = Float64Array.from(logPrior, (lp, c) => {
      let s = lp;
      for (let p = 0; p < d; p++) s -= 0.5 * Math.log(2 * Math.PI * variance[c * d + p]);
      return s;
    });
    const half = variance.map((v) => 0.5 / v);
    const out = new Float64Array(x.rows * L);
    for (let i = 0; i < x.rows; i++) {
      for (let c = 0; c < L; c++) {
        let s = base[c];
        if (s !== -Infinity) {
          for (let p = 0; p < d; p++) {
            const z = x.data[i * d + p] - mean[c * d + p];
            s -= z * z * half[c * d + p];
          }
        }
        out[i * L + c] = s;
      }
    }
    softmaxInPlace(out, x.rows, L);
    return toRows({ rows: x.rows, cols: L, data: out } satisfies Matrix);
  }
}
