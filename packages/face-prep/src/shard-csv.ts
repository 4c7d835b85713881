/**
 * Row-per-photo CSV outputs that survive a kill (`faces.csv` of `ldl prep align`, the CSV of
 * `ldl predict --list --out`), and `ldl prep merge`, which joins the outputs of the shards of one run.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseCsv } from '@ldl/core/node';
import { parseShardPath, shardLabel, shardOf, shardPath } from './shard';

/** Quotes a CSV field when it holds a comma, quote or line break, or starts or ends with a space (RFC 4180; unquoted spaces are trimmed on reading). */
export function csvField(field: string): string {
  return /[",\r\n]|^\s|\s$/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/** One CSV line (with its line break) of the given fields. */
export const csvLine = (fields: readonly string[]): string => `${fields.map(csvField).join(',')}\n`;

/** An output opened by {@link openResumableCsv}. */
export interface ResumableCsv {
  /** File descriptor open for appending. */
  fd: number;
  /** Photos (first column) of the complete rows already in the file. */
  done: Set<string>;
  /** Whether an unterminated last line (a write cut by a kill) was dropped, to be written again. */
  droppedPartial: boolean;
}

/**
 * Opens a one-row-per-photo CSV for appending. A new (or empty) file gets `header`; an existing one must
 * start with it. Complete rows are kept and their photos returned (the caller skips them); an unterminated
 * last line (a row cut by a kill) is dropped, so its photo is done again.
 *
 * @param header The header line, with its line break.
 * @param photosOf Reads the photos of the complete text (checks the rows; throws naming file and line).
 * @throws Error naming the file when its header differs.
 */
export function openResumableCsv(out: string, header: string, photosOf: (text: string) => string[]): ResumableCsv {
  let done = new Set<string>();
  let droppedPartial = false;
  const text = existsSync(out) ? readFileSync(out, 'utf8') : undefined;
  if (text === undefined || text === '') {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, header);
  } else {
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    if (!complete.startsWith(header)) {
      throw new Error(`Error in openResumableCsv: ${out} must start with the header ${header.trim()}, but got ${JSON.stringify(text.split('\n')[0])}; remove it or choose another output.`);
    }
    done = new Set(photosOf(complete));
    if (complete !== text) {
      writeFileSync(out, complete);
      droppedPartial = true;
    }
  }
  return { fd: openSync(out, 'a'), done, droppedPartial };
}

/** Options of {@link mergeShardCsv}. */
export interface MergeOptions {
  /** The single output (`faces.csv`); the shards' outputs are beside it (`faces.shard-0001-of-0003.csv`, …). */
  out: string;
  /** The number of shards N. @default the one N whose outputs are present */
  count?: number;
  /** Every photo of the run (relative paths): then a photo missing from all shards is an error too. */
  photos?: readonly string[];
}

/** What {@link mergeShardCsv} wrote. */
export interface MergeSummary {
  /** The shard outputs read, in shard order. */
  files: string[];
  /** Rows of each shard output, in shard order. */
  rowsPerShard: number[];
  /** Rows written (the header not counted). */
  rows: number;
}

/** The outputs of the shards of `out` present beside it, by count N. */
export function findShardOutputs(out: string): Map<number, string[]> {
  const found = new Map<number, string[]>();
  const dir = dirname(out);
  if (!existsSync(dir)) return found;
  for (const name of readdirSync(dir)) {
    const p = parseShardPath(join(dir, name));
    if (p && basename(p.base) === basename(out)) found.set(p.count, [...(found.get(p.count) ?? []), join(dir, name)]);
  }
  return found;
}

/** The N of a merge: `count`, or the only one present. */
export function shardCountOf(out: string, count: number | undefined, what: string): number {
  if (count !== undefined) return count;
  const found = findShardOutputs(out);
  if (found.size === 1) return [...found.keys()][0]!;
  if (found.size === 0) {
    throw new Error(`Error in ldl prep merge: ${what} must be beside ${out} (named ${basename(shardPath(out, { index: 0, count: 3, source: '' }))} and so on), but none is.`);
  }
  const counts = [...found.entries()].map(([n, files]) => `${n} shards (${files.map((f) => basename(f)).join(', ')})`);
  throw new Error(`Error in ldl prep merge: the outputs beside ${out} come from runs of different shard counts: ${counts.join('; ')}; give --shard-count N.`);
}

/** Names at most `max` items, with the count of the rest. */
export const listSome = (items: readonly string[], max = 10): string => `${items.slice(0, max).join(', ')}${items.length > max ? ` and ${items.length - max} more` : ''}`;

/**
 * Joins the CSV outputs of shards `1/N … N/N` into `out`: every shard output must be present and complete
 * (no unterminated last row), with the same header; each photo (the first column) must be in exactly one
 * shard, the one its hash assigns ({@link shardOf}); with `photos`, every photo must be there. The rows are
 * written sorted by photo (UTF-16 code-unit order), each formatted as the shards wrote it, so a merged
 * output equals the sorted rows of a single run. Written to a temporary file, then renamed.
 *
 * @throws Error naming the missing shard files, an interrupted shard, doubled photos (with their files) or missing photos.
 */
export function mergeShardCsv(options: MergeOptions): MergeSummary {
  const { out, photos } = options;
  const count = shardCountOf(out, options.count, 'the shard outputs');
  const files = Array.from({ length: count }, (_, index) => shardPath(out, { index, count, source: '' }));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new Error(`Error in ldl prep merge: all ${count} shard outputs must be present, but ${missing.length} ${missing.length === 1 ? 'is' : 'are'} missing: ${listSome(missing)}.`);
  }
  let header: string[] | undefined;
  const rows = new Map<string, { fields: string[]; file: string }>();
  const doubled: string[] = [];
  const misplaced: string[] = [];
  const rowsPerShard: number[] = [];
  files.forEach((file, index) => {
    const text = readFileSync(file, 'utf8');
    if (text !== '' && !text.endsWith('\n')) {
      throw new Error(`Error in ldl prep merge: ${file} ends in a cut row (the shard was interrupted): run shard ${shardLabel({ index, count, source: '' })} again to finish it.`);
    }
    const table = parseCsv(text, file);
    if (!header) header = table.header;
    else if (table.header.join(',') !== header.join(',')) {
      throw new Error(`Error in ldl prep merge: ${file} must have the header of ${files[0]} (${header.join(',')}), but got ${table.header.join(',')}.`);
    }
    rowsPerShard.push(table.rows.length);
    for (const { fields } of table.rows) {
      const photo = fields[0] ?? '';
      const first = rows.get(photo);
      if (first) doubled.push(`${photo} (${basename(first.file)}, ${basename(file)})`);
      else rows.set(photo, { fields, file });
      if (shardOf(photo, count) !== index) misplaced.push(`${photo} (in ${basename(file)}, belongs to shard ${shardOf(photo, count) + 1}/${count})`);
    }
  });
  if (doubled.length > 0) throw new Error(`Error in ldl prep merge: each photo must be in one row, but ${doubled.length} ${doubled.length === 1 ? 'is' : 'are'} doubled: ${listSome(doubled)}.`);
  if (misplaced.length > 0) {
    throw new Error(`Error in ldl prep merge: each photo must be in the shard its hash assigns, but ${misplaced.length} ${misplaced.length === 1 ? 'is' : 'are'} not (outputs of another list or shard count?): ${listSome(misplaced)}.`);
  }
  if (photos) {
    const absent = photos.filter((p) => !rows.has(p));
    if (absent.length > 0) {
      throw new Error(`Error in ldl prep merge: every photo of the list must have a row, but ${absent.length} ${absent.length === 1 ? 'has' : 'have'} none: ${listSome(absent)}.`);
    }
    const listed = new Set(photos);
    const extra = [...rows.keys()].filter((p) => !listed.has(p));
    if (extra.length > 0) throw new Error(`Error in ldl prep merge: every row must be a photo of the list, but ${extra.length} ${extra.length === 1 ? 'is' : 'are'} not: ${listSome(extra)}.`);
  }
  const sorted = [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const tmp = `${out}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeFileSync(fd, csvLine(header ?? []));
    for (const [, { fields }] of sorted) writeFileSync(fd, csvLine(fields));
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, out);
  return { files, rowsPerShard, rows: sorted.length };
}
