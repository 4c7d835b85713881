import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BACKENDS, randomValues, relativeError, runOn } from '../test/helpers';
import { webgpuBackends } from '../test/webgpu';
import { LdlBatchNormTraining } from './ops/kernel_names';
import { disableFastKernels, enableFastKernels } from './enable';
import { batchNormTraining } from './ops/batch_norm_training';

const EPS = 1e-5;

interface Case {
  name: string;
  shape: number[];
  /** Added to x, to check the centring where the mean dwarfs the spread. */
  offset: number;
}

const cases: Case[] = [
  { name: 'NHWC, 8 channels (SIMD)', shape: [2, 5, 4, 8], offset: 0 },
  { name: 'NHWC, 6 channels (scalar)', shape: [3, 3, 3, 6], offset: 0 },
  { name: 'rank 2, mean 20x the spread', shape: [64, 12], offset: 20 },
  // webgpu: 19 row chunks (the last one short), 2 blocks of 16 channels (the second partial).
  { name: 'NHWC, 4800 rows, 20 channels', shape: [2, 40, 60, 20], offset: 0 },
];

/**
 * Forward outputs and the gradients of a loss using y, mean and variance, by the kernel (`fast`) or
 * by tf.moments + tf.batchNorm with autodiff (the definition).
 */
function run(c: Case, fast: boolean): () => tf.Tensor[] {
  const c0 = c.shape[c.shape.length - 1]!;
  return () => {
    const x = tf.add(tf.tensor(randomValues(tf.util.sizeFromShape(c.shape), 1), c.shape), c.offset);
    const gamma = tf.tensor1d(randomValues(c0, 2));
    const beta = tf.tensor1d(randomValues(c0, 3));
    const w = tf.tensor(randomValues(tf.util.sizeFromShape(c.shape), 4), c.shape);
    const wm = tf.tensor1d(randomValues(c0, 5));
    const wv = tf.tensor1d(randomValues(c0, 6));
    const forward = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor[] => {
      if (fast) {
        expect(tf.getKernel(LdlBatchNormTraining, tf.getBackend())).toBeDefined();
        const { y, mean, variance } = batchNormTraining(xi, g as tf.Tensor1D, b as tf.Tensor1D, EPS);
        return [y, mean, variance];
      }
      const axes = c.shape.slice(0, -1).map((_, i) => i);
      const { mean, variance } = tf.moments(xi, axes);
      return [tf.batchNorm(xi, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, EPS), mean, variance];
    };
    const outs = forward(x, gamma, beta);
    // A loss reading all three outputs, so the mean/variance gradients are exercised too.
    const loss = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const [y, mean, variance] = forward(xi, g, b) as [tf.Tensor, tf.Tensor, tf.Tensor];
      return tf.addN([tf.sum(tf.mul(y, w)), tf.sum(tf.mul(mean, wm)), tf.sum(tf.mul(variance, wv))]);
    };
    const onlyY = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(forward(xi, g, b)[0]!, w));
    return [...outs, ...tf.grads(loss)([x, gamma, beta]), ...tf.grads(onlyY)([x, gamma, beta])];
  };
}

// webgpu (WGSL shaders) where an adapter exists: a GPU, or lavapipe on the CPU.
const WEBGPU = await webgpuBackends();

describe(`${LdlBatchNormTraining} (WebAssembly SIMD kernel; webgpu shaders) and its gradient`, () => {
  beforeAll(() => disableFastKernels());
  afterAll(() => disableFastKernels());

  for (const c of cases) {
    it(`equals tf.moments + tf.batchNorm and their autodiff gradients: ${c.name}`, async () => {
      const ref = await runOn('cpu', run(c, false));
      enableFastKernels({ backends: [...BACKENDS, ...WEBGPU] });
      const names = ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta', 'dx (y only)', 'dgamma (y only)', 'dbeta (y only)'];
      for (const backend of [...BACKENDS, ...WEBGPU]) {
        await tf.setBackend(backend);
        const before = tf.memory().numTensors;
        const dataIds = tf.engine().backend.numDataIds();
        const got = await runOn(backend, run(c, true));
        expect(tf.memory().numTensors, `${backend} leaked tensors`).toBe(before);
        expect(tf.engine().backend.numDataIds(), `${backend} leaked backend data`).toBe(dataIds);
        names.forEach((name, i) => expect(relativeError(got[i]!, ref[i]!), `${backend} ${name}`).toBeLessThan(1e-4));
      }
      disableFastKernels();
    });
  }

  it('names the bad argument', async () => {
    enableFastKernels({ backends: ['cpu'] });
    await tf.setBackend('cpu');
    expect(() => tf.engine().runKernel(LdlBatchNormTraining, { x: tf.zeros([2, 3]), gamma: tf.zeros([2]), beta: tf.zeros([3]) }, { epsilon: EPS })).toThrow(
      'Error in LdlBatchNormTraining: gamma must have shape [3], but got [2].',
    );
    expect(() => tf.engine().runKernel(LdlBatchNormTraining, { x: tf.zeros([2, 3]), gamma: tf.zeros([3]), beta: tf.zeros([3]) }, {})).toThrow(
      'Error in LdlBatchNormTraining: attrs.epsilon must be a number >= 0, but got undefined.',
    );
    disableFastKernels();
  });
});
