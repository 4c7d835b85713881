import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from './backend';

describe('selectBackend', () => {
  it('activates a named backend and says why', async () => {
    const s = await selectBackend('cpu');
    expect(s.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(s.summary).toBe('backend: cpu (pure-JavaScript backend)');
  });

  it('fails loudly for a backend that cannot load or does not exist', async () => {
    const previous = process.env.LDL_TFJS_NODE;
    process.env.LDL_TFJS_NODE = '@ldl/no-such-tfjs-node';
    try {
      await expect(selectBackend('tensorflow')).rejects.toThrow(
        'Error in selectBackend: backend tensorflow cannot be used: tensorflow: @tensorflow/tfjs-node-gpu is not installed; @ldl/no-such-tfjs-node is not installed.',
      );
    } finally {
      if (previous === undefined) delete process.env.LDL_TFJS_NODE;
      else process.env.LDL_TFJS_NODE = previous;
    }
    await expect(selectBackend('gpu')).rejects.toThrow('Error in selectBackend: name must be one of tensorflow, webgpu, wasm, cpu, but got "gpu".');
  });

  it('falls through the order and records every attempt', async () => {
    const s = await selectBackend(undefined, { skip: ['tensorflow', 'webgpu', 'wasm'] });
    expect(s.name).toBe('cpu');
    expect(s.attempts).toEqual([{ name: 'cpu', ok: true, reason: 'pure-JavaScript backend' }]);
    const auto = await selectBackend(undefined, { skip: ['webgpu'] });
    expect(auto.attempts[0].name).toBe('tensorflow');
    expect(auto.attempts.at(-1)?.ok).toBe(true);
    expect(auto.summary).toContain(`backend: ${auto.name}`);
    await selectBackend('cpu');
  });

  // Where Dawn's adapter is a software one (lavapipe, as tools/webgpu-cpu/setup.sh installs for the tests).
  it('passes over a software WebGPU adapter in automatic mode and takes it when named', async (ctx) => {
    const { create } = await import('webgpu');
    const info = (await create([]).requestAdapter())?.info as { isFallbackAdapter?: boolean; description?: string } | undefined;
    if (info?.isFallbackAdapter !== true) {
      console.warn(`skipped: Dawn's adapter is ${info == null ? 'absent' : 'a GPU'}, not a software one`);
      ctx.skip();
    }
    const auto = await selectBackend(undefined, { skip: ['tensorflow', 'wasm'] });
    expect(auto.name).toBe('cpu');
    expect(auto.attempts[0]).toEqual({
      name: 'webgpu',
      ok: false,
      reason: `Error in installDawnWebgpu: the adapter must be a GPU, but got a software one (${info!.description}), which runs on the CPU (allowFallbackAdapter: true takes it).`,
    });
    const named = await selectBackend('webgpu');
    expect(named.name).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    await selectBackend('cpu');
  });
});
