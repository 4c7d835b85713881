import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers';
import { curvesSvg, type EpochRecord, errorByAge, errorByAgeSvg, metricsCsv, writeSvgPng } from './report';

const rec = (epoch: number, mae: number): EpochRecord => ({
  epoch, lr: 1e-3, trainLoss: 10 / epoch, valLoss: 12 / epoch, mae, ca3: 20 * epoch, ca5: 30 * epoch, ca7: 35 * epoch, seconds: 5, imagesPerSecond: 40,
});

describe('reports', () => {
  it('writes metrics.csv with one row per epoch and empty multi-task columns', () => {
    const csv = metricsCsv([rec(1, 9), rec(2, 7)]).split('\n');
    expect(csv[0]).toBe('epoch,lr,trainLoss,valLoss,mae,ca3,ca5,ca7,genderAcc,ethnicityAcc,seconds,imagesPerSecond');
    expect(csv[2]).toBe('2,0.001,5,6,7,40,60,70,,,5,40');
  });

  it('bins absolute errors by true age', () => {
    expect(errorByAge([10, 12, 30], [11, 14, 35], 5)).toEqual([
      { from: 10, to: 15, count: 2, mae: 1.5 },
      { from: 35, to: 40, count: 1, mae: 5 },
    ]);
  });

  it('renders the curves and the error-by-age chart to PNG', async () => {
    const dir = tempDir();
    await writeSvgPng(curvesSvg([rec(1, 9), rec(2, 7), rec(3, 6)], 'run <x>'), path.join(dir, 'c.png'));
    await writeSvgPng(errorByAgeSvg(errorByAge([1, 50], [3, 40])), path.join(dir, 'e.png'));
    expect((await sharp(path.join(dir, 'c.png')).metadata()).width).toBe(1080);
    expect((await sharp(path.join(dir, 'e.png')).metadata()).width).toBe(720);
    expect(curvesSvg([rec(1, 9)])).toContain('validation MAE');
    expect(curvesSvg([rec(1, 9)], 'a <b>')).toContain('a &lt;b>');
  });
});
