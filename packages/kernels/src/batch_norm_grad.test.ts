import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { BACKENDS, randomValues, relativeError, runOn } from '../test/helpers';
import { disableFastKernels, enableFastKernels } from './enable';

const shape: [number, number, number, number] = [3, 4, 5, 6];
const xv = randomValues(tf.util.sizeFromShape(shape), 7).map((v) => 3 * v + 1);
const wv = randomValues(tf.util.sizeFromShape(shape), 8);
const gv = randomValues(6, 9).map((v) => v + 1.5);
const bv = randomValues(6, 10);

/** Gradients of `Σ w·batchNorm(x)` w.r.t. x, gamma, beta (and mean, variance where they are inputs). */
function trainingModeGrads(): tf.Tensor[] {
  const w = tf.tensor4d(wv, shape);
  const f = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
    // What tfjs-layers BatchNormalization does in training: batch statistics from tf.moments.
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return tf.sum(tf.mul(w, tf.batchNorm(x, mean, variance, beta, gamma, 1e-3)));
  };
  return tf.grads(f)([tf.tensor4d(xv, shape), tf.tensor1d(gv), tf.tensor1d(bv)]);
}

function inferenceModeGrads(): tf.Tensor[] {
  const w = tf.tensor4d(wv, shape);
  const f = (x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) =>
    tf.sum(tf.mul(w, tf.batchNorm(x, mean, variance, beta, gamma, 1e-3)));
  const mean = tf.tensor1d(randomValues(6, 11));
  const variance = tf.tensor1d(randomValues(6, 12).map((v) => v + 1.2));
  return tf.grads(f)([tf.tensor4d(xv, shape), mean, variance, tf.tensor1d(gv), tf.tensor1d(bv)]);
}

describe('FusedBatchNorm gradient', () => {
  afterAll(() => disableFastKernels());

  for (const [name, grads] of [
    ['training mode (batch statistics from tf.moments)', trainingModeGrads],
    ['inference mode (mean and variance as inputs)', inferenceModeGrads],
  ] as const) {
    it(`matches the stock gradient: ${name}`, async () => {
      disableFastKernels();
      const ref = await runOn('cpu', grads);
      enableFastKernels({ backends: [...BACKENDS] });
      for (const backend of BACKENDS) {
        const got = await runOn(backend, grads);
        expect(got.length).toBe(ref.length);
        got.forEach((g, i) => expect(relativeError(g, ref[i] as Float32Array), `${backend} input ${i}`).toBeLessThan(1e-4));
      }
    });
  }

  it('does not use Tile', async () => {
    enableFastKernels({ backends: ['cpu'] });
    await tf.setBackend('cpu');
    const profile = await tf.profile(() => tf.dispose(trainingModeGrads()));
    expect(profile.kernelNames).toContain('FusedBatchNorm');
    expect(profile.kernelNames).not.toContain('Tile');
  });
});
