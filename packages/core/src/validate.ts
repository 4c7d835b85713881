// Input validation shared by every @ldl/core function. Errors always read
// `Error in <fn>: <arg> must be …, but got <value>.` so a user can find the bad argument at once.
import type { Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs-core';

/**
 * Ages (or any per-sample numbers) as accepted by @ldl/core: a plain array (or typed array) of
 * numbers, or a `Tensor1D` of shape `[N]` (dtype `float32` or `int32`).
 */
export type AgesLike = ArrayLike<number> | Tensor1D;

/** A standard deviation shared by the batch (`number`) or one per sample (array or `Tensor1D [N]`). */
export type SigmaLike = number | ArrayLike<number> | Tensor1D;

/** Throws `Error in <fn>: <arg> must be <expected>, but got <describe(got)>.` */
export function fail(fn: string, arg: string, expected: string, got: unknown): never {
  throw new Error(`Error in ${fn}: ${arg} must be ${expected}, but got ${describe(got)}.`);
}

/**
 * Duck-typed tensor check: `instanceof` breaks when the ESM and CJS builds of tfjs-core are both
 * loaded (they share one engine but not one `Tensor` class).
 */
export function isTensor(x: unknown): x is Tensor {
  if (typeof x !== 'object' || x === null) return false;
  const t = x as Partial<Tensor>;
  return Array.isArray(t.shape) && typeof t.dtype === 'string' && typeof t.dataSync === 'function';
}

/** Short human-readable description of a value for error messages. */
export function describe(value: unknown): string {
  if (isTensor(value)) {
    return `a rank-${value.rank} Tensor of shape [${value.shape.join(',')}] and dtype ${value.dtype}`;
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value) && 'length' in value) {
    return `a ${value.constructor.name} of length ${String(value.length)}`;
  }
  if (typeof value === 'function') return 'a function';
  return `an object (${Object.prototype.toString.call(value)})`;
}

/** Asserts a float32 `Tensor2D [N, C]` with N ≥ 1 and C ≥ 1. */
export function checkMatrix(fn: string, arg: string, x: unknown): asserts x is Tensor2D {
  if (!isTensor(x)) fail(fn, arg, 'a Tensor2D [batch, numClasses]', x);
  if (x.rank !== 2) fail(fn, arg, 'a rank-2 Tensor [batch, numClasses]', x);
  if (x.dtype !== 'float32') fail(fn, `${arg}.dtype`, '"float32"', x.dtype);
  if (x.shape.some((d) => d < 1)) fail(fn, arg, 'non-empty (at least one row and one column)', x);
}

/** Asserts a finite number. */
export function checkFinite(fn: string, arg: string, x: unknown): asserts x is number {
  if (typeof x !== 'number' || !Number.isFinite(x)) fail(fn, arg, 'a finite number', x);
}

/** Asserts a finite number ≥ 0. */
export function checkNonNegative(fn: string, arg: string, x: unknown): asserts x is number {
  checkFinite(fn, arg, x);
  if (x < 0) fail(fn, arg, '>= 0', x);
}

/** Asserts an integer ≥ `min`. */
export function checkInteger(fn: string, arg: string, x: unknown, min: number): asserts x is number {
  if (typeof x !== 'number' || !Number.isInteger(x)) fail(fn, arg, 'an integer', x);
  if (x < min) fail(fn, arg, `>= ${min}`, x);
}

/** Asserts a boolean. */
export function checkBoolean(fn: string, arg: string, x: unknown): asserts x is boolean {
  if (typeof x !== 'boolean') fail(fn, arg, 'a boolean', x);
}

/** Asserts one of the listed string literals. */
export function checkOneOf<T extends string>(
  fn: string,
  arg: string,
  x: unknown,
  options: readonly T[],
): asserts x is T {
  if (typeof x !== 'string' || !(options as readonly string[]).includes(x)) {
    fail(fn, arg, `one of ${options.map((o) => JSON.stringify(o)).join(', ')}`, x);
  }
}

/**
 * Reads a per-sample vector (array or `Tensor1D`) into a fresh `number[]`, checking its kind,
 * dtype, length (`n` when given) and that every value is finite. Tensors are read with
 * `dataSync()` (a small `[N]` download) so values can be checked.
 */
export function readVector(fn: string, arg: string, x: unknown, n?: number, what = 'rows of logits'): number[] {
  let values: ArrayLike<number>;
  if (isTensor(x)) {
    if (x.rank !== 1) fail(fn, arg, 'a rank-1 Tensor [N] or an array of numbers', x);
    if (x.dtype !== 'float32' && x.dtype !== 'int32') fail(fn, `${arg}.dtype`, '"float32" or "int32"', x.dtype);
    values = x.dataSync() as Float32Array | Int32Array;
  } else if (Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView))) {
    values = x as ArrayLike<number>;
  } else {
    fail(fn, arg, 'an array of numbers or a Tensor1D', x);
  }
  if (n !== undefined && values.length !== n) {
    fail(fn, `${arg}.length`, `${n} (the number of ${what})`, values.length);
  }
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    checkFinite(fn, `${arg}[${i}]`, v);
    out[i] = v;
  }
  return out;
}

/** Reads ages and checks each lies in `[minAge, minAge + numClasses - 1]`. */
export function readAges(
  fn: string,
  arg: string,
  ages: unknown,
  range: { n?: number; minAge: number; numClasses: number },
): number[] {
  const values = readVector(fn, arg, ages, range.n);
  const max = range.minAge + range.numClasses - 1;
  values.forEach((v, i) => {
    if (v < range.minAge || v > max) {
      fail(fn, `${arg}[${i}]`, `within [${range.minAge}, ${max}] (minAge to minAge + numClasses - 1)`, v);
    }
  });
  return values;
}

/** Reads integer class indices in `[0, numClasses - 1]`. */
export function readClassIndices(fn: string, arg: string, labels: unknown, n: number, numClasses: number): number[] {
  const values = readVector(fn, arg, labels, n);
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
      fail(fn, `${arg}[${i}]`, `an integer class index in [0, ${numClasses - 1}]`, v);
    }
  });
  return values;
}

/** Reads `sigma` (a number or one per sample) into `n` values, each finite and > 0. */
export function readSigma(fn: string, sigma: unknown, n: number): number[] {
  if (typeof sigma === 'number') {
    checkFinite(fn, 'sigma', sigma);
    if (sigma <= 0) fail(fn, 'sigma', '> 0', sigma);
    return new Array<number>(n).fill(sigma);
  }
  const values = readVector(fn, 'sigma', sigma, n, 'ages');
  values.forEach((v, i) => {
    if (v <= 0) fail(fn, `sigma[${i}]`, '> 0', v);
  });
  return values;
}
