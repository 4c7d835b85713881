// Mapping real-valued outputs back to label distributions, as PyLDL's `proj` and `normalize`.

/**
 * Euclidean projection of each row of `m [n, L]` onto the probability simplex, in place (Condat 2016;
 * PyLDL's `proj`: sort descending, `θ = (cumsum − 1) / k` at the last k with `x_k > θ_k`, `max(x − θ, 0)`).
 */
export function projectRowsToSimplex(m: Float64Array, n: number, L: number): Float64Array {
  const sorted = new Float64Array(L);
  for (let i = 0; i < n; i++) {
    const o = i * L;
    for (let j = 0; j < L; j++) sorted[j] = m[o + j];
    sorted.sort().reverse();
    let cum = 0;
    let theta = 0;
    for (let k = 0; k < L; k++) {
      cum += sorted[k];
      const t = (cum - 1) / (k + 1);
      if (sorted[k] > t) theta = t;
    }
    for (let j = 0; j < L; j++) m[o + j] = Math.max(m[o + j] - theta, 0);
  }
  return m;
}

/** Each row of `m [n, L]` divided by its sum, in place (PyLDL's `normalize`). */
export function normalizeRows(m: Float64Array, n: number, L: number): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < L; j++) s += m[i * L + j];
    for (let j = 0; j < L; j++) m[i * L + j] /= s;
  }
  return m;
}
