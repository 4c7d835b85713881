// The wasm backend initialises once per process: this file (its own vitest worker) runs the single-threaded build.
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from './backend';

describe('selectBackend on wasm with wasmThreads: 1', () => {
  it('runs the single-threaded build and says so', async () => {
    const s = await selectBackend('wasm', { wasmThreads: 1 });
    expect(s.summary).toBe('backend: wasm (WebAssembly backend, 1 thread)');
    expect(tf.getBackend()).toBe('wasm');
    expect(getThreadsCount()).toBe(1);
    expect(tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')).toBe(false);
  });
});
