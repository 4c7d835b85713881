import { describe, expect, it } from 'vitest';
import { minimizeLbfgs } from './lbfgs';

describe('minimizeLbfgs', () => {
  it('finds the minimum of the Rosenbrock function', () => {
    const r = minimizeLbfgs((x) => {
      const [a, b] = x;
      return {
        value: (1 - a) ** 2 + 100 * (b - a * a) ** 2,
        gradient: Float64Array.from([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)]),
      };
    }, Float64Array.from([-1.2, 1]));
    expect(r.x[0]).toBeCloseTo(1, 5);
    expect(r.x[1]).toBeCloseTo(1, 5);
    expect(r.iterations).toBeLessThan(100);
  });

  it('solves a 50-dimensional convex quadratic to the gradient tolerance', () => {
    const n = 50;
    const diag = Float64Array.from({ length: n }, (_, i) => 1 + i);
    const r = minimizeLbfgs((x) => ({
      value: x.reduce((s, v, i) => s + 0.5 * diag[i] * (v - 1) ** 2, 0),
      gradient: x.map((v, i) => diag[i] * (v - 1)),
    }), new Float64Array(n), { gradientTolerance: 1e-9, functionTolerance: 0 });
    expect(r.reason).toBe('gradient');
    for (const v of r.x) expect(v).toBeCloseTo(1, 8);
  });
});
