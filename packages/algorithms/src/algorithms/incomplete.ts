// Incomplete LDL (PyLDL's `BaseIncomLDL` + `BaseADMM`): training distributions with entries missing,
// fitted by ADMM. To run under plain k-fold CV, each estimator hides a share of its training entries
// itself, as PyLDL's `random_missing` does, and is scored on the complete test distributions.
import { Rng } from '@ldl/core';
import { CholeskyDecomposition, Matrix as MlMatrix, pseudoInverse, SVD } from 'ml-matrix';
import { createRequire } from 'node:module';
import { type LdlEstimator, readFitArgs, readPredictArg } from '../estimator';
import { type Matrix, type MatrixLike, toRows } from '../matrix';
import { integer, nonNegative, openInterval, ParameterizedEstimator, positive, SEED, type ParamValues } from '../params';
import { linearInto } from './maxent';
import { projectRowsToSimplex } from './simplex';

/**
 * PyLDL's `random_missing(D, rate)` (unweighted): each entry of `D [n, L]` is missing with probability
 * `rate`. @returns the distributions with the missing entries set to 0, and the mask (1 = missing).
 */
export function randomMissing(d: Matrix, rate: number, rng: Rng): { d: Matrix; missing: Uint8Array } {
  if (!(rate > 0 && rate < 1)) throw new Error(`Error in randomMissing: rate must be a number in (0, 1), but got ${rate}.`);
  const missing = new Uint8Array(d.data.length);
  const data = Float64Array.from(d.data);
  for (let k = 0; k < data.length; k++) {
    if (rng.next() < rate) {
      missing[k] = 1;
      data[k] = 0;
    }
  }
  return { d: { rows: d.rows, cols: d.cols, data }, missing };
}

/**
 * PyLDL's `BaseIncomLDL.repair`: a row with exactly one missing entry gets it back as `1 − Σ(observed)`;
 * those entries count as observed. @returns the repaired distributions and the observed mask (1 = observed).
 */
export function repairIncomplete(d: Matrix, missing: Uint8Array): { d: Float64Array; observed: Float64Array } {
  const { rows: n, cols: L } = d;
  const out = Float64Array.from(d.data);
  const observed = new Float64Array(n * L);
  for (let i = 0; i < n; i++) {
    let count = 0;
    let sum = 0;
    for (let j = 0; j < L; j++) {
      count += missing[i * L + j];
      sum += d.data[i * L + j];
    }
    for (let j = 0; j < L; j++) {
      const k = i * L + j;
      if (missing[k] && count === 1) out[k] += 1 - sum;
      observed[k] = missing[k] && count !== 1 ? 0 : 1;
    }
  }
  return { d: out, observed };
}

const ADMM_PARAMS = {
  missingRate: openInterval(0.8, 0, 1, 'share of training entries hidden before fitting (PyLDL `random_missing` rate)'),
  maxIterations: integer(100, 1, 'most ADMM iterations (PyLDL `max_iterations`)'),
  seed: SEED,
};

const frob = (a: Float64Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));

/**
 * Shared ADMM loop of PyLDL's `BaseADMM` (W, Z, V start at ones; Z ≈ X W; stop when the primal and dual
 * residuals fall under `√n·1e-4 + 1e-3·max(‖Z‖, ‖XW‖)` and `√L·1e-4 + 1e-3·‖V‖`).
 */
abstract class IncompleteAdmm<S extends typeof ADMM_PARAMS> extends ParameterizedEstimator<S> implements LdlEstimator {
  weights: Matrix | undefined;
  /** ADMM iterations run by the last `fit`. */
  iterations = 0;
  protected abstract readonly rho: number;

  protected abstract setup(x: Matrix, d: Float64Array, observed: Float64Array): { updateW(Z: Float64Array, V: Float64Array): Float64Array; updateZ(XW: Float64Array, V: Float64Array, iteration: number): Float64Array };

  /** Fits on `D` after hiding `missingRate` of its entries (seeded). */
  fit(X: MatrixLike, D: MatrixLike): this {
    const [x, d0] = readFitArgs(`${this.fn}.fit`, X, D);
    const { d: hidden, missing } = randomMissing(d0, this.args.missingRate as number, new Rng(this.args.seed as number));
    return this.fitIncomplete(x, hidden, missing);
  }

  /** Fits on incomplete distributions: `missing` (1 = missing, as PyLDL's mask) marks the entries not observed. */
  fitIncomplete(x: Matrix, d: Matrix, missing: Uint8Array): this {
    const { rows: n, cols: dim } = x;
    const L = d.cols;
    const rho = this.rho;
    const { d: D, observed } = repairIncomplete(d, missing);
    const step = this.setup(x, D, observed);
    let W: Float64Array = new Float64Array(dim * L).fill(1);
    let Z: Float64Array = new Float64Array(n * L).fill(1);
    const V = new Float64Array(n * L).fill(1);
    const XW = new Float64Array(n * L);
    this.iterations = 0;
    for (let it = 1; it <= (this.args.maxIterations as number); it++) {
      this.iterations = it;
      const old = Z;
      W = step.updateW(Z, V);
      linearInto(x, W, L, XW);
      Z = step.updateZ(XW, V, it);
      const r = new Float64Array(n * L);
      const s = new Float64Array(n * L);
      for (let k = 0; k < n * L; k++) {
        V[k] += rho * (XW[k] - Z[k]);
        r[k] = Z[k] - XW[k];
        s[k] = rho * (Z[k] - old[k]);
      }
      const primalEps = Math.sqrt(n) * 1e-4 + 1e-3 * Math.max(frob(Z), frob(XW));
      const dualEps = Math.sqrt(L) * 1e-4 + 1e-3 * frob(V);
      if (frob(r) <= primalEps && frob(s) <= dualEps) break;
    }
    this.weights = { rows: dim, cols: L, data: W };
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const x = readPredictArg(`${this.fn}.predict`, X, this.weights?.rows);
    const w = this.weights as Matrix;
    const out = linearInto(x, w.data, w.cols, new Float64Array(x.rows * w.cols));
    return toRows({ rows: x.rows, cols: w.cols, data: projectRowsToSimplex(out, x.rows, w.cols) });
  }
}

const toMl = (data: Float64Array, rows: number, cols: number) => {
  const m = new MlMatrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, data[i * cols + j]);
  return m;
};
const fromMl = (m: MlMatrix) => Float64Array.from(m.to1DArray());

const WINLDL_PARAMS = { ...ADMM_PARAMS, rho: positive(2, 'ADMM penalty ρ (PyLDL WInLDL `rho`)') };

/**
 * WInLDL (Li, Chen, … "Weighted incomplete label distribution learning", 2024), as PyLDL's `WInLDL`:
 * ADMM on `X W ≈ Z`, Z projected onto the simplex after a weighted average of `X W` and the observed
 * degrees (weights `2^(1 − D)` on observed entries, `(1 + t/T)^avg_j` on missing ones, t the iteration).
 */
export class WInLdl extends IncompleteAdmm<typeof WINLDL_PARAMS> {
  static readonly className = 'WInLDL';
  static readonly params = WINLDL_PARAMS;
  protected get rho() {
    return this.args.rho;
  }
  constructor(args: Partial<ParamValues<typeof WINLDL_PARAMS>> = {}) {
    super('WInLdl', WINLDL_PARAMS, args);
  }

  protected setup(x: Matrix, D: Float64Array, observed: Float64Array) {
    const { rows: n, cols: dim } = x;
    const L = D.length / n;
    const rho = this.rho;
    const T = this.args.maxIterations;
    const xm = toMl(x.data, n, dim);
    const gram = xm.transpose().mmul(xm);
    for (let p = 0; p < dim; p++) gram.set(p, p, gram.get(p, p) + 1e-5);
    const chol = new CholeskyDecomposition(gram);
    const avg = new Float64Array(L);
    for (let j = 0; j < L; j++) {
      let s = 0;
      let c = 0;
      for (let i = 0; i < n; i++) {
        s += D[i * L + j];
        if (D[i * L + j] !== 0) c++;
      }
      avg[j] = s / c;
    }
    const q1 = D.map((v, k) => 2 ** (1 - v) * observed[k]);
    return {
      updateW: (Z: Float64Array, V: Float64Array) => {
        const target = toMl(Z.map((z, k) => z - V[k] / rho), n, L);
        return fromMl(chol.solve(xm.transpose().mmul(target)));
      },
      updateZ: (XW: Float64Array, V: Float64Array, it: number) => {
        const a = 1 + it / T;
        const Z = new Float64Array(n * L);
        for (let k = 0; k < n * L; k++) {
          const q = q1[k] + a ** avg[k % L] * (1 - observed[k]);
          const y = XW[k] * (1 - observed[k]) + D[k];
          Z[k] = (rho * XW[k] + V[k] + q * q * y) / (q * q + rho);
        }
        return projectRowsToSimplex(Z, n, L);
      },
    };
  }
}

interface QpResult {
  solution: number[];
}
type SolveQp = (Dmat: number[][], dvec: number[], Amat: number[][], bvec: number[], meq: number) => QpResult;
let solveQp: SolveQp | undefined;

const INCOMLDL_PARAMS = {
  ...ADMM_PARAMS,
  alpha: nonNegative(1e-3, 'weight of the trace norm of X W (PyLDL `alpha`)'),
  rho: positive(1, 'ADMM penalty ρ (PyLDL BaseADMM default)'),
};

/**
 * IncomLDL (Xu & Zhou, "Incomplete Label Distribution Learning", IJCAI 2017), as PyLDL's `IncomLDL`:
 * ADMM on `X W ≈ Z` with a trace-norm penalty `α ‖Z‖_*` (singular value thresholding, ml-matrix's SVD);
 * each sample's fitted distribution solves a small QP on the simplex (quadprog, Goldfarb-Idnani, as
 * PyLDL's `qpsolvers` call), then `W = pinv(XᵀX) Xᵀ M`.
 */
export class IncomLdl extends IncompleteAdmm<typeof INCOMLDL_PARAMS> {
  static readonly className = 'IncomLDL';
  static readonly params = INCOMLDL_PARAMS;
  protected get rho() {
    return this.args.rho;
  }
  constructor(args: Partial<ParamValues<typeof INCOMLDL_PARAMS>> = {}) {
    super('IncomLdl', INCOMLDL_PARAMS, args);
  }

  protected setup(x: Matrix, D: Float64Array, observed: Float64Array) {
    solveQp ??= (createRequire(import.meta.url)('quadprog') as { solveQP: SolveQp }).solveQP;
    const qp = solveQp;
    const { rows: n, cols: dim } = x;
    const L = D.length / n;
    const rho = this.rho;
    const tau = this.args.alpha / rho;
    const xm = toMl(x.data, n, dim);
    const solver = pseudoInverse(xm.transpose().mmul(xm)).mmul(xm.transpose()); // [d, n]
    // quadprog is 1-indexed: constraints Σm = 1 (equality) and m ≥ 0
    const Amat: number[][] = [[]];
    for (let j = 1; j <= L; j++) {
      Amat[j] = [0, 1];
      for (let c = 1; c <= L; c++) Amat[j][c + 1] = j === c ? 1 : 0;
    }
    const bvec = [0, 1, ...new Array<number>(L).fill(0)];
    let Z: Float64Array = new Float64Array(n * L).fill(1);
    return {
      updateW: (Zc: Float64Array, V: Float64Array) => {
        Z = Zc;
        const M = new MlMatrix(n, L);
        for (let i = 0; i < n; i++) {
          const Dmat: number[][] = [[]];
          const dvec = [0];
          for (let j = 0; j < L; j++) {
            const k = i * L + j;
            const m = observed[k];
            Dmat[j + 1] = [0, ...new Array<number>(L).fill(0)];
            Dmat[j + 1][j + 1] = (1 + rho) * m + rho * (1 - m);
            const q = (V[k] - D[k] * m - rho * Z[k]) * m + (V[k] - rho * Z[k]) * (1 - m);
            dvec.push(-q);
          }
          const { solution } = qp(Dmat, dvec, Amat, bvec, 1);
          for (let j = 0; j < L; j++) M.set(i, j, solution[j + 1]);
        }
        return fromMl(solver.mmul(M));
      },
      updateZ: (XW: Float64Array, V: Float64Array) => {
        const A = toMl(XW.map((v, k) => v + V[k] / rho), n, L);
        const svd = new SVD(A, { autoTranspose: true });
        const s = svd.diagonal.map((v) => Math.max(v - tau, 0));
        return fromMl(svd.leftSingularVectors.mmul(MlMatrix.diag(s)).mmul(svd.rightSingularVectors.transpose()));
      },
    };
  }
}
