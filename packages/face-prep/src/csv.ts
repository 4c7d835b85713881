/**
 * The `faces.csv` table written by `ldl prep align` and read by `ldl prep crop`.
 */
import { parseCsv, parseDecimal } from '@ldl/core/node';
import type { AlignResult, AlignStatus } from './align';
import type { Box, Point } from './geometry';
import { csvField } from './shard-csv';

/** Columns of `faces.csv`, in order. */
export const FACES_CSV_COLUMNS = [
  'photo',
  'deg',
  'box1',
  'box2',
  'box3',
  'box4',
  'left_eye_x',
  'left_eye_y',
  'right_eye_x',
  'right_eye_y',
  'status',
] as const;

/** One row of `faces.csv`. Numeric fields are `null` unless `status` is `ok`. */
export interface FaceRow {
  /** Photo path relative to the images folder. */
  photo: string;
  status: AlignStatus;
  deg: number | null;
  /** Box in the rotated, expanded frame. */
  box: Box | null;
  leftEye: Point | null;
  rightEye: Point | null;
}

/** The header line of `faces.csv`, with its line break. */
export function facesCsvHeader(): string {
  return `${FACES_CSV_COLUMNS.join(',')}\n`;
}

/** Formats one alignment result as a `faces.csv` line (with its line break). */
export function formatFaceRow(photo: string, result: AlignResult): string {
  const r = (v: number, digits: number) => String(Number(v.toFixed(digits)));
  const numbers =
    result.status === 'ok'
      ? [
          r(result.deg, 4),
          ...result.box.map((v) => r(v, 2)),
          r(result.leftEye.x, 2),
          r(result.leftEye.y, 2),
          r(result.rightEye.x, 2),
          r(result.rightEye.y, 2),
        ]
      : Array<string>(9).fill('');
  return `${[csvField(photo), ...numbers, result.status].join(',')}\n`;
}

/**
 * Parses `faces.csv` text (with `parseCsv` of `@ldl/core/node`). A last line without a line break (an
 * interrupted write) is ignored.
 *
 * @param source Name of the file, for error messages.
 * @throws when the header or a row is malformed, naming the file and line.
 */
export function parseFacesCsv(text: string, source = 'faces.csv'): FaceRow[] {
  const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
  const { header, rows } = parseCsv(complete, source);
  if (header.join(',') !== FACES_CSV_COLUMNS.join(',')) {
    throw new Error(`${source}: line 1 must be the header ${FACES_CSV_COLUMNS.join(',')}, but got ${header.join(',') || 'nothing'}.`);
  }
  return rows.map(({ line, fields: f }) => {
    const where = `${source}: line ${line}`;
    if (f.length !== FACES_CSV_COLUMNS.length) {
      throw new Error(`${where} must have ${FACES_CSV_COLUMNS.length} fields, but got ${f.length}.`);
    }
    const status = f[10];
    if (status !== 'ok' && status !== 'no_face' && status !== 'unreadable') {
      throw new Error(`${where}: status must be ok, no_face or unreadable, but got '${status}'.`);
    }
    if (status !== 'ok') return { photo: f[0], status, deg: null, box: null, leftEye: null, rightEye: null };
    const v = f.slice(1, 10).map(parseDecimal);
    const bad = v.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      throw new Error(`${where}: ${FACES_CSV_COLUMNS[bad + 1]} must be a decimal number, but got '${f[bad + 1]}'.`);
    }
    return {
      photo: f[0],
      status,
      deg: v[0],
      box: [v[1], v[2], v[3], v[4]],
      leftEye: { x: v[5], y: v[6] },
      rightEye: { x: v[7], y: v[8] },
    };
  });
}
