import type { Matrix } from '../matrix';
import { nonNegative, type ParamValues } from '../params';
import { l2Penalty } from './maxent';
import { BFGS_PARAMS, SoftmaxLinearLdl } from './softmax-linear';

const PARAMS = {
  alpha: nonNegative(1e-3, 'weight of the ranking loss (PyLDL `alpha`)'),
  beta: nonNegative(0, 'weight of the L2 penalty β/2 ‖W‖² (PyLDL `beta`)'),
  ...BFGS_PARAMS,
};

/** σ of PyLDL's `ranking_loss`: the slope of the pairwise logistic. */
const SIGMA = 100;

/**
 * LDL-LRR (Jia, Shen, Li, Li & Zhou, "Label Distribution Learning by Maintaining Label Ranking Relation",
 * TKDE 2023), as PyLDL's `LDL_LRR`: `softmax(x W)` minimising the mean KL plus
 * `α/(2n) Σ_i Σ_jk −w_ijk [(1 − r_ijk) log σ(−h) + r_ijk log σ(h)]`, `h = 100 (p_ij − p_ik)`,
 * `r_ijk = 1, ½, 0` as `D_ij >, =, < D_ik`, `w_ijk = (D_ij − D_ik)²`, plus `β/2 ‖W‖²`.
 */
export class LdlLrr extends SoftmaxLinearLdl<typeof PARAMS> {
  static readonly className = 'LDL-LRR';
  static readonly params = PARAMS;
  constructor(args: Partial<ParamValues<typeof PARAMS>> = {}) {
    super('LdlLrr', PARAMS, args);
  }

  protected loss(_x: Matrix, d: Matrix) {
    const { rows: n, cols: L } = d;
    const D = d.data;
    const scale = this.args.alpha / (2 * n);
    const extra = (P: Float64Array, G: Float64Array) => {
      if (scale === 0) return 0;
      let value = 0;
      for (let i = 0; i < n; i++) {
        const o = i * L;
        for (let j = 0; j < L; j++) {
          for (let k = j + 1; k < L; k++) {
            const diff = D[o + j] - D[o + k];
            if (diff === 0) continue; // weight (D_ij − D_ik)² = 0
            const w = diff * diff;
            const r = diff > 0 ? 1 : 0;
            const h = SIGMA * (P[o + j] - P[o + k]);
            // −[(1 − r) log σ(−h) + r log σ(h)] = softplus(h) − r h; pairs (j,k) and (k,j) give the same
            const softplus = h > 0 ? h + Math.log1p(Math.exp(-h)) : Math.log1p(Math.exp(h));
            value += 2 * w * (softplus - r * h);
            const sig = 1 / (1 + Math.exp(-h));
            const gh = 2 * w * (sig - r) * SIGMA * scale;
            G[o + j] += gh;
            G[o + k] -= gh;
          }
        }
      }
      return scale * value;
    };
    return { klReduction: 'mean' as const, extra, weightLoss: l2Penalty(this.args.beta) };
  }
}
