// The maximum-entropy (softmax-linear) model `p(y | x) = softmax(x W)` shared by SA-BFGS, SA-IIS and the
// BFGS-trained methods of PyLDL (LDLLC, LDL-LRR, LDL-DPA, BFGS-AdaBoost, DF-LDL): fused kernels on
// plain Float64Arrays (no tfjs, no per-sample objects), and one driver that fits `W` by L-BFGS for a
// loss given as a function of the predicted distributions.
import { Rng } from '@ldl/core';
import { minimizeLbfgs, type LbfgsResult } from '../lbfgs';
import type { Matrix } from '../matrix';

/** Features with more than half zeros (Movie: 99 %) take the zero-skipping loops; dense ones the dot products. */
const layouts = new WeakMap<Matrix, { sparse: boolean; xt?: Float64Array }>();
function layoutOf(x: Matrix) {
  let layout = layouts.get(x);
  if (!layout) {
    let zeros = 0;
    for (const v of x.data) if (v === 0) zeros++;
    layout = { sparse: zeros > x.data.length / 2 };
    if (!layout.sparse) {
      const { rows: n, cols: d, data } = x;
      const xt = new Float64Array(n * d);
      for (let i = 0; i < n; i++) for (let p = 0; p < d; p++) xt[p * n + i] = data[i * d + p];
      layout.xt = xt;
    }
    layouts.set(x, layout);
  }
  return layout;
}

/** `Σ_k a[ao + k] b[bo + k]` for k < len, four accumulators. */
function dot(a: Float64Array, ao: number, b: Float64Array, bo: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < len; k += 4) {
    s0 += a[ao + k] * b[bo + k];
    s1 += a[ao + k + 1] * b[bo + k + 1];
    s2 += a[ao + k + 2] * b[bo + k + 2];
    s3 += a[ao + k + 3] * b[bo + k + 3];
  }
  for (; k < len; k++) s0 += a[ao + k] * b[bo + k];
  return s0 + s1 + s2 + s3;
}

/** `out = x · w` for `x [n, d]`, `w [d, L]` (row-major). */
export function linearInto(x: Matrix, w: Float64Array, L: number, out: Float64Array): Float64Array {
  const { rows: n, cols: d, data: xd } = x;
  if (layoutOf(x).sparse) {
    out.fill(0, 0, n * L);
    for (let i = 0; i < n; i++) {
      const o = i * L;
      const xo = i * d;
      for (let p = 0; p < d; p++) {
        const v = xd[xo + p];
        if (v === 0) continue;
        const wo = p * L;
        for (let j = 0; j < L; j++) out[o + j] += v * w[wo + j];
      }
    }
    return out;
  }
  const wt = new Float64Array(L * d);
  for (let p = 0; p < d; p++) for (let j = 0; j < L; j++) wt[j * d + p] = w[p * L + j];
  for (let i = 0; i < n; i++) {
    const o = i * L;
    const xo = i * d;
    for (let j = 0; j < L; j++) out[o + j] = dot(xd, xo, wt, j * d, d);
  }
  return out;
}

/** `out = xᵀ · r` for `x [n, d]`, `r [n, L]` → `[d, L]`. */
export function transposeMulInto(x: Matrix, r: Float64Array, L: number, out: Float64Array): Float64Array {
  const { rows: n, cols: d, data: xd } = x;
  const { sparse, xt } = layoutOf(x);
  if (sparse || !xt) {
    out.fill(0, 0, d * L);
    for (let i = 0; i < n; i++) {
      const ro = i * L;
      const xo = i * d;
      for (let p = 0; p < d; p++) {
        const v = xd[xo + p];
        if (v === 0) continue;
        const o = p * L;
        for (let j = 0; j < L; j++) out[o + j] += v * r[ro + j];
      }
    }
    return out;
  }
  const rt = new Float64Array(L * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < L; j++) rt[j * n + i] = r[i * L + j];
  for (let p = 0; p < d; p++) for (let j = 0; j < L; j++) out[p * L + j] = dot(xt, p * n, rt, j * n, n);
  return out;
}

/**
 * Row-wise softmax of the logits `z [n, L]` in place (max-shifted, one `exp` per entry).
 * @returns `Σ_ij D_ij log P_ij` (the cross term of the summed KL) when `d` is given, else 0.
 */
export function softmaxInPlace(z: Float64Array, n: number, L: number, d?: Float64Array): number {
  let cross = 0;
  for (let i = 0; i < n; i++) {
    const o = i * L;
    let max = z[o];
    for (let j = 1; j < L; j++) if (z[o + j] > max) max = z[o + j];
    let sum = 0;
    let ts = 0;
    let tsum = 0;
    for (let j = 0; j < L; j++) {
      const shifted = z[o + j] - max;
      const e = Math.exp(shifted);
      z[o + j] = e;
      sum += e;
      if (d) {
        const t = d[o + j];
        ts += t * shifted;
        tsum += t;
      }
    }
    // Σ_j D_j log p_j = Σ_j D_j (z_j − max) − (Σ_j D_j) log Σ_j e_j
    if (d) cross += ts - tsum * Math.log(sum);
    const inv = 1 / sum;
    for (let j = 0; j < L; j++) z[o + j] *= inv;
  }
  return cross;
}

/** `Σ_ij D_ij log D_ij` (0 log 0 = 0): the constant that turns the cross term into the summed KL. */
export function negativeEntropy(d: Float64Array): number {
  let s = 0;
  for (const v of d) if (v > 0) s += v * Math.log(v);
  return s;
}

/** `softmax(x · w)` as a new `[n, L]` matrix. */
export function predictSoftmax(x: Matrix, w: Float64Array, L: number): Matrix {
  const out = new Float64Array(x.rows * L);
  linearInto(x, w, L, out);
  softmaxInPlace(out, x.rows, L);
  return { rows: x.rows, cols: L, data: out };
}

/**
 * A loss term on the predicted distributions `P [n, L]`: adds its value and writes its gradient with
 * respect to `P` into `gradP` (accumulating).
 */
export type DistributionLoss = (P: Float64Array, gradP: Float64Array) => number;

/** Options of {@link fitSoftmaxLinear}. */
export interface SoftmaxLinearOptions {
  /** KL term: summed over samples (SA-BFGS, LDLLC, LDL-DPA) or their mean (LDL-LRR). */
  klReduction: 'sum' | 'mean';
  /** Extra loss on `P` (ranking, variance, …). */
  extra?: DistributionLoss;
  /** Extra loss on the weights `W [d, L]` (label correlation, L2): adds its value, accumulates its gradient. */
  weightLoss?: (w: Float64Array, gradW: Float64Array) => number;
  /** Initial weights: uniform in [0, 1) (PyLDL's SA `np.random.random`) or Glorot uniform (Keras' Dense default, PyLDL's BaseBFGS). */
  init: 'uniform01' | 'glorot';
  seed: number;
  maxIterations: number;
  gradientTolerance?: number;
  functionTolerance?: number;
  memory?: number;
  maxEvaluations?: number;
}

/**
 * The objective of {@link fitSoftmaxLinear} as a function of the flat weights `W [d, L]`: value and
 * analytic gradient `∂/∂W = xᵀ (P ⊙ (G − rowsum(G ⊙ P)))`, `G = ∂loss/∂P` (for the KL alone, `xᵀ (P − D)`).
 */
export function softmaxLinearObjective(
  x: Matrix,
  d: Matrix,
  options: Pick<SoftmaxLinearOptions, 'klReduction' | 'extra' | 'weightLoss'>,
): (w: Float64Array) => { value: number; gradient: Float64Array } {
  const { rows: n, cols: dim } = x;
  const L = d.cols;
  const D = d.data;
  const scale = options.klReduction === 'mean' ? 1 / n : 1;
  const constant = negativeEntropy(D);
  const P = new Float64Array(n * L);
  const G = new Float64Array(n * L);
  const { extra, weightLoss } = options;
  return (w: Float64Array) => {
    linearInto(x, w, L, P);
    let value = scale * (constant - softmaxInPlace(P, n, L, D));
    if (extra) {
      G.fill(0);
      value += extra(P, G);
      // back through the softmax: g_z = P ⊙ (G − Σ_j G_j P_j); plus the KL's (P − D)·scale
      for (let i = 0; i < n; i++) {
        const o = i * L;
        let dot = 0;
        for (let j = 0; j < L; j++) dot += G[o + j] * P[o + j];
        for (let j = 0; j < L; j++) G[o + j] = P[o + j] * (G[o + j] - dot) + scale * (P[o + j] - D[o + j]);
      }
    } else {
      for (let k = 0; k < n * L; k++) G[k] = scale * (P[k] - D[k]);
    }
    const gradient = transposeMulInto(x, G, L, new Float64Array(dim * L));
    if (weightLoss) value += weightLoss(w, gradient);
    return { value, gradient };
  };
}

/** Fits `W [d, L]` of `softmax(x W)` by L-BFGS on `KL(D ‖ P) + extra(P) + weightLoss(W)` ({@link softmaxLinearObjective}). */
export function fitSoftmaxLinear(x: Matrix, d: Matrix, options: SoftmaxLinearOptions): LbfgsResult {
  const dim = x.cols;
  const L = d.cols;
  const evaluate = softmaxLinearObjective(x, d, options);
  const rng = new Rng(options.seed);
  const size = dim * L;
  let w0: Float64Array;
  if (options.init === 'glorot') {
    const limit = Math.sqrt(6 / (dim + L));
    w0 = Float64Array.from({ length: size }, () => (2 * rng.next() - 1) * limit);
  } else {
    w0 = Float64Array.from({ length: size }, () => rng.next());
  }
  return minimizeLbfgs(evaluate, w0, {
    maxIterations: options.maxIterations,
    gradientTolerance: options.gradientTolerance,
    functionTolerance: options.functionTolerance,
    memory: options.memory,
    maxEvaluations: options.maxEvaluations,
  });
}

/** L2 penalty `β/2 ‖W‖²` as a {@link SoftmaxLinearOptions.weightLoss} (PyLDL's `_l2_reg`), or undefined for β = 0. */
export function l2Penalty(beta: number): ((w: Float64Array, g: Float64Array) => number) | undefined {
  if (beta === 0) return undefined;
  return (w, g) => {
    let s = 0;
    for (let i = 0; i < w.length; i++) {
      s += w[i] * w[i];
      g[i] += beta * w[i];
    }
    return (beta / 2) * s;
  };
}
