import os from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { type ExampleSpec, runExampleCli } from '../src/cli';

// A spec whose data loading must never be reached: the flags are checked before anything loads.
const spec: ExampleSpec = {
  name: 'flags',
  repoRoot: os.tmpdir(),
  presets: { paper: { description: 'test preset', model: {} } },
  flags: {},
  loadData: () => Promise.reject(new Error('loadData must not run')),
  loadEvalData: () => Promise.reject(new Error('loadEvalData must not run')),
};

describe('runExampleCli --wasm-threads', () => {
  it('refuses anything but an integer in 1..8, for every command', async () => {
    for (const bad of ['0', '9', '1.5', 'two', '', '-2']) {
      for (const command of ['train', 'eval', 'predict']) {
        await expect(runExampleCli(spec, [command, `--wasm-threads=${bad}`])).rejects.toThrow(
          `Error in --wasm-threads: --wasm-threads must be an integer in 1..8, but got ${JSON.stringify(bad)}.`,
        );
      }
    }
  });

  it('refuses it with a backend other than wasm, where it would do nothing', async () => {
    await expect(runExampleCli(spec, ['train', '--backend', 'cpu', '--wasm-threads', '2'])).rejects.toThrow(
      'Error in --wasm-threads: --wasm-threads needs the wasm backend (or automatic choice), but got --backend "cpu".',
    );
  });

  it('is listed in --help with its default', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await runExampleCli(spec, ['--help'])).toBe(0);
      const threads = Math.min(os.availableParallelism(), 8);
      expect(log.mock.calls[0][0]).toContain(`--wasm-threads           wasm backend threads, 1..8 (default: the CPUs, here ${threads}; 1: single-threaded build)`);
    } finally {
      log.mockRestore();
    }
  });
});
