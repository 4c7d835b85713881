import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { randomValues, relativeError } from '../../test/helpers';
import { disableFastKernels, enableFastKernels } from '../enable';
import { adamUpdate } from './adam_update';
import { batchNormTraining } from './batch_norm_training';
import { LdlAdamUpdate, LdlBatchNormTraining, LdlMovingAverage } from './kernel_names';
import { movingAverage } from './moving_average';

/** The kernels `f` ran. */
async function kernelsOf(f: () => tf.TensorContainer): Promise<string[]> {
  return (await tf.profile(f)).kernelNames;
}

describe('the ops: their kernel where registered, their composite elsewhere, one gradient', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  afterEach(() => disableFastKernels());

  it('movingAverage: kernel and composite agree, and so do their gradients', async () => {
    const average = tf.tensor(randomValues(60, 1), [3, 20]);
    const value = tf.tensor(randomValues(60, 2), [3, 20]);
    const dy = tf.tensor(randomValues(60, 3), [3, 20]);
    const run = () => [movingAverage(average, value, 0.9), ...tf.grads((a: tf.Tensor, v: tf.Tensor) => movingAverage(a, v, 0.9))([average, value], dy)];
    expect(await kernelsOf(run)).not.toContain(LdlMovingAverage);
    const composite = run().map((t) => t.dataSync());
    enableFastKernels({ backends: ['cpu'] });
    expect(await kernelsOf(run)).toContain(LdlMovingAverage);
    run().forEach((t, i) => expect(relativeError(t.dataSync(), composite[i]!), `output ${i}`).toBeLessThan(1e-6));
    expect(() => movingAverage(average, value, 1.5)).toThrow('Error in movingAverage: momentum must be a number in [0, 1], but got 1.5.');
    expect(() => movingAverage(average, tf.zeros([60]), 0.9)).toThrow("Error in movingAverage: value must have average's shape [3, 20], but got [60].");
  });

  it('batchNormTraining: kernel and composite agree on outputs and gradients, any rank >= 2', async () => {
    for (const shape of [
      [2, 3, 4, 5],
      [16, 5],
    ]) {
      const x = tf.add(tf.tensor(randomValues(tf.util.sizeFromShape(shape), 1), shape), 3);
      const gamma = tf.tensor1d(randomValues(5, 2));
      const beta = tf.tensor1d(randomValues(5, 3));
      const w = tf.tensor(randomValues(tf.util.sizeFromShape(shape), 4), shape);
      const loss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { y, mean, variance } = batchNormTraining(a, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
        return tf.addN([tf.sum(tf.mul(y, w)), tf.sum(tf.mul(mean, 0.7)), tf.sum(tf.mul(variance, -1.3))]);
      };
      const run = () => {
        const { y, mean, variance } = batchNormTraining(x, gamma, beta, 1e-5);
        return [y, mean, variance, ...tf.grads(loss)([x, gamma, beta])];
      };
      expect(await kernelsOf(run)).not.toContain(LdlBatchNormTraining);
      const composite = run().map((t) => t.dataSync());
      enableFastKernels({ backends: ['cpu'] });
      expect(await kernelsOf(run)).toContain(LdlBatchNormTraining);
      run().forEach((t, i) => expect(relativeError(t.dataSync(), composite[i]!), `${shape} output ${i}`).toBeLessThan(1e-4));
      disableFastKernels();
    }
    const x = tf.zeros([2, 3]);
    expect(() => batchNormTraining(x, tf.zeros([2]) as tf.Tensor1D, tf.zeros([3]) as tf.Tensor1D, 1e-5)).toThrow(
      'Error in batchNormTraining: gamma must have shape [3], but got [2].',
    );
    expect(() => batchNormTraining(tf.zeros([3]), tf.zeros([3]) as tf.Tensor1D, tf.zeros([3]) as tf.Tensor1D, 1e-5)).toThrow(
      'Error in batchNormTraining: x must have rank >= 2 and channels last, but got shape [3].',
    );
  });

  it('adamUpdate: kernel and composite agree', async () => {
    const t = (seed: number) => tf.tensor(randomValues(40, seed), [4, 10]);
    const [value, m, v, g] = [t(1), t(2), tf.abs(t(3)), t(4)];
    const attrs = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, correction1: 1 - 0.9 ** 3, correction2: 1 - 0.999 ** 3 };
    const run = () => adamUpdate(value, m, v, g, attrs);
    expect(await kernelsOf(run)).not.toContain(LdlAdamUpdate);
    const composite = run().map((x) => x.dataSync());
    enableFastKernels({ backends: ['cpu'] });
    expect(await kernelsOf(run)).toContain(LdlAdamUpdate);
    run().forEach((x, i) => expect(relativeError(x.dataSync(), composite[i]!), `output ${i}`).toBeLessThan(1e-6));
    expect(() => adamUpdate(value, m, v, tf.zeros([40]), attrs)).toThrow("Error in adamUpdate: gradient must have value's shape [4, 10], but got [40].");
    expect(() => adamUpdate(value, m, v, g, { ...attrs, beta1: Number.NaN })).toThrow('Error in adamUpdate: attrs.beta1 must be a finite number, but got NaN.');
  });
});
