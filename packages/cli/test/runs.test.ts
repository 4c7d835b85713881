// Issue 20 kinds 4–7 and 12 (Ctrl-C): runs that survive damaged checkpoints, edited configs, a second
// training, disk faults and interruptions. One tiny run (30 synthetic 32-px faces, 2 epochs) is trained
// once; each case works on a copy of it.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSyntheticMegaAge } from '@ldl/train';
import { beforeAll, describe, expect, it } from 'vitest';
import { ldl } from './helpers';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ldl-runs-'));
const base = path.join(dir, 'base');
const tiny = ['--preset', 'small', '--image-size', '32', '--width-scale', '0.0625', '--backend', 'cpu', '--batch-size', '8'];
let csv = '';


/** Every file of a directory with its SHA-256, to show that a refused command changed nothing. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(root, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(root);
  return out;
}

let copies = 0;
/** A fresh copy of the finished base run. */
function copyRun(): string {
  const to = path.join(dir, `run-${++copies}`);
  cpSync(base, to, { recursive: true });
  return to;
}
const ckpt = (run: string, epoch: number, ...rest: string[]) => path.join(run, 'checkpoints', `epoch-${String(epoch).padStart(4, '0')}`, ...rest);
const cut = (file: string) => truncateSync(file, Math.floor(statSync(file).size / 7));

beforeAll(async () => {
  await generateSyntheticMegaAge(path.join(dir, 'syn'), { trainCount: 30, testCount: 1, size: 32 });
  const ages = readFileSync(path.join(dir, 'syn/list/train_age.txt'), 'utf8').trim().split('\n');
  csv = path.join(dir, 'faces.csv');
  writeFileSync(csv, ['file,age', ...ages.map((a, i) => `syn/train/train_${String(i).padStart(5, '0')}.jpg,${a}`)].join('\n'));
  const r = await ldl('train', ...tiny, '--epochs', '2', '--data', csv, '--photo-col', 'file', '--run-dir', base);
  expect(r.code, r.out).toBe(0);
}, 240_000);

describe('kind 4: damaged checkpoints', () => {
  it('each checkpoint has a manifest (size and SHA-256 of every file), written inside its atomic swap', () => {
    const manifest = JSON.parse(readFileSync(ckpt(base, 2, 'manifest.json'), 'utf8')) as { files: Record<string, { bytes: number; sha256: string }> };
    expect(Object.keys(manifest.files)).toEqual(expect.arrayContaining(['state.json', 'optimizer.bin', 'optimizer.json', 'model/model.json', 'model/group1-shard1of1.bin', 'model/preprocessor.json']));
    expect(manifest.files['model/group1-shard1of1.bin'].bytes).toBe(statSync(ckpt(base, 2, 'model', 'group1-shard1of1.bin')).size);
    expect(existsSync(path.join(base, 'best', 'manifest.json'))).toBe(true);
    expect(readdirSync(path.join(base, 'checkpoints')).filter((f) => f.includes('.tmp-') || f.includes('.old-'))).toEqual([]);
  });

  it('a cut weights .bin: resume names it and continues from the newest intact checkpoint', { timeout: 120_000 }, async () => {
    const run = copyRun();
    cut(ckpt(run, 2, 'model', 'group1-shard1of1.bin'));
    const r = await ldl('train', '--run-dir', run, '--resume');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(new RegExp(`checkpoint ${ckpt(run, 2).replace(/[.\\/]/g, '\\$&')} is damaged \\(model/group1-shard1of1\\.bin: \\d+ bytes, but the manifest says \\d+ \\(cut or overwritten\\)\\); skipped`));
    expect(r.out).toContain(`resuming from ${ckpt(run, 1)}, the newest intact checkpoint (epoch 1)`);
    expect(r.out).toContain('1 epoch(s) done');
    expect(JSON.parse(readFileSync(path.join(run, 'report.json'), 'utf8')).status).toBe('completed');
  });

  it('cut state.json in every checkpoint: refused with the list, and nothing of the run changes', async () => {
    const run = copyRun();
    cut(ckpt(run, 2, 'state.json'));
    cut(ckpt(run, 1, 'model', 'group1-shard1of1.bin'));
    const before = snapshot(run);
    const r = await ldl('train', '--run-dir', run, '--resume', '--epochs', '3');
    expect(r.code).toBe(1);
    expect(r.out).toContain(`Error in Trainer.fit: resume needs an intact checkpoint in ${path.join(run, 'checkpoints')}, but every one is damaged: epoch-0002: state.json: `);
    expect(r.out).toMatch(/epoch-0001: model\/group1-shard1of1\.bin: \d+ bytes, but the manifest says \d+/);
    expect(snapshot(run)).toEqual(before); // report.json stays 'completed', train.log and config.json untouched
  });

  it('a cut latest.json: resume says so and uses the newest intact checkpoint', { timeout: 120_000 }, async () => {
    const run = copyRun();
    cut(path.join(run, 'checkpoints', 'latest.json'));
    const r = await ldl('train', '--run-dir', run, '--resume', '--epochs', '3');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`${path.join(run, 'checkpoints', 'latest.json')} is damaged (not valid JSON`);
    expect(r.out).toContain(`resuming from ${ckpt(run, 2)}, the newest intact checkpoint (epoch 2)`);
    expect(r.out).toContain('2 epoch(s) done');
  });

  it('a checkpoint saved before manifests: its JSON and weight sizes are checked, and the log says so', { timeout: 120_000 }, async () => {
    const run = copyRun();
    for (const e of [1, 2]) rmSync(ckpt(run, e, 'manifest.json'));
    cut(ckpt(run, 2, 'optimizer.bin'));
    const r = await ldl('train', '--run-dir', run, '--resume');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/epoch-0002 is damaged \(optimizer\.bin: \d+ bytes, but optimizer\.json needs \d+ \(cut or overwritten\)\); skipped/);
    expect(r.out).toContain(`${ckpt(run, 1)} has no manifest.json (saved before checksums): its JSON files and weight-file sizes were checked, not every byte`);
  });
});

describe('kind 4: a damaged saved model', () => {
  it('eval checks best/ against its manifest and names a changed file (same size, other bytes)', async () => {
    const run = copyRun();
    const shard = path.join(run, 'best', 'group1-shard1of1.bin');
    const bytes = readFileSync(shard);
    bytes[100] ^= 0xff;
    writeFileSync(shard, bytes);
    const r = await ldl('eval', '--checkpoint', run, '--backend', 'cpu', '--data', csv, '--photo-col', 'file');
    expect(r.code).toBe(1);
    expect(r.out).toContain(`Error in loadSavedModel: ${shard}: the saved model is damaged (its SHA-256 differs from the manifest's (the file changed or is damaged)).`);
  });
});

describe('kind 5: resume after config.json was edited', () => {
  it('refuses a change of the model, data or preprocessing, naming each key and both values; nothing changes', async () => {
    const run = copyRun();
    const file = path.join(run, 'config.json');
    const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...config, imageSize: 48, widthScale: 0.125 }));
    const before = snapshot(run);
    const r = await ldl('train', '--run-dir', run, '--resume', '--epochs', '3');
    expect(r.code).toBe(1);
    expect(r.out).toContain('Error in Trainer.fit: resume must keep the settings that define the model, data, preprocessing and optimisation, but these changed since');
    expect(r.out).toContain('model.widthScale (checkpoint 0.0625, now 0.125), model.imageSize (checkpoint 32, now 48)');
    expect(r.out).toContain('preprocessing.inputSize (checkpoint 32, now 48)');
    expect(r.out).toContain('on resume only epochs, learningRate, title, flipTta, maxLossRatio may change');
    expect(snapshot(run)).toEqual(before);
  });

  it('lets epochs and the learning rate change, and logs each change', { timeout: 120_000 }, async () => {
    const run = copyRun();
    const r = await ldl('train', '--run-dir', run, '--resume', '--epochs', '3', '--lr', '0.0005');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('resume: epochs changed from 2 to 3');
    expect(r.out).toContain('resume: learningRate changed from 0.001 to 0.0005');
    expect(readFileSync(path.join(run, 'train.log'), 'utf8')).toContain('resume: learningRate changed from 0.001 to 0.0005');
  });
});

describe('kind 6: one training per run directory', () => {
  it('a live lock refuses the second training with its holder; a finished run is not overwritten without --overwrite', async () => {
    const run = copyRun();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeFileSync(path.join(run, 'run.lock'), JSON.stringify({ pid: other.pid, host: os.hostname(), startedAt: '2026-01-01T00:00:00.000Z', command: 'ldl train' }));
      const before = snapshot(run);
      const r = await ldl('train', '--run-dir', run, '--resume', '--epochs', '3');
      expect(r.code).toBe(1);
      expect(r.out).toContain(`Error in acquireRunLock: ${run} is in use by another training (pid ${other.pid} on ${os.hostname()}, since 2026-01-01T00:00:00.000Z: ldl train; ${path.join(run, 'run.lock')}). Wait for it to end, or train in another run directory.`);
      expect(snapshot(run)).toEqual(before);
    } finally {
      other.kill();
    }
    writeFileSync(path.join(run, 'run.lock'), JSON.stringify({ pid: 4242, host: 'elsewhere', startedAt: '2026-01-01T00:00:00.000Z', command: 'ldl train' }));
    const far = await ldl('train', '--run-dir', run, '--resume', '--epochs', '3');
    expect(far.out).toContain(`is locked by a training on another host (pid 4242 on elsewhere, since 2026-01-01T00:00:00.000Z: ldl train; ${path.join(run, 'run.lock')}), which cannot be checked from ${os.hostname()}`);
    rmSync(path.join(run, 'run.lock'));
    const before = snapshot(run);
    const again = await ldl('train', ...tiny, '--epochs', '1', '--data', csv, '--photo-col', 'file', '--run-dir', run);
    expect(again.code).toBe(1);
    expect(again.out).toContain(`Error in ldl train: --run-dir ${run} already holds a run (report.json (status completed), checkpoints/, best/); continue it with --resume, replace it with --overwrite, or choose another --run-dir.`);
    expect(snapshot(run)).toEqual(before);
  });

  it('a stale lock (its process is gone) is reported and taken over', { timeout: 120_000 }, async () => {
    const run = copyRun();
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(path.join(run, 'run.lock'), JSON.stringify({ pid: Number(gone), host: os.hostname(), startedAt: '2026-01-01T00:00:00.000Z', command: 'ldl train' }));
    const r = await ldl('train', '--run-dir', run, '--resume', '--epochs', '3');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`a stale lock (pid ${gone} on ${os.hostname()}, since 2026-01-01T00:00:00.000Z: ldl train; that process is gone) was taken over`);
    expect(readFileSync(path.join(run, 'train.log'), 'utf8')).toContain('was taken over');
    expect(existsSync(path.join(run, 'run.lock'))).toBe(false);
  });

  it('--overwrite replaces a finished run', { timeout: 120_000 }, async () => {
    const run = copyRun();
    const r = await ldl('train', ...tiny, '--epochs', '1', '--data', csv, '--photo-col', 'file', '--run-dir', run, '--overwrite');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`--overwrite: removed the previous run in ${run} (report.json (status completed), checkpoints/, best/)`);
    expect(readdirSync(path.join(run, 'checkpoints')).filter((f) => f.startsWith('epoch-'))).toEqual(['epoch-0001']);
  });
});

// A real full disk and a real read-only folder need a tmpfs mount (root); elsewhere the unit tests of
// replaceDirAtomic and explainDiskError (@ldl/train) inject the same errors.
const mountable = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(path.join(os.tmpdir(), 'ldl-mount-'));
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  return ok;
})();

describe.runIf(mountable)('kind 7: disk faults (tmpfs)', () => {
  it('a run directory under a read-only folder: the message names the folder and the cause', async () => {
    const ro = mkdtempSync(path.join(os.tmpdir(), 'ldl-ro-'));
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', ro]).status).toBe(0);
    try {
      const r = await ldl('train', ...tiny, '--epochs', '1', '--data', csv, '--photo-col', 'file', '--run-dir', path.join(ro, 'run'));
      expect(r.code).toBe(1);
      expect(r.out).toContain(`Error in ldl train: cannot write ${path.join(ro, 'run')}: the folder ${ro} is on a read-only file system (EROFS).`);
    } finally {
      spawnSync('umount', [ro]);
    }
  });

  it('a full disk: the message names the folder and ENOSPC, no temp folder is left, and the run resumes once space is freed', { timeout: 180_000 }, async () => {
    const mnt = mkdtempSync(path.join(os.tmpdir(), 'ldl-full-'));
    // room for the run and its first checkpoint, not for the second
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1200k', 'tmpfs', mnt]).status).toBe(0);
    try {
      const run = path.join(mnt, 'run');
      const r = await ldl('train', ...tiny, '--epochs', '3', '--data', csv, '--photo-col', 'file', '--run-dir', run);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/Error in replaceDirAtomic: cannot write \S+: the folder \S+ is on a full disk \(ENOSPC: no space left on device\)\. The previous version is kept; free space/);
      const leftovers = [run, path.join(run, 'checkpoints')].flatMap((d) => readdirSync(d).filter((f) => /\.(tmp|old)-\d+$/.test(f)));
      expect(leftovers).toEqual([]);
      // free space (the same disk, grown), then --resume continues in place from the intact checkpoint
      expect(spawnSync('mount', ['-o', 'remount,size=8m', mnt]).status).toBe(0);
      const resumed = await ldl('train', '--run-dir', run, '--resume');
      expect(resumed.code, resumed.out).toBe(0);
      expect(resumed.out).toMatch(/resumed from .*epoch-000\d/);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});

describe('kind 12: honest messages', () => {
  it('--lambda 1e300: the loss is not finite before any optimizer step, and the message names lambda, not the learning rate', { timeout: 120_000 }, async () => {
    const run = path.join(dir, 'lambda');
    const r = await ldl('train', ...tiny, '--epochs', '1', '--data', csv, '--photo-col', 'file', '--run-dir', run, '--lambda', '1e300');
    expect(r.code).toBe(1);
    expect(r.out).toContain('Error in Trainer.fit: the loss is Infinity at epoch 1, step 1, before any optimizer step, so the learning rate is not the cause: lambda 1e+300 × |E[p] − age| years (up to 101) overflows float32 (largest 3.4e+38): use a lambda that fits (default 1).');
    expect(r.out).not.toContain('lower --lr');
    expect(existsSync(path.join(run, 'diverged.json'))).toBe(false);
  });
});

describe('kind 12: Ctrl-C leaves a trace', () => {
  it('SIGINT during training: INTERRUPTED in train.log, report.json status interrupted with the epoch and how to resume; checkpoints intact', { timeout: 180_000 }, async () => {
    const run = path.join(dir, 'interrupted');
    const bin = fileURLToPath(new URL('../bin/ldl-source.mjs', import.meta.url));
    const child = spawn(process.execPath, [bin, 'train', ...tiny, '--epochs', '5', '--data', csv, '--photo-col', 'file', '--run-dir', run], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : -1))));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/epoch 2\/5 step/.test(out) && !child.killed) child.kill('SIGINT');
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    expect(await exited).toBe(130);
    const report = JSON.parse(readFileSync(path.join(run, 'report.json'), 'utf8')) as { epoch: number; epochsDone: number };
    expect(report.epoch).toBeGreaterThanOrEqual(2);
    const done = report.epoch - 1;
    expect(report).toMatchObject({ status: 'interrupted', signal: 'SIGINT', epochsDone: done, lastCheckpoint: ckpt(run, done), resume: `ldl train --run-dir ${run} --resume` });
    expect(readFileSync(path.join(run, 'train.log'), 'utf8')).toContain(`INTERRUPTED by SIGINT in epoch ${report.epoch}; ${done} epoch(s) done and saved (${ckpt(run, done)}); continue with: ldl train --run-dir ${run} --resume`);
    expect(out).toContain(`interrupted (SIGINT) in epoch ${report.epoch}: ${done} epoch(s) saved; continue with: ldl train --run-dir ${run} --resume`);
    expect(existsSync(path.join(run, 'run.lock'))).toBe(false);
    const r = await ldl('train', '--run-dir', run, '--resume', '--epochs', String(report.epoch));
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`${done} epoch(s) done`);
  });
});
