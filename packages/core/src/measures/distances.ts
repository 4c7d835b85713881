// The label distribution learning measures of Geng (TKDE 2016), defined exactly as PyLDL
// (`pyldl/metrics.py`, python-ldl 0.1.2): each is a per-sample distance or similarity averaged over
// the N samples. Computed in float64 on the host (a tensor is read with `arraySync()`), so the values
// match PyLDL's NumPy ones to rounding.
//
// Where PyLDL's definitions differ from Geng's (TKDE 2016), @ldl follows PyLDL: (1) Clark, Canberra, KL,
// Jensen-Shannon, Sørensen and squared χ² clip both distributions into [EPS, 1] first, where Geng's formulas
// divide by zero or take log 0 at a zero degree; (2) Intersection is computed as `1 − ½ Σ |u − v|`, which is
// Geng's `Σ min(u, v)` only when both rows sum to 1; (3) Cosine leaves an all-zero row at zero
// (scikit-learn's `paired_cosine_distances`) where Geng's is undefined.
import { type DistributionsLike, readPair } from './read';

export type { DistributionsLike } from './read';

/**
 * Zeros are clipped to this before a division or a logarithm, as in PyLDL: NumPy's float64 machine
 * epsilon `np.finfo(float).eps = 2.220446049250313e-16`. PyLDL clips every value into
 * `[EPS, 1]` for Clark, Canberra, Kullback-Leibler, Jensen-Shannon, Sørensen and squared χ² (both
 * the true and the predicted distribution); Chebyshev, Cosine, Intersection, Euclidean and Fidelity
 * use the values as given.
 */
export const LDL_EPSILON = 2.220446049250313e-16;

/** Name of a measure in {@link ldlMeasures}' result. */
export type LdlMeasureName =
  | 'chebyshev'
  | 'clark'
  | 'canberra'
  | 'kullbackLeibler'
  | 'cosine'
  | 'intersection'
  | 'euclidean'
  | 'sorensen'
  | 'squaredChi2'
  | 'fidelity'
  | 'jensenShannon';

/** All eleven measures of {@link ldlMeasures}, each averaged over the samples. */
export type LdlMeasures = Record<LdlMeasureName, number>;

/** The six measures every LDL paper reports (Geng, TKDE 2016), in the usual column order. */
export const STANDARD_LDL_MEASURES: readonly LdlMeasureName[] = [
  'chebyshev',
  'clark',
  'canberra',
  'kullbackLeibler',
  'cosine',
  'intersection',
];

/** `true` for the similarities (higher is better: ↑), `false` for the distances (lower is better: ↓). */
export const LDL_MEASURE_HIGHER_IS_BETTER: Readonly<Record<LdlMeasureName, boolean>> = {
  chebyshev: false,
  clark: false,
  canberra: false,
  kullbackLeibler: false,
  cosine: true,
  intersection: true,
  euclidean: false,
  sorensen: false,
  squaredChi2: false,
  fidelity: true,
  jensenShannon: false,
};

/** Clips a value into `[EPS, 1]` as PyLDL's `_clip` (internal). */
export const clip = (v: number) => (v < LDL_EPSILON ? LDL_EPSILON : v > 1 ? 1 : v);

/** `Σ_j u_j (ln u_j − ln v_j)` on already-clipped rows (internal). */
export function klRow(u: ArrayLike<number>, v: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < u.length; j++) s += u[j] * (Math.log(u[j]) - Math.log(v[j]));
  return s;
}

type RowFn = (u: Float64Array, v: Float64Array) => number;

/** Per-sample definitions; `clipped` says whether PyLDL clips the inputs into `[EPS, 1]` first. */
const DEFINITIONS: Record<LdlMeasureName, { clipped: boolean; row: RowFn }> = {
  chebyshev: {
    clipped: false,
    row: (u, v) => u.reduce((m, x, j) => Math.max(m, Math.abs(x - v[j])), 0),
  },
  clark: {
    clipped: true,
    row: (u, v) => Math.sqrt(u.reduce((s, x, j) => s + (x - v[j]) ** 2 / (x + v[j]) ** 2, 0)),
  },
  canberra: { clipped: true, row: (u, v) => u.reduce((s, x, j) => s + Math.abs(x - v[j]) / (x + v[j]), 0) },
  kullbackLeibler: { clipped: true, row: klRow },
  cosine: {
    clipped: false,
    row: (u, v) => {
      let dot = 0;
      let nu = 0;
      let nv = 0;
      for (let j = 0; j < u.length; j++) {
        dot += u[j] * v[j];
        nu += u[j] * u[j];
        nv += v[j] * v[j];
      }
      // sklearn's paired_cosine_distances normalises rows and leaves an all-zero row at zero.
      const denom = (nu > 0 ? Math.sqrt(nu) : 1) * (nv > 0 ? Math.sqrt(nv) : 1);
      return dot / denom;
    },
  },
  intersection: { clipped: false, row: (u, v) => 1 - 0.5 * u.reduce((s, x, j) => s + Math.abs(x - v[j]), 0) },
  euclidean: { clipped: false, row: (u, v) => Math.sqrt(u.reduce((s, x, j) => s + (x - v[j]) ** 2, 0)) },
  sorensen: {
    clipped: true,
    row: (u, v) => u.reduce((s, x, j) => s + Math.abs(x - v[j]), 0) / u.reduce((s, x, j) => s + x + v[j], 0),
  },
  squaredChi2: { clipped: true, row: (u, v) => u.reduce((s, x, j) => s + (x - v[j]) ** 2 / (x + v[j]), 0) },
  fidelity: { clipped: false, row: (u, v) => u.reduce((s, x, j) => s + Math.sqrt(x * v[j]), 0) },
  jensenShannon: {
    clipped: true,
    row: (u, v) => {
      const m = u.map((x, j) => 0.5 * (x + v[j]));
      return 0.5 * klRow(u, m) + 0.5 * klRow(v, m);
    },
  },
};

/** Mean over samples of measure `name` on read rows (internal). */
export function averaged(name: LdlMeasureName, t: Float64Array[], p: Float64Array[]): number {
  const { clipped, row } = DEFINITIONS[name];
  let sum = 0;
  for (let i = 0; i < t.length; i++) {
    sum += clipped ? row(t[i].map(clip), p[i].map(clip)) : row(t[i], p[i]);
  }
  return sum / t.length;
}

function measure(name: LdlMeasureName, fn: string) {
  return (yTrue: DistributionsLike, yPred: DistributionsLike): number => {
    const [t, p] = readPair(fn, yTrue, yPred);
    return averaged(name, t, p);
  };
}

/**
 * Chebyshev distance ↓ `max_j |u_j − v_j|`, averaged over samples.
 * @param yTrue true distributions `[N, L]`; @param yPred predicted distributions `[N, L]`.
 * @throws `Error in chebyshev: …` for a shape mismatch, an empty or ragged input, or a non-finite value.
 */
export const chebyshev = measure('chebyshev', 'chebyshev');
/** Clark distance ↓ `sqrt(Σ_j (u_j − v_j)² / (u_j + v_j)²)` on inputs clipped to `[EPS, 1]`; averaged. */
export const clark = measure('clark', 'clark');
/** Canberra distance ↓ `Σ_j |u_j − v_j| / (u_j + v_j)` on inputs clipped to `[EPS, 1]`; averaged. */
export const canberra = measure('canberra', 'canberra');
/** Kullback-Leibler divergence ↓ `Σ_j u_j ln(u_j / v_j)` on inputs clipped to `[EPS, 1]`; averaged. */
export const kullbackLeibler = measure('kullbackLeibler', 'kullbackLeibler');
/** Cosine similarity ↑ `Σ u_j v_j / (‖u‖ ‖v‖)`; averaged. */
export const cosine = measure('cosine', 'cosine');
/** Intersection similarity ↑ `Σ_j min(u_j, v_j)`, computed as PyLDL does: `1 − ½ Σ_j |u_j − v_j|`; averaged. */
export const intersection = measure('intersection', 'intersection');
/** Euclidean distance ↓ `sqrt(Σ_j (u_j − v_j)²)`; averaged. */
export const euclidean = measure('euclidean', 'euclidean');
/** Sørensen distance ↓ `Σ_j |u_j − v_j| / Σ_j (u_j + v_j)` on inputs clipped to `[EPS, 1]`; averaged. */
export const sorensen = measure('sorensen', 'sorensen');
/** Squared χ² distance ↓ `Σ_j (u_j − v_j)² / (u_j + v_j)` on inputs clipped to `[EPS, 1]`; averaged. */
export const squaredChi2 = measure('squaredChi2', 'squaredChi2');
/** Fidelity similarity ↑ `Σ_j sqrt(u_j v_j)`; averaged. */
export const fidelity = measure('fidelity', 'fidelity');
/** Jensen-Shannon divergence ↓ `½ KL(u ‖ m) + ½ KL(v ‖ m)`, `m = (u + v) / 2`, inputs clipped to `[EPS, 1]`; averaged. */
export const jensenShannon = measure('jensenShannon', 'jensenShannon');

/**
 * Every LDL measure at once: the six standard ones of Geng (TKDE 2016) — Chebyshev ↓, Clark ↓,
 * Canberra ↓, Kullback-Leibler ↓, Cosine ↑, Intersection ↑ — and Euclidean ↓, Sørensen ↓,
 * squared χ² ↓, Fidelity ↑, Jensen-Shannon ↓. Definitions and zero clipping as PyLDL's
 * `pyldl.metrics` (see {@link LDL_EPSILON}); each is the mean over the N samples.
 *
 * @param yTrue true label distributions `[N, L]` (array of rows or `Tensor2D`).
 * @param yPred predicted label distributions `[N, L]`.
 * @returns a plain object `{ chebyshev, clark, canberra, kullbackLeibler, cosine, intersection, euclidean, sorensen, squaredChi2, fidelity, jensenShannon }`.
 * @throws `Error in ldlMeasures: …` for a shape mismatch, an empty or ragged input, or a non-finite value.
 *
 * @example
 * ```ts
 * ldlMeasures([[0.7, 0.3]], [[0.6, 0.4]]).kullbackLeibler; // 0.0226…
 * ```
 */
export function ldlMeasures(yTrue: DistributionsLike, yPred: DistributionsLike): LdlMeasures {
  const [t, p] = readPair('ldlMeasures', yTrue, yPred);
  const out = {} as LdlMeasures;
  for (const name of Object.keys(DEFINITIONS) as LdlMeasureName[]) out[name] = averaged(name, t, p);
  return out;
}
