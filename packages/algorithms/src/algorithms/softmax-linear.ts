import { type LdlEstimator, readFitArgs, readPredictArg } from '../estimator';
import type { LbfgsResult } from '../lbfgs';
import { type Matrix, type MatrixLike, toRows } from '../matrix';
import { integer, ParameterizedEstimator, SEED, type ParamSpecs } from '../params';
import { fitSoftmaxLinear, predictSoftmax, softmaxLinearObjective, type SoftmaxLinearOptions } from './maxent';

/**
 * The hyper-parameters every PyLDL `BaseBFGS` method shares: `max_iterations` (50) of its L-BFGS
 * (PyTorch's `torch.optim.LBFGS` with a strong-Wolfe line search under Keras' torch backend) and the seed.
 */
export const BFGS_PARAMS = {
  maxIterations: integer(50, 1, 'most L-BFGS iterations (PyLDL `max_iterations` of BaseBFGS)'),
  seed: SEED,
};

/**
 * Base of the methods PyLDL builds on `BaseBFGS`: `softmax(x W)`, `W [d, L]` without bias, Glorot-uniform
 * start (Keras' `Dense` default), fitted by L-BFGS with PyTorch's `LBFGS` settings (history 100, at most
 * `1.25 · maxIterations` evaluations, gradient tolerance 1e-7, change tolerance 1e-9). Subclasses give
 * the loss.
 */
export abstract class SoftmaxLinearLdl<S extends ParamSpecs> extends ParameterizedEstimator<S> implements LdlEstimator {
  /** Learned weights `[d, L]` (after `fit`). */
  weights: Matrix | undefined;
  /** The optimiser's report of the last `fit`. */
  result: LbfgsResult | undefined;

  /** The loss terms beyond nothing: KL reduction, extra terms on P or W. */
  protected abstract loss(x: Matrix, d: Matrix): Pick<SoftmaxLinearOptions, 'klReduction' | 'extra' | 'weightLoss'>;

  /** The objective `fit` minimises, as a function of the flat weights `W [d, L]`: value and gradient. */
  objective(X: MatrixLike, D: MatrixLike): (w: Float64Array) => { value: number; gradient: Float64Array } {
    const [x, d] = readFitArgs(`${this.fn}.objective`, X, D);
    return softmaxLinearObjective(x, d, this.loss(x, d));
  }

  fit(X: MatrixLike, D: MatrixLike): this {
    const [x, d] = readFitArgs(`${this.fn}.fit`, X, D);
    const maxIterations = this.args.maxIterations as number;
    this.result = fitSoftmaxLinear(x, d, {
      ...this.loss(x, d),
      init: 'glorot',
      seed: this.args.seed as number,
      maxIterations,
      maxEvaluations: Math.floor((maxIterations * 5) / 4),
      memory: 100,
      gradientTolerance: 1e-7,
      functionTolerance: 1e-9,
    });
    this.weights = { rows: x.cols, cols: d.cols, data: this.result.x };
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const x = readPredictArg(`${this.fn}.predict`, X, this.weights?.rows);
    const w = this.weights as Matrix;
    return toRows(predictSoftmax(x, w.data, w.cols));
  }
}
