// Rank-based LDL measures, as PyLDL's `pyldl/metrics.py` (python-ldl 0.1.2): Spearman's ρ and Kendall's τ-b
// between the true and the predicted distribution of each sample (SciPy's `spearmanr`, `kendalltau`), and
// the degree percentile average (DPA). Each is averaged over the N samples; ties get average ranks.
import { type DistributionsLike, readPair } from './read';

/** Average ranks (1-based; ties share the mean of their ranks), as SciPy's `rankdata(method='average')`. */
export function averageRanks(v: ArrayLike<number>): Float64Array {
  const n = v.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => v[a] - v[b] || a - b);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && v[order[j + 1]] === v[order[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = r;
    i = j + 1;
  }
  return ranks;
}

function pearson(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.max(-1, Math.min(1, r));
}

/** Kendall's τ-b of two vectors: `(P − Q) / sqrt((n₀ − n₁)(n₀ − n₂))` (SciPy's `kendalltau(variant='b')`). */
function kendallTauB(x: Float64Array, y: Float64Array): number {
  let concordant = 0;
  let discordant = 0;
  let tiesX = 0;
  let tiesY = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      const s = Math.sign(x[i] - x[j]) * Math.sign(y[i] - y[j]);
      if (s > 0) concordant++;
      else if (s < 0) discordant++;
      else {
        if (x[i] === x[j]) tiesX++;
        if (y[i] === y[j]) tiesY++;
      }
    }
  }
  const pairs = (x.length * (x.length - 1)) / 2;
  return (concordant - discordant) / Math.sqrt((pairs - tiesX) * (pairs - tiesY));
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * Spearman's rank correlation ↑ between `u` and `v` of each sample — the Pearson correlation of their
 * average ranks, `1 − 6 Σ_j (ρ(u_j) − ρ(v_j))² / (L(L² − 1))` without ties — averaged over samples
 * (PyLDL `metrics.spearman`, SciPy `spearmanr`).
 * @param yTrue true distributions `[N, L]`; @param yPred predicted distributions `[N, L]`.
 * @returns the mean ρ in `[−1, 1]`; `NaN` when a row is constant (as SciPy and PyLDL).
 * @throws `Error in spearman: …` for a shape mismatch, an empty or ragged input, or a non-finite value.
 */
export function spearman(yTrue: DistributionsLike, yPred: DistributionsLike): number {
  const [t, p] = readPair('spearman', yTrue, yPred);
  return mean(t.map((u, i) => pearson(averageRanks(u), averageRanks(p[i]))));
}

/**
 * Kendall's rank correlation τ-b ↑ between `u` and `v` of each sample, averaged over samples (PyLDL
 * `metrics.kendall`, SciPy `kendalltau(variant='b')`: ties in either vector shrink the denominator).
 * PyLDL's docstring gives the tie-free τ-a `2 Σ_{j<k} sgn(u_j − u_k) sgn(v_j − v_k) / (L(L − 1))`; its code,
 * and this function, compute τ-b, which equals τ-a when there are no ties.
 * @returns the mean τ in `[−1, 1]`; `NaN` when a row is constant (as SciPy and PyLDL).
 * @throws `Error in kendall: …` for a shape mismatch, an empty or ragged input, or a non-finite value.
 */
export function kendall(yTrue: DistributionsLike, yPred: DistributionsLike): number {
  const [t, p] = readPair('kendall', yTrue, yPred);
  return mean(t.map((u, i) => kendallTauB(u, p[i])));
}

/**
 * Degree percentile average (DPA) ↑ of Jia et al. (2024), as PyLDL's `metrics.dpa`:
 * `(1/L) Σ_j u_j ρ(v_j)` with `ρ` the average rank (1..L) of the predicted degree; averaged over samples.
 * It is largest when the predicted ranking puts the largest true degrees on top.
 * @throws `Error in dpa: …` for a shape mismatch, an empty or ragged input, or a non-finite value.
 */
export function dpa(yTrue: DistributionsLike, yPred: DistributionsLike): number {
  const [t, p] = readPair('dpa', yTrue, yPred);
  return mean(
    t.map((u, i) => {
      const r = averageRanks(p[i]);
      return u.reduce((s, x, j) => s + x * r[j], 0) / u.length;
    }),
  );
}
