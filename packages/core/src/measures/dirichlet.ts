// ν₁ and ν₂ of PyLDL's `pyldl/metrics.py` (python-ldl 0.1.2): the Jensen-Shannon divergence (in bits) divided
// by its expectation between Dirichlet distributions fitted to the label distributions.
import { readPair } from './read';
import type { DistributionsLike } from './read';
import { clip, klRow } from './distances';

const EPS = 2.220446049250313e-16;

/** ψ(x) for x > 0: the recurrence up to x ≥ 8, then the asymptotic series (|error| < 1e−11). */
export function digamma(x: number): number {
  let result = 0;
  while (x < 8) {
    result -= 1 / x;
    x += 1;
  }
  const inv2 = 1 / (x * x);
  return result + Math.log(x) - 0.5 / x - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 / 240)));
}

/** ψ′(x) for x > 0, the same way. */
function trigamma(x: number): number {
  let result = 0;
  while (x < 8) {
    result += 1 / (x * x);
    x += 1;
  }
  const inv = 1 / x;
  const inv2 = inv * inv;
  return result + inv + 0.5 * inv2 + inv * inv2 * (1 / 6 - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 / 30)));
}

/** ψ⁻¹(y) by Minka's start and two Newton steps (PyLDL's `inv_digamma`). */
function invDigamma(y: number): number {
  let x = y >= -2.22 ? Math.exp(y) + 0.5 : -1 / (y + 0.5772156649015329); // Euler–Mascheroni γ
  for (let i = 0; i < 2; i++) x -= (digamma(x) - y) / trigamma(x);
  return x;
}

/** Dirichlet concentrations fitted to rows `[N, L]` by Minka's fixed point (PyLDL's `estimate_alpha`). */
function estimateAlpha(rows: Float64Array[]): Float64Array {
  const L = rows[0].length;
  const logBar = new Float64Array(L);
  for (const r of rows) for (let j = 0; j < L; j++) logBar[j] += Math.log(r[j] + EPS) / rows.length;
  let alpha = new Float64Array(L).fill(1);
  for (let it = 0; it < 100; it++) {
    const d0 = digamma(alpha.reduce((a, b) => a + b, 0));
    const next = logBar.map((v) => invDigamma(d0 + v));
    let diff = 0;
    for (let j = 0; j < L; j++) diff = Math.max(diff, Math.abs(next[j] - alpha[j]));
    if (diff < 1e-7) return next;
    alpha = next;
  }
  return alpha;
}

/** Expected JSD (nats) between draws of Dir(α) and Dir(β), PyLDL's `jsd_dirichlet_expectation`. */
function jsdExpectation(alpha: Float64Array, beta: Float64Array): number {
  const a0 = alpha.reduce((a, b) => a + b, 0);
  const b0 = beta.reduce((a, b) => a + b, 0);
  let entropy = 0;
  let variance = 0;
  let ta = 0;
  let tb = 0;
  for (let j = 0; j < alpha.length; j++) {
    const g = 0.5 * (alpha[j] / a0 + beta[j] / b0);
    entropy -= g * Math.log(g + EPS);
    variance += (alpha[j] * (a0 - alpha[j])) / (a0 * a0 * (a0 + 1)) / g + (beta[j] * (b0 - beta[j])) / (b0 * b0 * (b0 + 1)) / g;
    ta += (alpha[j] / a0) * (digamma(alpha[j] + 1) - digamma(a0 + 1));
    tb += (beta[j] / b0) * (digamma(beta[j] + 1) - digamma(b0 + 1));
  }
  return entropy - variance / 8 + 0.5 * ta + 0.5 * tb;
}

function nu(fn: string, yTrue: DistributionsLike, yPred: DistributionsLike, fitPred: boolean): number {
  const [t, p] = readPair(fn, yTrue, yPred);
  let jsd = 0;
  for (let i = 0; i < t.length; i++) {
    const a = t[i].map(clip);
    const b = p[i].map(clip);
    const m = a.map((x, j) => 0.5 * (x + b[j]));
    jsd += (0.5 * klRow(a, m) + 0.5 * klRow(b, m)) / t.length;
  }
  const alpha = estimateAlpha(t);
  const expected = jsdExpectation(alpha, fitPred ? estimateAlpha(p) : alpha) / Math.LN2;
  // PyLDL's 1 − (a + b)/a · JSD with a Beta(a, b) of mean `expected`: (a + b)/a = 1/expected.
  return 1 - jsd / Math.LN2 / expected;
}

/**
 * ν₁ ↑ (PyLDL `metrics.nu1`): `1 − JSD(u, v) / E[JSD]` in bits, `E[JSD]` the expected Jensen-Shannon divergence
 * between Dirichlet distributions fitted (Minka's fixed point) to the true and to the predicted rows. PyLDL
 * shapes a Beta distribution from that mean and a capped variance, but only its mean enters the value.
 * @throws `Error in nu1: …` for a shape mismatch, an empty or ragged input, or a non-finite value.
 */
export function nu1(yTrue: DistributionsLike, yPred: DistributionsLike): number {
  return nu('nu1', yTrue, yPred, true);
}

/** ν₂ ↑ (PyLDL `metrics.nu2`): as {@link nu1} with one Dirichlet, fitted to the true rows, on both sides. */
export function nu2(yTrue: DistributionsLike, yPred: DistributionsLike): number {
  return nu('nu2', yTrue, yPred, false);
}
