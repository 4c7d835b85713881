import { describe, expect, it } from 'vitest';
import { checkLdlDataset, parseLdlCsv, parseLdlJson } from './dataset';

describe('LDL data-set checks', () => {
  it('names the row of a negative value, a bad sum and a size mismatch', () => {
    expect(() => checkLdlDataset([[1], [2]], [[0.5, 0.5]], 'set')).toThrow(/Error in set: features has 2 rows but labels has 1/);
    expect(() => checkLdlDataset([[1], [2]], [[0.5, 0.5], [1.5, -0.5]], 'set')).toThrow(/labels row 1, column 1 is negative \(-0\.5\)/);
    expect(() => checkLdlDataset([[1], [2]], [[0.5, 0.5], [0.2, 0.2]], 'set')).toThrow(/labels row 1 sums to 0.4, not 1/);
    expect(() => checkLdlDataset([[1], [2, 3]], [[0.5, 0.5], [1, 0]], 'set')).toThrow(/features\[1\].length must be 1/);
    expect(checkLdlDataset([[1], [2]], [[0.5, 0.5], [1, 0]]).labels.cols).toBe(2);
  });

  it('names the file, row and column of a non-finite value (as a .mat file holds it)', () => {
    const features = { rows: 2, cols: 2, data: Float64Array.from([1, 2, 3, Number.POSITIVE_INFINITY]) };
    expect(() => checkLdlDataset(features, [[0.5, 0.5], [1, 0]], 'SJAFFE.mat')).toThrow(
      'Error in SJAFFE.mat: features row 1, column 1 is Infinity; every value must be a finite number (rows and columns count from 0).',
    );
  });

  it('loads a row off 1 by float32 rounding (emotion6.mat: 0.9999989) with a note; farther is an error', () => {
    const notes: string[] = [];
    const set = checkLdlDataset([[1], [2]], [[0.5, 0.4999989], [1, 0]], 'emotion6.mat', { onNote: (n) => notes.push(n) });
    expect(set.labels.data[1]).toBe(0.4999989);
    expect(notes).toEqual(['emotion6.mat: 1 label row(s) sum to 1 only within float32 rounding (rows 0; the farthest, row 0, sums to 0.9999989); loaded as they are.']);
    expect(() => checkLdlDataset([[1]], [[0.5, 0.49998]], 'x.mat', { onNote: () => {} })).toThrow(/labels row 0 sums to 0.99998, not 1 \(tolerance 0.000001; 0.00001 for float32 rounding\)/);
  });
});

describe('parseLdlCsv', () => {
  const csv = 'f1,f2,label_a,label_b\n1,2,0.3,0.7\n3,4,1,0\n';
  it('splits features and labels by header or by count', () => {
    const byHeader = parseLdlCsv(csv);
    expect(Array.from(byHeader.features.data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(byHeader.labels.data)).toEqual([0.3, 0.7, 1, 0]);
    const byCount = parseLdlCsv('a,b,c\n1,0.5,0.5\n', 'x.csv', { labelColumns: 2 });
    expect(byCount.features.cols).toBe(1);
  });
  it('names the file line of a bad cell or a bad distribution', () => {
    expect(() => parseLdlCsv('f,label_a,label_b\n1,x,0.5\n', 'd.csv')).toThrow(/d.csv: line 2, column 'label_a': 'x' is not a finite number/);
    expect(() => parseLdlCsv('f,label_a,label_b\n1,0.5,0.5\n2,0.5,0.6\n', 'd.csv')).toThrow(/d.csv: labels row 1 \(line 3\) sums to 1.1/);
    // Blank lines and a quoted line break do not shift the line named.
    expect(() => parseLdlCsv('f,label_a,label_b\n\n"1\n",0.5,0.5\n2,0.5,0.6\n', 'd.csv')).toThrow(/d.csv: labels row 1 \(line 5\) sums to 1.1/);
    expect(() => parseLdlCsv('f,label_a,label_b\n\n1,"0.5",0.5"\n', 'd.csv')).toThrow(/d.csv line 3: Invalid Opening Quote/);
    expect(() => parseLdlCsv('f,g\n1,2\n', 'd.csv')).toThrow(/cannot tell the label columns/);
    expect(() => parseLdlCsv('f,label_a\n1\n', 'd.csv')).toThrow(/d.csv/);
  });
});

describe('parseLdlJson', () => {
  it('reads { features, labels } and rejects other shapes', () => {
    expect(parseLdlJson('{"features":[[1]],"labels":[[1]]}').labels.rows).toBe(1);
    expect(() => parseLdlJson('[1]', 'j.json')).toThrow(/j.json: must be an object/);
    expect(() => parseLdlJson('{', 'j.json')).toThrow(/j.json: not valid JSON/);
  });
});
