import os from 'node:os';

import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';

import { randomValues, relativeError, runOn } from '../test/helpers';
import { enableWasmThreads } from './wasm_threads';

describe('enableWasmThreads', () => {
  it('rejects thread counts outside 1..8', () => {
    for (const threads of [0, 9, 1.5]) {
      expect(() => enableWasmThreads({ threads })).toThrow(
        `Error in enableWasmThreads: threads must be an integer in 1..8, but got ${threads}.`,
      );
    }
  });

  // Now and then (about 1 in 100 starts inside vitest workers, never seen from the command line; cause not
  // known) the threaded initialisation never settles and this test times out; a second initialisation in
  // the same process succeeds, so one retry keeps CI from failing on that stall (as @ldl/train's test).
  it('runs the threaded build on 2 threads with the cpu backend results, restores the globals, and refuses a late call', { retry: 1 }, async () => {
    const { Blob } = globalThis;
    const { createObjectURL } = URL;
    const { cpus } = os;
    enableWasmThreads({ threads: 2 });
    expect(await tf.setBackend('wasm')).toBe(true);
    expect(getThreadsCount()).toBe(2);
    expect(globalThis.Blob).toBe(Blob);
    expect(URL.createObjectURL).toBe(createObjectURL);
    expect(os.cpus).toBe(cpus);

    // Big enough for XNNPACK to split the work over both threads.
    const f = (): tf.Tensor[] => {
      const a = tf.tensor2d(randomValues(96 * 160, 1), [96, 160]);
      const b = tf.tensor2d(randomValues(160 * 120, 2), [160, 120]);
      const x = tf.tensor4d(randomValues(2 * 19 * 19 * 16, 3), [2, 19, 19, 16]);
      const w = tf.tensor4d(randomValues(3 * 3 * 16 * 24, 4), [3, 3, 16, 24]);
      return [tf.matMul(a, b), tf.conv2d(x, w, [2, 1], 'same')];
    };
    const threaded = await runOn('wasm', f);
    const reference = await runOn('cpu', f);
    threaded.forEach((values, i) => expect(relativeError(values, reference[i] as Float32Array)).toBeLessThanOrEqual(1e-5));

    expect(() => enableWasmThreads()).toThrow(
      "Error in enableWasmThreads: the wasm backend must not be initialised yet (call it before tf.setBackend('wasm') or tf.ready()), but got an initialised one.",
    );
  });
});
