import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { BACKENDS, randomValues, runOn } from '../test/helpers';
import { disableFastKernels, enableFastKernels } from './enable';
import { mergeSliceAxes } from './slicing';

describe('mergeSliceAxes', () => {
  it('folds axes taken whole into the previous axis and drops axes of size 1', () => {
    expect(mergeSliceAxes([4, 18, 18, 128], [0, 1, 1, 0], [4, 16, 16, 128])).toEqual({
      shape: [4, 18, 18 * 128],
      begin: [0, 1, 128],
      size: [4, 16, 16 * 128],
    });
    expect(mergeSliceAxes([2, 1, 5, 3], [1, 0, 0, 0], [1, 1, 5, 3])).toEqual({ shape: [30], begin: [15], size: [15] });
    expect(mergeSliceAxes([1, 1], [0, 0], [1, 1])).toEqual({ shape: [1], begin: [0], size: [1] });
  });
});

const sliceCases: { shape: number[]; begin: number[]; size: number[] }[] = [
  { shape: [3, 6, 5, 4], begin: [0, 1, 1, 0], size: [3, 4, 3, 4] },
  { shape: [3, 6, 5, 4], begin: [1, 0, 0, 0], size: [2, -1, -1, -1] },
  { shape: [2, 3, 4, 5, 6], begin: [0, 1, 0, 2, 0], size: [2, 2, 4, 3, 6] },
  { shape: [2, 3, 1, 5, 2, 3], begin: [1, 0, 0, 1, 0, 1], size: [1, 3, 1, 4, 2, 2] },
  { shape: [7], begin: [2], size: [4] },
];

describe('Slice and Unpack on wasm and cpu', () => {
  afterAll(() => disableFastKernels());

  for (const c of sliceCases) {
    it(`Slice equals the stock kernel: [${c.shape}] from [${c.begin}] size [${c.size}]`, async () => {
      const values = randomValues(tf.util.sizeFromShape(c.shape), 21);
      const f = () => [tf.slice(tf.tensor(values, c.shape), c.begin, c.size)];
      for (const backend of BACKENDS) {
        disableFastKernels();
        const [ref] = await runOn(backend, f);
        enableFastKernels({ backends: [backend] });
        const [got] = await runOn(backend, f);
        expect(got).toEqual(ref);
      }
    });
  }

  for (const [shape, axis] of [
    [[2, 3, 4, 9, 5], 3],
    [[4, 3], 0],
    [[2, 3, 4], -1],
  ] as const) {
    it(`Unpack equals the stock kernel: [${shape}] axis ${axis}`, async () => {
      const values = randomValues(tf.util.sizeFromShape([...shape]), 22);
      const f = () => tf.unstack(tf.tensor(values, [...shape]), axis);
      for (const backend of BACKENDS) {
        disableFastKernels();
        const ref = await runOn(backend, f);
        enableFastKernels({ backends: [backend] });
        const got = await runOn(backend, f);
        expect(got).toEqual(ref);
      }
    });
  }

  it('frees every intermediate of Slice and Unpack', async () => {
    enableFastKernels({ backends: ['wasm'] });
    await tf.setBackend('wasm');
    const x = tf.ones([2, 3, 4, 5, 6]);
    const run = () => tf.dispose([tf.slice(x, [0, 1, 0, 2, 0], [2, 2, 4, 3, 6]), ...tf.unstack(x, 3)]);
    run();
    const before = tf.memory();
    run();
    expect(tf.memory().numBytes).toBe(before.numBytes);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    x.dispose();
  });
});
