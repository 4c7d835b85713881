// Logical labels from label distributions, to build label-enhancement benchmarks from LDL sets (PyLDL's
// `pyldl.algorithms.utils.binaryzation`, python-ldl 0.1.2; Kou et al. 2024).
import { type MatrixLike, fail, toMatrix } from '../matrix';

/** Options of {@link binarize}. */
export interface BinarizeOptions {
  /**
   * `'threshold'`: per sample, the fewest largest degrees whose sum reaches `param` (PyLDL's rule: the
   * labels ranked `>= L − m − 1`, `m` the first index where the descending cumulative sum is `>= param`;
   * one label when none is); `'topk'`: the `param` largest degrees. Ties rank by label index.
   * @default 'threshold'
   */
  method?: 'threshold' | 'topk';
  /** `'threshold'`: a number in `[0, 1)`, default 0.5; `'topk'`: an integer in `[1, L)`, default `⌊L/2⌋`. */
  param?: number;
}

/** Stable ascending ranks 0..L−1 (NumPy's `argsort(argsort(d))` for L ≤ 16: ties by index). */
function ranks(row: Float64Array): Int32Array {
  const order = Array.from(row.keys()).sort((a, b) => row[a] - row[b] || a - b);
  const r = new Int32Array(row.length);
  order.forEach((j, k) => (r[j] = k));
  return r;
}

/**
 * Binarises label distributions `D [n, L]` into logical labels `[n, L]` (1 = the label describes the
 * sample), exactly as PyLDL's `binaryzation`.
 *
 * @throws `Error in binarize: …` for an unknown method or a `param` out of range (PyLDL's ranges), or a bad `D`.
 *
 * @example
 * ```ts
 * binarize([[0.3, 0.5, 0.2]]); // [[0, 1, 0]]: 0.5 alone reaches 0.5
binarize([[0.4, 0.35, 0.25]]); // [[1, 1, 0]]
 * ```
 */
export function binarize(D: MatrixLike, options: BinarizeOptions = {}): number[][] {
  const { method = 'threshold' } = options;
  const d = toMatrix('binarize', 'D', D);
  const L = d.cols;
  if (method === 'threshold') {
    const param = options.param ?? 0.5;
    if (!(param >= 0 && param < 1)) fail('binarize', 'param', "a number in [0, 1) for method 'threshold'", param);
  } else if (method === 'topk') {
    const param = options.param ?? Math.floor(L / 2);
    if (!Number.isInteger(param) || param < 1 || param >= L) fail('binarize', 'param', `an integer in [1, ${L}) for method 'topk'`, param);
  } else {
    fail('binarize', 'method', "'threshold' or 'topk'", method);
  }
  const out: number[][] = [];
  for (let i = 0; i < d.rows; i++) {
    const row = d.data.subarray(i * L, (i + 1) * L);
    const r = ranks(row);
    let keep: number;
    if (method === 'threshold') {
      const param = options.param ?? 0.5;
      const sorted = Array.from(row).sort((a, b) => b - a);
      let m = 0;
      let cs = 0;
      for (let k = 0; k < L; k++) {
        cs += sorted[k];
        if (cs >= param) {
          m = k;
          break;
        }
      }
      keep = m + 1;
    } else {
      keep = options.param ?? Math.floor(L / 2);
    }
    out.push(Array.from(r, (v) => (v >= L - keep ? 1 : 0)));
  }
  return out;
}
