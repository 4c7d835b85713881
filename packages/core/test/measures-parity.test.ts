// Parity of @ldl/core's LDL measures with PyLDL (python-ldl 0.1.2, pyldl.metrics), from the fixture
// written by tools/reference/ldl_measures_parity.py: random distributions with zeros, float64.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  chebyshev,
  clark,
  divisivenessError,
  kullbackLeibler,
  LDL_MEASURE_REGISTRY,
  ldlMeasures,
  type LdlMeasureKey,
  type LdlMeasureName,
  matchM,
  topK,
  type TopKMode,
} from '@ldl/core';

interface Case {
  shape: [number, number];
  yTrue: number[][];
  yPred: number[][];
  expected: Record<LdlMeasureKey, number>;
  topKModes: Record<string, number>;
  divisivenessError: number;
}
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/ldl-measures-parity.json', import.meta.url), 'utf8'),
) as { cases: Case[] };

const close = (got: number, want: number) => Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want));

describe('ldlMeasures matches PyLDL', () => {
  it.each(fixture.cases.map((c) => [c.shape.join('x'), c] as const))('case %s (≤ 1e-6)', (_, c) => {
    const got = ldlMeasures(c.yTrue, c.yPred);
    for (const name of Object.keys(got) as LdlMeasureName[]) {
      expect(close(got[name], c.expected[name]), `${name}: got ${got[name]}, PyLDL ${c.expected[name]}`).toBe(true);
    }
  });

  it.each(fixture.cases.map((c) => [c.shape.join('x'), c] as const))('every registry measure, case %s (≤ 1e-6)', (_, c) => {
    expect(Object.keys(LDL_MEASURE_REGISTRY).sort()).toEqual(Object.keys(c.expected).sort());
    for (const [name, want] of Object.entries(c.expected) as [LdlMeasureKey, number][]) {
      const got = LDL_MEASURE_REGISTRY[name].fn(c.yTrue, c.yPred);
      expect(close(got, want), `${name}: got ${got}, PyLDL ${want}`).toBe(true);
    }
    for (const [key, want] of Object.entries(c.topKModes)) {
      const [k, mode] = key.slice(3).split(':');
      expect(close(topK(c.yTrue, c.yPred, Number(k), mode as TopKMode), want), key).toBe(true);
    }
    const L = c.shape[1];
    const pos = Array.from({ length: L }, (_, j) => (j % 2 === 0 ? 1 : 0));
    const neg = pos.map((v) => 1 - v);
    expect(close(divisivenessError(c.yTrue, c.yPred, pos, neg), c.divisivenessError)).toBe(true);
  });

  it('the fixture has ties (zeros) for the rank measures and an imperfect arg-max', () => {
    const c = fixture.cases[0];
    expect(c.expected.zeroOneLoss).toBeGreaterThan(0);
    expect(c.expected.spearman).toBeLessThan(1);
    expect(c.yTrue.some((r) => r.filter((v) => v === 0).length >= 2)).toBe(true);
  });

  it('the fixture has zeros in both inputs, so the clipping is exercised', () => {
    const zeros = (m: number[][]) => m.flat().filter((v) => v === 0).length;
    expect(fixture.cases.some((c) => zeros(c.yTrue) > 0 && zeros(c.yPred) > 0)).toBe(true);
  });

  it('single measures and tensors agree with ldlMeasures', () => {
    const c = fixture.cases[0];
    const all = ldlMeasures(c.yTrue, c.yPred);
    expect(kullbackLeibler(c.yTrue, c.yPred)).toBe(all.kullbackLeibler);
    expect(clark(c.yTrue, c.yPred)).toBe(all.clark);
    const t = tf.tensor2d(c.yTrue);
    const p = tf.tensor2d(c.yPred);
    // float32 tensors: equal to float32 rounding
    expect(chebyshev(t, p)).toBeCloseTo(all.chebyshev, 6);
    t.dispose();
    p.dispose();
  });
});

describe('ldlMeasures errors', () => {
  it('names the argument on a shape mismatch, a ragged row or a NaN', () => {
    expect(() => ldlMeasures([[0.5, 0.5]], [[1, 0, 0]])).toThrow(/Error in ldlMeasures: yPred shape must be \[1, 2\]/);
    expect(() => ldlMeasures([[0.5, 0.5], [1]], [[1, 0], [0, 1]])).toThrow(/yTrue\[1\]\.length must be 2/);
    expect(() => ldlMeasures([[0.5, NaN]], [[1, 0]])).toThrow(/yTrue\[0\]\[1\] must be a finite number/);
    expect(() => chebyshev([], [])).toThrow(/Error in chebyshev: yTrue must be non-empty/);
    expect(() => matchM([[1, 0]], [[1, 0]], 0)).toThrow(/Error in matchM: m must be an integer >= 1, but got 0/);
    expect(() => topK([[1, 0]], [[1, 0]], 1, 'f2' as TopKMode)).toThrow(/Error in topK: mode must be/);
    expect(() => divisivenessError([[1, 0]], [[1, 0]], [1], [0, 1])).toThrow(/Error in divisivenessError: pos must be 2 finite numbers/);
  });
});
