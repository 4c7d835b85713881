// Errors of the expected label and per-label errors, as PyLDL's `mean_absolute_error` and `mean_squared_error`
// (`pyldl/metrics.py`, python-ldl 0.1.2), and the divisiveness error.
import { fail } from '../validate';
import { type DistributionsLike, readPair } from './read';

/** How {@link meanAbsoluteError} and {@link meanSquaredError} compare two distributions. */
export type ExpectationMode = 'macro' | 'micro';

function errors(fn: string, yTrue: DistributionsLike, yPred: DistributionsLike, mode: ExpectationMode, op: (d: number) => number): number {
  if (mode !== 'macro' && mode !== 'micro') fail(fn, 'mode', "'macro' or 'micro'", mode);
  const [t, p] = readPair(fn, yTrue, yPred);
  let sum = 0;
  for (let i = 0; i < t.length; i++) {
    if (mode === 'macro') {
      let eu = 0;
      let ev = 0;
      for (let j = 0; j < t[i].length; j++) {
        eu += (j + 1) * t[i][j];
        ev += (j + 1) * p[i][j];
      }
      sum += op(eu - ev);
    } else {
      for (let j = 0; j < t[i].length; j++) sum += op(t[i][j] - p[i][j]);
    }
  }
  return sum / t.length;
}

/**
 * Mean absolute error ↓ (PyLDL `metrics.mean_absolute_error`). `'macro'` (default): `|E_u − E_v|` of the
 * expected labels `E_u = Σ_j j·u_j` with labels numbered 1..L (for ages 0..100 use `expectedLabel` of this
 * package instead; a shift of the numbering cancels out); `'micro'`: `Σ_j |u_j − v_j|` (the L1 distance).
 * Averaged over samples.
 * @throws `Error in meanAbsoluteError: …` for a bad mode or bad distributions.
 */
export function meanAbsoluteError(yTrue: DistributionsLike, yPred: DistributionsLike, mode: ExpectationMode = 'macro'): number {
  return errors('meanAbsoluteError', yTrue, yPred, mode, Math.abs);
}

/**
 * Mean squared error ↓ (PyLDL `metrics.mean_squared_error`): `'macro'` (default) `(E_u − E_v)²` of the
 * expected labels numbered 1..L; `'micro'` `Σ_j (u_j − v_j)²`. Averaged over samples.
 * @throws `Error in meanSquaredError: …` for a bad mode or bad distributions.
 */
export function meanSquaredError(yTrue: DistributionsLike, yPred: DistributionsLike, mode: ExpectationMode = 'macro'): number {
  return errors('meanSquaredError', yTrue, yPred, mode, (d) => d * d);
}

/**
 * Divisiveness error ↓ (PyLDL `metrics.divisiveness_error`): with `ψ(u) = min(u·pos, u·neg)` — the mass
 * of the smaller of two opposing label groups — `|ψ(u) − ψ(v)|`, averaged over samples.
 * @param pos weights `[L]` of the positive group (e.g. 0/1 indicators); @param neg weights `[L]` of the negative one.
 * @throws `Error in divisivenessError: …` when `pos` or `neg` is not L finite numbers, or bad distributions.
 */
export function divisivenessError(yTrue: DistributionsLike, yPred: DistributionsLike, pos: ArrayLike<number>, neg: ArrayLike<number>): number {
  const [t, p] = readPair('divisivenessError', yTrue, yPred);
  const L = t[0].length;
  for (const [arg, w] of [['pos', pos], ['neg', neg]] as const) {
    if (w?.length !== L || Array.prototype.some.call(w, (x: unknown) => typeof x !== 'number' || !Number.isFinite(x))) {
      fail('divisivenessError', arg, `${L} finite numbers (one per label)`, w?.length);
    }
  }
  const psi = (u: Float64Array) => {
    let a = 0;
    let b = 0;
    for (let j = 0; j < L; j++) {
      a += u[j] * pos[j];
      b += u[j] * neg[j];
    }
    return Math.min(a, b);
  };
  return t.reduce((s, u, i) => s + Math.abs(psi(u) - psi(p[i])), 0) / t.length;
}
