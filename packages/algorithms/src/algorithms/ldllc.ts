import type { Matrix } from '../matrix';
import { nonNegative, type ParamValues } from '../params';
import { l2Penalty } from './maxent';
import { BFGS_PARAMS, SoftmaxLinearLdl } from './softmax-linear';

const PARAMS = {
  alpha: nonNegative(1e-3, 'weight of the label-correlation term (PyLDL `alpha`)'),
  beta: nonNegative(0, 'weight of the L2 penalty β/2 ‖W‖² (PyLDL `beta`)'),
  ...BFGS_PARAMS,
};

/**
 * LDLLC (Jia, Li, Liu & Zhou, "Label Distribution Learning by Exploiting Label Correlations", AAAI 2018),
 * as PyLDL's `LDLLC`: `softmax(x W)` minimising `Σ_i KL(D_i ‖ p_i) + α Σ_{j<k} s_jk ‖w_j − w_k‖ + β/2 ‖W‖²`,
 * `w_j` the weights of label j, `s_jk` the sign of the correlation of the centred `w_j`, `w_k` (held
 * constant in the gradient, as autograd does through `sign`); `‖·‖ = √(Σ (·)² + ε)`.
 */
export class Ldllc extends SoftmaxLinearLdl<typeof PARAMS> {
  static readonly className = 'LDLLC';
  static readonly params = PARAMS;
  constructor(args: Partial<ParamValues<typeof PARAMS>> = {}) {
    super('Ldllc', PARAMS, args);
  }

  protected loss(x: Matrix, d: Matrix) {
    const L = d.cols;
    const dim = x.cols;
    const { alpha, beta } = this.args;
    const l2 = l2Penalty(beta);
    const centred = new Float64Array(dim * L);
    const weightLoss = (w: Float64Array, g: Float64Array) => {
      let value = l2 ? l2(w, g) : 0;
      if (alpha === 0) return value;
      for (let j = 0; j < L; j++) {
        let mean = 0;
        for (let p = 0; p < dim; p++) mean += w[p * L + j];
        mean /= dim;
        for (let p = 0; p < dim; p++) centred[p * L + j] = w[p * L + j] - mean;
      }
      for (let j = 0; j < L; j++) {
        for (let k = j + 1; k < L; k++) {
          let corr = 0;
          let sq = 0;
          for (let p = 0; p < dim; p++) {
            corr += centred[p * L + j] * centred[p * L + k];
            const diff = w[p * L + j] - w[p * L + k];
            sq += diff * diff;
          }
          const s = Math.sign(corr);
          if (s === 0) continue;
          const dist = Math.sqrt(sq + Number.EPSILON);
          value += alpha * s * dist;
          const f = (alpha * s) / dist;
          for (let p = 0; p < dim; p++) {
            const diff = w[p * L + j] - w[p * L + k];
            g[p * L + j] += f * diff;
            g[p * L + k] -= f * diff;
          }
        }
      }
      return value;
    };
    return { klReduction: 'sum' as const, weightLoss };
  }
}
