import { describe, expect, it } from 'vitest';
import { syntheticLdl } from '../test/synthetic';
import { AaKnn } from './algorithms/aa-knn';
import { crossValidate, kFoldIndices } from './cv';
import { checkLdlDataset } from './dataset';

describe('kFoldIndices', () => {
  it('partitions 0..n-1 into k folds of sizes differing by at most one, seeded', () => {
    const folds = kFoldIndices(23, 10, 4);
    expect(folds.map((f) => f.length)).toEqual([3, 3, 3, 2, 2, 2, 2, 2, 2, 2]);
    expect(folds.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(kFoldIndices(23, 10, 4)).toEqual(folds);
    expect(kFoldIndices(23, 10, 5)).not.toEqual(folds);
    expect(() => kFoldIndices(5, 6)).toThrow(/Error in kFoldIndices: folds must be an integer in \[2, 5\]/);
  });
});

describe('crossValidate', () => {
  it('scores each fold and reports mean and std over folds', async () => {
    const { X, D } = syntheticLdl(50, 3, 3);
    const seen: number[] = [];
    const cv = await crossValidate(checkLdlDataset(X, D), () => new AaKnn(), { folds: 5, repeats: 2, onFold: (done) => seen.push(done) });
    expect(cv.folds).toHaveLength(10);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const kl = cv.folds.map((f) => f.measures.kullbackLeibler);
    const mean = kl.reduce((a, b) => a + b) / kl.length;
    expect(cv.mean.kullbackLeibler).toBeCloseTo(mean, 12);
    expect(cv.std.kullbackLeibler).toBeCloseTo(Math.sqrt(kl.reduce((a, b) => a + (b - mean) ** 2, 0) / kl.length), 12);
    expect(cv.folds[0].testIndices).not.toEqual(cv.folds[5].testIndices); // repeat 2 reshuffles
  });
});
