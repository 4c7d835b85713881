import { Rng } from '@ldl/core';
import { EigenvalueDecomposition, Matrix as MlMatrix } from 'ml-matrix';
import { type LdlEstimator, readFitArgs, readPredictArg } from '../estimator';
import { type Matrix, type MatrixLike, toRows } from '../matrix';
import { integer, nonNegative, positive, resolveParams, SEED, type ParamValues } from '../params';
import { negativeEntropy, predictSoftmax, softmaxInPlace, linearInto } from './maxent';

const PARAMS = {
  alpha: positive(0.2, 'entropic regularisation of the optimal transport (PyLDL `alpha`)'),
  beta: positive(200, 'step size 1/β of the ground-metric update (PyLDL `beta`)'),
  maxIterations: integer(500, 1, 'most outer iterations (PyLDL `max_iterations`)'),
  sinkhornIterations: integer(200, 1, 'Sinkhorn iterations per sample (PyLDL `sinkhorn_iterations`)'),
  learningRate: positive(1e-4, 'gradient step on the weights (PyLDL `learning_rate`)'),
  convergenceCriterion: nonNegative(1e-7, 'stop when the summed KL falls by less than this (PyLDL `convergence_criterion`)'),
  seed: SEED,
};

/** `[x, 1]`: the features with a constant column (LALOT's bias). */
function withBias(x: Matrix): Matrix {
  const { rows: n, cols: d } = x;
  const out = new Float64Array(n * (d + 1));
  for (let i = 0; i < n; i++) {
    out.set(x.data.subarray(i * d, (i + 1) * d), i * (d + 1));
    out[i * (d + 1) + d] = 1;
  }
  return { rows: n, cols: d + 1, data: out };
}

/**
 * LALOT (Zhao & Zhou, "Label Distribution Learning by Optimal Transport", AAAI 2018), as PyLDL's `LALOT`:
 * `softmax([x, 1] W)` trained by gradient steps on the entropic optimal-transport loss between predicted
 * and true distributions (Sinkhorn scaling per sample), while the ground metric between labels is
 * learned from a label-correlation kernel (`K ← K₀ − Gradient/β`, projected onto the PSD cone by an
 * eigendecomposition, ml-matrix). Weights start uniform in [0, 1).
 */
export class Lalot implements LdlEstimator {
  static readonly className = 'LALOT';
  static readonly params = PARAMS;
  weights: Matrix | undefined;
  iterations = 0;
  private readonly args: ParamValues<typeof PARAMS>;

  constructor(args: Partial<ParamValues<typeof PARAMS>> = {}) {
    this.args = resolveParams('Lalot', PARAMS, args);
  }

  getConfig(): ParamValues<typeof PARAMS> {
    return { ...this.args };
  }

  fit(X: MatrixLike, D: MatrixLike): this {
    const [x0, d] = readFitArgs('Lalot.fit', X, D);
    const x = withBias(x0);
    const { rows: n, cols: dim } = x;
    const L = d.cols;
    const { alpha, beta, learningRate, sinkhornIterations } = this.args;
    const rng = new Rng(this.args.seed);
    const w = Float64Array.from({ length: dim * L }, () => rng.next());
    // K0 = DᵀD, K1 = K0 / max(K0)
    const K0 = new Float64Array(L * L);
    for (let i = 0; i < n; i++) for (let a = 0; a < L; a++) for (let b = 0; b < L; b++) K0[a * L + b] += d.data[i * L + a] * d.data[i * L + b];
    const k0max = Math.max(...K0);
    let K1 = K0.map((v) => v / k0max);
    const P = new Float64Array(n * L);
    const constant = negativeEntropy(d.data);
    const loss = () => constant - softmaxInPlace(linearInto(x, w, L, P), n, L, d.data);
    let current = loss();
    const K = new Float64Array(L * L);
    const u = new Float64Array(L);
    const t = new Float64Array(L);
    const s = new Float64Array(L);
    const glh = new Float64Array(L);
    this.iterations = 0;
    for (let it = 0; it < this.args.maxIterations; it++) {
      this.iterations = it + 1;
      // ground metric M from K1, then the Gibbs kernel K = exp(−α M − 1)
      let mmax = 0;
      for (let a = 0; a < L; a++) for (let b = 0; b < L; b++) mmax = Math.max(mmax, Math.abs(K1[a * L + a] + K1[b * L + b] - 2 * K1[a * L + b]));
      for (let a = 0; a < L; a++) {
        for (let b = 0; b < L; b++) K[a * L + b] = Math.exp((-alpha * Math.abs(K1[a * L + a] + K1[b * L + b] - 2 * K1[a * L + b])) / (mmax || 1) - 1);
      }
      const T = new Float64Array(L * L); // Σ_i diag(u) K diag(v)
      const G = new Float64Array(L * dim);
      for (let i = 0; i < n; i++) {
        const o = i * L;
        u.fill(1);
        for (let r = 0; r < sinkhornIterations; r++) {
          // u = p / (K (d / (Kᵀ u)))
          for (let b = 0; b < L; b++) {
            let v = 0;
            for (let a = 0; a < L; a++) v += K[a * L + b] * u[a];
            t[b] = d.data[o + b] / v;
          }
          for (let a = 0; a < L; a++) {
            let v = 0;
            for (let b = 0; b < L; b++) v += K[a * L + b] * t[b];
            u[a] = P[o + a] / v;
          }
        }
        for (let b = 0; b < L; b++) {
          let v = 0;
          for (let a = 0; a < L; a++) v += K[a * L + b] * u[a];
          s[b] = d.data[o + b] / v;
        }
        for (let a = 0; a < L; a++) for (let b = 0; b < L; b++) T[a * L + b] += u[a] * K[a * L + b] * s[b];
        let logSum = 0;
        for (let a = 0; a < L; a++) logSum += Math.log(u[a]);
        let dot = 0;
        for (let a = 0; a < L; a++) {
          glh[a] = Math.log(u[a]) / alpha - logSum / (alpha * L);
          dot += P[o + a] * glh[a];
        }
        // G_a,: += (glh_a − p·glh) p_a x_i
        for (let a = 0; a < L; a++) {
          const f = (glh[a] - dot) * P[o + a];
          if (f === 0) continue;
          for (let p = 0; p < dim; p++) G[a * dim + p] += f * x.data[i * dim + p];
        }
      }
      for (let p = 0; p < dim; p++) for (let a = 0; a < L; a++) w[p * L + a] -= learningRate * G[a * dim + p];
      const previous = current;
      current = loss();
      // ground-metric step: K1 = K0 − Gfk / β, then its PSD part
      const rowSum = new Float64Array(L);
      const colSum = new Float64Array(L);
      for (let a = 0; a < L; a++) {
        for (let b = 0; b < L; b++) {
          rowSum[a] += T[a * L + b];
          colSum[b] += T[a * L + b];
        }
      }
      const sym = new MlMatrix(L, L);
      const next = new Float64Array(L * L);
      for (let a = 0; a < L; a++) {
        for (let b = 0; b < L; b++) {
          const gfk = a === b ? rowSum[a] + colSum[a] - 2 * T[a * L + a] : -2 * T[a * L + b];
          next[a * L + b] = K0[a * L + b] - gfk / beta;
        }
      }
      for (let a = 0; a < L; a++) for (let b = 0; b < L; b++) sym.set(a, b, (next[a * L + b] + next[b * L + a]) / 2);
      const eig = new EigenvalueDecomposition(sym, { assumeSymmetric: true });
      const V = eig.eigenvectorMatrix;
      const lam = eig.realEigenvalues.map((v) => Math.max(v, 0));
      K1 = Float64Array.from(V.mmul(MlMatrix.diag(lam)).mmul(V.transpose()).to1DArray());
      if (previous - current < this.args.convergenceCriterion) break;
    }
    this.weights = { rows: dim, cols: L, data: w };
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const x = readPredictArg('Lalot.predict', X, this.weights && this.weights.rows - 1);
    const w = this.weights as Matrix;
    return toRows(predictSoftmax(withBias(x), w.data, w.cols));
  }
}
