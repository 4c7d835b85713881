import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSyntheticMegaAge } from '@ldl/train';
import { beforeAll, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const tsx = path.join(repoRoot, 'node_modules/.bin/tsx');
/** `ldl` from its sources, as the example's package scripts run it. */
const ldl = ['--tsconfig', path.join(repoRoot, 'packages/cli/tsconfig.json'), path.join(repoRoot, 'packages/cli/src/bin.ts')];

/** `ldl <command> --config ldl.json …` in the example's folder (its package scripts). */
function cli(command: string, ...args: string[]) {
  const r = spawnSync(tsx, [...ldl, command, '--config', 'ldl.json', ...args], { cwd: path.resolve(here, '..'), encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

// A MORPH-style CSV over 60 synthetic images, with one bad row (age 150) and MORPH race letters.
let csv: string;
beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ldl-morph-'));
  await generateSyntheticMegaAge(path.join(dir, 'syn'), { trainCount: 60, testCount: 1, size: 32 });
  const ages = readFileSync(path.join(dir, 'syn/list/train_age.txt'), 'utf8').trim().split('\n');
  const rows = ages.map((a, i) => `syn/train/train_${String(i).padStart(5, '0')}.jpg,${a},${i % 2 ? 'F' : 'M'},${'BWAHO'[i % 5]}`);
  rows[3] = rows[3].replace(/,\d+,/, ',150,');
  csv = path.join(dir, 'morph.csv');
  writeFileSync(csv, ['file,age,sex,race', ...rows].join('\n'));
});

const tiny = ['--preset', 'small', '--image-size', '32', '--width-scale', '0.0625', '--backend', 'wasm', '--epochs', '1'];
const data = () => ['--data', csv, '--photo-col', 'file', '--gender-col', 'sex', '--race-classes', 'B,W,A,H,O'];

describe('morph example CLI', () => {
  it('stops at a bad row naming file and line unless --skip-bad', () => {
    const r = cli('train', ...tiny, ...data());
    expect(r.code).toBe(1);
    expect(r.out).toContain(`Error in readMorphCsv: ${csv} line 5: age must be a number in [0, 100], but got "150"`);
  });

  it('trains the multi-task model on an 80/20 seeded split and evaluates the same split', () => {
    const runDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'ldl-morph-run-')), 'run');
    const r = cli('train', ...tiny, ...data(), '--skip-bad', '--multi-task', '--split-seed', '5', '--run-dir', runDir);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('59 rows, 80/20 split with --split-seed 5');
    expect(r.out).toContain('csv: skipped 1 bad row (--skip-bad)');
    expect(r.out).toMatch(/gender \d+\.\d% race \d+\.\d%/);
    const report = JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')) as { counts: { test: number }; test: { mae: number; genderAcc: number } };
    expect(report.counts.test).toBe(12);
    expect(report.test.genderAcc).toBeGreaterThanOrEqual(0);
    const ev = cli('eval', '--checkpoint', runDir, ...data(), '--skip-bad', '--split-seed', '5', '--backend', 'wasm');
    expect(ev.code, ev.out).toBe(0);
    expect(ev.out).toContain(`eval on 12 images: MAE ${report.test.mae.toFixed(3)}`);
    // predict names the classes of the extra heads, as preprocessor.json records them
    const image = path.join(path.dirname(csv), 'syn/train/train_00000.jpg');
    const p = cli('predict', '--checkpoint', runDir, image, '--backend', 'wasm');
    expect(p.code, p.out).toBe(0);
    expect(p.out).toMatch(/gender: male \d+\.\d %, female \d+\.\d %; ethnicity: B \d+\.\d %, W \d+\.\d %, A \d+\.\d %, H \d+\.\d %, O \d+\.\d %/);
  });
});

describe('kill -9 and --resume', () => {
  // On 2 wasm threads whatever the machine's CPU count: the pool's threads die with the killed process,
  // and multi-threaded runs repeat bit for bit.
  it('gives the same metrics as the uninterrupted seeded run (wasm backend on 2 threads, separate processes)', { timeout: 180_000 }, async () => {
    const base = mkdtempSync(path.join(os.tmpdir(), 'ldl-kill-'));
    const args = (runDir: string) => [...ldl, 'train', '--config', 'ldl.json', '--preset', 'small', '--image-size', '32', '--width-scale', '0.0625', '--backend', 'wasm',
      '--wasm-threads', '2', '--epochs', '3', '--batch-size', '8', ...data(), '--skip-bad', '--run-dir', runDir];
    const full = path.join(base, 'full');
    const a = spawnSync(tsx, args(full), { cwd: path.resolve(here, '..'), encoding: 'utf8', timeout: 240_000 });
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout).toContain('backend: wasm (WebAssembly backend, 2 threads)');

    const cut = path.join(base, 'cut');
    const child = spawn(tsx, args(cut), { cwd: path.resolve(here, '..'), stdio: 'ignore', detached: true });
    const latest = path.join(cut, 'checkpoints', 'latest.json');
    while (!existsSync(latest)) await new Promise((r) => setTimeout(r, 50));
    process.kill(-(child.pid as number), 'SIGKILL'); // the tsx process group, mid-epoch 2 (or right after epoch 1)
    await new Promise((r) => child.on('exit', r));
    // tsx runs the training in a child process: wait until that one is gone too (it holds run.lock until then,
    // and a resume beside a training that is still dying would rightly be refused).
    const lockFile = path.join(cut, 'run.lock');
    const holder = existsSync(lockFile) ? Number(/"pid":\s*(\d+)/.exec(readFileSync(lockFile, 'utf8'))?.[1]) : Number.NaN;
    const gone = (pid: number) => {
      try {
        return /\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); // a zombie is gone too
      } catch {
        return true;
      }
    };
    for (let i = 0; i < 200 && Number.isInteger(holder) && !gone(holder); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(path.join(cut, 'report.json'))).toBe(false);
    const b = spawnSync(tsx, [...args(cut), '--resume'], { cwd: path.resolve(here, '..'), encoding: 'utf8', timeout: 240_000 });
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toContain('resumed from');
    const metrics = (dir: string) => readFileSync(path.join(dir, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').slice(0, 10).join(','));
    expect(metrics(cut)).toEqual(metrics(full));
    const test = (dir: string) => (JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as { test: unknown }).test;
    expect(test(cut)).toEqual(test(full));
  });
});
