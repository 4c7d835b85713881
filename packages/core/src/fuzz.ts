/**
 * Damaged copies of a file, for robustness tests of readers: each reader of outside files must answer
 * every one with its own `Error in <reader>: <file>: …` (or read it), within bounded time and memory.
 */
import { Rng } from './prng';

/** One damaged copy and how it was made. */
export interface DamagedCopy {
  /** `truncate`, `random bytes`, `huge length` or `garbage`. */
  kind: string;
  /** What was done, e.g. `cut at 1234 of 5000 bytes`. */
  detail: string;
  /** The damaged bytes (a new array; `bytes` is not changed). */
  bytes: Uint8Array;
}

/**
 * `count` damaged copies of `bytes`, the same for the same `seed`: cut at a random length, 1–8 bytes
 * overwritten with random values, a random 4- or 8-byte little/big-endian field set to a huge length
 * (0xFFFFFFFF, 2^31, 2^53, …), or a run of random bytes pasted over a random span.
 * @param bytes The intact file.
 * @param count How many copies. @default 200
 * @param seed Seed of {@link Rng}. @default 0
 */
export function damagedCopies(bytes: Uint8Array, count = 200, seed = 0): DamagedCopy[] {
  const rng = new Rng(seed);
  const out: DamagedCopy[] = [];
  const huge = [0xffffffff, 0x80000000, 0x7fffffff, 2 ** 53 - 1, 2 ** 40, 1e9];
  for (let i = 0; i < count; i++) {
    const copy = new Uint8Array(bytes);
    const at = bytes.length > 0 ? rng.int(bytes.length) : 0;
    switch (i % 4) {
      case 0: {
        out.push({ kind: 'truncate', detail: `cut at ${at} of ${bytes.length} bytes`, bytes: copy.slice(0, at) });
        break;
      }
      case 1: {
        const n = 1 + rng.int(8);
        for (let k = 0; k < n && bytes.length > 0; k++) copy[rng.int(bytes.length)] = rng.int(256);
        out.push({ kind: 'random bytes', detail: `${n} random bytes`, bytes: copy });
        break;
      }
      case 2: {
        const value = huge[rng.int(huge.length)]!;
        const wide = rng.int(2) === 1;
        const le = rng.int(2) === 1;
        const view = new DataView(copy.buffer);
        const pos = Math.max(0, Math.min(at - (at % 4), copy.length - (wide ? 8 : 4)));
        if (copy.length >= (wide ? 8 : 4)) {
          if (wide) view.setBigUint64(pos, BigInt(value), le);
          else view.setUint32(pos, value % 2 ** 32, le);
        }
        out.push({ kind: 'huge length', detail: `${wide ? 'u64' : 'u32'} ${value} (${le ? 'LE' : 'BE'}) at byte ${pos}`, bytes: copy });
        break;
      }
      default: {
        const n = Math.min(bytes.length - at, 1 + rng.int(64));
        for (let k = 0; k < n; k++) copy[at + k] = rng.int(256);
        out.push({ kind: 'garbage', detail: `${n} random bytes from byte ${at}`, bytes: copy });
      }
    }
  }
  return out;
}
