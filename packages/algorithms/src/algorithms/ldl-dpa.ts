import type { Matrix } from '../matrix';
import { nonNegative, type ParamValues } from '../params';
import { l2Penalty } from './maxent';
import { BFGS_PARAMS, SoftmaxLinearLdl } from './softmax-linear';

const PARAMS = {
  alpha: nonNegative(1e-3, 'weight of the description-degree percentile average term (PyLDL `alpha`)'),
  beta: nonNegative(1e-3, 'weight of the distribution-variance term (PyLDL `beta`)'),
  gamma: nonNegative(0, 'weight of the L2 penalty γ/2 ‖W‖² (PyLDL `gamma`)'),
  ...BFGS_PARAMS,
};

/** Ranks of each row's values, 1-based, ties averaged (SciPy's `rankdata(method='average')`). */
function rowRanks(D: Float64Array, n: number, L: number): Float64Array {
  const R = new Float64Array(n * L);
  const idx = Array.from({ length: L }, (_, j) => j);
  for (let i = 0; i < n; i++) {
    const o = i * L;
    idx.sort((a, b) => D[o + a] - D[o + b]);
    for (let s = 0; s < L; ) {
      let e = s;
      while (e + 1 < L && D[o + idx[e + 1]] === D[o + idx[s]]) e++;
      for (let t = s; t <= e; t++) R[o + idx[t]] = (s + e) / 2 + 1;
      s = e + 1;
    }
  }
  return R;
}

/**
 * LDL-DPA (Jia, Qin, Li, Li & Zhou, "Label Distribution Learning by Description-Degree Percentile
 * Average", 2024), as PyLDL's `LDL_DPA`: `softmax(x W)` minimising
 * `Σ_i KL(D_i ‖ p_i) − α Σ_i mean_j(R_ij p_ij) + β Σ_i (var D_i − var p_i)² + γ/2 ‖W‖²`, `R_ij` the rank
 * of `D_ij` within its row (ties averaged), variances over labels (ddof 0).
 */
export class LdlDpa extends SoftmaxLinearLdl<typeof PARAMS> {
  static readonly className = 'LDL-DPA';
  static readonly params = PARAMS;
  constructor(args: Partial<ParamValues<typeof PARAMS>> = {}) {
    super('LdlDpa', PARAMS, args);
  }

  protected loss(_x: Matrix, d: Matrix) {
    const { rows: n, cols: L } = d;
    const { alpha, beta, gamma } = this.args;
    const R = rowRanks(d.data, n, L);
    const varD = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let m = 0;
      for (let j = 0; j < L; j++) m += d.data[i * L + j];
      m /= L;
      let v = 0;
      for (let j = 0; j < L; j++) v += (d.data[i * L + j] - m) ** 2;
      varD[i] = v / L;
    }
    const extra = (P: Float64Array, G: Float64Array) => {
      let value = 0;
      for (let i = 0; i < n; i++) {
        const o = i * L;
        let m = 0;
        let rp = 0;
        for (let j = 0; j < L; j++) {
          m += P[o + j];
          rp += R[o + j] * P[o + j];
        }
        m /= L;
        let v = 0;
        for (let j = 0; j < L; j++) v += (P[o + j] - m) ** 2;
        v /= L;
        const gap = varD[i] - v;
        value += -alpha * (rp / L) + beta * gap * gap;
        // ∂var/∂p_j = 2 (p_j − m) / L
        for (let j = 0; j < L; j++) G[o + j] += -alpha * (R[o + j] / L) - 2 * beta * gap * ((2 * (P[o + j] - m)) / L);
      }
      return value;
    };
    return { klReduction: 'sum' as const, extra, weightLoss: l2Penalty(gamma) };
  }
}
