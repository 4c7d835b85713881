import { Rng } from '@ldl/core';
import { minimizeLbfgs } from '../lbfgs';
import { fail, type MatrixLike } from '../matrix';
import { type LabelEnhancer, meanPairDistance, nearestNeighbours, notFitted, readLeArgs, softmaxToRows, squaredDistances } from './enhancer';

/** Options of {@link Glle}. */
export interface GlleArgs {
  /** Weight α >= 0 of the manifold (graph Laplacian) term. @default 1e-2 (PyLDL) */
  alpha?: number;
  /** Width σ > 0 of the neighbour affinities `exp(−‖x_i − x_k‖² / (2σ²))`. @default 1 (PyLDL) */
  sigma?: number;
  /** L-BFGS iterations. @default 50 (PyLDL's `BaseBFGS.fit(max_iterations=50)`) */
  maxIterations?: number;
  /** Seed of the Glorot-uniform start of the weights. @default 0 */
  seed?: number;
}

/**
 * GLLE, graph Laplacian label enhancement (Xu, Liu & Geng, TKDE 2021 / IJCAI 2018), as PyLDL's `GLLE`:
 * distributions `D = softmax(P W)` from the RBF kernel `P [n, n]` of the features
 * (`γ = 1 / (2 mean‖x_i − x_k‖²)` over pairs), with `W [n, L]` minimising
 * `‖L − P W‖² + α tr((P W)ᵀ G (P W))` by L-BFGS, `G = Â − A` the Laplacian of the affinities `A` to each
 * sample's L + 1 nearest neighbours.
 *
 * Differs from PyLDL 0.1.2 in one term: PyLDL adds `β Σ_clusters tr(Dᵀ E Eᵀ D)` (β = 1e−4, K-means clusters,
 * matrices E trained by SGD inside the loss), which the papers do not have; it is left out here.
 */
export class Glle implements LabelEnhancer {
  static readonly className = 'GLLE';
  private readonly args: Required<GlleArgs>;
  private result: number[][] | undefined;

  /** @throws `Error in Glle: …` for a hyper-parameter out of range. */
  constructor(args: GlleArgs = {}) {
    const { alpha = 1e-2, sigma = 1, maxIterations = 50, seed = 0 } = args;
    if (!(alpha >= 0 && Number.isFinite(alpha))) fail('Glle', 'alpha', 'a number >= 0', alpha);
    if (!(sigma > 0 && Number.isFinite(sigma))) fail('Glle', 'sigma', 'a number > 0', sigma);
    if (!Number.isInteger(maxIterations) || maxIterations < 1) fail('Glle', 'maxIterations', 'an integer >= 1', maxIterations);
    this.args = { alpha, sigma, maxIterations, seed };
  }

  getConfig(): Required<GlleArgs> {
    return { ...this.args };
  }

  fit(X: MatrixLike, L: MatrixLike): this {
    const [x, l] = readLeArgs('Glle.fit', X, L);
    const n = x.rows;
    const c = l.cols;
    const { alpha, sigma, maxIterations, seed } = this.args;
    if (n <= c + 1) fail('Glle.fit', 'X.rows', `> L + 1 = ${c + 1} (the neighbours of each sample)`, n);
    const sq = squaredDistances(x, x);
    const gamma = 1 / (2 * meanPairDistance(sq, n) ** 2);
    const P = sq.map((s) => Math.exp(-gamma * s));
    // Laplacian G = diag(A 1) − A of the affinities to the c + 1 nearest neighbours (self excluded).
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      const nb = nearestNeighbours(sq, n, i, c + 1);
      for (const k of nb) A[i * n + k] = Math.exp(-sq[i * n + k] / (2 * sigma * sigma));
    }
    // Gs = G + Gᵀ, the gradient's operator of tr(Dᵀ G D).
    const Gs = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      let deg = 0;
      for (let k = 0; k < n; k++) deg += A[i * n + k];
      Gs[i * n + i] += 2 * deg;
      for (let k = 0; k < n; k++) Gs[i * n + k] -= A[i * n + k] + A[k * n + i];
    }
    const mul = (M: Float64Array, B: Float64Array): Float64Array => {
      const out = new Float64Array(n * c);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < n; k++) {
          const v = M[i * n + k];
          if (v === 0) continue;
          for (let j = 0; j < c; j++) out[i * c + j] += v * B[k * c + j];
        }
      }
      return out;
    };
    const evaluate = (w: Float64Array) => {
      const D = mul(P, w);
      const GD = mul(Gs, D);
      let value = 0;
      const inner = new Float64Array(n * c);
      for (let i = 0; i < n * c; i++) {
        const r = D[i] - l.data[i];
        value += r * r + 0.5 * alpha * D[i] * GD[i];
        inner[i] = 2 * r + alpha * GD[i];
      }
      return { value, gradient: mul(P, inner) }; // P is symmetric: Pᵀ inner
    };
    const rng = new Rng(seed);
    const limit = Math.sqrt(6 / (n + c));
    const w0 = Float64Array.from({ length: n * c }, () => rng.uniform(-limit, limit));
    const res = minimizeLbfgs(evaluate, w0, { maxIterations });
    this.result = softmaxToRows(mul(P, res.x), n, c);
    return this;
  }

  transform(): number[][] {
    return this.result ?? notFitted('Glle.transform');
  }
}
