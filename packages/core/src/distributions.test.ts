import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { argmaxLabel, expectedLabel, gaussianDistribution, klDivergenceLoss, normalizeDistribution, smoothLabels } from './index';

describe('label-distribution helpers', () => {
  it('normalizeDistribution divides rows by their sums and rejects negatives and zero rows', () => {
    const d = normalizeDistribution(tf.tensor2d([[1, 3], [2, 2]]));
    expect(d.arraySync()).toEqual([[0.25, 0.75], [0.5, 0.5]]);
    expect(() => normalizeDistribution(tf.tensor2d([[1, -1]]))).toThrow(/scores\[0\]\[1\] must be a finite number >= 0, but got -1/);
    expect(() => normalizeDistribution(tf.tensor2d([[0, 0]]))).toThrow(/the sum of scores\[0\] must be > 0/);
  });

  it('smoothLabels mixes one-hot rows with the uniform distribution', () => {
    const d = smoothLabels([2, 0], 4, 0.2).arraySync();
    expect(d[0][2]).toBeCloseTo(0.85, 6);
    expect(d[0][0]).toBeCloseTo(0.05, 6);
    expect(d[1].reduce((a, b) => a + b)).toBeCloseTo(1, 6);
    expect(() => smoothLabels([4], 4)).toThrow(/classes\[0\] must be an integer class index in \[0, 3\]/);
  });

  it('gaussianDistribution over star ratings is normalised, centred and symmetric', () => {
    const d = gaussianDistribution([3, 1.5], [1, 2, 3, 4, 5], { sigma: 1 }).arraySync();
    expect(d[0].reduce((a, b) => a + b)).toBeCloseTo(1, 6);
    expect(d[0][1]).toBeCloseTo(d[0][3], 6);
    expect(d[0][2]).toBeCloseTo(1 / (1 + 2 * Math.exp(-0.5) + 2 * Math.exp(-2)), 6);
    expect(d[1][0]).toBeCloseTo(d[1][1], 6);
    expect(() => gaussianDistribution([3], [1, 2], { sigma: 0 })).toThrow(/sigma must be > 0/);
  });

  it('expectedLabel and argmaxLabel decode over given label values', () => {
    const p = tf.tensor2d([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]]);
    expect(Array.from(expectedLabel(p, [1, 3, 5]).dataSync())).toEqual([
      expect.closeTo(4.2, 5),
      expect.closeTo(2.5, 5),
    ]);
    expect(Array.from(argmaxLabel(p, [1, 3, 5]).dataSync())).toEqual([5, 1]);
    const logits = tf.log(p) as tf.Tensor2D;
    expect(expectedLabel(logits, [1, 3, 5], { from: 'logits' }).dataSync()[0]).toBeCloseTo(4.2, 5);
    expect(() => expectedLabel(p, [1, 2])).toThrow(/Error in expectedLabel: labelValues.length must be 3/);
  });

  it('klDivergenceLoss takes target distributions of any width (here L = 6, as s-JAFFE)', () => {
    const target = normalizeDistribution(tf.tensor2d([[1, 2, 3, 4, 5, 6]]));
    expect(klDivergenceLoss(tf.log(target) as tf.Tensor2D, target).dataSync()[0]).toBeCloseTo(0, 6);
    expect(klDivergenceLoss(tf.zeros([1, 6]), target).dataSync()[0]).toBeGreaterThan(0.05);
  });
});
