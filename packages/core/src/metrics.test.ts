import { describe, expect, it } from 'vitest';
import { AgeMetrics, cumulativeAccuracy, mae } from './metrics';

describe('mae', () => {
  it('is the mean absolute error', () => {
    expect(mae([20, 31], [22, 30])).toBe(1.5);
    expect(mae(new Float32Array([1.5]), [0])).toBe(1.5);
  });

  it('rejects mismatched, empty or non-finite input', () => {
    expect(() => mae([1, 2], [1])).toThrow(new Error('Error in mae: truth.length must be 2 (the number of predictions), but got 1.'));
    expect(() => mae([], [])).toThrow(new Error('Error in mae: pred must be non-empty, but got an array of length 0.'));
    expect(() => mae([1, NaN], [1, 2])).toThrow(new Error('Error in mae: pred[1] must be a finite number, but got NaN.'));
  });
});

describe('cumulativeAccuracy', () => {
  // errors: 3, 3, 0.5, 7, 5
  const pred = [20, 33, 25.5, 41, 60];
  const truth = [23, 30, 25, 48, 55];

  it('is strict (<) by default and ≤ with inclusive', () => {
    expect(cumulativeAccuracy(pred, truth, 3)).toBe(20);
    expect(cumulativeAccuracy(pred, truth, 3, { inclusive: true })).toBe(60);
    expect(cumulativeAccuracy(pred, truth, 5)).toBe(60);
    expect(cumulativeAccuracy(pred, truth, 5, { inclusive: true })).toBe(80);
    expect(cumulativeAccuracy(pred, truth, 7)).toBe(80);
    expect(cumulativeAccuracy(pred, truth, 7, { inclusive: true })).toBe(100);
    expect(cumulativeAccuracy(pred, truth, 0)).toBe(0);
  });

  it('rejects a negative threshold', () => {
    expect(() => cumulativeAccuracy(pred, truth, -1)).toThrow(new Error('Error in cumulativeAccuracy: n must be >= 0, but got -1.'));
  });
});

describe('AgeMetrics', () => {
  it('accumulates batches into MAE, CA(3/5/7) and MAE per decade of the true age', () => {
    const m = new AgeMetrics();
    m.update([20, 33, 25.5], [23, 30, 25]); // errors 3, 3, 0.5 — decades 20, 30, 20
    m.update(new Float64Array([41, 60, 9, 100]), [48, 55, 9.99, 100]); // errors 7, 5, 0.99, 0 — decades 40, 50, 0, 100
    expect(m.count).toBe(7);
    const r = m.result();
    expect(r.count).toBe(7);
    expect(r.mae).toBeCloseTo((3 + 3 + 0.5 + 7 + 5 + 0.99 + 0) / 7, 12);
    expect(r.ca3).toBeCloseTo((100 * 3) / 7, 12); // 0.5, 0.99, 0
    expect(r.ca5).toBeCloseTo((100 * 5) / 7, 12);
    expect(r.ca7).toBeCloseTo((100 * 6) / 7, 12);
    expect(r.maeByDecade).toEqual([
      { decade: 0, count: 1, mae: expect.closeTo(0.99, 12) },
      { decade: 20, count: 2, mae: 1.75 },
      { decade: 30, count: 1, mae: 3 },
      { decade: 40, count: 1, mae: 7 },
      { decade: 50, count: 1, mae: 5 },
      { decade: 100, count: 1, mae: 0 },
    ]);
  });

  it('counts threshold errors with inclusive: true, and resets', () => {
    const m = new AgeMetrics({ inclusive: true });
    m.update([20, 33], [23, 30]);
    expect(m.result().ca3).toBe(100);
    m.reset();
    expect(m.count).toBe(0);
    expect(() => m.result()).toThrow(
      new Error('Error in AgeMetrics.result: count must be > 0 (call update() first), but got 0.'),
    );
  });

  it('rejects bad batches without changing its state', () => {
    const m = new AgeMetrics();
    m.update([1], [1]);
    expect(() => m.update([1, 2], [1, Infinity])).toThrow(
      new Error('Error in AgeMetrics.update: truth[1] must be a finite number, but got Infinity.'),
    );
    expect(m.count).toBe(1);
    expect(() => new AgeMetrics({ inclusive: 'yes' as unknown as boolean })).toThrow(
      new Error('Error in AgeMetrics: inclusive must be a boolean, but got "yes".'),
    );
  });
});
