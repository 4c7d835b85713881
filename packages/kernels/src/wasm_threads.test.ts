import os from 'node:os';

import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';

import { randomValues, relativeError, runOn } from '../test/helpers';
import { enableWasmThreads, patchForThreadedInit } from './wasm_threads';
import { readFileSync, statSync } from 'node:fs';

describe('enableWasmThreads', () => {
  // The stall on a busy machine ("no result within 30 s"): Emscripten asks for the worker script's URL once
  // per pthread worker, in one loop, starting each worker right after. Each request rewrote the one file, so
  // a worker started earlier could read it truncated, run an empty script and exit with code 0; the pool then
  // waited forever for it to load (seen as 'exit 0' of workers 0 and 1 before any 'load'). Now it is
  // written once, whole (temp name + rename), and every request returns the same untouched file.
  it('writes the pthread worker script once, whole, however many workers ask for it', () => {
    const restore = patchForThreadedInit(2);
    try {
      const script = '/* WasmBackendModuleThreadedSimd(Module) */ var x = 1;';
      const first = URL.createObjectURL(new Blob([script]));
      const before = statSync(first, { bigint: true });
      const text = readFileSync(first, 'utf8');
      expect(text.endsWith(script)).toBe(true);
      for (let i = 1; i < 8; i++) {
        expect(URL.createObjectURL(new Blob([script]))).toBe(first);
        const now = statSync(first, { bigint: true });
        expect([now.ino, now.mtimeNs, now.size]).toEqual([before.ino, before.mtimeNs, before.size]);
      }
      expect(readFileSync(first, 'utf8')).toBe(text);
    } finally {
      restore();
    }
  });

  it('rejects thread counts outside 1..8', () => {
    for (const threads of [0, 9, 1.5]) {
      expect(() => enableWasmThreads({ threads })).toThrow(
        `Error in enableWasmThreads: threads must be an integer in 1..8, but got ${threads}.`,
      );
    }
  });

  it('runs the threaded build on 2 threads with the cpu backend results, restores the globals, and refuses a late call', async () => {
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
