// PyLDL's `_PT._preprocessing`: LDL turned into single-label classification by resampling.
import type { Rng } from '@ldl/core';
import type { Matrix } from '../matrix';

/**
 * Draws `n · L` (sample, label) pairs with probability `D_ij / Σ D` (with replacement), as PyLDL's
 * `np.random.choice(n*c, size=n*c, p=D.reshape(-1) / D.sum())`.
 * @returns the drawn rows of `x` and their labels.
 */
export function resampleSingleLabel(x: Matrix, d: Matrix, rng: Rng): { x: Matrix; y: Int32Array } {
  const { rows: n, cols: L } = d;
  const total = n * L;
  const cum = new Float64Array(total);
  let s = 0;
  for (let k = 0; k < total; k++) cum[k] = s += d.data[k];
  const dim = x.cols;
  const xr = new Float64Array(total * dim);
  const y = new Int32Array(total);
  for (let t = 0; t < total; t++) {
    const u = rng.next() * s;
    let lo = 0;
    let hi = total - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    const i = Math.floor(lo / L);
    y[t] = lo % L;
    xr.set(x.data.subarray(i * dim, (i + 1) * dim), t * dim);
  }
  return { x: { rows: total, cols: dim, data: xr }, y };
}
