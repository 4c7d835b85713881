// What selectBackend does when the threaded wasm build fails or stalls while initialising. Both are
// simulated: @ldl/kernels' enableWasmThreads is replaced by one that registers a wasm factory that rejects
// the way the real one does when the pool does not get its threads, or never settles (the real
// enableWasmThreads is tested in @ldl/kernels).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import { selectBackend, WASM_THREADS_INIT_TIMEOUT_MS } from './backend';

let mode: 'reject' | 'stall' = 'reject';
vi.mock('@ldl/kernels', () => ({
  enableWasmThreads: ({ threads }: { threads: number }) => {
    tf.engine().registryFactory.wasm.factory = () =>
      mode === 'stall'
        ? new Promise<never>(() => {})
        : Promise.reject(new Error(`Error in enableWasmThreads: the wasm thread pool must have ${threads} threads, but got 1.`));
  },
}));

describe('selectBackend when the multi-threaded wasm build fails', () => {
  it('throws with the reason and the single-threaded way out, named or automatic, instead of falling back', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {}); // tfjs logs the failed initialisation
    const expected =
      'Error in selectBackend: backend wasm cannot be used: the multi-threaded wasm backend (2 threads) must initialise, ' +
      'but got: Error in enableWasmThreads: the wasm thread pool must have 2 threads, but got 1; run single-threaded with --wasm-threads 1 (wasmThreads: 1).';
    await expect(selectBackend('wasm', { wasmThreads: 2 })).rejects.toThrow(expected);
    // Automatic choice does not go on to cpu either.
    await expect(selectBackend(undefined, { skip: ['tensorflow', 'webgpu'], wasmThreads: 2 })).rejects.toThrow(expected);
    expect(tf.engine().registry.wasm).toBeUndefined();
    warn.mockRestore();
  });

  it('gives up on an initialisation that never finishes, with the same way out', async () => {
    mode = 'stall';
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const selection = selectBackend('wasm', { wasmThreads: 2 });
      const settled = expect(selection).rejects.toThrow(
        'Error in selectBackend: backend wasm cannot be used: the multi-threaded wasm backend (2 threads) must initialise, ' +
          'but got: no result within 30 s (the initialisation stalled); run single-threaded with --wasm-threads 1 (wasmThreads: 1).',
      );
      while (vi.getTimerCount() === 0) await new Promise((r) => setImmediate(r)); // until the watchdog is set
      await vi.advanceTimersByTimeAsync(WASM_THREADS_INIT_TIMEOUT_MS - 1);
      expect(vi.getTimerCount()).toBe(1); // not a millisecond early
      await vi.advanceTimersByTimeAsync(1);
      await settled;
    } finally {
      vi.useRealTimers();
    }
  });
});
