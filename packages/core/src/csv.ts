/**
 * The one CSV reader of @ldl: `csv-parse` (RFC 4180 quoting, `""` escapes, line breaks inside quoted
 * fields, CRLF, a UTF-8 BOM) behind a function that keeps the 1-based line each record starts on, so
 * every reader can name the file and line of a bad row. Node.js only (csv-parse's Node build uses
 * `Buffer`): exported from `@ldl/core/node`.
 */
import { CsvError, parse } from 'csv-parse/sync';

/** One CSV record and where it starts. */
export interface CsvRow {
  /** 1-based line of the file on which the record starts (a quoted field may span more lines). */
  line: number;
  /** The record's fields, unquoted, with the spaces around them trimmed. */
  fields: string[];
}

/** A CSV file read by {@link parseCsv}: its first record as the header, then the others. */
export interface CsvTable {
  /** Fields of the first record (empty when the text has no record). */
  header: string[];
  /** The records after the header, in file order. Their field counts are not checked: callers report them. */
  rows: CsvRow[];
}

const LINE_BREAK = /\r\n|\r|\n/g;

/** Number of line breaks in `text`. */
function countLineBreaks(text: string): number {
  return text.match(LINE_BREAK)?.length ?? 0;
}

/**
 * Parses CSV text whose first record is a header. Blank lines (empty or only spaces) are skipped;
 * a record whose field count differs from the header's is kept (callers report it with its line).
 *
 * ```ts
 * const { header, rows } = parseCsv('photo,age\n"a,1.jpg",31\n', 'train.csv');
 * // header = ['photo', 'age'], rows = [{ line: 2, fields: ['a,1.jpg', '31'] }]
 * ```
 *
 * @param text the file's contents.
 * @param source the file's name, for error messages.
 * @returns the header and the data records, each with the line it starts on.
 * @throws `Error in parseCsv: <source> line <n>: …` for malformed quoting (an unclosed quote, text after a closing quote).
 * @see https://csv.js.org/parse/ (csv-parse) and RFC 4180.
 */
export function parseCsv(text: string, source: string): CsvTable {
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    // With `info`, each record comes as `{ record, info }` (the typings know only the plain form).
    parsed = parse(text, {
      bom: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    if (err instanceof CsvError) throw new Error(`Error in parseCsv: ${source} line ${String(err.lines)}: ${err.message}.`);
    throw new Error(`Error in parseCsv: ${source}: the file does not parse as CSV (${err instanceof Error ? err.message : String(err)}).`);
  }
  // `info.lines` is the line a record ends on; a quoted field may hold line breaks.
  const records = parsed.map(({ record, info }): CsvRow => ({
    line: info.lines - record.reduce((n, field) => n + countLineBreaks(field), 0),
    fields: record,
  }));
  const [header, ...rows] = records;
  return { header: header?.fields ?? [], rows };
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A CSV or list field as a decimal number (`12`, `-3.5`, `.5`, `1e3`; surrounding spaces ignored), or
 * `NaN` for anything else — unlike `Number()`, which reads `0x14` as 20, `0b11` as 3, `''` as 0 and
 * `Infinity` as a number. Readers of outside files use it so that only what a person means as a
 * decimal number is one.
 */
export function parseDecimal(text: string): number {
  const t = text.trim();
  return DECIMAL.test(t) ? Number(t) : Number.NaN;
}
