import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

// A tiny model on the synthetic data set (generated into runs/synthetic-megaage once), wasm backend.
const tiny = ['--preset', 'small', '--synthetic', '--image-size', '32', '--width-scale', '0.0625', '--backend', 'wasm'];

describe('megaage-asian example CLI', () => {
  it('prints usage with the presets', () => {
    const r = cli('train', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ {2}paper {14}SE-ResNeXt-50 32x4d, 224 px, batch 128, 80 epochs/);
    expect(r.out).toContain('--save-samples');
    expect(r.out).toMatch(/--wasm-threads <value> +wasm backend threads, 1\.\.8/);
  });

  it('rejects an unknown preset and a missing checkpoint clearly', () => {
    const bad = cli('train', '--preset', 'huge');
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('Error in --preset: preset must be one of paper, small, finetune, finetune-head, ensemble-head, faceres-head, imagenet-resnet50, start, but got "huge".');
    expect(cli('eval').out).toContain('Error in ldl eval: --checkpoint DIR is required');
    const threads = cli('train', '--synthetic', '--wasm-threads', '0');
    expect(threads.code).toBe(1);
    expect(threads.out).toContain('Error in --wasm-threads: --wasm-threads must be an integer in 1..8, but got "0".');
    expect(cli('train', '--synthetic', '--backend', 'cpu', '--wasm-threads', '2').out).toContain(
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
    // The resolved settings: a config file that repeats the run (the example's margin and metric for small).
    expect(JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8'))).toMatchObject({ preset: 'small', name: 'megaage-asian', margin: 0.4, bestBy: 'ca3', imageSize: 32, epochs: 2, synthetic: true });
    const ev = cli('eval', '--checkpoint', runDir, '--synthetic', '--backend', 'wasm');
    expect(ev.code, ev.out).toBe(0);
    expect(ev.out).toMatch(new RegExp(`eval on 200 images: MAE ${report.test.mae.toFixed(3)}`));
    const image = path.join(repoRoot, 'runs/synthetic-megaage/test/test_00000.jpg');
    const p = cli('predict', '--checkpoint', runDir, image, '--backend', 'wasm');
    expect(p.code, p.out).toBe(0);
    expect(p.out).toMatch(/test_00000.jpg: age \d+\.\d\ntop of the distribution: \d+ \(\d+\.\d %\)/);
  });
});

// The bad-input cases of ../shared/cases, regenerated here from synthetic faces (never copied research
// images), run through the example's command line as a user would: each stops before training with the
// file and line, or is handled, and a failed run leaves its reason in train.log and report.json.
const tinyCase = ['--preset', 'small', '--image-size', '32', '--width-scale', '0.0625', '--backend', 'wasm', '--wasm-threads', '1', '--epochs', '1', '--batch-size', '8'];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldl-cases-'));
const base = path.join(tmp, 'base');
let n = 0;

/** A fresh copy of the clean base set (24 train / 8 test synthetic 96 px faces, as base-synthetic/). */
function caseDir(): string {
  const dir = path.join(tmp, `case-${n++}`);
  cpSync(base, dir, { recursive: true });
  return dir;
}
const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n');
const report = (runDir: string) => JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')) as { status: string; reason?: string; counts?: { train: number; test: number } };
const trainLog = (runDir: string) => readFileSync(path.join(runDir, 'train.log'), 'utf8');

/** `photo,age,deg,box1..box4` rows for the train split, with `[line, row]` replacements (line 2 = first row). */
function alignedCsv(dir: string, split: 'train' | 'test', replace: Record<number, string> = {}): string {
  const ages = lines(path.join(dir, 'list', `${split}_age.txt`));
  const rows = lines(path.join(dir, 'list', `${split}_name.txt`)).map((name, i) => replace[i + 2] ?? `${split}/${name},${ages[i]},0,20,20,76,76`);
  const file = path.join(dir, `${split}.csv`);
  writeFileSync(file, ['photo,age,deg,box1,box2,box3,box4', ...rows].join('\n') + '\n');
  return file;
}

describe('shared bad-input cases through the megaage-asian CLI', () => {
  beforeAll(async () => {
    await generateSyntheticMegaAge(base, { trainCount: 24, testCount: 8, seed: 0 });
  });

  it('c18-blank-line: parallel lists of different lengths stop the run with or without --skip-bad, in train.log and report.json', () => {
    const dir = caseDir();
    const [names, ages] = ['name', 'age'].map((k) => lines(path.join(dir, 'list', `train_${k}.txt`)).slice(0, 12));
    ages.splice(4, 0, '');
    writeFileSync(path.join(dir, 'list', 'train_name.txt'), names.join('\n') + '\n');
    writeFileSync(path.join(dir, 'list', 'train_age.txt'), ages.join('\n') + '\n');
    for (const skip of [[], ['--skip-bad']]) {
      const runDir = path.join(dir, `run${skip.length}`);
      const r = cli('train', '--data', dir, '--run-dir', runDir, ...skip, ...tinyCase);
      expect(r.code, r.out).toBe(1);
      const nameFile = path.join(dir, 'list', 'train_name.txt');
      const ageFile = path.join(dir, 'list', 'train_age.txt');
      const message = `but ${nameFile} has 12 lines and ${ageFile} has 13`;
      expect(r.out).toContain(message);
      expect(r.out).toContain(`in one list only is ${ageFile} line 5.`);
      expect(r.out).not.toContain('epoch 1/');
      expect(trainLog(runDir)).toContain(`FATAL Error in readMegaAge: ${nameFile} and ${ageFile} must have the same number of lines`);
      expect(report(runDir)).toMatchObject({ status: 'failed', reason: expect.stringContaining(message) });
    }
  });

  it('c08-box-outside-image: a box entirely outside the image stops the run before training, naming file and line (train and test CSV)', () => {
    const dir = caseDir();
    const trainBad = alignedCsv(dir, 'train', { 3: 'train/train_00001.jpg,17,5,-10,-15,60,70', 5: 'train/train_00003.jpg,63,0,200,200,260,260' });
    const r = cli('train', '--data', dir, '--train-csv', trainBad, '--run-dir', path.join(dir, 'r1'), ...tinyCase);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain(`Error in readAlignedCsv: ${trainBad} line 5: box [200, 200, 260, 260] must overlap the 96x96 image, but it lies entirely outside it`);
    expect(r.out).not.toContain('epoch 1/');
    const testBad = alignedCsv(dir, 'test', { 3: 'test/test_00001.jpg,56,0,200,200,260,260' });
    const t = cli('train', '--data', dir, '--test-csv', testBad, '--run-dir', path.join(dir, 'r2'), ...tinyCase);
    expect(t.code, t.out).toBe(1);
    expect(t.out).toContain(`${testBad} line 3: box [200, 200, 260, 260] must overlap`);
    expect(t.out).not.toContain('epoch 1/');
    expect(report(path.join(dir, 'r2')).status).toBe('failed');
  });

  it('--verify-images names its choices', () => {
    const r = cli('train', '--data', base, '--verify-images', 'full', '--run-dir', path.join(tmp, 'vi'), ...tinyCase);
    expect(r.code).toBe(1);
    expect(r.out).toContain('Error in --verify-images: --verify-images must be one of decode, header, exists, none, but got "full".');
  });

  // One training run covers three kinds: c17 (the faces.csv of ldl prep align, no ages, as the
  // train CSV: ages joined from list/train_*.txt; a no_face row and a box partly outside the image),
  // c09 (a JPEG that only warns and a truncated one in the test list) and c08 under --skip-bad for eval.
  it('c17 + c09 + c08: align output trains with joined ages, one decoding rule, and --skip-bad eval skips the bad box', () => {
    const dir = caseDir();
    const names = lines(path.join(dir, 'list', 'train_name.txt'));
    const faces = path.join(dir, 'faces.csv');
    const rows = names.map((name, i) =>
      i === 3 ? `train/${name},,,,,,,,,,no_face` : i === 1 ? `train/${name},5,-10,-15,60,70,30,40,60,40,ok` : `train/${name},0.5,20,20,76,76,35,40,60,40,ok`,
    );
    writeFileSync(faces, ['photo,deg,box1,box2,box3,box4,left_eye_x,left_eye_y,right_eye_x,right_eye_y,status', ...rows].join('\n') + '\n');
    const noSkip = cli('train', '--data', dir, '--train-csv', faces, '--run-dir', path.join(dir, 'r0'), ...tinyCase);
    expect(noSkip.code).toBe(1);
    expect(noSkip.out).toContain(`${faces} line 5: status must be ok`);
    expect(noSkip.out).not.toContain('Album2');

    const full = readFileSync(path.join(dir, 'test', 'test_00000.jpg'));
    const sos = full.indexOf(Buffer.from([0xff, 0xda]));
    writeFileSync(path.join(dir, 'test', 'extraneous_bytes.jpg'), Buffer.concat([full.subarray(0, sos), Buffer.from([1, 2, 3]), full.subarray(sos)]));
    writeFileSync(path.join(dir, 'test', 'truncated.jpg'), full.subarray(0, Math.floor(full.length * 0.6)));
    writeFileSync(path.join(dir, 'list', 'test_name.txt'), [...lines(path.join(dir, 'list', 'test_name.txt')), 'extraneous_bytes.jpg', 'truncated.jpg'].join('\n') + '\n');
    writeFileSync(path.join(dir, 'list', 'test_age.txt'), [...lines(path.join(dir, 'list', 'test_age.txt')), '30', '31'].join('\n') + '\n');

    const runDir = path.join(dir, 'run');
    const r = cli('train', '--data', dir, '--train-csv', faces, '--skip-bad', '--run-dir', runDir, ...tinyCase);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('train: skipped 1 bad row (--skip-bad); first: ');
    expect(r.out).toContain(`test: skipped 1 bad row (--skip-bad); first: ${path.join(dir, 'list', 'test_name.txt')} line 10: image ${path.join(dir, 'test', 'truncated.jpg')} cannot be decoded`);
    expect(report(runDir)).toMatchObject({ status: 'completed', counts: { train: 21, test: 9 } });
    expect(trainLog(runDir)).toContain('test: skipped 1 bad row');

    const testBad = alignedCsv(dir, 'test', { 3: 'test/test_00001.jpg,56,0,200,200,260,260' });
    const ev = cli('eval', '--checkpoint', runDir, '--data', dir, '--test-csv', testBad, '--skip-bad', '--backend', 'wasm', '--wasm-threads', '1');
    expect(ev.code, ev.out).toBe(0);
    // 10 rows (the 8 test images + the two c09 files): the bad box and the truncated file are skipped
    expect(ev.out).toContain(`test: skipped 2 bad rows (--skip-bad); first: ${testBad} line 3: box [200, 200, 260, 260] must overlap`);
    expect(ev.out).toContain('eval on 8 images');
    expect(existsSync(path.join(runDir, 'best', 'model.json'))).toBe(true);
  });

  it('--lr 1e8: divergence stops the run with the epoch, step and advice, in train.log and report.json', () => {
    const runDir = path.join(tmp, 'diverge');
    const r = cli('train', '--data', base, '--lr', '1e8', '--run-dir', runDir, ...tinyCase, '--epochs', '2');
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/training diverged at epoch 1, step \d+ \(loss [^)]+\): lower --lr \(learning rate 100000000; try 10000000\)/);
    expect(r.out).not.toContain('AgeMetrics');
    expect(trainLog(runDir)).toMatch(/FATAL Error in Trainer.fit: training diverged at epoch 1/);
    expect(report(runDir)).toMatchObject({ status: 'failed', reason: expect.stringContaining('training diverged') });
  });
});
