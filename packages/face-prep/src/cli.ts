/**
 * The face-prep command line, `ldl prep` of @ldl/cli: `align` photos into `faces.csv`, `crop` them with a margin.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { alignImages, cropImages, readImageList } from './batch';

/** Usage text of `ldl prep`. */
export const USAGE = `Usage:
  ldl prep align --images DIR [--list FILE] --out faces.csv [--workers N] [--detector ssd|tiny] [--eyes mesh|landmark68] [--min-confidence S] [--refine N]
      Two-pass eye alignment of every photo (or those named in FILE, one per line, relative to DIR).
      Writes photo,deg,box1..box4,left_eye_x,left_eye_y,right_eye_x,right_eye_y,status; resumes a
      partial faces.csv. --workers defaults to min(2, CPU cores); 0 runs in the main thread.
      --detector picks SSD MobileNet v1 (default, accurate) or the ~7x faster Tiny Face Detector.
      --eyes picks the eye model: MediaPipe Face Mesh (default) or face-api's 68-point landmark net.
      --refine N (default 1) re-measures the eye angle on the rotated photo N times; 0 = plain two passes.
  ldl prep crop --csv faces.csv --images DIR --out DIR [--margin 0.4] [--size 224] [--overwrite]
      Rotates each aligned photo by deg, grows the box by the margin, crops and resizes to size x size.
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

async function align(args: string[], log: (line: string) => void): Promise<number> {
  const values = parse('align', args, {
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
  const out = required(values, 'out', 'align');
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
    photos: typeof list === 'string' ? readImageList(list) : undefined,
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
    csv: { type: 'string' },
    images: { type: 'string' },
    out: { type: 'string' },
    margin: { type: 'string' },
    size: { type: 'string' },
    overwrite: { type: 'boolean' },
  });
  const summary = await cropImages({
    csv: required(values, 'csv', 'crop'),
    imagesDir: required(values, 'images', 'crop'),
    outDir: required(values, 'out', 'crop'),
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

/**
 * Runs `ldl prep` with the given arguments (without `node` and the script) and returns the exit
 * code: 0 done, 1 some photos failed with an error, 2 bad arguments.
 */
export async function main(argv: string[], log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'align') return await align(rest, log);
    if (command === 'crop') return await crop(rest, log);
    if (command === undefined || command === '--help' || command === '-h') {
      log(USAGE);
      return command === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command '${command}' (expected align or crop).`);
  } catch (err) {
    if (err instanceof UsageError) {
      log(`ldl prep ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}
