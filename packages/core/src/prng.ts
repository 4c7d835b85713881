/**
 * The one seeded pseudo-random generator of @ldl (xoshiro128**, seeded through splitmix32) whose whole
 * state is four 32-bit words, so it can be written into a checkpoint and restored exactly. Used by
 * `@ldl/train` (shuffling, augmentation, splits; the state is saved in every checkpoint) and
 * `@ldl/algorithms` (cross-validation folds, initial weights).
 *
 * Source: D. Blackman and S. Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS 47(4),
 * 2021 (xoshiro128**, https://prng.di.unimi.it/xoshiro128starstar.c); splitmix32 after Steele et al.,
 * "Fast splittable pseudorandom number generators", OOPSLA 2014.
 */

/** Serializable state of an {@link Rng}: four unsigned 32-bit integers. */
export type RngState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

/**
 * Seeded, reproducible random numbers for shuffling and augmentation.
 *
 * ```ts
 * const rng = new Rng(42);
 * const saved = rng.state;          // e.g. into a checkpoint
 * const a = rng.next();
 * const b = Rng.fromState(saved).next(); // a === b
 * ```
 */
export class Rng {
  private s: RngState;

  /** @param seed any integer; equal seeds give equal streams. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) {
      throw new Error(`Error in Rng: seed must be a finite number, but got ${seed}.`);
    }
    const next = splitmix32(Math.trunc(seed));
    this.s = [next(), next(), next(), next()];
  }

  /** Restores a generator from {@link Rng.state}. */
  static fromState(state: readonly number[]): Rng {
    const rng = new Rng(0);
    rng.state = state;
    return rng;
  }

  /** A copy of the current state (safe to JSON-serialize). */
  get state(): RngState {
    return [...this.s];
  }

  set state(state: readonly number[]) {
    if (state.length !== 4 || state.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff)) {
      throw new Error(`Error in Rng.state: state must be 4 unsigned 32-bit integers, but got ${JSON.stringify(state)}.`);
    }
    if (state.every((v) => v === 0)) {
      throw new Error('Error in Rng.state: state must not be all zeros, but got [0,0,0,0].');
    }
    this.s = [state[0], state[1], state[2], state[3]];
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] = (s[2] ^ s[0]) >>> 0;
    s[3] = (s[3] ^ s[1]) >>> 0;
    s[1] = (s[1] ^ s[2]) >>> 0;
    s[0] = (s[0] ^ s[3]) >>> 0;
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform float in `[0, 1)`. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform float in `[lo, hi)`. */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in `[0, n)`. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) {
      throw new Error(`Error in Rng.int: n must be a positive integer, but got ${n}.`);
    }
    return Math.floor(this.next() * n);
  }

  /** A shuffled copy of `items` (Fisher–Yates); the input is not modified. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = out[i];
      out[i] = out[j];
      out[j] = tmp;
    }
    return out;
  }
}
