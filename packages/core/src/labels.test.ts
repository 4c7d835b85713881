import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { gaussianLabels } from './labels';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const pdf = (d: number, s: number) => Math.exp(-(d * d) / (2 * s * s)) / (s * Math.sqrt(2 * Math.PI));

describe('gaussianLabels', () => {
  it('samples the unnormalised Gaussian N(age, 2) at each class, floored at 1e-15', () => {
    const t = gaussianLabels([50]);
    expect(t.shape).toEqual([1, 101]);
    const v = t.dataSync();
    expect(v[50]).toBeCloseTo(1 / (2 * Math.sqrt(2 * Math.PI)), 7); // 0.19947114
    expect(v[52]).toBeCloseTo(0.19947114 * Math.exp(-0.5), 7);
    expect(v[0]).toBeCloseTo(1e-15, 22); // exp(-312.5)/… underflows below the floor
    expect(v[50 + 12] / pdf(12, 2)).toBeCloseTo(1, 6); // 3.04e-9, far above the floor
  });

  it('handles fractional ages, per-sample sigma (array or tensor), minAge and numClasses', () => {
    const t = gaussianLabels(tf.tensor1d([16, 18.5]), { minAge: 16, numClasses: 5, sigma: tf.tensor1d([1, 3]) });
    expect(t.shape).toEqual([2, 5]);
    const v = t.dataSync();
    for (let k = 0; k < 5; k++) {
      expect(v[k]).toBeCloseTo(pdf(16 + k - 16, 1), 7);
      expect(v[5 + k]).toBeCloseTo(pdf(16 + k - 18.5, 3), 7);
    }
  });

  it('normalises rows to 1 with normalize: true (after the floor)', () => {
    const v = gaussianLabels([0, 100, 37.3], { normalize: true, sigma: [1, 2, 8] }).arraySync();
    for (const row of v) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    // Age 0 sits on the edge: half the mass is cut, so the unnormalised row sums to ≈ 0.5 + pdf(0)/2.
    const raw = gaussianLabels([0]).arraySync()[0].reduce((a, b) => a + b, 0);
    expect(raw).toBeCloseTo(0.5 + pdf(0, 2) / 2, 4);
  });

  it('honours a custom floor, including 0', () => {
    expect(gaussianLabels([0], { floor: 0 }).dataSync()[100]).toBe(0);
    expect(gaussianLabels([0], { floor: 0.01 }).dataSync()[100]).toBeCloseTo(0.01, 9);
  });

  it.each([
    [[NaN], {}, 'Error in gaussianLabels: ages[0] must be a finite number, but got NaN.'],
    [[3, 101], {}, 'Error in gaussianLabels: ages[1] must be within [0, 100] (minAge to minAge + numClasses - 1), but got 101.'],
    [[-0.5], {}, 'Error in gaussianLabels: ages[0] must be within [0, 100] (minAge to minAge + numClasses - 1), but got -0.5.'],
    [[15], { minAge: 16 }, 'Error in gaussianLabels: ages[0] must be within [16, 116] (minAge to minAge + numClasses - 1), but got 15.'],
    [[3], { sigma: 0 }, 'Error in gaussianLabels: sigma must be > 0, but got 0.'],
    [[3], { sigma: -2 }, 'Error in gaussianLabels: sigma must be > 0, but got -2.'],
    [[3], { sigma: NaN }, 'Error in gaussianLabels: sigma must be a finite number, but got NaN.'],
    [[3, 4], { sigma: [1, 0] }, 'Error in gaussianLabels: sigma[1] must be > 0, but got 0.'],
    [[3, 4], { sigma: [1, 2, 3] }, 'Error in gaussianLabels: sigma.length must be 2 (the number of ages), but got 3.'],
    [[3], { numClasses: 0 }, 'Error in gaussianLabels: numClasses must be >= 1, but got 0.'],
    [[3], { numClasses: 2.5 }, 'Error in gaussianLabels: numClasses must be an integer, but got 2.5.'],
    [[3], { floor: -1 }, 'Error in gaussianLabels: floor must be >= 0, but got -1.'],
    [[], {}, 'Error in gaussianLabels: ages must be non-empty, but got an array of length 0.'],
  ])('rejects %j with %j', (ages, options, message) => {
    expect(() => gaussianLabels(ages, options)).toThrow(new Error(message));
  });

  it('rejects ages of the wrong kind, rank or dtype', () => {
    expect(() => gaussianLabels('30' as unknown as number[])).toThrow(
      new Error('Error in gaussianLabels: ages must be an array of numbers or a Tensor1D, but got "30".'),
    );
    expect(() => gaussianLabels(tf.zeros([2, 1]) as unknown as tf.Tensor1D)).toThrow(
      new Error(
        'Error in gaussianLabels: ages must be a rank-1 Tensor [N] or an array of numbers, but got a rank-2 Tensor of shape [2,1] and dtype float32.',
      ),
    );
    expect(() => gaussianLabels(tf.tensor1d([1], 'bool'))).toThrow(
      new Error('Error in gaussianLabels: ages.dtype must be "float32" or "int32", but got "bool".'),
    );
    expect(() => gaussianLabels([3], { normalize: 1 as unknown as boolean })).toThrow(
      new Error('Error in gaussianLabels: normalize must be a boolean, but got 1.'),
    );
  });
});
