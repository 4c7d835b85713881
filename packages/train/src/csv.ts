/** One parsed CSV record with the 1-based line number it started on. */
export interface CsvRecord {
  /** 1-based line number in the file (the header is line 1). */
  line: number;
  /** Field values, keyed by header name. */
  values: Record<string, string>;
}

/** Splits one CSV line into fields (RFC 4180 quotes, `""` escapes; no embedded newlines). */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else {
      field += c;
    }
  }
  fields.push(field);
  return fields.map((f) => f.trim());
}

/**
 * Parses CSV text with a header row. Blank lines are ignored; a row whose field count differs from
 * the header's is returned with `fieldCount` so the caller can report it with its line number.
 */
export function parseCsv(text: string): { header: string[]; records: (CsvRecord & { fieldCount: number })[] } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerIndex = lines.findIndex((l) => l.trim() !== '');
  if (headerIndex < 0) return { header: [], records: [] };
  const header = splitCsvLine(lines[headerIndex]);
  const records: (CsvRecord & { fieldCount: number })[] = [];
  for (let i = headerIndex + 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const fields = splitCsvLine(lines[i]);
    const values: Record<string, string> = {};
    header.forEach((h, k) => {
      values[h] = fields[k] ?? '';
    });
    records.push({ line: i + 1, values, fieldCount: fields.length });
  }
  return { header, records };
}
