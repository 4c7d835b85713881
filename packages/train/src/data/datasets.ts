/**
 * Several datasets in one run: each named on the command line by its path and read by its own reader
 * (MegaAge-Asian lists, a MORPH-style CSV, a folder of UTKFace-named photos).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { type DuplicateGroup, type DuplicatePolicy, describeDuplicates, sharedImages } from './duplicates';
import type { ExtraTrain } from '../run/presets';
import {
  type AgeSample,
  type BadRow,
  type CsvReaderOptions,
  describeSkipped,
  type MorphColumns,
  type ReaderOptions,
  type ReadResult,
  readAlignedCsv,
  readMegaAge,
  readMorphCsv,
  readUtkFaceDir,
  splitSamples,
  UTKFACE_RACES,
} from './readers';

/** Dataset layouts (`ldl train --data-format`); see {@link readDataset}. */
export const DATASET_FORMATS = ['megaage', 'morph-csv', 'utkface-dir'] as const;

/** The layout of a dataset (the format {@link readDataset} chose for a path). */
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/**
 * Reads one dataset named by `spec`, choosing the reader from what is there:
 * - `FILE.csv` → a MORPH-style CSV (`photo,age[,gender,race]`, photos relative to the CSV; UTKFace's
 *   `utkface.csv`);
 * - `DIR` with `list/train_name.txt` → the MegaAge-Asian layout, its `train` split (`DIR:test` for another);
 * - any other `DIR` → UTKFace-named photos (`age_gender_race_date.jpg`).
 * @throws Error naming the spec when the path does not exist, or the reader's error for a bad row.
 */
export async function readDataset(spec: string, reader: ReaderOptions = {}): Promise<ReadResult & { format: DatasetFormat; path: string }> {
  const match = /^(.*?)(?::(train|test|[A-Za-z0-9_-]+))?$/.exec(spec);
  const file = path.resolve(match?.[2] && !existsSync(spec) ? match[1]! : spec);
  const split = match?.[2] && !existsSync(spec) ? match[2] : 'train';
  if (!existsSync(file)) throw new Error(`Error in readDataset: ${spec} must be a MegaAge-Asian folder, a MORPH-style CSV or a folder of UTKFace photos, but ${file} does not exist.`);
  if (statSync(file).isFile()) {
    if (!file.toLowerCase().endsWith('.csv')) throw new Error(`Error in readDataset: ${spec} must be a .csv file (MORPH-style) or a folder, but got another file.`);
    return { ...(await readMorphCsv(file, reader)), format: 'morph-csv', path: file };
  }
  if (existsSync(path.join(file, 'list', `${split}_name.txt`))) return { ...(await readMegaAge(file, split, reader)), format: 'megaage', path: file };
  return { ...(await readUtkFaceDir(file, reader)), format: 'utkface-dir', path: file };
}

/** Notes on the duplicates a reader found (count, first few, conflicting labels), or none. */
export function noteDuplicates(label: string, groups: readonly DuplicateGroup[], policy: DuplicatePolicy = 'keep'): string[] {
  if (groups.length === 0) return [];
  const action = { keep: 'all rows kept', merge: 'each merged into one row with the mean age', drop: 'all but the first row dropped' }[policy];
  return [`WARNING ${label}: ${describeDuplicates(groups, 3).replace(/:\n/, `; ${action} (--duplicates ${policy}); kept on one side of every split:\n`).replace(/\n {2}/g, '\n    ')}`];
}

/** A note on the rows a reader skipped (count, first one), or none. */
export function noteSkipped(label: string, skipped: Parameters<typeof describeSkipped>[0]): string[] {
  return skipped.length ? [`${label}: ${describeSkipped(skipped).split('\n')[0].replace(/:$/, '')} (--skip-bad); first: ${skipped[0].file}${skipped[0].line ? ` line ${skipped[0].line}` : ''}: ${skipped[0].reason}`] : [];
}

/**
 * Where a run's samples come from, for {@link loadTrainTestData} and {@link loadEvalData} (`ldl train|eval`'s
 * data flags). Paths are absolute or relative to the working directory.
 */
export interface DataOptions {
  /** The data set: a MegaAge-Asian folder, a MORPH-style CSV or a folder of UTKFace-named photos. */
  path: string;
  /** Its layout; detected as {@link readDataset} does when absent. */
  format?: DatasetFormat;
  /** `megaage`: an aligned CSV (`photo,age,deg,box…`, or the `faces.csv` of face-prep's align, ages joined from `list/train_*.txt`) for the train split. */
  trainCsv?: string;
  /** `megaage`: the same for the test split. */
  testCsv?: string;
  /** `morph-csv`: the `faces.csv` of face-prep's align (crops by its boxes), ages from the CSV joined by photo name. */
  faces?: string;
  /** `morph-csv`: the CSV is an aligned one (`photo,age,deg,box1..box4[,gender,race]`). @default false */
  aligned?: boolean;
  /** `morph-csv`: folder photo paths are relative to. @default the CSV's folder */
  imageRoot?: string;
  /** `morph-csv`: column names. @default photo, age, gender, race */
  columns?: MorphColumns;
  /** `morph-csv`: race labels in class order. @default UTKFACE_RACES */
  raceClasses?: readonly string[];
  /** `morph-csv`, `utkface-dir`: seed of the 80/20 train/test split (the MORPH protocol). @default 0 */
  splitSeed?: number;
  /** A note for the log naming where the data came from (e.g. synthetic). @default `data: <path>` */
  note?: string;
}

/** Samples of a run: train and test, with notes for the log and the report, and a title. */
export interface RunData {
  /** Training samples. */
  train: AgeSample[];
  /** Test samples. */
  test: AgeSample[];
  /** Facts for the log and report (source, skipped rows, duplicates…). */
  notes: string[];
  /** Title for the report (`'<format> data in <name>'`). */
  title: string;
  /** Every row the readers skipped (`skipBad`), for `RUN_DIR/skipped.csv`. @default [] */
  skipped?: BadRow[];
}

/** The layout of `file`: a file is a CSV; a folder with MegaAge lists (`list/*_name.txt`, any split: a test-only set counts) is `megaage`. */
function detectFormat(file: string): DatasetFormat {
  if (statSync(file).isFile()) return 'morph-csv';
  const lists = path.join(file, 'list');
  const megaage = existsSync(lists) && statSync(lists).isDirectory() && readdirSync(lists).some((n) => n.endsWith('_name.txt'));
  return megaage ? 'megaage' : 'utkface-dir';
}

async function readMegaAgeSplit(root: string, split: 'train' | 'test', csv: string | undefined, reader: ReaderOptions): Promise<ReadResult> {
  if (!csv) return readMegaAge(root, split, reader);
  // A faces.csv straight from face-prep's align has no ages: they come from the split's own lists,
  // joined by photo path relative to the data folder (the images themselves are checked through the CSV's
  // rows). One faces.csv may cover both splits (align ran over the whole folder): the other split's rows are left out.
  const labels = async () => (await readMegaAge(root, split, { ...reader, skipBad: true, verifyImages: 'none', duplicates: 'keep', limit: undefined })).samples;
  const other = split === 'train' ? 'test' : 'train';
  return readAlignedCsv(path.resolve(csv), { ...reader, imageRoot: root, labels, excludeDirs: [path.join(root, other)], rowForEveryLabel: true });
}

async function readSplitTable(file: string, o: DataOptions, reader: ReaderOptions): Promise<ReadResult> {
  const options: CsvReaderOptions = { ...reader, imageRoot: o.imageRoot ? path.resolve(o.imageRoot) : undefined, raceClasses: o.raceClasses ?? UTKFACE_RACES, columns: o.columns };
  const faces = o.faces ? path.resolve(o.faces) : undefined;
  const labels = async () => (await readMorphCsv(file, { ...options, skipBad: true, verifyImages: 'none', duplicates: 'keep', limit: undefined })).samples;
  if (faces) return readAlignedCsv(faces, { ...options, columns: undefined, labels }); // faces.csv's own column names
  return o.aligned ? readAlignedCsv(file, options) : readMorphCsv(file, options);
}

/**
 * Reads a run's train and test samples: `megaage` from its own `train`/`test` lists (or aligned CSVs);
 * `morph-csv` and `utkface-dir` split 80/20 with `splitSeed` (MORPH's protocol).
 * @throws Error naming the path when it does not exist, or a reader's error for a bad row (see `ReaderOptions.skipBad`).
 */
export async function loadTrainTestData(o: DataOptions, reader: ReaderOptions = {}): Promise<RunData> {
  const file = path.resolve(o.path);
  if (!existsSync(file)) throw new Error(`Error in loadTrainTestData: data ${o.path} must exist (a MegaAge-Asian folder, a MORPH-style CSV or a folder of UTKFace photos), but ${file} does not.`);
  const format = o.format ?? detectFormat(file);
  const note = o.note ?? `data: ${file} (${format})`;
  const title = `${path.basename(file)} (${format})`;
  if (format === 'megaage') {
    const [train, test] = await Promise.all([readMegaAgeSplit(file, 'train', o.trainCsv, reader), readMegaAgeSplit(file, 'test', o.testCsv, reader)]);
    return {
      train: train.samples,
      test: test.samples,
      notes: [note, ...(train.notes ?? []).map((n) => `train: ${n}`), ...(test.notes ?? []).map((n) => `test: ${n}`), ...noteSkipped('train', train.skipped), ...noteSkipped('test', test.skipped), ...noteDuplicates('train', train.duplicates, reader.duplicates), ...noteDuplicates('test', test.duplicates, reader.duplicates)],
      title,
      skipped: [...train.skipped, ...test.skipped],
    };
  }
  const seed = o.splitSeed ?? 0;
  const r = format === 'morph-csv' ? await readSplitTable(file, o, reader) : await readUtkFaceDir(file, reader);
  const split = splitSamples(r.samples, seed, 0.2);
  const label = format === 'morph-csv' ? 'csv' : 'folder';
  return {
    ...split,
    notes: [`${note}${o.faces ? `, boxes from ${path.resolve(o.faces)}` : ''}; ${r.samples.length} rows, 80/20 split with --split-seed ${seed}`, ...(r.notes ?? []), ...noteSkipped(label, r.skipped), ...noteDuplicates(label, r.duplicates, reader.duplicates)],
    title,
    skipped: r.skipped,
  };
}

/**
 * The samples `ldl eval` scores: one split of {@link loadTrainTestData}'s. A `megaage` folder's other
 * split is not read at all (a test-only set with empty or no train lists works, and a broken train image
 * does not stop the test's evaluation); a table (`morph-csv`, `utkface-dir`) is read whole and split with
 * the same seed as in training, so its test part is the one the run was scored on.
 * @throws Error as {@link loadTrainTestData}, for the split read.
 */
export async function loadEvalData(o: DataOptions, split: 'train' | 'test', reader: ReaderOptions = {}): Promise<{ samples: AgeSample[]; notes: string[] }> {
  const file = path.resolve(o.path);
  if (!existsSync(file)) throw new Error(`Error in loadEvalData: data ${o.path} must exist (a MegaAge-Asian folder, a MORPH-style CSV or a folder of UTKFace photos), but ${file} does not.`);
  const format = o.format ?? detectFormat(file);
  if (format !== 'megaage') {
    const data = await loadTrainTestData({ ...o, format }, reader);
    return { samples: data[split], notes: [...data.notes, `split: ${split}`] };
  }
  const r = await readMegaAgeSplit(file, split, split === 'train' ? o.trainCsv : o.testCsv, reader);
  return {
    samples: r.samples,
    notes: [
      o.note ?? `data: ${file} (${format})`,
      ...(r.notes ?? []).map((n) => `${split}: ${n}`),
      ...noteSkipped(split, r.skipped),
      ...noteDuplicates(split, r.duplicates, reader.duplicates),
      `split: ${split} (the only split read)`,
    ],
  };
}

/**
 * Adds extra training data to a run's samples and splits off the validation samples: with extra data and
 * `valFraction > 0`, validation is split (seed `splitSeed`) from the run's own training data first, so the
 * best epoch is the best on this task. An `optional` entry (a preset's own extra data) that does not exist
 * is skipped with a note; any other entry (a flag, a config file) must exist. Extra data is another data
 * set added to training only (never validated or scored), so it is read leniently and everything is
 * reported: ages above the last class (`reader.maxAge`, 100: UTKFace goes to 116) are clipped to it —
 * a 110-year-old face is a face of the oldest class, and dropping the few there would thin the class that
 * has the fewest faces — with the count in the notes, and its other bad rows (e.g. an empty gender) are
 * skipped with a count and listed in `skipped` (`RUN_DIR/skipped.csv`), whatever `reader.skipBad` says.
 * Warns in the notes when test images are also in the training data.
 * `data` is left as it is.
 * @returns a new `RunData` (train with the extra samples, the notes added), the validation samples
 *   (`undefined` when nothing was split off) and the entries read (`used`: the skipped ones left out).
 * @throws Error from {@link readDataset} for an entry that is not optional and does not exist, or a bad row.
 */
export async function addExtraTrain(
  data: RunData,
  extras: readonly { spec: ExtraTrain; optional: boolean }[],
  options: { valFraction: number; splitSeed: number; reader: ReaderOptions },
): Promise<{ data: RunData; val: AgeSample[] | undefined; used: ExtraTrain[] }> {
  let val: AgeSample[] | undefined;
  const used: ExtraTrain[] = [];
  let train = data.train;
  const notes = [...data.notes];
  const skipped = [...(data.skipped ?? [])];
  if (extras.length > 0 && options.valFraction > 0) {
    const split = splitSamples(data.train, options.splitSeed, options.valFraction);
    train = split.train;
    val = split.test;
    notes.push(`validation: ${(options.valFraction * 100).toFixed(0)} % of the run's own training list (seed ${options.splitSeed}), before extra data is added; the test set is used only for the final report`);
  }
  for (const { spec: extra, optional } of extras) {
    const source = typeof extra === 'string' ? extra : extra.path;
    if (optional && !existsSync(source.replace(/:[A-Za-z0-9_-]+$/, ''))) {
      notes.push(`extra training data ${source} (preset) not found: skipped`);
      continue;
    }
    const r = await readDataset(source, { ...options.reader, skipBad: true, clipAboveMaxAge: true });
    used.push(extra);
    const part = typeof extra === 'string' ? null : extra.trainPartOf;
    const samples = part ? splitSamples(r.samples, part.seed, part.testFraction).train : r.samples;
    train = [...train, ...samples];
    skipped.push(...r.skipped);
    notes.push(
      `extra training data: ${r.path} (${r.format}), ${samples.length} samples` +
        (part ? ` (the training part of its seeded ${Math.round(100 * (1 - part.testFraction))}/${Math.round(100 * part.testFraction)} split, seed ${part.seed}; its test part stays unseen)` : ''),
      ...(r.notes ?? []).map((n) => `${path.basename(r.path)}: ${n}`),
      ...noteSkipped(path.basename(r.path), r.skipped).map((n) => n.replace('(--skip-bad)', '(extra data: bad rows skipped)')),
    );
  }
  const leaked = sharedImages(train, data.test);
  if (leaked.length > 0) {
    notes.push(
      `WARNING: ${leaked.length} test image${leaked.length === 1 ? ' is' : 's are'} also in the training data (same path, byte-identical or a near-duplicate by perceptual hash), so test figures are optimistic; first: ${leaked
        .slice(0, 3)
        .map((s) => `${s.path} (${s.source.file}${s.source.line ? ` line ${s.source.line}` : ''})`)
        .join(', ')}`,
    );
  }
  return { data: { ...data, train, notes, skipped }, val, used };
}
