/**
 * The face-prep command line, `ldl prep` of @ldl/cli: `align` photos into `faces.csv`, `crop` them with a margin,
 * `merge` the outputs of shards (`pack` is @ldl/cli's: it reads the data as `ldl train` does).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { alignImages, cropImages } from './batch';
import { listImages, readImageList } from './files';
import { type Shard, ShardSpecError, parseShard, shardLabel, shardPath } from './shard';
import { mergeShardCsv } from './shard-csv';

/** Usage text of `ldl prep`. */
export const USAGE = `Usage:
  ldl prep align --images DIR [--list FILE] --out faces.csv [--workers N] [--detector ssd|tiny] [--eyes mesh|landmark68] [--min-confidence S] [--refine N] [--shard i/N|auto [--shard-count N]]
      Two-pass eye alignment of every photo (or those named in FILE, one per line, relative to DIR); symbolic
      links are followed (a link back into a folder being walked is reported and not followed again).
      Writes photo,deg,box1..box4,left_eye_x,left_eye_y,right_eye_x,right_eye_y,status; resumes a
      partial faces.csv. --workers defaults to min(2, CPU cores); 0 runs in the main thread.
      --detector picks SSD MobileNet v1 (default, accurate) or the ~7x faster Tiny Face Detector.
      --eyes picks the eye model: MediaPipe Face Mesh (default) or face-api's 68-point landmark net.
      --refine N (default 1) re-measures the eye angle on the rotated photo N times; 0 = plain two passes.
  ldl prep crop --csv faces.csv --images DIR --out DIR [--margin 0.4] [--size 224] [--overwrite] [--shard i/N|auto [--shard-count N]]
      Rotates each aligned photo by deg, grows the box by the margin, crops and resizes to size x size.
  ldl prep pack --data DIR|CSV|--synthetic [data flags of ldl train] --out DIR [--image-size 224] [--margin 0.4] [--format png|jpg]
      Aligned, margin-cropped faces and their labels as WebDataset tar files plus shards.json, for PyTorch
      (ldl prep pack --help).
  ldl prep merge --out FILE [--shard-count N] [--list FILE | --images DIR]
      Joins the outputs of shards 1/N..N/N (FILE.shard-0001-of-000N.csv …, or a pack's partial manifests
      DIR/shards.shard-0001-of-000N.json … for --out DIR/shards.json) into FILE. Refuses a missing shard, a
      shard cut by a kill, a photo in two rows, and (with --list or --images) a photo with no row.

  Sharding (align, crop, pack, and ldl predict --list): --shard i/N (1-based: 1/3, 2/3, 3/3) or --shard auto
  [--shard-count N], which reads a Kubernetes Indexed Job (JOB_COMPLETION_INDEX; the count is --shard-count),
  a Slurm array (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT) or an AWS Batch array
  job (AWS_BATCH_JOB_ARRAY_INDEX of AWS_BATCH_JOB_ARRAY_SIZE). A photo belongs to shard
  1 + (first 48 bits of SHA-256(its relative path), big-endian) mod N. Each shard writes its own output
  (faces.csv → faces.shard-0002-of-0003.csv) and resumes after a kill.
`;

/** A command-line mistake: printed with the usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function required(values: Record<string, unknown>, name: string, command: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`${command}: --${name} is required.`);
  return v;
}

function number(values: Record<string, unknown>, name: string, check: (n: number) => boolean, what: string): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !check(n)) throw new UsageError(`--${name} must be ${what}, but got '${String(v)}'.`);
  return n;
}

function parse(command: string, args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`${command}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const SHARD_OPTIONS = { shard: { type: 'string' }, 'shard-count': { type: 'string' } } as const;

/** `--shard` / `--shard-count` of a command's values. */
function shardOfValues(values: Record<string, unknown>): Shard | null {
  return parseShard(values.shard as string | undefined, values['shard-count'] as string | undefined);
}

/** The log line naming the shard a command runs. */
const shardNote = (shard: Shard | null, out: string): string => (shard ? `shard ${shardLabel(shard)} (${shard.source}) → ${out}` : '');

async function align(args: string[], log: (line: string) => void): Promise<number> {
  const values = parse('align', args, {
    ...SHARD_OPTIONS,
    images: { type: 'string' },
    list: { type: 'string' },
    out: { type: 'string' },
    workers: { type: 'string' },
    'min-confidence': { type: 'string' },
    detector: { type: 'string' },
    eyes: { type: 'string' },
    refine: { type: 'string' },
  });
  const imagesDir = required(values, 'images', 'align');
  const shard = shardOfValues(values);
  const out = shardPath(required(values, 'out', 'align'), shard);
  if (shard) log(`align: ${shardNote(shard, out)}`);
  const workers = number(values, 'workers', (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0');
  const minConfidence = number(values, 'min-confidence', (n) => n >= 0 && n <= 1, 'a number in [0, 1]');
  const refine = number(values, 'refine', (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0');
  const model = values.detector ?? 'ssd';
  if (model !== 'ssd' && model !== 'tiny') throw new UsageError(`--detector must be ssd or tiny, but got '${String(model)}'.`);
  const eyeModel = values.eyes ?? 'mesh';
  if (eyeModel !== 'mesh' && eyeModel !== 'landmark68') throw new UsageError(`--eyes must be mesh or landmark68, but got '${String(eyeModel)}'.`);
  const list = values.list;
  const summary = await alignImages({
    imagesDir,
    out,
    photos: typeof list === 'string' ? readImageList(list) : listImages(imagesDir, { onLoop: (p, target) => log(`align: ${p} is a link back to ${target} (a loop): not followed again`) }),
    shard,
    workers,
    refine,
    detectorOptions: minConfidence === undefined ? { model, eyeModel } : { model, eyeModel, minConfidence },
  });
  for (const e of summary.errors) log(`error: ${e.photo}: ${e.message}`);
  log(
    `align: ${summary.total} photos (${summary.skipped} already in ${out}): ${summary.ok} ok, ${summary.noFace} no_face, ` +
      `${summary.unreadable} unreadable, ${summary.errors.length} errors in ${summary.seconds.toFixed(1)} s ` +
      `(${summary.imagesPerSecond.toFixed(2)} img/s)`,
  );
  return summary.errors.length > 0 ? 1 : 0;
}

async function crop(args: string[], log: (line: string) => void): Promise<number> {
  const values = parse('crop', args, {
    ...SHARD_OPTIONS,
    csv: { type: 'string' },
    images: { type: 'string' },
    out: { type: 'string' },
    margin: { type: 'string' },
    size: { type: 'string' },
    overwrite: { type: 'boolean' },
  });
  const shard = shardOfValues(values);
  const outDir = required(values, 'out', 'crop');
  if (shard) log(`crop: ${shardNote(shard, outDir)}`);
  const summary = await cropImages({
    shard,
    csv: required(values, 'csv', 'crop'),
    imagesDir: required(values, 'images', 'crop'),
    outDir,
    margin: number(values, 'margin', (n) => Number.isFinite(n) && n >= 0, 'a number >= 0'),
    size: number(values, 'size', (n) => Number.isInteger(n) && n >= 1, 'a positive integer'),
    overwrite: values.overwrite === true,
  });
  for (const e of summary.errors) log(`error: ${e.photo}: ${e.message}`);
  log(
    `crop: ${summary.total} rows: ${summary.written} written, ${summary.existing} already there, ` +
      `${summary.notAligned} not aligned (skipped), ${summary.errors.length} errors in ${summary.seconds.toFixed(1)} s`,
  );
  return summary.errors.length > 0 ? 1 : 0;
}

async function merge(args: string[], log: (line: string) => void): Promise<number> {
  const values = parse('merge', args, { out: { type: 'string' }, 'shard-count': { type: 'string' }, list: { type: 'string' }, images: { type: 'string' } });
  const out = required(values, 'out', 'merge');
  const count = number(values, 'shard-count', (n) => Number.isInteger(n) && n >= 1, 'an integer >= 1');
  if (values.list !== undefined && values.images !== undefined) throw new UsageError('merge: give --list or --images, not both.');
  const photos = typeof values.list === 'string' ? readImageList(values.list) : typeof values.images === 'string' ? listImages(values.images) : undefined;
  if (out.endsWith('.json')) {
    const { mergePackManifests } = await import('./pack');
    const s = mergePackManifests({ out, count, photos });
    log(`merge: ${s.files.length} shard manifests (${s.samplesPerShard.join(' + ')} samples) → ${out}: ${Object.entries(s.counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    return 0;
  }
  const s = mergeShardCsv({ out, count, photos });
  log(`merge: ${s.files.length} shard outputs (${s.rowsPerShard.join(' + ')} rows) → ${out}: ${s.rows} rows${photos ? `, every one of the ${photos.length} listed photos` : ''}`);
  return 0;
}

/**
 * Runs `ldl prep` with the given arguments (without `node` and the script) and returns the exit
 * code: 0 done, 1 some photos failed with an error, 2 bad arguments.
 */
export async function main(argv: string[], log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'align') return await align(rest, log);
    if (command === 'crop') return await crop(rest, log);
    if (command === 'merge') return await merge(rest, log);
    if (command === undefined || command === '--help' || command === '-h') {
      log(USAGE);
      return command === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command '${command}' (expected align, crop, pack or merge).`);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ShardSpecError) {
      log(`ldl prep ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}
