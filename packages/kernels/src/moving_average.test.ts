import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BACKENDS, randomValues, relativeError, runOn } from '../test/helpers';
import { webgpuBackends } from '../test/webgpu';
import { disableFastKernels, enableFastKernels } from './enable';
import { LdlMovingAverage } from './ops/kernel_names';

const WEBGPU = await webgpuBackends();

describe(LdlMovingAverage, () => {
  beforeAll(() => enableFastKernels({ backends: [...BACKENDS, ...WEBGPU] }));
  afterAll(() => disableFastKernels());

  const average = randomValues(300, 1);
  const value = randomValues(300, 2).map((v) => v * 40 + 3);
  const inputs = () => ({ average: tf.tensor(average, [3, 100]), value: tf.tensor(value, [3, 100]) });

  for (const backend of [...BACKENDS, ...WEBGPU]) {
    it(`equals average − (average − value)·(1 − momentum) as three ops on ${backend}`, async () => {
      const [ops] = await runOn(backend, () => {
        const { average: a, value: v } = inputs();
        return [tf.sub(a, tf.mul(tf.sub(a, v), 1 - 0.9))];
      });
      const before = tf.memory().numTensors;
      const [fused] = await runOn(backend, () => [tf.engine().runKernel(LdlMovingAverage, inputs(), { momentum: 0.9 }) as tf.Tensor]);
      expect(tf.memory().numTensors).toBe(before);
      // The same float32 operations in the same order: equal on cpu and wasm; a GPU may contract to a fused multiply-add.
      if (backend === 'webgpu') expect(relativeError(fused!, ops!)).toBeLessThan(1e-6);
      else expect(Array.from(fused!)).toEqual(Array.from(ops!));
    });
  }

  it('names the bad input or attribute', async () => {
    await tf.setBackend('cpu');
    const a = tf.zeros([4]);
    expect(() => tf.engine().runKernel(LdlMovingAverage, { average: a, value: tf.zeros([5]) }, { momentum: 0.9 })).toThrow(
      "Error in LdlMovingAverage: value must be a float32 tensor of average's shape [4], but got float32 [5].",
    );
    expect(() => tf.engine().runKernel(LdlMovingAverage, { average: a, value: a }, { momentum: 1.5 })).toThrow(
      'Error in LdlMovingAverage: attrs.momentum must be a number in [0, 1], but got 1.5.',
    );
  });
});
