import { EigenvalueDecomposition, Matrix as MlMatrix } from 'ml-matrix';
import { type LdlEstimator, readFitArgs, readPredictArg } from '../estimator';
import { type Matrix, type MatrixLike, toRows } from '../matrix';
import { nonNegative, resolveParams, type ParamValues } from '../params';
import { linearInto } from './maxent';
import { projectRowsToSimplex } from './simplex';

const PARAMS = {
  alpha: nonNegative(1e-3, 'weight of the label-distribution term α (PyLDL `alpha`)'),
  beta: nonNegative(1e-2, 'ridge weight β (PyLDL `beta`)'),
};

const toMl = (m: Matrix) => new MlMatrix(toRows(m));

/**
 * BD-LDL (Liu, Tang, Lv, Geng et al., "Bidirectional Label Distribution Learning", 2021), as PyLDL's
 * `BD_LDL`: the linear map `W [d, L]` solving the Sylvester equation
 * `(XᵀX + βI) W + W (α DᵀD) = (1 + α) XᵀD`; predictions `x W` projected onto the simplex.
 * The equation is solved by eigendecomposing both symmetric sides (ml-matrix): with `XᵀX + βI = U Λ Uᵀ`
 * and `α DᵀD = V M Vᵀ`, `W = U [(Uᵀ C V)_ij / (λ_i + μ_j)] Vᵀ` (SciPy's `solve_sylvester`, which PyLDL
 * calls, uses Schur forms: the same solution).
 */
export class BdLdl implements LdlEstimator {
  static readonly className = 'BD-LDL';
  static readonly params = PARAMS;
  weights: Matrix | undefined;
  private readonly args: ParamValues<typeof PARAMS>;

  constructor(args: Partial<ParamValues<typeof PARAMS>> = {}) {
    this.args = resolveParams('BdLdl', PARAMS, args);
  }

  getConfig(): ParamValues<typeof PARAMS> {
    return { ...this.args };
  }

  fit(X: MatrixLike, D: MatrixLike): this {
    const [x, d] = readFitArgs('BdLdl.fit', X, D);
    const { alpha, beta } = this.args;
    const xm = toMl(x);
    const dm = toMl(d);
    const xt = xm.transpose();
    const A = xt.mmul(xm);
    for (let i = 0; i < x.cols; i++) A.set(i, i, A.get(i, i) + beta);
    const B = dm.transpose().mmul(dm).mul(alpha);
    const C = xt.mmul(dm).mul(1 + alpha);
    const ea = new EigenvalueDecomposition(A, { assumeSymmetric: true });
    const eb = new EigenvalueDecomposition(B, { assumeSymmetric: true });
    const U = ea.eigenvectorMatrix;
    const V = eb.eigenvectorMatrix;
    const lambda = ea.realEigenvalues;
    const mu = eb.realEigenvalues;
    const Y = U.transpose().mmul(C).mmul(V);
    for (let i = 0; i < Y.rows; i++) for (let j = 0; j < Y.columns; j++) Y.set(i, j, Y.get(i, j) / (lambda[i] + mu[j]));
    const W = U.mmul(Y).mmul(V.transpose());
    this.weights = { rows: x.cols, cols: d.cols, data: Float64Array.from(W.to1DArray()) };
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const x = readPredictArg('BdLdl.predict', X, this.weights?.rows);
    const w = this.weights as Matrix;
    const out = linearInto(x, w.data, w.cols, new Float64Array(x.rows * w.cols));
    return toRows({ rows: x.rows, cols: w.cols, data: projectRowsToSimplex(out, x.rows, w.cols) });
  }
}
