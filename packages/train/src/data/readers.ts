/**
 * Dataset readers: MegaAge-Asian list files, MORPH-style CSV (and Album2 file names), UTKFace file
 * names, and the paper's aligned CSV. Every reader validates each row and either stops at the first
 * bad one with an error naming the file and line, or (with `skipBad`) skips it and reports it.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { parseCsv, parseDecimal } from '@ldl/core/node';
import { type Box, decodeImage, readImageSize } from '@ldl/face-prep';
import { Rng } from '@ldl/core';
import {
  applyDuplicatePolicy,
  DUPLICATE_POLICIES,
  type DuplicateGroup,
  type DuplicatePolicy,
  duplicateKey,
  findDuplicates,
  markNearDuplicates,
  perceptualHash,
} from './duplicates';
import { pairParallelLists } from './lists';
import { boxProblem } from './rowchecks';

/** A face box `[x1, y1, x2, y2]` in pixels (the type of @ldl/face-prep). */
export type { Box };

/** Where a sample came from, for error messages. */
export interface SampleSource {
  /** The list/CSV file (or directory, for labels in file names). */
  file: string;
  /** 1-based line number in `file` (0 when the label came from a file name). */
  line: number;
}

/** One labelled image. */
export interface AgeSample {
  /** Absolute path of the image. */
  path: string;
  /** Age label in years. */
  age: number;
  /** 0 = male, 1 = female (when the data set has it). */
  gender?: number;
  /** Index into the reader's `raceClasses` (when the data set has it). */
  ethnicity?: number;
  /** Rotation in degrees (PIL convention, counter-clockwise) from `ldl prep align`. */
  deg?: number;
  /** Face box in the rotated (expanded) frame, from `ldl prep align`. */
  box?: Box;
  /** Origin of the label. */
  source: SampleSource;
  /** SHA-256 (hex) of the image file, taken by the reader's up-front check (finds byte-identical copies). */
  contentHash?: string;
  /** Perceptual hash (`perceptualHash`, 64 hex digits) of the decoded image, taken by the `'decode'` check (finds near-duplicates). */
  perceptualHash?: string;
  /** The key of the near-duplicate group this sample belongs to (set by the reader; see `duplicateKey`). */
  nearDuplicateOf?: string;
}

/** A row that was skipped because of `skipBad`. */
export interface BadRow extends SampleSource {
  /** Why the row was rejected. */
  reason: string;
}

/** What every reader returns. */
export interface ReadResult {
  /** The valid samples, in file order. */
  samples: AgeSample[];
  /** Rows skipped with `skipBad: true` (empty otherwise: a bad row throws). */
  skipped: BadRow[];
  /** Paths listed more than once and byte-identical images, as found before the `duplicates` policy was applied. */
  duplicates: DuplicateGroup[];
  /** Facts about the read for the log, e.g. rows of a `faces.csv` left out as another split's photos. */
  notes?: string[];
}

/** How thoroughly readers check that image files are usable. */
export type VerifyImages = 'none' | 'exists' | 'header' | 'decode';

/** Options shared by all readers. */
export interface ReaderOptions {
  /** Skip bad rows and report them in `skipped` instead of throwing. @default false */
  skipBad?: boolean;
  /** Smallest valid age. @default 0 */
  minAge?: number;
  /** Largest valid age. @default 100 */
  maxAge?: number;
  /**
   * Image check per row, done when the rows are read so that no run stops late: `'decode'` decodes
   * every image with `decodeImage` of @ldl/face-prep, the one decoder the loader, eval, predict and
   * face-prep use (so a file that passes is usable everywhere); `'header'` reads only the header
   * (fast, but a truncated file passes and stops the run when the loader reaches it); `'exists'`
   * (stat); `'none'`. Except with `'none'`, a sample's face box is also checked against the image size
   * (after its rotation by `deg`): a box partly outside is clamped as the loader does, one that lies
   * entirely outside (or is empty after clamping) is a bad row.
   * @default 'decode'
   */
  verifyImages?: VerifyImages;
  /**
   * Rows that show the same image (a path listed again, or a byte-identical file, found by SHA-256 with
   * `verifyImages` `'decode'` or `'header'`; or a near-duplicate — the same photo re-encoded or resized —
   * found by a perceptual hash with `'decode'`, see `perceptualHash`): `'keep'` every row, `'merge'` each
   * group into its first row with the mean age, or `'drop'` all but the first row. Always reported in
   * `duplicates`; seeded splits keep a group on one side whatever the policy.
   * @default 'keep'
   */
  duplicates?: DuplicatePolicy;
  /**
   * An age above `maxAge` (a number, e.g. UTKFace's 101–116 for a 0–100 head) becomes `maxAge`, the model's
   * last class, instead of a bad row; the count is noted in the result's `notes`. For extra training data,
   * whose faces are real faces of the oldest class (see `addExtraTrain`). @default false
   */
  clipAboveMaxAge?: boolean;
  /**
   * Keep only the first `limit` valid rows (before the image checks): a quick check that a command starts,
   * e.g. `ldl train --limit 32`; noted in the result's `notes`. @default no limit
   */
  limit?: number;
}

/** Error thrown for a bad row; carries the file and line. */
export class DatasetError extends Error {
  /** File that holds the bad row. */
  readonly file: string;
  /** 1-based line (0 for labels taken from a file name). */
  readonly line: number;
  constructor(fn: string, file: string, line: number, reason: string) {
    super(`Error in ${fn}: ${file}${line > 0 ? ` line ${line}` : ''}: ${reason}`);
    this.name = 'DatasetError';
    this.file = file;
    this.line = line;
  }
}

/** The UTKFace race order (its file-name codes 0..4); the default `raceClasses`. */
export const UTKFACE_RACES = ['White', 'Black', 'Asian', 'Indian', 'Others'] as const;

class RowCollector {
  readonly samples: AgeSample[] = [];
  readonly skipped: BadRow[] = [];
  private clipped = 0;
  constructor(
    private readonly fn: string,
    private readonly skipBad: boolean,
    private readonly options: Pick<ReaderOptions, 'minAge' | 'maxAge' | 'clipAboveMaxAge' | 'limit'> = {},
  ) {}

  /** An age label, or why it is bad; with `clipAboveMaxAge`, one above `maxAge` is `maxAge` (counted). */
  age(text: string): number | string {
    const { minAge = 0, maxAge = 100, clipAboveMaxAge = false } = this.options;
    const age = parseAge(text, minAge, clipAboveMaxAge ? Number.POSITIVE_INFINITY : maxAge);
    if (typeof age === 'number' && age > maxAge) {
      this.clipped++;
      return maxAge;
    }
    return age;
  }

  bad(file: string, line: number, reason: string): void {
    if (!this.skipBad) throw new DatasetError(this.fn, file, line, reason);
    this.skipped.push({ file, line, reason });
  }

  async finish(verify: VerifyImages, emptyFile: string, policy: DuplicatePolicy = 'keep'): Promise<ReadResult> {
    if (!DUPLICATE_POLICIES.includes(policy)) {
      throw new Error(`Error in ${this.fn}: duplicates must be one of ${DUPLICATE_POLICIES.join(', ')}, but got ${JSON.stringify(policy)}.`);
    }
    const { limit, maxAge = 100 } = this.options;
    const rows = limit !== undefined && limit < this.samples.length ? this.samples.slice(0, limit) : this.samples;
    const notes: string[] = [];
    if (this.clipped > 0) notes.push(`${this.clipped} age${this.clipped === 1 ? '' : 's'} above ${maxAge} clipped to ${maxAge} (the model's last class)`);
    if (rows !== this.samples) notes.push(`--limit ${limit}: the first ${limit} of ${this.samples.length} valid rows kept`);
    const checked = await verifyAll(rows, verify);
    const samples: AgeSample[] = [];
    checked.forEach((check, i) => {
      const s = rows[i];
      if (check.problem !== null) this.bad(s.source.file, s.source.line, check.problem);
      else samples.push(check.hash ? { ...s, contentHash: check.hash, ...(check.perceptual ? { perceptualHash: check.perceptual } : {}) } : s);
    });
    if (samples.length === 0) {
      throw new Error(
        `Error in ${this.fn}: ${emptyFile} must list at least one valid sample, but got 0` +
          (this.skipped.length ? ` (${this.skipped.length} bad rows skipped).` : '.'),
      );
    }
    const duplicates = findDuplicates(samples);
    return { samples: markNearDuplicates(applyDuplicatePolicy(samples, duplicates, policy), duplicates), skipped: this.skipped, duplicates, ...(notes.length ? { notes } : {}) };
  }
}

/** What the up-front image check found: a reason the row is bad, or the image's size (when read). */
type ImageCheck = { problem: string } | { problem: null; hash?: string; perceptual?: string };

async function verifyOne(sample: AgeSample, verify: VerifyImages): Promise<ImageCheck> {
  const file = sample.path;
  if (verify === 'none') return { problem: null };
  try {
    const stat = await fsp.stat(file);
    if (!stat.isFile()) return { problem: `image ${file} is not a file` };
  } catch {
    return { problem: `image ${file} does not exist` };
  }
  if (verify === 'exists' && !sample.box) return { problem: null };
  let size: { width: number; height: number };
  let hash: string | undefined;
  let perceptual: string | undefined;
  try {
    const bytes = verify === 'exists' ? null : await fsp.readFile(file);
    hash = bytes ? createHash('sha256').update(bytes).digest('hex') : undefined;
    const input = bytes ?? file;
    if (verify === 'decode') {
      const image = await decodeImage(input);
      perceptual = perceptualHash(image); // from the pixels at hand: near-duplicates cost no second decode
      size = image;
    } else size = await readImageSize(input);
  } catch (e) {
    const cause = (e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message;
    return { problem: `image ${file} cannot be decoded (${cause.split('\n')[0]})` };
  }
  if (sample.box) {
    const problem = boxProblem(sample.box, sample.deg ?? 0, size);
    if (problem) return { problem };
  }
  return { problem: null, hash, perceptual };
}

async function verifyAll(samples: AgeSample[], verify: VerifyImages): Promise<ImageCheck[]> {
  const out: ImageCheck[] = new Array(samples.length);
  let next = 0;
  const worker = async () => {
    while (next < samples.length) {
      const i = next++;
      out[i] = await verifyOne(samples[i], verify);
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, samples.length) }, worker));
  return out;
}

function parseAge(text: string, minAge: number, maxAge: number): number | string {
  const t = text.trim();
  const age = parseDecimal(t);
  if (!Number.isFinite(age) || age < minAge || age > maxAge) {
    return `age must be a number in [${minAge}, ${maxAge}], but got ${JSON.stringify(text)}`;
  }
  return age;
}

/** Parses a gender label: `male`/`m`/`0` → 0, `female`/`f`/`1` → 1 (case-insensitive); otherwise a reason. */
export function parseGender(text: string): number | string {
  const t = text.trim().toLowerCase();
  if (t === 'male' || t === 'm' || t === '0') return 0;
  if (t === 'female' || t === 'f' || t === '1') return 1;
  return `gender must be male/female (m/f, 0/1), but got ${JSON.stringify(text)}`;
}

/**
 * Parses a race label against `classes`: the class name (case-insensitive), its unique first letter,
 * or its index. Returns the index or a reason.
 */
export function parseRace(text: string, classes: readonly string[]): number | string {
  const t = text.trim().toLowerCase();
  const byName = classes.findIndex((c) => c.toLowerCase() === t);
  if (byName >= 0) return byName;
  const byLetter = classes.filter((c) => c[0].toLowerCase() === t);
  if (t.length === 1 && byLetter.length === 1) return classes.indexOf(byLetter[0]);
  if (/^\d+$/.test(t) && Number(t) < classes.length) return Number(t);
  return `race must be one of ${classes.join('/')}, but got ${JSON.stringify(text)}`;
}

async function readText(fn: string, file: string): Promise<string> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch {
    throw new Error(`Error in ${fn}: ${file} must be a readable file, but it does not exist or cannot be read.`);
  }
}

/**
 * Reads a MegaAge-Asian style split: `root/list/{split}_name.txt` and `root/list/{split}_age.txt`
 * (one entry a line, same order) with images in `root/{split}/NAME`, read together line by line. Lists
 * of different lengths are an error even with `skipBad` (the pairing by line would shift labels; see
 * `pairParallelLists`); a line blank or a comment (`#`) in one list only is a bad row naming both files
 * and the line (with `skipBad`, only that pair is skipped), in both lists it is ignored. Where one-sided
 * blank lines in both lists leave the lines between them in doubt (each list may hold an inserted line),
 * those lines are bad rows too: never paired silently.
 */
export async function readMegaAge(root: string, split: string, options: ReaderOptions = {}): Promise<ReadResult> {
  const fn = 'readMegaAge';
  const { skipBad = false, verifyImages = 'decode' } = options;
  const nameFile = path.resolve(root, 'list', `${split}_name.txt`);
  const ageFile = path.resolve(root, 'list', `${split}_age.txt`);
  const lines = pairParallelLists(fn, nameFile, await readText(fn, nameFile), ageFile, await readText(fn, ageFile));
  if (lines.length === 0) {
    throw new Error(`Error in ${fn}: ${nameFile} must list at least one image, but it is empty.`);
  }
  const rows = new RowCollector(fn, skipBad, options);
  for (const { line, a: name, b: ageText, outOfStep } of lines) {
    if (name === '') {
      rows.bad(nameFile, line, `image name must not be blank (or a comment) where ${ageFile} line ${line} has ${JSON.stringify(ageText)}`);
      continue;
    }
    if (ageText === '') {
      rows.bad(ageFile, line, `age must not be blank (or a comment) where ${nameFile} line ${line} has ${JSON.stringify(name)}`);
      continue;
    }
    if (outOfStep) {
      rows.bad(nameFile, line, `${JSON.stringify(name)} (age ${JSON.stringify(ageText)}) is not paired: ${outOfStep}`);
      continue;
    }
    const age = rows.age(ageText);
    if (typeof age === 'string') {
      rows.bad(ageFile, line, age);
      continue;
    }
    rows.samples.push({ path: path.resolve(root, split, name), age, source: { file: nameFile, line } });
  }
  return rows.finish(verifyImages, nameFile, options.duplicates);
}

/** Column names of a MORPH-style CSV. */
export interface MorphColumns {
  /** Image path column (relative to `imageRoot`). @default 'photo' */
  photo?: string;
  /** Age column; when absent from the file, age (and gender) come from Album2 file names. @default 'age' */
  age?: string;
  /** Gender column (optional in the file). @default 'gender' */
  gender?: string;
  /** Race column (optional in the file). @default 'race' */
  race?: string;
}

/** Options of {@link readMorphCsv} and {@link readAlignedCsv}. */
export interface CsvReaderOptions extends ReaderOptions {
  /** Column names. */
  columns?: MorphColumns;
  /** Directory that relative photo paths are resolved against. @default the CSV's directory */
  imageRoot?: string;
  /** Race classes, in label-index order (MORPH: `['B','W','A','H','O']`). @default UTKFACE_RACES */
  raceClasses?: readonly string[];
  /**
   * Labels for a CSV without an age column, such as the `faces.csv` that `ldl prep align` writes
   * (`photo,deg,box…,status`): the data set's own labelled samples (e.g. `readMegaAge(root, split)`),
   * or a function that reads them (called only when the CSV has no age column). Rows are joined to
   * labels by path, never by bare file name: a row takes the labels of the sample whose path is the
   * row's photo resolved against `imageRoot`, or else of the only sample whose path ends with the
   * row's whole relative photo path (align ran on the split's own folder: `1.jpg` of `train/1.jpg`);
   * where several samples end with it, the row is a bad row listing them; a row without one is a bad
   * row. Labelled samples that no row names are counted (see `rowForEveryLabel`).
   */
  labels?: readonly AgeSample[] | (() => Promise<readonly AgeSample[]>);
  /**
   * With `labels`: every labelled sample must have a row, as when the labels are a split's own list (MegaAge's
   * `list/{split}_*.txt`) and the CSV gives their face boxes. Labelled photos without a row (align was
   * interrupted) are then an error giving the count and the first names; with `skipBad`, each is a skipped
   * row and the count is noted. When false (the labels are a larger table, e.g. `--faces` with a MORPH-style
   * CSV, and align ran on some of its photos) the count is only noted. @default false
   */
  rowForEveryLabel?: boolean;
  /**
   * Folders whose photos are left out (counted in the read's `notes`), not bad rows: the other split's
   * folder when one `faces.csv` covers every split of a data set. @default []
   */
  excludeDirs?: readonly string[];
}

/** What a row's photo joins to: one labelled sample, several (ambiguous), or none. */
type LabelMatch = { label: AgeSample } | { candidates: AgeSample[] };

/**
 * Looks labelled samples up by the photo's absolute path, else by the whole relative photo path as
 * the end of a sample's path (`1.jpg` matches `…/train/1.jpg`, `a/1.jpg` matches `…/a/1.jpg` only).
 */
function labelLookup(labels: readonly AgeSample[]): (photo: string, photoPath: string) => LabelMatch {
  const byPath = new Map(labels.map((s) => [path.resolve(s.path), s]));
  const slash = (p: string) => p.split(path.sep).join('/');
  const all = labels.map((s) => ({ s, p: slash(path.resolve(s.path)) }));
  return (photo, photoPath) => {
    const exact = byPath.get(photoPath);
    if (exact) return { label: exact };
    if (path.isAbsolute(photo)) return { candidates: [] };
    const tail = `/${slash(path.normalize(photo)).replace(/^(\.\/)+/, '')}`;
    const candidates = all.filter((x) => x.p.endsWith(tail)).map((x) => x.s);
    return candidates.length === 1 ? { label: candidates[0] } : { candidates };
  };
}

/** The CSV a user has, in words, for error messages. */
function describeCsvFormat(file: string, header: readonly string[]): string {
  if (['deg', 'box1', 'status'].every((c) => header.includes(c))) {
    return `${file} is the faces.csv of ldl prep align (${header.join(',')}), which has no age column`;
  }
  return `${file} has no age column (columns ${header.join(',')})`;
}

/** Labels encoded in a MORPH Album2 file name such as `306916_01M45.JPG`. */
export interface Album2Name {
  /** Subject id (`306916`). */
  subject: string;
  /** Picture index of that subject (`1`). */
  index: number;
  /** 0 = male, 1 = female. */
  gender: number;
  /** Age in years (`45`). */
  age: number;
}

/** Parses a MORPH Album2 file name (`SUBJECT_NNG AA.ext`, e.g. `306916_01M45.JPG`); `null` if it does not match. */
export function parseAlbum2Name(fileName: string): Album2Name | null {
  const m = /^(\d+)_(\d+)([MF])(\d+)\.[A-Za-z]+$/.exec(path.basename(fileName));
  if (!m) return null;
  return { subject: m[1], index: Number(m[2]), gender: m[3] === 'M' ? 0 : 1, age: Number(m[4]) };
}

/** Labels encoded in a UTKFace file name `age_gender_race_date.jpg.chip.jpg`. */
export interface UtkFaceName {
  /** Age in years. */
  age: number;
  /** 0 = male, 1 = female. */
  gender: number;
  /** 0 White, 1 Black, 2 Asian, 3 Indian, 4 Others. */
  race: number;
}

/** Parses a UTKFace file name; `null` if it does not match (some originals lack the race field). */
export function parseUtkFaceName(fileName: string): UtkFaceName | null {
  const m = /^(\d+)_([01])_([0-4])_\d+/.exec(path.basename(fileName));
  if (!m) return null;
  return { age: Number(m[1]), gender: Number(m[2]), race: Number(m[3]) };
}

interface CsvRowExtras {
  deg?: number;
  box?: Box;
}

async function readLabelledCsv(
  fn: string,
  csvFile: string,
  options: CsvReaderOptions,
  extras?: (values: Record<string, string>) => CsvRowExtras | string,
): Promise<ReadResult> {
  const { skipBad = false, verifyImages = 'decode', raceClasses = UTKFACE_RACES } = options;
  const cols = { photo: 'photo', age: 'age', gender: 'gender', race: 'race', ...options.columns };
  const file = path.resolve(csvFile);
  const root = path.resolve(options.imageRoot ?? path.dirname(file));
  const { header, rows: records } = parseCsv(await readText(fn, file), file);
  if (header.length === 0 || records.length === 0) {
    throw new Error(`Error in ${fn}: ${file} must have a header and at least one row, but it is empty.`);
  }
  if (!header.includes(cols.photo)) {
    throw new Error(`Error in ${fn}: ${file} line 1: columns must include ${JSON.stringify(cols.photo)}, but got ${header.join(',')}.`);
  }
  const hasAge = header.includes(cols.age);
  const hasGender = header.includes(cols.gender);
  const hasRace = header.includes(cols.race);
  const hasStatus = header.includes('status');
  const labelled = hasAge || !options.labels ? null : typeof options.labels === 'function' ? await options.labels() : options.labels;
  const labels = labelled ? labelLookup(labelled) : null;
  const excluded = (options.excludeDirs ?? []).map((d) => path.resolve(d) + path.sep);
  let leftOut = 0;
  if (!hasAge && !labels && hasStatus) {
    throw new Error(
      `Error in ${fn}: ${describeCsvFormat(file, header)}; ages must come from the data set's own labels joined by photo name ` +
        `(the examples do this: the MegaAge lists list/{split}_name.txt + {split}_age.txt; in code, pass { labels } to ${fn}) ` +
        `or from an age column added to the CSV.`,
    );
  }
  const rows = new RowCollector(fn, skipBad, options);
  // Labelled photos that no row names (align was interrupted): found before any row is judged, so the
  // count comes first, not the first bad row.
  const notes: string[] = [];
  if (labelled && labels) {
    const named = new Set<AgeSample>();
    for (const rec of records) {
      const photo = rec.fields[header.indexOf(cols.photo)];
      if (!photo) continue;
      const match = labels(photo, path.resolve(root, photo));
      for (const s of 'label' in match ? [match.label] : match.candidates) named.add(s); // an ambiguous row is reported as such, below
    }
    const missing = labelled.filter((s) => !named.has(s));
    if (missing.length > 0) {
      const first = missing.slice(0, 5).map((s) => path.relative(root, s.path) || s.path);
      const firstNames = `first: ${first.join(', ')}${missing.length > first.length ? ', …' : ''}`;
      const what = `${missing.length} of ${labelled.length} labelled photos have no row in ${file} (ldl prep align was interrupted, or rows were removed: it writes one row per photo, status ok or not); ${firstNames}`;
      if (!options.rowForEveryLabel) notes.push(`${missing.length} of ${labelled.length} labelled photos have no row in ${file}: only the ${labelled.length - missing.length} with a row are used (${firstNames})`);
      else {
        if (!skipBad) throw new Error(`Error in ${fn}: every labelled photo must have a row, but ${what}. Rerun align over every photo, or pass --skip-bad to leave them out.`);
        for (const s of missing) rows.bad(s.source.file, s.source.line, `photo ${s.path} has no row in ${file} (no face box to crop)`);
        notes.push(`${what}: left out (--skip-bad)`);
      }
    }
  }
  for (const rec of records) {
    if (rec.fields.length !== header.length) {
      rows.bad(file, rec.line, `row must have ${header.length} fields like the header, but got ${rec.fields.length}`);
      continue;
    }
    const v: Record<string, string> = Object.fromEntries(header.map((h, k) => [h, rec.fields[k]]));
    const photo = v[cols.photo];
    if (photo === '') {
      rows.bad(file, rec.line, `${cols.photo} must not be empty`);
      continue;
    }
    const photoPath = path.resolve(root, photo);
    if (excluded.some((d) => photoPath.startsWith(d))) {
      leftOut++;
      continue;
    }
    const match = labels ? labels(photo, photoPath) : undefined;
    const label = match && 'label' in match ? match.label : undefined;
    if (hasStatus && v.status !== 'ok') {
      rows.bad(file, rec.line, `status must be ok (a face aligned by ldl prep align), but got ${JSON.stringify(v.status)}: there is no face box to crop`);
      continue;
    }
    if (match && 'candidates' in match && match.candidates.length > 1) {
      const list = match.candidates.map((c) => `${c.path} (${c.source.file}${c.source.line > 0 ? ` line ${c.source.line}` : ''})`).join(', ');
      rows.bad(file, rec.line, `photo ${JSON.stringify(photo)} must name one labelled image, but it could be any of ${match.candidates.length}: ${list}; write its path relative to the data folder`);
      continue;
    }
    if (labels && !label) {
      rows.bad(file, rec.line, `${describeCsvFormat(file, header)}, and the data set's labels have no image ${photoPath} (nor one whose path ends with ${JSON.stringify(photo)})`);
      continue;
    }
    const album2 = hasAge && hasGender ? null : label ? null : parseAlbum2Name(photo);
    if (!hasAge && !label && !album2) {
      rows.bad(file, rec.line, `${describeCsvFormat(file, header)}: without it the photo name must be a MORPH Album2 name like 306916_01M45.JPG (age and gender in the name), but got ${JSON.stringify(photo)}`);
      continue;
    }
    const age = hasAge ? rows.age(v[cols.age]) : label ? label.age : rows.age(String(album2?.age));
    if (typeof age === 'string') {
      rows.bad(file, rec.line, age);
      continue;
    }
    // A photo joined by the end of its path (align ran on the split's own folder) is the labelled image.
    const imagePath = label && label.path !== photoPath && !existsSync(photoPath) ? label.path : photoPath;
    const sample: AgeSample = { path: imagePath, age, source: { file, line: rec.line } };
    if (label && !hasGender && label.gender !== undefined) sample.gender = label.gender;
    if (label && !hasRace && label.ethnicity !== undefined) sample.ethnicity = label.ethnicity;
    if (hasGender || album2) {
      const gender = hasGender ? parseGender(v[cols.gender]) : (album2?.gender ?? 0);
      if (typeof gender === 'string') {
        rows.bad(file, rec.line, gender);
        continue;
      }
      sample.gender = gender;
    }
    if (hasRace) {
      const race = parseRace(v[cols.race], raceClasses);
      if (typeof race === 'string') {
        rows.bad(file, rec.line, race);
        continue;
      }
      sample.ethnicity = race;
    }
    if (extras) {
      const extra = extras(v);
      if (typeof extra === 'string') {
        rows.bad(file, rec.line, extra);
        continue;
      }
      Object.assign(sample, extra);
    }
    rows.samples.push(sample);
  }
  if (leftOut > 0) notes.unshift(`${file}: ${leftOut} row${leftOut === 1 ? '' : 's'} left out, photos of another split (${(options.excludeDirs ?? []).join(', ')})`);
  const result = await rows.finish(verifyImages, file, options.duplicates);
  const all = [...notes, ...(result.notes ?? [])];
  return all.length > 0 ? { ...result, notes: all } : result;
}

/**
 * Reads a MORPH-style CSV (`photo,age,gender,race` by default; names configurable). Photo paths are
 * relative to `imageRoot`. Without an age column, age and gender come from Album2 file names.
 */
export function readMorphCsv(csvFile: string, options: CsvReaderOptions = {}): Promise<ReadResult> {
  return readLabelledCsv('readMorphCsv', csvFile, options);
}

/**
 * Reads the paper's aligned CSV (`photo,age,deg,box1,box2,box3,box4` with optional `gender,race`) or
 * the `faces.csv` that `ldl prep align` writes (`photo,deg,box1..box4,eyes…,status`, no ages: give
 * `labels`, the data set's own labels, joined by photo name; rows whose status is not `ok` are bad
 * rows). `deg` is the rotation and `box1..4` the face box in the rotated frame; both are checked
 * against the image when the rows are read (see {@link ReaderOptions.verifyImages}).
 */
export function readAlignedCsv(csvFile: string, options: CsvReaderOptions = {}): Promise<ReadResult> {
  return readLabelledCsv('readAlignedCsv', csvFile, options, (v) => {
    const nums = ['deg', 'box1', 'box2', 'box3', 'box4'].map((k) => (v[k] === undefined ? Number.NaN : parseDecimal(v[k])));
    const bad = nums.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      const key = ['deg', 'box1', 'box2', 'box3', 'box4'][bad];
      return `${key} must be a decimal number, but got ${JSON.stringify(v[key] ?? '(missing column)')}`;
    }
    const [deg, x1, y1, x2, y2] = nums;
    if (x2 <= x1 || y2 <= y1) return `box must satisfy box3 > box1 and box4 > box2, but got [${x1}, ${y1}, ${x2}, ${y2}]`;
    return { deg, box: [x1, y1, x2, y2] };
  });
}

/**
 * Reads a UTKFace directory: labels come from the file names (`age_gender_race_date.jpg.chip.jpg`);
 * names that do not match are bad rows (reported with line 0 and the file name).
 */
export async function readUtkFaceDir(dir: string, options: ReaderOptions = {}): Promise<ReadResult> {
  const fn = 'readUtkFaceDir';
  const { skipBad = false, verifyImages = 'decode' } = options;
  const root = path.resolve(dir);
  let names: string[];
  try {
    names = (await fsp.readdir(root)).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort();
  } catch {
    throw new Error(`Error in ${fn}: ${root} must be a readable directory, but it does not exist.`);
  }
  const rows = new RowCollector(fn, skipBad, options);
  for (const name of names) {
    const file = path.join(root, name);
    const label = parseUtkFaceName(name);
    if (!label) {
      rows.bad(file, 0, 'file name must look like age_gender_race_date.jpg.chip.jpg');
      continue;
    }
    const age = rows.age(String(label.age));
    if (typeof age === 'string') {
      rows.bad(file, 0, age);
      continue;
    }
    rows.samples.push({ path: file, age, gender: label.gender, ethnicity: label.race, source: { file, line: 0 } });
  }
  return rows.finish(verifyImages, root, options.duplicates);
}

/** Formats skipped rows for a log: a count and the first few, with file and line. */
export function describeSkipped(skipped: readonly BadRow[], max = 5): string {
  if (skipped.length === 0) return 'no bad rows';
  const head = skipped.slice(0, max).map((b) => `  ${b.file}${b.line > 0 ? ` line ${b.line}` : ''}: ${b.reason}`);
  const more = skipped.length > max ? [`  … and ${skipped.length - max} more`] : [];
  return [`skipped ${skipped.length} bad row${skipped.length === 1 ? '' : 's'}:`, ...head, ...more].join('\n');
}

/**
 * Seeded random split (the MORPH protocol's 80/20): returns disjoint `train` and `test` lists. It is a
 * group split: samples that show the same image (the same path, or byte-identical files: see
 * `duplicateKey`) always land on the same side. Without duplicates it equals a plain seeded split.
 * @param testFraction fraction of samples in `test` (whole groups are moved, so it can be exceeded by a group). @default 0.2
 */
export function splitSamples<T>(samples: readonly T[], seed: number, testFraction = 0.2): { train: T[]; test: T[] } {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new Error(`Error in splitSamples: testFraction must be in (0, 1), but got ${testFraction}.`);
  }
  const keyOf = (s: T, i: number) => {
    const x = s as Partial<AgeSample>;
    return typeof x?.path === 'string' ? duplicateKey({ path: x.path, contentHash: x.contentHash, nearDuplicateOf: x.nearDuplicateOf }) : `#${i}`;
  };
  const groups = new Map<string, number[]>();
  samples.forEach((s, i) => {
    const k = keyOf(s, i);
    groups.set(k, [...(groups.get(k) ?? []), i]);
  });
  const order = new Rng(seed).shuffle(Array.from({ length: samples.length }, (_, i) => i));
  const nTest = Math.round(samples.length * testFraction);
  const testSet = new Set<number>();
  for (const i of order) {
    if (testSet.size >= nTest) break;
    if (!testSet.has(i)) for (const j of groups.get(keyOf(samples[i], i)) ?? [i]) testSet.add(j);
  }
  return {
    train: samples.filter((_, i) => !testSet.has(i)),
    test: samples.filter((_, i) => testSet.has(i)),
  };
}
