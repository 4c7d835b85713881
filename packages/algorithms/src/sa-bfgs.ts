import { Rng } from '@ldl/core';
import { type LdlEstimator, readFitArgs, readPredictArg } from './estimator';
import { minimizeLbfgs, type LbfgsResult } from './lbfgs';
import { type Matrix, type MatrixLike, fail, matMul, matMulTransposeA, softmaxRows, toRows } from './matrix';

/** Options of {@link SaBfgs}. */
export interface SaBfgsArgs {
  /** Most L-BFGS iterations. @default 500 (PyLDL) */
  maxIterations?: number;
  /** Stop when the largest gradient entry is at most this. @default 1e-7 (PyLDL's `convergence_criterion`) */
  gradientTolerance?: number;
  /** L2 penalty `λ/2 ‖W‖²` added to the summed KL (0 in Geng's and PyLDL's SA-BFGS). @default 0 */
  l2?: number;
  /** Seed of the initial weights, drawn uniformly from [0, 1) as in PyLDL. @default 0 */
  seed?: number;
}

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
  /** Learned weights `[d, L]` (after `fit`). */
  weights: Matrix | undefined;
  /** The optimiser's report of the last `fit`. */
  result: LbfgsResult | undefined;
  private readonly args: Required<SaBfgsArgs>;

  constructor(args: SaBfgsArgs = {}) {
    const fn = 'SaBfgs';
    const { maxIterations = 500, gradientTolerance = 1e-7, l2 = 0, seed = 0 } = args;
    if (!Number.isInteger(maxIterations) || maxIterations < 1) fail(fn, 'maxIterations', 'an integer >= 1', maxIterations);
    if (!(gradientTolerance >= 0)) fail(fn, 'gradientTolerance', '>= 0', gradientTolerance);
    if (!(l2 >= 0)) fail(fn, 'l2', '>= 0', l2);
    if (!Number.isFinite(seed)) fail(fn, 'seed', 'a finite number', seed);
    this.args = { maxIterations, gradientTolerance, l2, seed };
  }

  /** The constructor arguments with defaults filled in. */
  getConfig(): Required<SaBfgsArgs> {
    return { ...this.args };
  }

  fit(X: MatrixLike, D: MatrixLike): this {
    const [x, d] = readFitArgs('SaBfgs.fit', X, D);
    const { l2 } = this.args;
    const dims = x.cols * d.cols;
    // Σ D log D, so the objective is the summed KL itself (PyLDL clips D to eps for its log).
    let entropy = 0;
    for (const v of d.data) entropy += v > 0 ? v * Math.log(v) : 0;
    const evaluate = (w: Float64Array) => {
      const W = { rows: x.cols, cols: d.cols, data: w };
      const z = matMul(x, W);
      // log softmax for the value, softmax for the gradient
      let cross = 0;
      for (let i = 0; i < z.rows; i++) {
        const o = i * z.cols;
        let max = -Infinity;
        for (let j = 0; j < z.cols; j++) max = Math.max(max, z.data[o + j]);
        let sum = 0;
        for (let j = 0; j < z.cols; j++) sum += Math.exp(z.data[o + j] - max);
        const lse = max + Math.log(sum);
        for (let j = 0; j < z.cols; j++) {
          const logp = z.data[o + j] - lse;
          cross += d.data[o + j] * logp;
          z.data[o + j] = Math.exp(logp) - d.data[o + j];
        }
      }
      const gradient = matMulTransposeA(x, z).data;
      let penalty = 0;
      if (l2 > 0) {
        for (let i = 0; i < dims; i++) {
          penalty += w[i] * w[i];
          gradient[i] += l2 * w[i];
        }
      }
      return { value: entropy - cross + 0.5 * l2 * penalty, gradient };
    };
    const rng = new Rng(this.args.seed);
    const w0 = Float64Array.from({ length: dims }, () => rng.next());
    this.result = minimizeLbfgs(evaluate, w0, {
      maxIterations: this.args.maxIterations,
      gradientTolerance: this.args.gradientTolerance,
    });
    this.weights = { rows: x.cols, cols: d.cols, data: this.result.x };
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const x = readPredictArg('SaBfgs.predict', X, this.weights?.rows);
    return toRows(softmaxRows(matMul(x, this.weights as Matrix)));
  }
}
