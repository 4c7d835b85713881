import { describe, expect, it } from 'vitest';
import { parseCsv, parseDecimal } from './csv';

describe('parseCsv', () => {
  it('reads quoted fields, quoted line breaks, CRLF and a BOM, keeping the line each record starts on', () => {
    const text = '\uFEFFphoto,age\r\n"a,""b"".jpg",31\r\n"two\nlines.jpg", 40 \n\n  \nc.jpg,7';
    expect(parseCsv(text, 'f.csv')).toEqual({
      header: ['photo', 'age'],
      rows: [
        { line: 2, fields: ['a,"b".jpg', '31'] },
        { line: 3, fields: ['two\nlines.jpg', '40'] },
        { line: 7, fields: ['c.jpg', '7'] },
      ],
    });
  });

  it('skips blank lines before the header and keeps rows of another length for the caller to report', () => {
    expect(parseCsv('\n\na,b\n1\n2,3,4\n', 'f.csv')).toEqual({
      header: ['a', 'b'],
      rows: [
        { line: 4, fields: ['1'] },
        { line: 5, fields: ['2', '3', '4'] },
      ],
    });
    expect(parseCsv('', 'f.csv')).toEqual({ header: [], rows: [] });
  });

  it('names the file and line of malformed quoting', () => {
    expect(() => parseCsv('a,b\n1,2\n3,"4"x\n', 'f.csv')).toThrow(/^Error in parseCsv: f\.csv line 3: Invalid Closing Quote/);
    expect(() => parseCsv('a,b\n1,"2\n', 'f.csv')).toThrow(/^Error in parseCsv: f\.csv line \d+: Quote Not Closed/);
  });
});

describe('parseDecimal', () => {
  it('reads decimal numbers only: 0x14, 0b11, 1_0, Infinity and an empty field are NaN, not 20, 3, 10, ∞ or 0', () => {
    expect(['12', ' -3.5 ', '.5', '5.', '+1e3', '2E-2'].map(parseDecimal)).toEqual([12, -3.5, 0.5, 5, 1000, 0.02]);
    for (const bad of ['0x14', '0b11', '0o7', '1_0', 'Infinity', '', ' ', '1,5', '--1', 'e3', '.']) expect(parseDecimal(bad), bad).toBeNaN();
  });
});
