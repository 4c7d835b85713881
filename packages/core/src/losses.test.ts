import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { gaussianLabels } from './labels';
import {
  crossEntropyLoss,
  expectationL1Loss,
  klDivergenceLoss,
  ldlLoss,
  meanVarianceLoss,
  multiTaskLoss,
} from './losses';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const C = 101;
const value = (t: tf.Tensor): number => t.dataSync()[0];
/** `[1, 101]` logits: +1e4 at `cls`, −1e4 elsewhere (softmax is exactly one-hot in float32). */
const oneHotLogits = (cls: number): tf.Tensor2D => {
  const v = new Float32Array(C).fill(-1e4);
  v[cls] = 1e4;
  return tf.tensor2d(v, [1, C]);
};
/** Moderate logits `[n, C]`, deterministic. */
const smoothLogits = (n: number, c = C): tf.Tensor2D =>
  tf.tensor2d(Float32Array.from({ length: n * c }, (_, i) => 2 * Math.sin(0.37 * i) + Math.cos(1.3 * i)), [n, c]);
/** The floored Gaussian target in float64. */
const target64 = (age: number, sigma = 2): number[] =>
  Array.from({ length: C }, (_, k) =>
    Math.max(Math.exp(-((k - age) ** 2) / (2 * sigma * sigma)) / (sigma * Math.sqrt(2 * Math.PI)), 1e-15),
  );

describe('ldlLoss', () => {
  it('gives the exact finite value and gradient for logits of ±1e4 (where log(softmax) is -Infinity)', () => {
    const logits = oneHotLogits(40);
    expect(tf.log(tf.softmax(logits)).dataSync()[0]).toBe(-Infinity); // the naive form would fail
    const t = target64(40);
    const s = t.reduce((a, b) => a + b, 0);
    // logp = 0 at class 40 and −2e4 elsewhere; E[p] = 40 so the L1 term is 0.
    const kl = t.reduce((acc, tk, k) => acc + tk * (Math.log(tk) - (k === 40 ? 0 : -2e4)), 0);
    const { value: loss, grad } = tf.valueAndGrad((x: tf.Tensor2D) => ldlLoss(x, [40]))(logits);
    expect(value(loss) / kl).toBeCloseTo(1, 6);
    const g = grad.dataSync();
    expect(g.every(Number.isFinite)).toBe(true);
    // d KL / d logits = p·Σt − t.
    t.forEach((tk, k) => expect(g[k]).toBeCloseTo((k === 40 ? s : 0) - tk, 5));
  });

  it('equals KL + λ·L1 of its exported parts, for every KL reduction', () => {
    const logits = smoothLogits(3);
    const ages = [0, 57.25, 100];
    const target = gaussianLabels(ages);
    const klBatchmean = value(klDivergenceLoss(logits, target));
    const l1 = value(expectationL1Loss(logits, ages));
    expect(value(ldlLoss(logits, ages, { lambda: 0.5 }))).toBeCloseTo(klBatchmean + 0.5 * l1, 4);
    expect(value(ldlLoss(logits, ages, { lambda: 0 }))).toBeCloseTo(klBatchmean, 5);
    expect(value(ldlLoss(logits, ages, { lambda: 0, klReduction: 'sum' }))).toBeCloseTo(3 * klBatchmean, 4);
    expect(value(klDivergenceLoss(logits, target, { reduction: 'mean' }))).toBeCloseTo(klBatchmean / C, 6);
  });

  it('is 0 + λ·L1 when softmax(logits) equals the normalised target', () => {
    const ages = [20, 33.5];
    const target = gaussianLabels(ages, { normalize: true });
    expect(value(klDivergenceLoss(tf.log(target) as tf.Tensor2D, target))).toBeCloseTo(0, 6);
    // With sigma = 2 and ages away from the edges, the normalised Gaussian's mean is the age.
    expect(value(ldlLoss(tf.log(target) as tf.Tensor2D, ages, { normalize: true }))).toBeCloseTo(0, 4);
  });

  it('uses 0·log 0 = 0 for a zero target (floor: 0)', () => {
    const logits = smoothLogits(1);
    const loss = ldlLoss(logits, [50], { floor: 0 });
    expect(Number.isFinite(value(loss))).toBe(true);
    expect(value(loss)).toBeCloseTo(value(ldlLoss(logits, [50])), 5);
  });

  it('checks numClasses and minAge against the logits', () => {
    const logits = smoothLogits(1, 5);
    expect(value(ldlLoss(logits, [18], { minAge: 16, numClasses: 5 }))).toBeGreaterThan(0);
    expect(() => ldlLoss(logits, [18], { numClasses: 101 })).toThrow(
      new Error('Error in ldlLoss: logits.shape[1] must be numClasses = 101, but got 5.'),
    );
  });

  it('leaks no tensor (inside tidy, and outside it only the result stays)', () => {
    const logits = smoothLogits(4);
    const ages = tf.tensor1d([1, 2, 3, 4]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      ldlLoss(logits, ages, { sigma: [1, 2, 3, 4], normalize: true });
    });
    expect(tf.memory().numTensors).toBe(before);
    const loss = ldlLoss(logits, ages);
    expect(tf.memory().numTensors).toBe(before + 1);
    loss.dispose();
    const { value: v, grad } = tf.valueAndGrad((x: tf.Tensor2D) => ldlLoss(x, ages))(logits);
    tf.dispose([v, grad]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains: minimising it moves the expected age to the target', () => {
    const w = tf.variable(tf.zeros([1, C]));
    const optimizer = tf.train.adam(0.5);
    for (let i = 0; i < 60; i++) optimizer.minimize(() => ldlLoss(w as tf.Tensor2D, [70]));
    const p = Array.from(tf.softmax(w).dataSync());
    const e = p.reduce((acc, pk, k) => acc + pk * k, 0);
    expect(Math.abs(e - 70)).toBeLessThan(0.5);
  });

  it.each([
    [[NaN, 3], {}, 'Error in ldlLoss: ages[0] must be a finite number, but got NaN.'],
    [[3, 100.5], {}, 'Error in ldlLoss: ages[1] must be within [0, 100] (minAge to minAge + numClasses - 1), but got 100.5.'],
    [[3, 4], { sigma: 0 }, 'Error in ldlLoss: sigma must be > 0, but got 0.'],
    [[3, 4], { sigma: [2, -1] }, 'Error in ldlLoss: sigma[1] must be > 0, but got -1.'],
    [[3, 4], { sigma: [2] }, 'Error in ldlLoss: sigma.length must be 2 (the number of ages), but got 1.'],
    [[3], {}, 'Error in ldlLoss: ages.length must be 2 (the number of rows of logits), but got 1.'],
    [[3, 4], { lambda: -1 }, 'Error in ldlLoss: lambda must be >= 0, but got -1.'],
    [[3, 4], { klReduction: 'none' }, 'Error in ldlLoss: klReduction must be one of "batchmean", "sum", "mean", but got "none".'],
    [[3, 4], { minAge: Infinity }, 'Error in ldlLoss: minAge must be a finite number, but got Infinity.'],
  ])('rejects ages %j with %j', (ages, options, message) => {
    expect(() => ldlLoss(smoothLogits(2), ages, options as object)).toThrow(new Error(message));
  });

  it('rejects logits of the wrong rank or dtype', () => {
    expect(() => ldlLoss(tf.zeros([2, 3, 4]) as unknown as tf.Tensor2D, [1, 2])).toThrow(
      new Error(
        'Error in ldlLoss: logits must be a rank-2 Tensor [batch, numClasses], but got a rank-3 Tensor of shape [2,3,4] and dtype float32.',
      ),
    );
    expect(() => ldlLoss(tf.zeros([2, 3], 'int32') as tf.Tensor2D, [1, 2])).toThrow(
      new Error('Error in ldlLoss: logits.dtype must be "float32", but got "int32".'),
    );
    expect(() => ldlLoss([[1, 2]] as unknown as tf.Tensor2D, [1])).toThrow(
      new Error('Error in ldlLoss: logits must be a Tensor2D [batch, numClasses], but got an array of length 1.'),
    );
  });
});

describe('klDivergenceLoss and expectationL1Loss', () => {
  it('reject mismatched shapes and bad options', () => {
    const logits = smoothLogits(2);
    expect(() => klDivergenceLoss(logits, gaussianLabels([1]))).toThrow(
      new Error('Error in klDivergenceLoss: target.shape must be equal to logits.shape [2,101], but got "[1,101]".'),
    );
    expect(() => klDivergenceLoss(logits, gaussianLabels([1, 2]), { reduction: 'avg' as 'sum' })).toThrow(
      new Error('Error in klDivergenceLoss: reduction must be one of "batchmean", "sum", "mean", but got "avg".'),
    );
    expect(() => expectationL1Loss(logits, [1, 2, 3])).toThrow(
      new Error('Error in expectationL1Loss: ages.length must be 2 (the number of rows of logits), but got 3.'),
    );
  });

  it('L1 is |E[p] − age| for a uniform distribution (E = 50)', () => {
    expect(value(expectationL1Loss(tf.zeros([2, C]) as tf.Tensor2D, [40, 55.5]))).toBeCloseTo((10 + 5.5) / 2, 4);
  });
});

describe('crossEntropyLoss', () => {
  it('is log C for uniform logits and picks class round(age − minAge)', () => {
    expect(value(crossEntropyLoss(tf.zeros([3, C]) as tf.Tensor2D, [0, 12.5, 100]))).toBeCloseTo(Math.log(C), 5);
    const logits = tf.tensor2d([[0, 0, Math.log(2)]]); // p = [0.25, 0.25, 0.5]
    expect(value(crossEntropyLoss(logits, [17.6], { minAge: 16 }))).toBeCloseTo(-Math.log(0.5), 6); // class 2
    expect(value(crossEntropyLoss(logits, [17.4], { minAge: 16 }))).toBeCloseTo(-Math.log(0.25), 6); // class 1
  });

  it('rejects out-of-range ages', () => {
    expect(() => crossEntropyLoss(tf.zeros([1, 3]) as tf.Tensor2D, [3])).toThrow(
      new Error('Error in crossEntropyLoss: ages[0] must be within [0, 2] (minAge to minAge + numClasses - 1), but got 3.'),
    );
  });
});

describe('meanVarianceLoss', () => {
  // p = [0.25, 0.5, 0.25] over ages 10..12: mean 11, variance 0.5.
  const logits = () => tf.tensor2d([[0, Math.log(2), 0]]);

  it('computes ½(m − age)² and Var[p], weighted, plus the softmax loss by default', () => {
    const only = (lambdaMean: number, lambdaVariance: number, age: number) =>
      value(meanVarianceLoss(logits(), [age], { lambdaMean, lambdaVariance, minAge: 10, includeSoftmax: false }));
    expect(only(1, 0, 11)).toBeCloseTo(0, 6);
    expect(only(1, 0, 12)).toBeCloseTo(0.5, 6);
    expect(only(0, 1, 12)).toBeCloseTo(0.5, 6);
    expect(only(0.2, 0.05, 12)).toBeCloseTo(0.2 * 0.5 + 0.05 * 0.5, 6);
    const full = value(meanVarianceLoss(logits(), [12], { minAge: 10 }));
    expect(full).toBeCloseTo(-Math.log(0.25) + 0.2 * 0.5 + 0.05 * 0.5, 6);
  });

  it('rejects bad options', () => {
    expect(() => meanVarianceLoss(logits(), [11], { minAge: 10, includeSoftmax: 'yes' as unknown as boolean })).toThrow(
      new Error('Error in meanVarianceLoss: includeSoftmax must be a boolean, but got "yes".'),
    );
    expect(() => meanVarianceLoss(logits(), [11], { minAge: 10, lambdaVariance: -0.1 })).toThrow(
      new Error('Error in meanVarianceLoss: lambdaVariance must be >= 0, but got -0.1.'),
    );
  });
});

describe('multiTaskLoss', () => {
  const outputs = () => ({
    age: smoothLogits(2),
    gender: tf.tensor2d([[0, Math.log(3)], [0, 0]]), // p(1) = 0.75 ; uniform
    ethnicity: smoothLogits(2, 5),
  });

  it('is the weighted sum of the LDL loss and the two cross-entropies', () => {
    const o = outputs();
    const ages = [25, 61.5];
    const eth = [4, 0];
    const ethCe = value(
      tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(tf.tensor1d(eth, 'int32'), 5), tf.logSoftmax(o.ethnicity)), 1))),
    );
    const genderCe = (-Math.log(0.75) - Math.log(0.5)) / 2;
    const expected = 2 * value(ldlLoss(o.age, ages, { sigma: 3 })) + 0.5 * genderCe + 0.25 * ethCe;
    const loss = multiTaskLoss(o, { ages, gender: [1, 0], ethnicity: tf.tensor1d(eth, 'int32') }, {
      sigma: 3,
      ageWeight: 2,
      genderWeight: 0.5,
      ethnicityWeight: 0.25,
    });
    expect(value(loss)).toBeCloseTo(expected, 4);
  });

  it('names the bad head or target', () => {
    const o = outputs();
    expect(() => multiTaskLoss(o, { ages: [1, 2], gender: [0, 2], ethnicity: [0, 0] })).toThrow(
      new Error('Error in multiTaskLoss: targets.gender[1] must be an integer class index in [0, 1], but got 2.'),
    );
    expect(() => multiTaskLoss(o, { ages: [1, 2], gender: [0, 1], ethnicity: [0.5, 0] })).toThrow(
      new Error('Error in multiTaskLoss: targets.ethnicity[0] must be an integer class index in [0, 4], but got 0.5.'),
    );
    expect(() => multiTaskLoss(o, { ages: [1, NaN], gender: [0, 1], ethnicity: [0, 0] })).toThrow(
      new Error('Error in multiTaskLoss: targets.ages[1] must be a finite number, but got NaN.'),
    );
    expect(() => multiTaskLoss({ ...o, gender: smoothLogits(3, 2) }, { ages: [1, 2], gender: [0, 1], ethnicity: [0, 0] })).toThrow(
      new Error('Error in multiTaskLoss: outputs.gender.shape[0] must be 2 (the rows of outputs.age), but got 3.'),
    );
    expect(() => multiTaskLoss(o, { ages: [1, 2], gender: [0, 1], ethnicity: [0, 0] }, { genderWeight: NaN })).toThrow(
      new Error('Error in multiTaskLoss: genderWeight must be a finite number, but got NaN.'),
    );
  });
});

describe('expectationL1Loss gradient', () => {
  it('is 0 where E[p] equals the age (PyTorch subgradient), and ±p_k(k − E)/N elsewhere', () => {
    const logits = tf.tensor2d([[0, Math.log(2), 0]]); // p = [0.25, 0.5, 0.25], E = 1
    const grad = (age: number) =>
      Array.from(tf.grad((x: tf.Tensor) => expectationL1Loss(x as tf.Tensor2D, [age]))(logits).dataSync());
    grad(1).forEach((g) => expect(g).toBe(0));
    const g = grad(2); // E − age < 0: d|E − a|/dx_k = −p_k(k − E)
    expect(g[0]).toBeCloseTo(0.25, 6);
    expect(g[1]).toBeCloseTo(0, 6);
    expect(g[2]).toBeCloseTo(-0.25, 6);
  });
});
