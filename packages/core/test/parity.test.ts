// Parity of @ldl/core with the PyTorch reference (tools/reference/core_parity.py): values and
// gradients w.r.t. the logits, on the pure-JS CPU backend.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AgeMetrics,
  crossEntropyLoss,
  cumulativeAccuracy,
  expectationL1Loss,
  expectedAge,
  gaussianLabels,
  klDivergenceLoss,
  ldlLoss,
  mae,
  meanVarianceLoss,
  multiTaskLoss,
} from '@ldl/core';

interface LdlCase {
  name: string;
  rows: number[];
  options: { sigma: number | number[]; normalize: boolean; lambda: number; klReduction: 'batchmean' };
  target: number[][];
  kl: number;
  l1: number;
  loss: number;
  grad: number[][];
}
interface Fixture {
  generatedBy: { script: string; torch: string; seed: number };
  logits: number[][];
  ages: number[];
  extremeRow: number;
  expectedAges: number[];
  ldl: LdlCase[];
  naiveSeedLossFloat32: string;
  crossEntropy: { classes: number[]; loss: number; grad: number[][] };
  meanVariance: { lambdaMean: number; lambdaVariance: number; mean: number; variance: number; softmax: number; loss: number; grad: number[][] };
  multiTask: {
    genderLogits: number[][];
    ethnicityLogits: number[][];
    gender: number[];
    ethnicity: number[];
    weights: { ageWeight: number; genderWeight: number; ethnicityWeight: number };
    loss: number;
  };
  metrics: {
    pred: number[];
    truth: number[];
    mae: number;
    strict: Record<'ca3' | 'ca5' | 'ca7', number>;
    inclusive: Record<'ca3' | 'ca5' | 'ca7', number>;
    maeByDecade: { decade: number; count: number; mae: number }[];
  };
}

const fx = JSON.parse(readFileSync(new URL('./fixtures/core-parity.json', import.meta.url), 'utf8')) as Fixture;

const REL = 1e-5;
/**
 * |actual − expected| ≤ 1e-5·|expected|, where entries far below the largest of their array get an
 * absolute allowance of 1e-5 × (1e-3 · max|expected|): float32 cannot resolve them more finely.
 */
function expectClose(actual: ArrayLike<number>, expected: number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const scale = Math.max(...expected.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), 1e-3 * scale);
    worst = Math.max(worst, err);
  }
  if (process.env.LDL_PARITY_LOG) console.log(`${what}: worst rel ${worst.toExponential(2)}`);
  expect(worst, `${what}: worst relative error`).toBeLessThanOrEqual(REL);
}
const scalarOf = (t: tf.Tensor): number => t.dataSync()[0];
const pick = <T>(xs: T[], rows: number[]): T[] => rows.map((r) => xs[r]);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe(`parity with ${fx.generatedBy.script} (torch ${fx.generatedBy.torch}, seed ${fx.generatedBy.seed})`, () => {
  describe.each(fx.ldl)('ldlLoss: $name', (c) => {
    const logits = () => tf.tensor2d(pick(fx.logits, c.rows));
    const ages = pick(fx.ages, c.rows);
    const opts = { sigma: c.options.sigma, normalize: c.options.normalize, lambda: c.options.lambda };

    it('target rows', () => {
      const t = gaussianLabels(ages, { sigma: c.options.sigma, normalize: c.options.normalize });
      expectClose(t.dataSync(), c.target.flat(), 'target');
    });

    it('KL part, L1 part and total', () => {
      const x = logits();
      const target = gaussianLabels(ages, { sigma: c.options.sigma, normalize: c.options.normalize });
      expectClose([scalarOf(klDivergenceLoss(x, target))], [c.kl], 'kl');
      expectClose([scalarOf(expectationL1Loss(x, ages))], [c.l1], 'l1');
      expectClose([scalarOf(ldlLoss(x, ages, opts))], [c.loss], 'loss');
      expectClose([scalarOf(ldlLoss(x, tf.tensor1d(ages), opts))], [c.loss], 'loss (Tensor1D ages)');
    });

    it('gradient w.r.t. the logits (tf.valueAndGrad vs torch autograd)', () => {
      const { value, grad } = tf.valueAndGrad((x: tf.Tensor2D) => ldlLoss(x, ages, opts))(logits());
      expectClose([scalarOf(value)], [c.loss], 'loss');
      expect(grad.dataSync().every(Number.isFinite)).toBe(true);
      expectClose(grad.dataSync(), c.grad.flat(), 'grad');
    });
  });

  it('the seed case includes the extreme row, where the naive log(softmax) form is not finite', () => {
    expect(fx.ldl[0].rows).toContain(fx.extremeRow);
    expect(Math.max(...fx.logits[fx.extremeRow].map(Math.abs))).toBe(1e4);
    expect(Number.isFinite(Number(fx.naiveSeedLossFloat32))).toBe(false);
  });

  it('expectedAge', () => {
    expectClose(expectedAge(tf.tensor2d(fx.logits)).dataSync(), fx.expectedAges, 'expected ages');
  });

  it('crossEntropyLoss and its gradient', () => {
    const f = (x: tf.Tensor2D) => crossEntropyLoss(x, fx.ages);
    const { value, grad } = tf.valueAndGrad(f)(tf.tensor2d(fx.logits));
    expectClose([scalarOf(value)], [fx.crossEntropy.loss], 'ce');
    expectClose(grad.dataSync(), fx.crossEntropy.grad.flat(), 'ce grad');
  });

  it('meanVarianceLoss parts, total and gradient', () => {
    const mv = fx.meanVariance;
    const x = tf.tensor2d(fx.logits);
    const part = (lambdaMean: number, lambdaVariance: number) =>
      scalarOf(meanVarianceLoss(x, fx.ages, { lambdaMean, lambdaVariance, includeSoftmax: false }));
    expectClose([part(1, 0)], [mv.mean], 'mean part');
    expectClose([part(0, 1)], [mv.variance], 'variance part');
    const f = (l: tf.Tensor2D) => meanVarianceLoss(l, fx.ages, { lambdaMean: mv.lambdaMean, lambdaVariance: mv.lambdaVariance });
    const { value, grad } = tf.valueAndGrad(f)(x);
    expectClose([scalarOf(value)], [mv.loss], 'mean-variance loss');
    expectClose(grad.dataSync(), mv.grad.flat(), 'mean-variance grad');
  });

  it('multiTaskLoss', () => {
    const mt = fx.multiTask;
    const loss = multiTaskLoss(
      { age: tf.tensor2d(fx.logits), gender: tf.tensor2d(mt.genderLogits), ethnicity: tf.tensor2d(mt.ethnicityLogits) },
      { ages: fx.ages, gender: mt.gender, ethnicity: tf.tensor1d(mt.ethnicity, 'int32') },
      mt.weights,
    );
    expectClose([scalarOf(loss)], [mt.loss], 'multi-task loss');
  });

  it('metrics', () => {
    const m = fx.metrics;
    expect(mae(m.pred, m.truth)).toBeCloseTo(m.mae, 12);
    for (const n of [3, 5, 7] as const) {
      expect(cumulativeAccuracy(m.pred, m.truth, n)).toBeCloseTo(m.strict[`ca${n}`], 12);
      expect(cumulativeAccuracy(m.pred, m.truth, n, { inclusive: true })).toBeCloseTo(m.inclusive[`ca${n}`], 12);
    }
    for (const inclusive of [false, true]) {
      const acc = new AgeMetrics({ inclusive });
      acc.update(m.pred.slice(0, 4), m.truth.slice(0, 4));
      acc.update(m.pred.slice(4), m.truth.slice(4));
      const r = acc.result();
      const ref = inclusive ? m.inclusive : m.strict;
      expect(r.count).toBe(m.pred.length);
      expect(r.mae).toBeCloseTo(m.mae, 12);
      expect([r.ca3, r.ca5, r.ca7]).toEqual([ref.ca3, ref.ca5, ref.ca7].map((v) => expect.closeTo(v, 12)));
      expect(r.maeByDecade.map((d) => [d.decade, d.count])).toEqual(m.maeByDecade.map((d) => [d.decade, d.count]));
      r.maeByDecade.forEach((d, i) => expect(d.mae).toBeCloseTo(m.maeByDecade[i].mae, 12));
    }
  });
});
