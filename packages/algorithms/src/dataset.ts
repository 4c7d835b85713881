// LDL data sets: feature vectors `[n, d]` with label distributions `[n, L]`, read from MATLAB 5
// `.mat` files (the benchmark sets), CSV or JSON, and checked so a bad row is named, not learned.
import { parseCsv } from '@ldl/core/node';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { readMat } from './mat';
import { type Matrix, type MatrixLike, toMatrix } from './matrix';

/** An LDL data set: `features [n, d]` and `labels [n, L]` (each row a distribution). */
export interface LdlDataset {
  features: Matrix;
  labels: Matrix;
}

/** Options of {@link checkLdlDataset}, {@link readLdlDataset} and {@link parseLdlCsv}. */
export interface LdlDatasetOptions {
  /**
   * How far a row of `labels` may sum from 1 and load silently.
   * @default 1e-6
   */
  tolerance?: number;
  /**
   * How far a row may sum from 1 and still load, as float32 rounding of a distribution (PyLDL's own
   * `emotion6.mat` has a row summing to 0.9999989): such rows load as they are and are reported through
   * `onNote`. Beyond it, the row is an error.
   * @default 1e-5
   */
  roundingTolerance?: number;
  /** Receives notes about the data that do not stop it loading (rows off 1 by rounding). @default console.warn */
  onNote?: (note: string) => void;
}

/** Options of {@link parseLdlCsv} and of {@link readLdlDataset} for a CSV file. */
export interface LdlCsvOptions extends LdlDatasetOptions {
  /**
   * Number L of label columns: the last L columns are the distribution, the others the features.
   * When omitted, the columns whose header starts with `label` (e.g. `label_happy`) are the distribution.
   */
  labelColumns?: number;
}

/**
 * Checks an LDL data set: equal row counts, every value finite, label values ≥ 0 and each label
 * row summing to 1 (within `tolerance`).
 *
 * @param source a name for error messages (file name), or the function name.
 * @throws `Error in <source>: …` naming the first bad row (0-based) and value.
 */
export function checkLdlDataset(
  features: MatrixLike,
  labels: MatrixLike,
  source = 'checkLdlDataset',
  options: LdlDatasetOptions = {},
): LdlDataset {
  const { tolerance = 1e-6, roundingTolerance = Math.max(1e-5, tolerance), onNote = console.warn } = options;
  const X = toMatrix(source, 'features', features, true);
  const D = toMatrix(source, 'labels', labels, true);
  for (const [name, m] of [['features', X], ['labels', D]] as const) {
    const bad = m.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      const [i, j] = [Math.floor(bad / m.cols), bad % m.cols];
      throw new Error(`Error in ${source}: ${name} row ${i}, column ${j} is ${m.data[bad]}; every value must be a finite number (rows and columns count from 0).`);
    }
  }
  if (X.rows !== D.rows) {
    throw new Error(`Error in ${source}: features has ${X.rows} rows but labels has ${D.rows}; they must be equal (one distribution per feature vector).`);
  }
  const rounded: [number, number][] = [];
  for (let i = 0; i < D.rows; i++) {
    let sum = 0;
    for (let j = 0; j < D.cols; j++) {
      const v = D.data[i * D.cols + j];
      if (v < 0) throw new Error(`Error in ${source}: labels row ${i}, column ${j} is negative (${v}); a label distribution must be >= 0.`);
      sum += v;
    }
    const off = Math.abs(sum - 1);
    if (off > roundingTolerance) {
      throw new Error(`Error in ${source}: labels row ${i} sums to ${sum}, not 1 (tolerance ${tolerance}; ${roundingTolerance} for float32 rounding); normalise it (normalizeDistribution in @ldl/core) or fix the file.`);
    }
    if (off > tolerance) rounded.push([i, sum]);
  }
  if (rounded.length > 0) {
    const worst = rounded.reduce((a, b) => (Math.abs(b[1] - 1) > Math.abs(a[1] - 1) ? b : a));
    onNote(
      `${source}: ${rounded.length} label row(s) sum to 1 only within float32 rounding (rows ${rounded.slice(0, 5).map(([i]) => i).join(', ')}${rounded.length > 5 ? ', …' : ''}; ` +
        `the farthest, row ${worst[0]}, sums to ${worst[1]}); loaded as they are.`,
    );
  }
  return { features: X, labels: D };
}

/**
 * Reads an LDL data set from a MATLAB 5 MAT-file's bytes: the variables `features [n, d]` and
 * `labels [n, L]` (the layout of the PyLDL / Geng benchmark files).
 *
 * @throws for a missing variable, a bad file, or a data-set check failure (see {@link checkLdlDataset}).
 */
export function parseLdlMat(bytes: Uint8Array, source = 'MAT-file', options: LdlDatasetOptions = {}): LdlDataset {
  const vars = readMat(bytes, source);
  for (const name of ['features', 'labels']) {
    if (!vars[name]) {
      throw new Error(`Error in ${source}: no numeric variable '${name}' (found: ${Object.keys(vars).join(', ') || 'none'}); an LDL MAT-file holds 'features' [n, d] and 'labels' [n, L].`);
    }
  }
  return checkLdlDataset(vars.features, vars.labels, source, options);
}

/**
 * Reads an LDL data set from CSV text with a header row. Label columns are the last
 * `labelColumns`, or (when not given) those whose header starts with `label`.
 *
 * @throws naming the line of a non-numeric cell, a row of the wrong length, a bad distribution.
 */
export function parseLdlCsv(text: string, source = 'CSV', options: LdlCsvOptions = {}): LdlDataset {
  const { header, rows } = parseCsv(text, source);
  if (rows.length === 0) throw new Error(`Error in ${source}: needs a header line and at least one data line, but has ${header.length > 0 ? 1 : 0} line(s).`);
  let isLabel: boolean[];
  if (options.labelColumns !== undefined) {
    const l = options.labelColumns;
    if (!Number.isInteger(l) || l < 1 || l >= header.length) {
      throw new Error(`Error in ${source}: labelColumns must be an integer in [1, ${header.length - 1}] (the file has ${header.length} columns), but got ${l}.`);
    }
    isLabel = header.map((_, j) => j >= header.length - l);
  } else {
    isLabel = header.map((h) => /^label/i.test(h));
    const l = isLabel.filter(Boolean).length;
    if (l === 0 || l === header.length) {
      throw new Error(`Error in ${source}: cannot tell the label columns from the header (${l} of ${header.length} start with 'label'); name them label_* or pass labelColumns (--label-columns).`);
    }
  }
  const features: number[][] = [];
  const labels: number[][] = [];
  rows.forEach(({ line, fields: rec }) => {
    if (rec.length !== header.length) throw new Error(`Error in ${source}: line ${line} has ${rec.length} fields, the header ${header.length}.`);
    const f: number[] = [];
    const d: number[] = [];
    rec.forEach((cell, j) => {
      const v = Number(cell);
      if (cell === '' || !Number.isFinite(v)) throw new Error(`Error in ${source}: line ${line}, column '${header[j]}': '${cell}' is not a finite number.`);
      (isLabel[j] ? d : f).push(v);
    });
    features.push(f);
    labels.push(d);
  });
  try {
    return checkLdlDataset(features, labels, source, options);
  } catch (err) {
    // Name the file line as well as the row.
    throw new Error(String(err instanceof Error ? err.message : err).replace(/row (\d+)/, (_, i: string) => `row ${i} (line ${rows[Number(i)].line})`));
  }
}

/**
 * Reads an LDL data set from JSON text `{ "features": [[…], …], "labels": [[…], …] }`.
 * @throws for malformed JSON, missing keys or a data-set check failure.
 */
export function parseLdlJson(text: string, source = 'JSON', options: LdlDatasetOptions = {}): LdlDataset {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`Error in ${source}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const obj = value as { features?: unknown; labels?: unknown };
  if (typeof obj !== 'object' || obj === null || !Array.isArray(obj.features) || !Array.isArray(obj.labels)) {
    throw new Error(`Error in ${source}: must be an object { "features": [[...]], "labels": [[...]] }.`);
  }
  return checkLdlDataset(obj.features as number[][], obj.labels as number[][], source, options);
}

/**
 * Reads an LDL data set from a file, by extension: `.mat` (MATLAB 5: `features`, `labels`), `.csv`
 * (header row; see {@link parseLdlCsv}) or `.json` (`{ features, labels }`).
 *
 * @throws for an unknown extension, an unreadable file or any problem listed for the parsers.
 *
 * @example
 * ```ts
 * const { features, labels } = await readLdlDataset('SJAFFE.mat'); // [213, 243], [213, 6]
 * ```
 */
export async function readLdlDataset(path: string, options: LdlCsvOptions = {}): Promise<LdlDataset> {
  const ext = extname(path).toLowerCase();
  if (ext !== '.mat' && ext !== '.csv' && ext !== '.json') {
    throw new Error(`Error in readLdlDataset: ${path}: unknown extension '${ext}'; use .mat, .csv or .json.`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new Error(`Error in readLdlDataset: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}).`);
  }
  if (ext === '.mat') return parseLdlMat(bytes, path, options);
  const text = new TextDecoder().decode(bytes);
  return ext === '.csv' ? parseLdlCsv(text, path, options) : parseLdlJson(text, path, options);
}
