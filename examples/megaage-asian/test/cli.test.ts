import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const tsx = path.join(repoRoot, 'node_modules/.bin/tsx');

function cli(...args: string[]) {
  const r = spawnSync(tsx, ['src/cli.ts', ...args], { cwd: path.resolve(here, '..'), encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

// A tiny model on the synthetic data set (generated into runs/synthetic-megaage once), wasm backend.
const tiny = ['--preset', 'small', '--synthetic', '--image-size', '32', '--width-scale', '0.0625', '--backend', 'wasm'];

describe('megaage-asian example CLI', () => {
  it('prints usage with the presets', () => {
    const r = cli('--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('presets: paper (SE-ResNeXt-50 32x4d, 224 px, batch 128, 80 epochs');
    expect(r.out).toContain('--save-samples');
    expect(r.out).toContain('--wasm-threads           wasm backend threads, 1..8 (default: the CPUs, here ');
  });

  it('rejects an unknown preset and a missing checkpoint clearly', () => {
    const bad = cli('train', '--preset', 'huge');
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('Error in --preset: preset must be one of paper, small, finetune, finetune-head, imagenet-resnet50, start, but got "huge".');
    expect(cli('eval').out).toContain('Error in eval: --checkpoint DIR is required');
    const threads = cli('train', '--wasm-threads', '0');
    expect(threads.code).toBe(1);
    expect(threads.out).toContain('Error in --wasm-threads: --wasm-threads must be an integer in 1..8, but got "0".');
    expect(cli('train', '--backend', 'cpu', '--wasm-threads', '2').out).toContain(
      'Error in --wasm-threads: --wasm-threads needs the wasm backend (or automatic choice), but got --backend "cpu".',
    );
  });

  // The first epoch on 2 wasm threads, the second on 1, evaluation on the default: the thread count
  // changes no result (XNNPACK splits outputs, not sums, over threads), so eval repeats the report's MAE.
  it('trains on synthetic data, resumes to a longer run, evaluates and predicts', () => {
    const runDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'ldl-ex-')), 'run');
    const first = cli('train', ...tiny, '--epochs', '1', '--run-dir', runDir, '--wasm-threads', '2');
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain('data: SYNTHETIC drawn faces (--synthetic;');
    expect(first.out).toContain('backend: wasm (WebAssembly backend, 2 threads)');
    const resumed = cli('train', ...tiny, '--epochs', '2', '--run-dir', runDir, '--resume', '--wasm-threads', '1');
    expect(resumed.code, resumed.out).toBe(0);
    expect(resumed.out).toContain('backend: wasm (WebAssembly backend, 1 thread)');
    expect(resumed.out).toContain('1 epoch(s) done');
    const report = JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')) as { epochsRun: number; test: { mae: number }; baseline: { mae: number } };
    expect(report.epochsRun).toBe(2);
    expect(Number.isFinite(report.test.mae)).toBe(true);
    const ev = cli('eval', '--checkpoint', runDir, '--synthetic', '--backend', 'wasm');
    expect(ev.code, ev.out).toBe(0);
    expect(ev.out).toMatch(new RegExp(`eval on 200 images: MAE ${report.test.mae.toFixed(3)}`));
    const image = path.join(repoRoot, 'runs/synthetic-megaage/test/test_00000.jpg');
    const p = cli('predict', '--checkpoint', runDir, image, '--backend', 'wasm');
    expect(p.code, p.out).toBe(0);
    expect(p.out).toMatch(/test_00000.jpg: age \d+\.\d\ntop of the distribution: \d+ \(\d+\.\d %\)/);
  });
});
