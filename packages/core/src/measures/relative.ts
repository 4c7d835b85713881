// Measures relative to the uniform distribution, as PyLDL's `mu` and `nu3` (`pyldl/metrics.py`, python-ldl
// 0.1.2): a divergence divided by what predicting the uniform distribution would score, so that values are
// comparable across data sets. Also the Wave-Hedges distance.
import { clip, klRow } from './distances';
import { type DistributionsLike, readPair } from './read';

const LN2 = Math.log(2);

function uniformKl(t: Float64Array[]): number {
  return t.reduce((s, u) => s + klRow(u.map(clip), u.map(() => clip(1 / u.length))), 0) / t.length;
}

function jsRow(u: Float64Array, v: Float64Array): number {
  const a = u.map(clip);
  const b = v.map(clip);
  const m = a.map((x, j) => 0.5 * (x + b[j]));
  return 0.5 * klRow(a, m) + 0.5 * klRow(b, m);
}

/**
 * μ ↑ of Li et al. (2025), KL form, as PyLDL's `metrics.mu`:
 * `1 − mean_i min(KL(u_i ‖ v_i), δ₀) / δ₀` with `δ₀ = mean_i KL(u_i ‖ uniform)` (inputs clipped to
 * `[EPS, 1]` as PyLDL's `kl_divergence`). 1 for a perfect prediction, 0 for one no better than uniform.
 * @throws `Error in mu: …` for a shape mismatch, an empty or ragged input, or a non-finite value.
 */
export function mu(yTrue: DistributionsLike, yPred: DistributionsLike): number {
  const [t, p] = readPair('mu', yTrue, yPred);
  const x0 = uniformKl(t);
  const capped = t.reduce((s, u, i) => s + Math.min(klRow(u.map(clip), p[i].map(clip)), x0), 0) / t.length;
  return 1 - capped / x0;
}

/**
 * ν₃ ↑ as PyLDL's `metrics.nu3`: `1 − JSD(u, v) / (JSD(u, uniform) + EPS)`, each Jensen-Shannon divergence
 * averaged over samples (in bits; the ln 2 cancels except against PyLDL's `EPS`, kept for parity).
 * @throws `Error in nu3: …` for a shape mismatch, an empty or ragged input, or a non-finite value.
 */
export function nu3(yTrue: DistributionsLike, yPred: DistributionsLike): number {
  const [t, p] = readPair('nu3', yTrue, yPred);
  const jsd = t.reduce((s, u, i) => s + jsRow(u, p[i]), 0) / t.length;
  const ref = t.reduce((s, u) => s + jsRow(u, u.map(() => 1 / u.length)), 0) / t.length;
  return 1 - jsd / LN2 / (ref / LN2 + 2.220446049250313e-16);
}

/**
 * Wave-Hedges distance ↓ `Σ_j |u_j − v_j| / max(u_j, v_j)` on inputs clipped to `[EPS, 1]`, averaged over
 * samples (PyLDL `metrics.wave_hedges`).
 * @throws `Error in waveHedges: …` for a shape mismatch, an empty or ragged input, or a non-finite value.
 */
export function waveHedges(yTrue: DistributionsLike, yPred: DistributionsLike): number {
  const [t, p] = readPair('waveHedges', yTrue, yPred);
  let sum = 0;
  for (let i = 0; i < t.length; i++) {
    for (let j = 0; j < t[i].length; j++) {
      const a = clip(t[i][j]);
      const b = clip(p[i][j]);
      sum += Math.abs(a - b) / Math.max(a, b);
    }
  }
  return sum / t.length;
}
