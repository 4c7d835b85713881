/**
 * Batch processing behind `ldl prep`: align a folder of photos into `faces.csv` on
 * worker threads (resumable, one appended row per photo), and write the margin-expanded crops.
 */
import { closeSync, existsSync, mkdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import cliProgress from 'cli-progress';
import { type AlignOptions, type AlignResult, alignFace } from './align';
import { facesCsvHeader, formatFaceRow, parseFacesCsv } from './csv';
import { type Shard, selectShard } from './shard';
import { openResumableCsv } from './shard-csv';
import { listImages } from './files';
import { type DefaultDetectorOptions, type FaceDetector, createDefaultDetector } from './detector';
import { expandBox } from './geometry';
import { cropResize, decodeImage, rotateExpand, toSharp } from './image';

/** Options of {@link alignImages}. */
export interface AlignImagesOptions extends AlignOptions {
  /** Folder the photo paths are relative to. */
  imagesDir: string;
  /** Photos to align, relative to `imagesDir`. @default every image under `imagesDir` */
  photos?: string[];
  /** Output CSV; rows already in it are skipped (resume). */
  out: string;
  /**
   * Worker threads, each with its own tfjs and detector; `0` runs in this thread.
   * @default min(2, available CPU cores)
   */
  workers?: number;
  /** Options of the default detector each worker creates. */
  detectorOptions?: DefaultDetectorOptions;
  /** A detector to use instead of the default one; only with `workers: 0`. */
  detector?: FaceDetector;
  /** Show a progress bar on stderr. @default process.stderr.isTTY */
  progress?: boolean;
  /** Align only this shard's photos ({@link selectShard}); `out` is then the shard's own output ({@link shardPath}). @default null (all) */
  shard?: Shard | null;
}

/** What {@link alignImages} did. */
export interface AlignSummary {
  /** Photos asked for. */
  total: number;
  /** Photos already in the CSV, not processed again. */
  skipped: number;
  ok: number;
  noFace: number;
  unreadable: number;
  /** Photos that raised an unexpected error (no row written, so a rerun retries them). */
  errors: { photo: string; message: string }[];
  /** Wall time of the processing, in seconds. */
  seconds: number;
  /** Processed photos per second. */
  imagesPerSecond: number;
}

/** Messages between {@link alignImages} and its workers. */
export type WorkerRequest =
  | { type: 'init'; detectorOptions: DefaultDetectorOptions; alignOptions: AlignOptions }
  | { type: 'job'; id: number; path: string };
/** Replies of an align worker. */
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: AlignResult }
  | { type: 'error'; id?: number; message: string };

/** Starts the worker script next to this module; from TypeScript sources it is loaded through tsx. */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./align-worker.js', import.meta.url));
  const href = JSON.stringify(new URL('./align-worker.ts', import.meta.url).href);
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${href}); });`, { eval: true });
}

type Runner = { run(path: string): Promise<AlignResult>; close(): Promise<void>; capacity: number };

async function inThreadRunner(detector: FaceDetector, alignOptions: AlignOptions): Promise<Runner> {
  return { run: (path) => alignFace(detector, path, alignOptions), close: async () => undefined, capacity: 1 };
}

async function workerRunner(count: number, detectorOptions: DefaultDetectorOptions, alignOptions: AlignOptions): Promise<Runner> {
  const pending = new Map<number, { resolve(r: AlignResult): void; reject(e: Error): void }>();
  const load = new Map<Worker, number>();
  let nextId = 0;
  const workers = await Promise.all(
    Array.from({ length: count }, () => {
      const worker = startWorker();
      return new Promise<Worker>((resolve, reject) => {
        worker.on('message', (msg: WorkerReply) => {
          if (msg.type === 'ready') {
            load.set(worker, 0);
            resolve(worker);
          } else if (msg.type === 'error' && msg.id === undefined) {
            reject(new Error(`align worker failed to start: ${msg.message}`));
          } else if (msg.id !== undefined) {
            const p = pending.get(msg.id);
            pending.delete(msg.id);
            load.set(worker, (load.get(worker) ?? 1) - 1);
            if (msg.type === 'result') p?.resolve(msg.result);
            else p?.reject(new Error(msg.message));
          }
        });
        worker.on('error', (err) => {
          reject(err);
          for (const p of pending.values()) p.reject(err);
          pending.clear();
        });
        worker.postMessage({ type: 'init', detectorOptions, alignOptions } satisfies WorkerRequest);
      });
    }),
  );
  return {
    capacity: 2 * count,
    run(path) {
      const worker = workers.reduce((a, b) => ((load.get(a) ?? 0) <= (load.get(b) ?? 0) ? a : b));
      const id = nextId++;
      load.set(worker, (load.get(worker) ?? 0) + 1);
      return new Promise<AlignResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ type: 'job', id, path } satisfies WorkerRequest);
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

function progressBar(enabled: boolean, label: string, total: number): cliProgress.SingleBar | null {
  if (!enabled) return null;
  const bar = new cliProgress.SingleBar(
    { format: `${label} |{bar}| {value}/{total} {percentage}% | ETA {eta_formatted} | {rate} img/s`, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { rate: '-' });
  return bar;
}

/** Runs `task` on `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await task(items[next++]);
  });
  await Promise.all(lanes);
}

/**
 * Two-pass alignment of many photos into `faces.csv` (columns of {@link FACES_CSV_COLUMNS}). Each row
 * is appended as soon as its photo is done, in completion order; photos already in the CSV are
 * skipped, so an interrupted run resumes where it stopped. Bad files get their status and never stop
 * the run.
 */
export async function alignImages(options: AlignImagesOptions): Promise<AlignSummary> {
  const { imagesDir, out, detectorOptions = {}, detector, progress = process.stderr.isTTY === true, photos: photosOption, workers: workersOption, shard, ...alignOptions } = options;
  const workers = workersOption ?? Math.min(2, availableParallelism());
  if (!Number.isInteger(workers) || workers < 0) {
    throw new Error(`Error in alignImages: workers must be an integer >= 0, but got ${workers}.`);
  }
  if (detector && workers > 0) {
    throw new Error(`Error in alignImages: detector must be used with workers: 0 (a detector instance cannot move to a worker thread), but got workers: ${workers}.`);
  }
  const photos = selectShard(photosOption ?? listImages(imagesDir), shard ?? null, (p) => p);
  const { fd, done } = openResumableCsv(out, facesCsvHeader(), (text) => parseFacesCsv(text, out).map((r) => r.photo));
  const todo = photos.filter((p) => !done.has(p));
  const summary: AlignSummary = { total: photos.length, skipped: photos.length - todo.length, ok: 0, noFace: 0, unreadable: 0, errors: [], seconds: 0, imagesPerSecond: 0 };
  const start = performance.now();
  const bar = progressBar(progress, 'align', todo.length);
  let runner: Runner | undefined;
  try {
    if (todo.length > 0) {
      runner =
        workers === 0
          ? await inThreadRunner(detector ?? (await createDefaultDetector(detectorOptions)), alignOptions)
          : await workerRunner(Math.min(workers, todo.length), detectorOptions, alignOptions);
    }
    const active = runner;
    if (active) {
      let finished = 0;
      const t0 = performance.now();
      await pool(todo, active.capacity, async (photo) => {
        try {
          const result = await active.run(join(imagesDir, photo));
          writeSync(fd, formatFaceRow(photo, result));
          if (result.status === 'ok') summary.ok++;
          else if (result.status === 'no_face') summary.noFace++;
          else summary.unreadable++;
        } catch (err) {
          summary.errors.push({ photo, message: err instanceof Error ? err.message : String(err) });
        }
        finished++;
        bar?.update(finished, { rate: (finished / ((performance.now() - t0) / 1000)).toFixed(2) });
      });
    }
  } finally {
    bar?.stop();
    closeSync(fd);
    await runner?.close();
  }
  summary.seconds = (performance.now() - start) / 1000;
  summary.imagesPerSecond = todo.length / summary.seconds;
  return summary;
}

/** Options of {@link cropImages}. */
export interface CropImagesOptions {
  /** `faces.csv` from {@link alignImages}. */
  csv: string;
  /** Folder the photo paths of the CSV are relative to. */
  imagesDir: string;
  /** Output folder; each crop keeps its photo's relative path. */
  outDir: string;
  /**
   * Margin ratio of `expandBox` (the paper uses 0, 0.2, 0.4).
   * @default 0.4
   */
  margin?: number;
  /**
   * Side of the square crops in pixels.
   * @default 224
   */
  size?: number;
  /** Rewrite crops that exist already. @default false */
  overwrite?: boolean;
  /**
   * Photos processed at once (sharp runs on libuv threads).
   * @default 4
   */
  concurrency?: number;
  /** Show a progress bar on stderr. @default process.stderr.isTTY */
  progress?: boolean;
  /** Crop only the rows of this shard's photos ({@link selectShard}). @default null (all) */
  shard?: Shard | null;
}

/** What {@link cropImages} did. */
export interface CropSummary {
  /** Rows in the CSV (of the shard, with `shard`). */
  total: number;
  written: number;
  /** Crops already present (kept). */
  existing: number;
  /** Rows whose status is not `ok`. */
  notAligned: number;
  errors: { photo: string; message: string }[];
  seconds: number;
}

/**
 * Writes the crop of every `ok` row of `faces.csv`: rotate the photo by `deg` with canvas expansion,
 * grow the pass-2 box by `margin` with `expandBox`, crop and resize to `size × size`. JPEG crops are
 * written at quality 95; other extensions keep their format.
 */
export async function cropImages(options: CropImagesOptions): Promise<CropSummary> {
  const { csv, imagesDir, outDir, margin = 0.4, size = 224, overwrite = false, concurrency = 4, progress = process.stderr.isTTY === true, shard = null } = options;
  if (!(margin >= 0) || !Number.isFinite(margin)) throw new Error(`Error in cropImages: margin must be a finite number >= 0, but got ${margin}.`);
  if (!Number.isInteger(size) || size < 1) throw new Error(`Error in cropImages: size must be a positive integer, but got ${size}.`);
  const rows = selectShard(parseFacesCsv(readFileSync(csv, 'utf8'), csv), shard, (r) => r.photo);
  const aligned = rows.filter((r) => r.status === 'ok');
  const summary: CropSummary = { total: rows.length, written: 0, existing: 0, notAligned: rows.length - aligned.length, errors: [], seconds: 0 };
  const start = performance.now();
  const bar = progressBar(progress, 'crop', aligned.length);
  let finished = 0;
  try {
    await pool(aligned, concurrency, async (row) => {
      const target = join(outDir, row.photo);
      try {
        if (!overwrite && existsSync(target)) {
          summary.existing++;
        } else if (row.deg !== null && row.box !== null) {
          const rotated = await rotateExpand(await decodeImage(join(imagesDir, row.photo)), row.deg);
          const box = expandBox(row.box, margin, rotated);
          const crop = await cropResize(rotated, box, size);
          mkdirSync(dirname(target), { recursive: true });
          const ext = extname(target).toLowerCase();
          const img = toSharp(crop);
          // written beside the target and renamed, so a kill never leaves a cut crop that a rerun would keep
          const tmp = `${target}.tmp-${process.pid}${ext}`;
          await (ext === '.jpg' || ext === '.jpeg' ? img.jpeg({ quality: 95 }) : img).toFile(tmp);
          renameSync(tmp, target);
          summary.written++;
        }
      } catch (err) {
        summary.errors.push({ photo: row.photo, message: err instanceof Error ? err.message : String(err) });
      }
      bar?.update(++finished);
    });
  } finally {
    bar?.stop();
  }
  summary.seconds = (performance.now() - start) / 1000;
  return summary;
}
