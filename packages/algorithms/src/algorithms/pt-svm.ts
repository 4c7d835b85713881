import { Rng } from '@ldl/core';
import { type LdlEstimator, readFitArgs, readPredictArg } from '../estimator';
import { type MatrixLike, toRows } from '../matrix';
import { positive, resolveParams, SEED, type ParamValues } from '../params';
import { type LibSvm, loadLibSvm } from './libsvm';
import { resampleSingleLabel } from './problem-transformation';

const PARAMS = {
  cost: positive(1, 'SVM cost C (scikit-learn `LinearSVC` default)'),
  tolerance: positive(1e-3, 'stopping tolerance of libsvm (its default)'),
  seed: SEED,
};

/**
 * PT-SVM (Geng, TKDE 2016): the label distributions turned into single labels by resampling `n · L`
 * (sample, label) pairs in proportion to `D` (as PyLDL's `PT_SVM`), then a linear SVM whose class
 * probabilities are the predicted distribution. PyLDL uses scikit-learn's `CalibratedClassifierCV(LinearSVC())`
 * (liblinear's squared-hinge one-vs-rest SVMs, sigmoid-calibrated by 5-fold CV); npm has no liblinear,
 * so this uses libsvm's linear C-SVC (hinge loss, one-vs-one) with libsvm's own probability estimates
 * (Platt scaling fitted by internal 5-fold CV, coupled pairwise): the same recipe, a different solver.
 * Labels never drawn get probability 0. Fits asynchronously (libsvm-js loads WebAssembly).
 */
export class PtSvm implements LdlEstimator {
  static readonly className = 'PT-SVM';
  static readonly params = PARAMS;
  private readonly args: ParamValues<typeof PARAMS>;
  private model: LibSvm | undefined;
  private features: number | undefined;
  private labels = 0;

  constructor(args: Partial<ParamValues<typeof PARAMS>> = {}) {
    this.args = resolveParams('PtSvm', PARAMS, args);
  }

  getConfig(): ParamValues<typeof PARAMS> {
    return { ...this.args };
  }

  async fit(X: MatrixLike, D: MatrixLike): Promise<this> {
    const [x0, d0] = readFitArgs('PtSvm.fit', X, D);
    const SVM = await loadLibSvm();
    const { x, y } = resampleSingleLabel(x0, d0, new Rng(this.args.seed));
    this.free();
    const svm = new SVM({
      type: SVM.SVM_TYPES.C_SVC,
      kernel: SVM.KERNEL_TYPES.LINEAR,
      cost: this.args.cost,
      tolerance: this.args.tolerance,
      probabilityEstimates: true,
      shrinking: true,
      cacheSize: 200,
      quiet: true,
    });
    svm.train(toRows(x), Array.from(y));
    this.model = svm;
    this.features = x0.cols;
    this.labels = d0.cols;
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const x = readPredictArg('PtSvm.predict', X, this.features);
    const svm = this.model as LibSvm;
    const labels = svm.getLabels();
    if (labels.length === 1) return toRows(x).map(() => Array.from({ length: this.labels }, (_, j) => (j === labels[0] ? 1 : 0)));
    return svm.predictProbability(toRows(x)).map(({ estimates }) => {
      const row = new Array<number>(this.labels).fill(0);
      for (const { label, probability } of estimates) row[label] = probability;
      return row;
    });
  }

  /** Frees libsvm's WebAssembly memory of the fitted model. */
  free(): void {
    this.model?.free();
    this.model = undefined;
  }
}
