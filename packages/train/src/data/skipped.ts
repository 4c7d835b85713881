/**
 * `RUN_DIR/skipped.csv`: every row a run left out under `skipBad` (the readers' bad rows, and images that
 * failed to decode during training), one line each, so that a log that names only the first of them
 * loses none. Columns `file,line,reason` (RFC 4180 quoting by `csv-stringify`; `line` 0 for a label
 * taken from a file name, or an image that failed in the loader where its list line is unknown).
 */
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import writeFileAtomic from 'write-file-atomic';
import type { BadRow } from './readers';

/** File name of the skipped-rows table in a run directory. */
export const SKIPPED_CSV = 'skipped.csv';

const line = (r: BadRow) => stringify([[r.file, r.line, r.reason]]);

/** The skipped rows of one run, kept in `RUN_DIR/skipped.csv` as they come. */
export class SkippedRows {
  /** The table's path. */
  readonly file: string;
  private readonly rows: BadRow[];

  private constructor(file: string, rows: BadRow[]) {
    this.file = file;
    this.rows = rows;
  }

  /** Writes `RUN_DIR/skipped.csv` with the header and `rows` (replacing an older one: a resumed run reads its data again). */
  static async create(runDir: string, rows: readonly BadRow[]): Promise<SkippedRows> {
    const file = path.join(runDir, SKIPPED_CSV);
    await writeFileAtomic(file, stringify([['file', 'line', 'reason'], ...rows.map((r) => [r.file, r.line, r.reason])]));
    return new SkippedRows(file, [...rows]);
  }

  /** Appends one row (an image that failed late, in the loader). */
  add(row: BadRow): void {
    this.rows.push(row);
    appendFileSync(this.file, line(row));
  }

  /** How many rows the table holds. */
  get count(): number {
    return this.rows.length;
  }
}
