import { describe, expect, it } from 'vitest';
import { FACES_CSV_COLUMNS, facesCsvHeader, formatFaceRow, parseFacesCsv } from './csv';

describe('faces.csv', () => {
  const ok = {
    status: 'ok' as const,
    deg: 6.598914,
    box: [66.876, 137.3, 242.4, 307.04] as [number, number, number, number],
    leftEye: { x: 101.948, y: 182.887 },
    rightEye: { x: 174.31, y: 191.26 },
    residualDeg: 0.1,
    score: 0.98,
    size: { width: 303, height: 342 },
    rotatedSize: { width: 341, height: 376 },
  };

  it('round-trips rows, including quoted names and failures', () => {
    const text =
      facesCsvHeader() +
      formatFaceRow('a/b,"c".jpg', ok) +
      formatFaceRow('x.jpg', { status: 'no_face', reason: 'none' }) +
      formatFaceRow('y.jpg', { status: 'unreadable', reason: 'bad' });
    expect(text.split('\n')[0]).toBe(FACES_CSV_COLUMNS.join(','));
    expect(text.split('\n')[1]).toBe('"a/b,""c"".jpg",6.5989,66.88,137.3,242.4,307.04,101.95,182.89,174.31,191.26,ok');
    const rows = parseFacesCsv(text);
    expect(rows.map((r) => [r.photo, r.status])).toEqual([
      ['a/b,"c".jpg', 'ok'],
      ['x.jpg', 'no_face'],
      ['y.jpg', 'unreadable'],
    ]);
    expect(rows[0].box).toEqual([66.88, 137.3, 242.4, 307.04]);
    expect(rows[1].box).toBeNull();
  });

  it('ignores an interrupted last line and names the line of a bad row', () => {
    const text = facesCsvHeader() + formatFaceRow('x.jpg', ok) + 'y.jpg,1,2';
    expect(parseFacesCsv(text).map((r) => r.photo)).toEqual(['x.jpg']);
    expect(() => parseFacesCsv(`${facesCsvHeader()}x.jpg,1,,,,,,,,,ok\n`, 'f.csv')).toThrow(
      "f.csv: line 2: box1 must be a decimal number, but got ''.",
    );
    expect(() => parseFacesCsv('photo,age\n', 'f.csv')).toThrow('f.csv: line 1 must be the header');
  });

  it('reads CRLF line ends, names with line breaks or edge spaces, and names the line a record starts on', () => {
    const text = (facesCsvHeader() + formatFaceRow('two\nlines.jpg', ok) + formatFaceRow(' edge .jpg', ok)).replaceAll(',ok\n', ',ok\r\n');
    expect(parseFacesCsv(text).map((r) => r.photo)).toEqual(['two\nlines.jpg', ' edge .jpg']);
    expect(() => parseFacesCsv(`${facesCsvHeader()}"a\nb.jpg",1,2,3,4,5,6,7,8,9,ok\n\ny.jpg,1,,,,,,,,,ok\n`, 'f.csv')).toThrow(
      "f.csv: line 5: box1 must be a decimal number, but got ''.",
    );
  });
});
