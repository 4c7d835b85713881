/**
 * Sharding of photo lists, shared by every command that takes `--shard` (`ldl prep align|crop|pack`,
 * `ldl predict --list`): one parser for `--shard i/N | auto`, one assignment function, one file-name
 * rule for the per-shard outputs that `ldl prep merge` joins.
 *
 * Assignment: photo `p` (its path relative to the image root, `/` separators, UTF-8) belongs to the
 * 0-based shard `h mod N`, where `h` is the first 6 bytes of SHA-256(`p`) read as an unsigned
 * big-endian integer (48 bits, so the modulo bias is below 2^-30 for any N ≤ 10,000). The same in
 * Python: `int.from_bytes(hashlib.sha256(p.encode()).digest()[:6], 'big') % N`. The assignment depends
 * on the path alone, never on the order of the list or on the other photos, so a rerun, a resumed run or
 * a run on another machine puts every photo in the same shard.
 */
import { createHash } from 'node:crypto';
import { basename, dirname, extname, join } from 'node:path';

/** One shard of a sharded run: `index` is 0-based (`--shard 1/3` is `{ index: 0, count: 3 }`). */
export interface Shard {
  /** 0-based shard index, `0 ≤ index < count`. */
  index: number;
  /** Number of shards, ≥ 1. */
  count: number;
  /** Where the shard came from: `--shard 2/3` or the environment variables that gave it. */
  source: string;
}

/** A `--shard` / `--shard-count` mistake (the CLIs print it with their usage, exit code 2). */
export class ShardSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShardSpecError';
  }
}

/** The array-job conventions `--shard auto` reads, in the order they are looked at. */
export const SHARD_ENV_CONVENTIONS = ['kubernetes', 'slurm', 'aws-batch'] as const;

const INT = /^\s*(\d+)\s*$/;

function int(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const m = INT.exec(v);
  if (!m) throw new ShardSpecError(`--shard auto: ${name} must be a non-negative integer, but got '${v}'.`);
  return Number(m[1]);
}

/** What one convention's variables say: index (0-based) and count, where it gives one. */
function fromConvention(name: (typeof SHARD_ENV_CONVENTIONS)[number], env: NodeJS.ProcessEnv): { index: number; count?: number; source: string } | null {
  if (name === 'kubernetes') {
    const index = int(env, 'JOB_COMPLETION_INDEX');
    return index === undefined ? null : { index, source: `JOB_COMPLETION_INDEX=${index}` };
  }
  if (name === 'slurm') {
    const id = int(env, 'SLURM_ARRAY_TASK_ID');
    if (id === undefined) return null;
    const count = int(env, 'SLURM_ARRAY_TASK_COUNT');
    const min = int(env, 'SLURM_ARRAY_TASK_MIN');
    const max = int(env, 'SLURM_ARRAY_TASK_MAX');
    const step = int(env, 'SLURM_ARRAY_TASK_STEP');
    if (count === undefined || min === undefined) {
      throw new ShardSpecError(`--shard auto: SLURM_ARRAY_TASK_ID=${id} needs SLURM_ARRAY_TASK_COUNT and SLURM_ARRAY_TASK_MIN, but got ${count === undefined ? 'no SLURM_ARRAY_TASK_COUNT' : 'no SLURM_ARRAY_TASK_MIN'}.`);
    }
    if ((step !== undefined && step !== 1) || (max !== undefined && max - min + 1 !== count)) {
      throw new ShardSpecError(
        `--shard auto: the Slurm array must be one contiguous range (sbatch --array=${min}-${min + count - 1}), but got SLURM_ARRAY_TASK_MIN=${min}, SLURM_ARRAY_TASK_MAX=${max ?? '?'}, SLURM_ARRAY_TASK_COUNT=${count}${step !== undefined ? `, SLURM_ARRAY_TASK_STEP=${step}` : ''}.`,
      );
    }
    return { index: id - min, count, source: `SLURM_ARRAY_TASK_ID=${id}, SLURM_ARRAY_TASK_MIN=${min}, SLURM_ARRAY_TASK_COUNT=${count}` };
  }
  const index = int(env, 'AWS_BATCH_JOB_ARRAY_INDEX');
  if (index === undefined) return null;
  const count = int(env, 'AWS_BATCH_JOB_ARRAY_SIZE');
  return { index, count, source: `AWS_BATCH_JOB_ARRAY_INDEX=${index}${count === undefined ? '' : `, AWS_BATCH_JOB_ARRAY_SIZE=${count}`}` };
}

function checked(index: number, count: number, source: string): Shard {
  if (!Number.isInteger(count) || count < 1) throw new ShardSpecError(`--shard: the shard count must be an integer >= 1, but got ${count} (${source}).`);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new ShardSpecError(`--shard: the shard must be one of 1..${count}, but got ${index + 1} (${source}).`);
  }
  return { index, count, source };
}

/**
 * Parses `--shard` (and `--shard-count`): `i/N` with 1-based `i` (shards `1/3`, `2/3`, `3/3`), or `auto`,
 * which reads the 0-based index and the count of an array job from the environment:
 * - Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` (the count is the Job's `completions`, given as `--shard-count`);
 * - Slurm job array: `SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN` of `SLURM_ARRAY_TASK_COUNT` (one contiguous range);
 * - AWS Batch array job: `AWS_BATCH_JOB_ARRAY_INDEX` of `AWS_BATCH_JOB_ARRAY_SIZE`.
 * Where several are set they must agree, and so must `shardCount` where given.
 *
 * @param spec The flag's value; `undefined` means no sharding (returns `null`).
 * @param shardCount `--shard-count`: required with Kubernetes, a cross-check otherwise; only with `auto`.
 * @throws {ShardSpecError} for a malformed spec, `auto` with no (or conflicting) variables, a missing count, or an index outside 1..N.
 */
export function parseShard(spec: string | undefined, shardCount?: string | number, env: NodeJS.ProcessEnv = process.env): Shard | null {
  const countFlag = shardCount === undefined ? undefined : Number(shardCount);
  if (countFlag !== undefined && (!Number.isInteger(countFlag) || countFlag < 1)) {
    throw new ShardSpecError(`--shard-count must be an integer >= 1, but got '${String(shardCount)}'.`);
  }
  if (spec === undefined) {
    if (countFlag !== undefined) throw new ShardSpecError('--shard-count goes with --shard auto, but got no --shard.');
    return null;
  }
  if (spec !== 'auto') {
    const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
    if (!m) throw new ShardSpecError(`--shard must be i/N (1-based, e.g. 2/3) or auto, but got '${spec}'.`);
    if (countFlag !== undefined) throw new ShardSpecError(`--shard-count goes with --shard auto only, but got --shard ${spec}.`);
    const [i, n] = [Number(m[1]), Number(m[2])];
    if (i < 1) throw new ShardSpecError(`--shard must be i/N with i in 1..N (1-based), but got '${spec}'.`);
    return checked(i - 1, n, `--shard ${spec}`);
  }
  const found = SHARD_ENV_CONVENTIONS.map((c) => fromConvention(c, env)).filter((x) => x !== null);
  if (found.length === 0) {
    throw new ShardSpecError(
      '--shard auto must run in an array job, but none of JOB_COMPLETION_INDEX (Kubernetes Indexed Job), SLURM_ARRAY_TASK_ID (Slurm array) or AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array job) is set; give --shard i/N instead.',
    );
  }
  const counts = found.filter((f) => f.count !== undefined);
  const count = countFlag ?? counts[0]?.count;
  const sources = [...found.map((f) => f.source), ...(countFlag === undefined ? [] : [`--shard-count ${countFlag}`])].join('; ');
  if (count === undefined) {
    throw new ShardSpecError(`--shard auto: ${found[0]!.source} gives the index but not the count: give --shard-count N (the Job's completions).`);
  }
  if (found.some((f) => f.index !== found[0]!.index) || counts.some((f) => f.count !== count)) {
    throw new ShardSpecError(`--shard auto: the environment names conflicting shards: ${sources}.`);
  }
  return checked(found[0]!.index, count, `--shard auto: ${sources}`);
}

/** `2/3` for `{ index: 1, count: 3 }` (1-based, as `--shard` takes it). */
export const shardLabel = (shard: Shard): string => `${shard.index + 1}/${shard.count}`;

/** The 0-based shard of `photo` (a `/`-separated relative path) among `count` shards; see the module's description for the hash. */
export function shardOf(photo: string, count: number): number {
  const digest = createHash('sha256').update(photo, 'utf8').digest();
  return digest.readUIntBE(0, 6) % count;
}

/** The photos of `items` that belong to `shard` (all of them for `null`), order kept. */
export function selectShard<T>(items: readonly T[], shard: Shard | null, photoOf: (item: T) => string): T[] {
  if (!shard || shard.count === 1) return [...items];
  return items.filter((item) => shardOf(photoOf(item), shard.count) === shard.index);
}

/**
 * The output of one shard: `faces.csv` → `faces.shard-0002-of-0003.csv` for `--shard 2/3` (unchanged for
 * `null`). A folder output (no extension) gets the suffix too: `packed` → `packed.shard-0002-of-0003`.
 */
export function shardPath(file: string, shard: Shard | null): string {
  if (!shard) return file;
  const ext = extname(file);
  const n = (x: number) => String(x).padStart(4, '0');
  return join(dirname(file), `${basename(file, ext)}.shard-${n(shard.index + 1)}-of-${n(shard.count)}${ext}`);
}

/** Inverse of {@link shardPath} on a file name: the 1-based index and the count, or `null`. */
export function parseShardPath(file: string): { base: string; index: number; count: number } | null {
  const name = basename(file);
  const m = /^(.*)\.shard-(\d{4,})-of-(\d{4,})(\.[^.]*)?$/.exec(name);
  if (!m) return null;
  return { base: join(dirname(file), `${m[1]}${m[4] ?? ''}`), index: Number(m[2]), count: Number(m[3]) };
}
