import { Rng } from '@ldl/core';
import { kmeans } from 'ml-kmeans';
import { Matrix as MlMatrix, pseudoInverse } from 'ml-matrix';
import { type LdlEstimator, readFitArgs, readPredictArg } from '../estimator';
import { type Matrix, type MatrixLike, toRows } from '../matrix';
import { integer, nonNegative, positive, resolveParams, SEED, type ParamValues } from '../params';
import { linearInto, softmaxInPlace, transposeMulInto } from './maxent';
import { adam, type Optimizer } from './mlp';

const PARAMS = {
  nClusters: integer(5, 1, 'k-means clusters of the training distributions (PyLDL `n_clusters`)'),
  alpha: nonNegative(1e-3, 'weight of the local-correlation term (PyLDL `alpha`)'),
  beta: nonNegative(1e-3, 'weight of the 1/C barrier (PyLDL `beta`)'),
  epochs: integer(1000, 1, 'full-batch Adam steps (PyLDL `epochs`)'),
  learningRate: positive(1e-3, 'Adam step size (PyLDL\'s default `Adam(1e-3)`)'),
  seed: SEED,
};

/** float32 machine epsilon: PyLDL's floor (and start) of the codes C. */
const EPS = 2 ** -23;
const CLIP = 1e-7;

/**
 * LDL-SCL (Zheng, Jia & Li, "Label Distribution Learning by Exploiting Sample Correlations Locally", AAAI
 * 2018), as PyLDL's `LDL_SCL`: `softmax(x W + c C)`, where each training sample has a code `c ∈ R^k`
 * (k = `nClusters`, kept ≥ float32 ε) tying it to the k-means centres `P` of the training distributions;
 * full-batch Adam on `mean KL + α mean(c_ik ‖p_i − P_k‖²/L) + β mean(1 / c_ik)`. A test sample's code comes
 * from a least-squares regression of the training codes on the features (scikit-learn's
 * `LinearRegression`, the minimum-norm solution through ml-matrix's pseudo-inverse). k-means: ml-kmeans
 * (k-means++, seeded; PyLDL: scikit-learn's `KMeans`).
 */
export class LdlScl implements LdlEstimator {
  static readonly className = 'LDL-SCL';
  static readonly params = PARAMS;
  private readonly args: ParamValues<typeof PARAMS>;
  private model: { wx: Float64Array; wc: Float64Array; coef: MlMatrix; intercept: Float64Array; L: number; d: number } | undefined;

  constructor(args: Partial<ParamValues<typeof PARAMS>> = {}) {
    this.args = resolveParams('LdlScl', PARAMS, args);
  }

  getConfig(): ParamValues<typeof PARAMS> {
    return { ...this.args };
  }

  fit(X: MatrixLike, D: MatrixLike): this {
    const [x, d] = readFitArgs('LdlScl.fit', X, D);
    const { rows: n, cols: dim } = x;
    const L = d.cols;
    const k = this.args.nClusters;
    if (k > n) throw new Error(`Error in LdlScl.fit: nClusters must be at most the number of samples ${n}, but got ${k}.`);
    const { alpha, beta } = this.args;
    const rng = new Rng(this.args.seed);
    const centres = kmeans(toRows(d), k, { initialization: 'kmeans++', seed: Math.floor(rng.next() * 2 ** 31) }).centroids;
    const limit = Math.sqrt(6 / (dim + L));
    const wx = Float64Array.from({ length: dim * L }, () => (2 * rng.next() - 1) * limit);
    // Keras RandomNormal(stddev .05) by Box-Muller
    const wc = Float64Array.from({ length: k * L }, () => 0.05 * Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next()));
    const C = new Float64Array(n * k).fill(EPS);
    const target = d.data.map((v) => Math.min(Math.max(v, CLIP), 1));
    const targetSum = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < L; j++) targetSum[i] += target[i * L + j];
    const make = adam(this.args.learningRate);
    const opt: Optimizer[] = [make(wx.length), make(C.length), make(wc.length)];
    const P = new Float64Array(n * L);
    const G = new Float64Array(n * L);
    const dist = new Float64Array(n * k);
    const scale = 1 / (n * k);
    for (let e = 0; e < this.args.epochs; e++) {
      linearInto(x, wx, L, P);
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < k; c++) {
          const v = C[i * k + c];
          for (let j = 0; j < L; j++) P[i * L + j] += v * wc[c * L + j];
        }
      }
      softmaxInPlace(P, n, L);
      // G = ∂(α·corr)/∂P, then back through the softmax, plus the KL's (p Σt − t)/n
      G.fill(0);
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < k; c++) {
          let m = 0;
          for (let j = 0; j < L; j++) {
            const diff = P[i * L + j] - centres[c][j];
            m += diff * diff;
            G[i * L + j] += (alpha * scale * C[i * k + c] * 2 * diff) / L;
          }
          dist[i * k + c] = m / L;
        }
      }
      for (let i = 0; i < n; i++) {
        const o = i * L;
        let dot = 0;
        for (let j = 0; j < L; j++) dot += G[o + j] * P[o + j];
        for (let j = 0; j < L; j++) G[o + j] = P[o + j] * (G[o + j] - dot) + (P[o + j] * targetSum[i] - target[o + j]) / n;
      }
      const gwx = transposeMulInto(x, G, L, new Float64Array(dim * L));
      const gC = new Float64Array(n * k);
      const gwc = new Float64Array(k * L);
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < k; c++) {
          const v = C[i * k + c];
          let s = alpha * scale * dist[i * k + c] - (beta * scale) / (v * v);
          for (let j = 0; j < L; j++) {
            s += G[i * L + j] * wc[c * L + j];
            gwc[c * L + j] += v * G[i * L + j];
          }
          gC[i * k + c] = s;
        }
      }
      opt[0].step(wx, gwx);
      opt[1].step(C, gC);
      opt[2].step(wc, gwc);
      for (let q = 0; q < C.length; q++) if (C[q] < EPS) C[q] = EPS;
    }
    // codes of new samples: least squares with intercept, minimum-norm (scikit-learn LinearRegression)
    const xm = new MlMatrix(toRows(x));
    const xMean = xm.mean('column');
    const cm = new MlMatrix(n, k);
    for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) cm.set(i, c, C[i * k + c]);
    const cMean = cm.mean('column');
    const xc = xm.clone().subRowVector(xMean);
    const cc = cm.clone().subRowVector(cMean);
    const coef = pseudoInverse(xc).mmul(cc); // [d, k]
    const intercept = Float64Array.from(cMean, (v, c) => v - xMean.reduce((s, mu, p) => s + mu * coef.get(p, c), 0));
    this.model = { wx, wc, coef, intercept, L, d: dim };
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const x = readPredictArg('LdlScl.predict', X, this.model?.d);
    const { wx, wc, coef, intercept, L } = this.model as NonNullable<LdlScl['model']>;
    const k = intercept.length;
    const codes = new MlMatrix(toRows(x)).mmul(coef);
    const P = linearInto(x, wx, L, new Float64Array(x.rows * L));
    for (let i = 0; i < x.rows; i++) {
      for (let c = 0; c < k; c++) {
        const v = codes.get(i, c) + intercept[c];
        for (let j = 0; j < L; j++) P[i * L + j] += v * wc[c * L + j];
      }
    }
    softmaxInPlace(P, x.rows, L);
    return toRows({ rows: x.rows, cols: L, data: P } satisfies Matrix);
  }
}
