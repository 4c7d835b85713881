// Reading the `(yTrue, yPred)` pair of every LDL measure: `[N, L]` rows (plain arrays, typed arrays or a
// `Tensor2D`) into float64, checked for shape and finiteness.
import type { Tensor2D } from '@tensorflow/tfjs-core';
import { fail, isTensor } from '../validate';

/**
 * Label distributions `[N, L]`: an array of N rows of L numbers (plain or typed arrays), or a
 * `Tensor2D [N, L]`.
 */
export type DistributionsLike = ArrayLike<ArrayLike<number>> | Tensor2D;

/** Reads `[N, L]` distributions into float64 rows, checking shape and finiteness. */
export function readRows(fn: string, arg: string, x: unknown): Float64Array[] {
  let rows: ArrayLike<ArrayLike<number>>;
  if (isTensor(x)) {
    if (x.rank !== 2) fail(fn, arg, 'a Tensor2D [N, L] or an array of N rows', x);
    rows = x.arraySync() as number[][];
  } else if (Array.isArray(x)) {
    rows = x as ArrayLike<ArrayLike<number>>;
  } else {
    fail(fn, arg, 'a Tensor2D [N, L] or an array of N rows', x);
  }
  if (rows.length === 0) fail(fn, arg, 'non-empty (at least one row)', x);
  const width = rows[0]?.length;
  const out: Float64Array[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (row === null || typeof row !== 'object' || typeof row.length !== 'number') {
      fail(fn, `${arg}[${i}]`, 'an array of numbers', row);
    }
    if (row.length !== width || width === 0) {
      fail(fn, `${arg}[${i}].length`, `${width} (the length of ${arg}[0]), and > 0`, row.length);
    }
    const r = new Float64Array(width);
    for (let j = 0; j < width; j++) {
      const v = row[j];
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(fn, `${arg}[${i}][${j}]`, 'a finite number', v);
      r[j] = v;
    }
    out.push(r);
  }
  return out;
}

export function readPair(fn: string, yTrue: unknown, yPred: unknown): [Float64Array[], Float64Array[]] {
  const t = readRows(fn, 'yTrue', yTrue);
  const p = readRows(fn, 'yPred', yPred);
  if (t.length !== p.length || t[0].length !== p[0].length) {
    fail(fn, 'yPred shape', `[${t.length}, ${t[0].length}] (the shape of yTrue)`, `[${p.length}, ${p[0].length}]`);
  }
  return [t, p];
}

