import { type LdlEstimator, readFitArgs, readPredictArg } from '../estimator';
import type { LbfgsResult } from '../lbfgs';
import { type Matrix, type MatrixLike, toRows } from '../matrix';
import { finite, integer, nonNegative, resolveParams, type ParamValues } from '../params';
import { fitSoftmaxLinear, l2Penalty, predictSoftmax } from './maxent';

const PARAMS = {
  maxIterations: integer(500, 1, 'most L-BFGS iterations (PyLDL `max_iterations`)'),
  gradientTolerance: nonNegative(1e-7, 'stop when the largest gradient entry is at most this (PyLDL `convergence_criterion`)'),
  l2: nonNegative(0, 'L2 penalty λ/2 ‖W‖² added to the summed KL (0 in Geng\'s and PyLDL\'s SA-BFGS)'),
  seed: finite(0, 'seed of the initial weights, uniform in [0, 1) as in PyLDL'),
};

/** Options of {@link SaBfgs} (each optional; defaults in {@link SaBfgs.params}). */
export type SaBfgsArgs = Partial<ParamValues<typeof PARAMS>>;

/**
 * SA-BFGS (Geng, "Label Distribution Learning", TKDE 2016): the maximum-entropy model
 * `p(y | x) = softmax(x W)`, `W [d, L]` (no bias, as PyLDL), fitted by minimising the summed
 * Kullback-Leibler divergence `Σ_i KL(D_i ‖ p_i)` with a quasi-Newton method (L-BFGS here and in
 * PyLDL, whose `SA_BFGS` calls SciPy's L-BFGS-B). Gradient `Xᵀ (P − D)`.
 *
 * @example
 * ```ts
 * const model = new SaBfgs({ seed: 1 }).fit(Xtrain, Dtrain);
 * const Dpred = model.predict(Xtest); // [m, L]
 * ```
 */
export class SaBfgs implements LdlEstimator {
  static readonly className = 'SA-BFGS';
  static readonly params = PARAMS;
  /** Learned weights `[d, L]` (after `fit`). */
  weights: Matrix | undefined;
  /** The optimiser's report of the last `fit`. */
  result: LbfgsResult | undefined;
  private readonly args: ParamValues<typeof PARAMS>;

  constructor(args: SaBfgsArgs = {}) {
    this.args = resolveParams('SaBfgs', PARAMS, args);
  }

  /** The constructor arguments with defaults filled in. */
  getConfig(): ParamValues<typeof PARAMS> {
    return { ...this.args };
  }

  fit(X: MatrixLike, D: MatrixLike): this {
    const [x, d] = readFitArgs('SaBfgs.fit', X, D);
    // Σ D log D is added, so the objective is the summed KL itself (PyLDL clips D to eps for its log).
    this.result = fitSoftmaxLinear(x, d, {
      klReduction: 'sum',
      weightLoss: l2Penalty(this.args.l2),
      init: 'uniform01',
      seed: this.args.seed,
      maxIterations: this.args.maxIterations,
      gradientTolerance: this.args.gradientTolerance,
    });
    this.weights = { rows: x.cols, cols: d.cols, data: this.result.x };
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const x = readPredictArg('SaBfgs.predict', X, this.weights?.rows);
    const w = this.weights as Matrix;
    return toRows(predictSoftmax(x, w.data, w.cols));
  }
}
