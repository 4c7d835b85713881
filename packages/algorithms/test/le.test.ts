// Label enhancement: binarize's rule and errors, the enhancers' contracts and the LE protocol's recovery on a
// binarised LDL set (synthetic here; SJAFFE against PyLDL in le-parity.test.ts).
import { kullbackLeibler, Rng } from '@ldl/core';
import { describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { binarize, evaluateEnhancer, FuzzyCMeans, Glle, KernelMembership, LabelPropagation, Levi, ManifoldLearning } from '../src';

/** Three blobs in 4-d whose distributions over 3 labels depend smoothly on the features. */
function blobs(n: number, seed = 1) {
  const rng = new Rng(seed);
  const features: number[][] = [];
  const labels: number[][] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    const x = Array.from({ length: 4 }, (_, j) => (j === c ? 2 : 0) + rng.uniform(-1, 1));
    const z = [x[0], x[1], x[2] + 0.3 * x[3]].map((v) => Math.exp(1.5 * v));
    const s = z.reduce((a, b) => a + b, 0);
    features.push(x);
    labels.push(z.map((v) => v / s));
  }
  return { features, labels };
}

describe('binarize (PyLDL binaryzation)', () => {
  it('threshold: the fewest top degrees reaching the threshold; topk: the k largest', () => {
    expect(binarize([[0.3, 0.5, 0.2]])).toEqual([[0, 1, 0]]);
    expect(binarize([[0.4, 0.35, 0.25]])).toEqual([[1, 1, 0]]);
    expect(binarize([[0.4, 0.35, 0.25]], { param: 0.8 })).toEqual([[1, 1, 1]]);
    expect(binarize([[0.1, 0.2, 0.3, 0.4]], { method: 'topk' })).toEqual([[0, 0, 1, 1]]);
    expect(binarize([[0.1, 0.2, 0.3, 0.4]], { method: 'topk', param: 1 })).toEqual([[0, 0, 0, 1]]);
  });
  it('rejects a param out of range and an unknown method, naming them', () => {
    expect(() => binarize([[0.5, 0.5]], { param: 1 })).toThrow(/Error in binarize: param must be a number in \[0, 1\) for method 'threshold', but got 1/);
    expect(() => binarize([[0.5, 0.5]], { method: 'topk', param: 2 })).toThrow(/param must be an integer in \[1, 2\)/);
    expect(() => binarize([[0.5, 0.5]], { method: 'top' as 'topk' })).toThrow(/method must be 'threshold' or 'topk'/);
  });
});

describe('label enhancers', () => {
  const { features, labels } = blobs(40);
  const L = binarize(labels);
  it.each([
    ['LP', () => new LabelPropagation()],
    ['KM', () => new KernelMembership()],
    ['ML', () => new ManifoldLearning()],
    ['FCM', () => new FuzzyCMeans({ nClusters: 5 })],
    ['GLLE', () => new Glle()],
    ['LEVI', () => new Levi({ epochs: 20 })],
  ] as const)('%s returns one distribution per sample', async (_, make) => {
    const D = (await make().fit(features, L)).transform();
    expect(D).toHaveLength(40);
    for (const row of D) {
      expect(row).toHaveLength(3);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
  });

  it('reject non-logical labels, an unused label, transform before fit and out-of-range hyper-parameters', () => {
    expect(() => new LabelPropagation().fit(features, labels)).toThrow(/Error in LabelPropagation.fit: L\[0\]\[0\] must be 0 or 1/);
    const unused = L.map((r) => [...r, 0]);
    expect(() => new KernelMembership().fit(features, unused)).toThrow(/L column 3 must be set \(1\) for at least one sample/);
    expect(() => new Glle().transform()).toThrow(/Error in Glle.transform: call fit\(X, L\) before transform\(\)/);
    expect(() => new LabelPropagation({ alpha: 1 })).toThrow(/Error in LabelPropagation: alpha must be a number in \(0, 1\), but got 1/);
    expect(() => new FuzzyCMeans({ beta: 1 })).toThrow(/beta must be a number > 1/);
    expect(() => new ManifoldLearning({ beta: 0 })).toThrow(/beta must be a number > 0/);
  });

  it('LP: the direct fixed-point solve (default 500 steps) equals the steps themselves (50 steps: 0.5^50 from it)', () => {
    const solved = new LabelPropagation().fit(features, L).transform();
    const stepped = new LabelPropagation({ epochs: 50 }).fit(features, L).transform();
    solved.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - stepped[i][j])).toBeLessThan(1e-12)));
  });

  it('LEVI is seeded: the same seed gives the same distributions', async () => {
    const a = (await new Levi({ epochs: 10, seed: 3 }).fit(features, L)).transform();
    const b = (await new Levi({ epochs: 10, seed: 3 }).fit(features, L)).transform();
    expect(a).toEqual(b);
    expect(() => new Levi({ hidden: 0 })).toThrow(/Error in Levi: hidden must be an integer >= 1, but got 0/);
  });

  it('the LE protocol recovers distributions closer than the uniform distribution does (LP, KM, GLLE; LEVI on s-JAFFE in the package README)', async () => {
    const data = blobs(120, 7);
    const { toMatrix } = await import('../src');
    const set = { features: toMatrix('t', 'X', data.features), labels: toMatrix('t', 'D', data.labels) };
    const logical = binarize(data.labels);
    const baseline = kullbackLeibler(data.labels, logical.map((r) => r.map(() => 1 / r.length)));
    for (const make of [() => new LabelPropagation(), () => new KernelMembership(), () => new Glle()]) {
      const { mean } = await evaluateEnhancer(set, make);
      expect(mean.kullbackLeibler, `${make().constructor.name}: ${mean.kullbackLeibler} vs uniform ${baseline}`).toBeLessThan(baseline);
    }
  });
});
