import { Rng } from '@ldl/core';
import { type LdlEstimator, readFitArgs, readPredictArg } from '../estimator';
import { type MatrixLike, toRows } from '../matrix';
import { integer, positive, resolveParams, SEED, type ParamValues } from '../params';
import { dense, sgd, type ThreeLayer, threeLayerForward, trainThreeLayerMse } from './mlp';

const PARAMS = {
  hiddenSize: integer(64, 1, 'sigmoid hidden units (PyLDL `n_hidden`)'),
  epochs: integer(1000, 1, 'full-batch gradient steps (PyLDL `epochs`)'),
  learningRate: positive(1e-3, 'SGD step size (PyLDL\'s default `SGD(1e-3)`)'),
  seed: SEED,
};

/**
 * AA-BP (Geng, TKDE 2016), as PyLDL's `AA_BP`: a three-layer network, Dense(64, sigmoid) → Dense(L,
 * softmax), Glorot-uniform weights, trained full-batch by plain gradient descent (learning rate 1e-3,
 * 1000 epochs) on the mean squared error between the predicted and true distributions.
 */
export class AaBp implements LdlEstimator {
  static readonly className = 'AA-BP';
  static readonly params = PARAMS;
  private readonly args: ParamValues<typeof PARAMS>;
  private net: ThreeLayer | undefined;

  constructor(args: Partial<ParamValues<typeof PARAMS>> = {}) {
    this.args = resolveParams('AaBp', PARAMS, args);
  }

  getConfig(): ParamValues<typeof PARAMS> {
    return { ...this.args };
  }

  fit(X: MatrixLike, D: MatrixLike): this {
    const [x, d] = readFitArgs('AaBp.fit', X, D);
    const rng = new Rng(this.args.seed);
    this.net = { hidden: dense(x.cols, this.args.hiddenSize, rng), output: dense(this.args.hiddenSize, d.cols, rng), activation: 'softmax' };
    trainThreeLayerMse(this.net, x, d.data, this.args.epochs, sgd(this.args.learningRate));
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const x = readPredictArg('AaBp.predict', X, this.net?.hidden.inputs);
    const net = this.net as ThreeLayer;
    return toRows({ rows: x.rows, cols: net.output.outputs, data: threeLayerForward(net, x).out });
  }
}
