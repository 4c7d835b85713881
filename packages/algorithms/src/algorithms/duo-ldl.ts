import { Rng } from '@ldl/core';
import { type LdlEstimator, readFitArgs, readPredictArg } from '../estimator';
import { type MatrixLike, toRows } from '../matrix';
import { integer, positive, resolveParams, SEED, type ParamValues } from '../params';
import { adam, dense, type ThreeLayer, threeLayerForward, trainThreeLayerMse } from './mlp';
import { projectRowsToSimplex } from './simplex';

const PARAMS = {
  hiddenSize: integer(40, 1, 'sigmoid hidden units (PyLDL `n_hidden`)'),
  epochs: integer(1000, 1, 'full-batch Adam steps (PyLDL `epochs`)'),
  learningRate: positive(1e-3, 'Adam step size (PyLDL\'s default `Adam(1e-3)`)'),
  seed: SEED,
};

/**
 * Duo-LDL (Zychowski & Mańdziuk, "Duo-LDL method for Label Distribution Learning based on pairwise class
 * dependencies", Applied Soft Computing 2021), as PyLDL's `Duo_LDL`: a network Dense(40, sigmoid) →
 * Dense(L(L−1), tanh) regresses every difference `D_j − D_{(j−s) mod L}`, s = 1..L−1 (mean squared error,
 * full-batch Adam 1e-3, 1000 epochs); the distribution is recovered as `(Σ_s diff_js + 1) / L` and
 * projected onto the simplex.
 */
export class DuoLdl implements LdlEstimator {
  static readonly className = 'Duo-LDL';
  static readonly params = PARAMS;
  private readonly args: ParamValues<typeof PARAMS>;
  private net: ThreeLayer | undefined;
  private labels = 0;

  constructor(args: Partial<ParamValues<typeof PARAMS>> = {}) {
    this.args = resolveParams('DuoLdl', PARAMS, args);
  }

  getConfig(): ParamValues<typeof PARAMS> {
    return { ...this.args };
  }

  fit(X: MatrixLike, D: MatrixLike): this {
    const [x, d] = readFitArgs('DuoLdl.fit', X, D);
    const { rows: n, cols: L } = d;
    if (L < 2) throw new Error(`Error in DuoLdl.fit: D.cols must be >= 2 (label pairs), but got ${L}.`);
    const width = L * (L - 1);
    // column (s − 1) · L + j: D_j − D_{(j − s) mod L} (PyLDL: concat of D − roll(D, s, axis=1))
    const target = new Float64Array(n * width);
    for (let i = 0; i < n; i++) {
      for (let s = 1; s < L; s++) {
        for (let j = 0; j < L; j++) target[i * width + (s - 1) * L + j] = d.data[i * L + j] - d.data[i * L + ((j - s + L) % L)];
      }
    }
    const rng = new Rng(this.args.seed);
    this.net = { hidden: dense(x.cols, this.args.hiddenSize, rng), output: dense(this.args.hiddenSize, width, rng), activation: 'tanh' };
    this.labels = L;
    trainThreeLayerMse(this.net, x, target, this.args.epochs, adam(this.args.learningRate));
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const x = readPredictArg('DuoLdl.predict', X, this.net?.hidden.inputs);
    const L = this.labels;
    const width = L * (L - 1);
    const c = threeLayerForward(this.net as ThreeLayer, x).out;
    const out = new Float64Array(x.rows * L);
    for (let i = 0; i < x.rows; i++) {
      for (let j = 0; j < L; j++) {
        let s = 0;
        for (let k = 1; k < L; k++) s += c[i * width + (k - 1) * L + j];
        out[i * L + j] = (s + 1) / L;
      }
    }
    return toRows({ rows: x.rows, cols: L, data: projectRowsToSimplex(out, x.rows, L) });
  }
}
