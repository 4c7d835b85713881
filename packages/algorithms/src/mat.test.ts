import { describe, expect, it } from 'vitest';
import { writeMat } from '../test/mat-writer';
import { parseLdlMat } from './dataset';
import { readMat } from './mat';

const features = [[1, 2, 3], [4, 5, 6]];
const labels = [[0.25, 0.75], [1, 0]];

describe('readMat', () => {
  it.each([false, true])('reads double matrices row-major (compressed: %s)', (compress) => {
    const vars = readMat(writeMat({ features, labels }, compress));
    expect(vars.features).toEqual({ rows: 2, cols: 3, data: Float64Array.from([1, 2, 3, 4, 5, 6]) });
    expect(Array.from(vars.labels.data)).toEqual([0.25, 0.75, 1, 0]);
  });

  it('refuses non-MAT and v7.3 files with the file name', () => {
    expect(() => readMat(new Uint8Array(200), 'x.mat')).toThrow(/Error in readMat: x.mat: not a MATLAB 5 MAT-file/);
    expect(() => readMat(writeMat({ features }, false, 'MATLAB 7.3 MAT-file'), 'y.mat')).toThrow(/y.mat: MATLAB 7.3 \(HDF5\)/);
    expect(() => readMat(new Uint8Array(10), 'z.mat')).toThrow(/z.mat: 10 bytes is too short/);
  });

  it('names a truncated file', () => {
    const bytes = writeMat({ features });
    expect(() => readMat(bytes.subarray(0, bytes.length - 16), 't.mat')).toThrow(/t.mat: a data element of \d+ bytes .* runs past the end/);
  });
});

describe('parseLdlMat', () => {
  it('reads features and labels and checks them', () => {
    const d = parseLdlMat(writeMat({ features, labels }, true), 'ok.mat');
    expect([d.features.rows, d.features.cols, d.labels.cols]).toEqual([2, 3, 2]);
    expect(() => parseLdlMat(writeMat({ features }), 'f.mat')).toThrow(/f.mat: no numeric variable 'labels' \(found: features\)/);
    expect(() => parseLdlMat(writeMat({ features, labels: [[0.5, 0.6], [1, 0]] }), 'b.mat')).toThrow(/b.mat: labels row 0 sums to 1.1/);
  });
});
