/** `ldl predict` on many inputs (issue 20 kind 9) and in shards (issue 19 item 4), at the command line. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSyntheticMegaAge } from '@ldl/train';
import sharp from 'sharp';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/program';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ldl-predict-'));
const runDir = path.join(dir, 'run');
const syn = path.join(dir, 'syn');

/** Runs `ldl` in this process with `env` set, and returns its exit code and what it printed. */
async function ldl(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const spies = [
    vi.spyOn(console, 'error').mockImplementation((l: unknown) => void lines.push(String(l))),
    vi.spyOn(console, 'log').mockImplementation((l: unknown) => void lines.push(String(l))),
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => lines.push(String(s)) > 0),
  ];
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  try {
    const code = await runCli(argv, (l) => lines.push(l));
    return { code, out: lines.join('\n') };
  } finally {
    spies.forEach((s) => s.mockRestore());
    vi.unstubAllEnvs();
  }
}

const model = ['--checkpoint', runDir, '--backend', 'cpu'];

beforeAll(async () => {
  await generateSyntheticMegaAge(syn, { trainCount: 20, testCount: 7, size: 32 });
  const train = await ldl(['train', '--data', syn, '--preset', 'small', '--image-size', '32', '--width-scale', '0.0625', '--backend', 'cpu', '--batch-size', '10', '--epochs', '1', '--run-dir', runDir]);
  expect(train.code, train.out).toBe(0);
}, 240_000);

describe('ldl predict on many inputs', () => {
  it('expands a folder, reports a bad file and an over-size image and goes on, then exits 1', async () => {
    const folder = path.join(dir, 'mixed');
    mkdirSync(path.join(folder, 'sub'), { recursive: true });
    for (const f of ['test_00000.jpg', 'test_00001.jpg']) writeFileSync(path.join(folder, f), readFileSync(path.join(syn, 'test', f)));
    writeFileSync(path.join(folder, 'sub', 'b_notes.jpg'), 'a text file, not an image');
    writeFileSync(path.join(folder, 'sub', 'c_last.jpg'), readFileSync(path.join(syn, 'test', 'test_00002.jpg')));
    await sharp({ create: { width: 12000, height: 12000, channels: 3, background: '#808080' } }).png({ compressionLevel: 1 }).toFile(path.join(folder, 'sub', 'huge.png'));
    const r = await ldl(['predict', ...model, folder]);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain(`predict: ${folder}: 5 images`);
    expect(r.out).toMatch(new RegExp(`error: ${path.join(folder, 'sub', 'b_notes.jpg')}: Error in loadImage: cannot load .*b_notes\\.jpg`));
    expect(r.out).toContain('12000x12000 = 144 megapixels is over the limit of 100 megapixels (MAX_INPUT_PIXELS of @ldl/face-prep)');
    expect(r.out).toMatch(/c_last\.jpg: age \d+\.\d/); // the image after the bad ones is predicted
    expect(r.out.match(/: age \d+\.\d/g)).toHaveLength(3);
    expect(r.out).toContain('Error in ldl predict: 2 of 5 images could not be predicted (named above); the others were.');

    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    writeFileSync(path.join(empty, 'readme.txt'), 'no images here');
    const none = await ldl(['predict', ...model, empty]);
    expect(none.code).toBe(1);
    expect(none.out).toContain(`Error in ldl predict: the folder ${empty} must hold images (.jpg .jpeg .png`);
  }, 120_000);

  it('--list --out in shards 1/3, 2/3, 3/3, merged, equals the single run byte for byte; a cut shard resumes; --shard auto picks the same shards', async () => {
    const names = [...Array.from({ length: 7 }, (_, i) => `test/test_${String(i).padStart(5, '0')}.jpg`), ...Array.from({ length: 20 }, (_, i) => `train/train_${String(i).padStart(5, '0')}.jpg`)];
    const list = path.join(syn, 'predict-list.txt');
    writeFileSync(list, `${names.sort().join('\n')}\n`);
    const single = path.join(dir, 'single.csv');
    const one = await ldl(['predict', ...model, '--list', list, '--out', single]);
    expect(one.code, one.out).toBe(0);
    expect(readFileSync(single, 'utf8').split('\n')[0]).toBe('photo,status,age,top,error');
    const out = path.join(dir, 'sharded', 'ages.csv');
    const rows: number[] = [];
    for (const s of ['1/3', '2/3', '3/3']) {
      const r = await ldl(['predict', ...model, '--list', list, '--out', out, '--shard', s]);
      expect(r.code, r.out).toBe(0);
      rows.push(Number(new RegExp(`shard ${s} \\(--shard ${s}\\): (\\d+) of 27 images`).exec(r.out)![1]));
    }
    expect(rows.reduce((a, b) => a + b)).toBe(27);
    expect(Math.min(...rows)).toBeGreaterThan(0);
    // kill simulated: shard 2/3's last row cut half-way
    const second = path.join(dir, 'sharded', 'ages.shard-0002-of-0003.csv');
    const whole = readFileSync(second, 'utf8');
    writeFileSync(second, whole.slice(0, -9));
    const resumed = await ldl(['predict', ...model, '--list', list, '--out', out, '--shard', '2/3']);
    expect(resumed.out).toContain(`(${rows[1]! - 1} already there, a cut last row dropped)`);
    expect(resumed.out).toContain('wrote 1 rows');
    expect(readFileSync(second, 'utf8')).toBe(whole);
    const merged = await ldl(['prep', 'merge', '--out', out, '--list', list]);
    expect(merged.code, merged.out).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(single, 'utf8')); // byte-identical (the list is sorted; else the same rows sorted by photo)
    console.info(`shard rows ${rows.join(' + ')} = ${rows.reduce((a, b) => a + b)}; single run ${readFileSync(single, 'utf8').trim().split('\n').length - 1} rows`);

    // every array-job convention names shard 2/3, whose output is already complete: nothing to redo
    const envs: Record<string, string>[] = [{ JOB_COMPLETION_INDEX: '1' }, { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_MIN: '4', SLURM_ARRAY_TASK_COUNT: '3' }, { AWS_BATCH_JOB_ARRAY_INDEX: '1', AWS_BATCH_JOB_ARRAY_SIZE: '3' }];
    for (const env of envs) {
      const r = await ldl(['predict', ...model, '--list', list, '--out', out, '--shard', 'auto', ...('JOB_COMPLETION_INDEX' in env ? ['--shard-count', '3'] : [])], env);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain(`→ ${second} (${rows[1]} already there)`);
    }
    const none = await ldl(['predict', ...model, '--list', list, '--out', out, '--shard', 'auto']);
    expect(none.code).toBe(1);
    expect(none.out).toContain('--shard auto must run in an array job');
    // merge refuses a missing shard, naming it
    const third = path.join(dir, 'sharded', 'ages.shard-0003-of-0003.csv');
    writeFileSync(path.join(dir, 'sharded', 'ages.shard-0001-of-0003.csv.bak'), ''); // not a shard output: ignored
    renameSync(third, `${third}.moved`);
    const gap = await ldl(['prep', 'merge', '--out', out]);
    expect(gap.code).toBe(1);
    expect(gap.out).toContain(`all 3 shard outputs must be present, but 1 is missing: ${third}.`);
  }, 180_000);

  it('--out killed mid-way (SIGKILL) resumes and ends with the uninterrupted run\'s rows', async () => {
    const big = path.join(dir, 'big');
    await generateSyntheticMegaAge(big, { trainCount: 240, testCount: 0, size: 32 });
    const list = path.join(big, 'all.txt');
    writeFileSync(list, `${Array.from({ length: 240 }, (_, i) => `train/train_${String(i).padStart(5, '0')}.jpg`).join('\n')}\n`);
    const single = path.join(dir, 'big-single.csv');
    expect((await ldl(['predict', ...model, '--list', list, '--out', single])).code).toBe(0);
    const shardFile = path.join(dir, 'big', 'ages.csv');
    const bin = fileURLToPath(new URL('../bin/ldl-source.mjs', import.meta.url));
    const child = spawn(process.execPath, [bin, 'predict', ...model, '--list', list, '--out', shardFile], { stdio: 'ignore' });
    const rowsOf = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').length - 2 : 0);
    const killedAt = await new Promise<number>((resolve, reject) => {
      const poll = setInterval(() => {
        const n = rowsOf(shardFile);
        if (n >= 20) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve(n);
        }
      }, 10);
      child.on('exit', () => {
        clearInterval(poll);
        reject(new Error(`the child ended before it was killed, with ${rowsOf(shardFile)} rows`));
      });
    });
    await new Promise((r) => child.once('exit', r));
    const left = rowsOf(shardFile);
    expect(left).toBeGreaterThanOrEqual(killedAt);
    expect(left).toBeLessThan(240);
    const resumed = await ldl(['predict', ...model, '--list', list, '--out', shardFile]);
    expect(resumed.code, resumed.out).toBe(0);
    expect(resumed.out).toMatch(new RegExp(`\\(${left} already there|\\(${left - 1} already there, a cut last row dropped`));
    expect(readFileSync(shardFile, 'utf8')).toBe(readFileSync(single, 'utf8'));
    console.info(`killed after ${left} of 240 rows; resumed to 240, equal to the uninterrupted run`);
  }, 180_000);
});
