// The wasm backend initialises once per process: this file (its own vitest worker) runs it on 2 threads.
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend';

afterAll(() => {
  tf.removeBackend('wasm'); // ends the thread pool, which would keep the worker's event loop alive
});

describe('selectBackend on wasm with threads', () => {
  it('refuses a thread count outside 1..8 before loading anything', async () => {
    for (const wasmThreads of [0, 9, 1.5, Number.NaN]) {
      await expect(selectBackend('wasm', { wasmThreads })).rejects.toThrow(
        `Error in selectBackend: wasmThreads must be an integer in 1..8, but got ${wasmThreads}.`,
      );
    }
    expect(tf.engine().registry.wasm).toBeUndefined();
  });

  // The stall once seen here (a worker reading its script while it was rewritten) is fixed at its cause
  // (@ldl/kernels wasm_threads.test.ts): no retry.
  it('runs the multi-threaded build on 2 threads and says so', async () => {
    const s = await selectBackend('wasm', { wasmThreads: 2 });
    expect(s.name).toBe('wasm');
    expect(s.summary).toBe('backend: wasm (WebAssembly backend, 2 threads)');
    expect(tf.getBackend()).toBe('wasm');
    expect(getThreadsCount()).toBe(2);
    // Back to wasm after another backend: the same pool, reported again.
    await selectBackend('cpu');
    expect((await selectBackend('wasm', { wasmThreads: 2 })).attempts).toEqual([{ name: 'wasm', ok: true, reason: 'WebAssembly backend, 2 threads' }]);
  });

  it('refuses another thread count once wasm runs, in automatic mode too, instead of falling back', async () => {
    const expected =
      'Error in selectBackend: backend wasm cannot be used: the wasm backend must run on 1 thread, but it already runs on 2 in this process ' +
      '(it initialises once per process: choose the thread count before the first use of wasm).';
    await expect(selectBackend('wasm', { wasmThreads: 1 })).rejects.toThrow(expected);
    await expect(selectBackend(undefined, { skip: ['tensorflow', 'webgpu'], wasmThreads: 1 })).rejects.toThrow(expected);
  });
});
