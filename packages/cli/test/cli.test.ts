import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateSyntheticMegaAge, PRESETS } from '@ldl/train';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveSettings } from '../src/commands';
import { checkFlags, readConfigFile } from '../src/config';
import { runCli } from '../src/program';
import { ldl } from './helpers';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ldl-cli-'));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};


describe('ldl command tree', () => {
  it('lists the commands, and each command its flags (train: the presets and the config file)', async () => {
    const top = await ldl('--help');
    expect(top.code).toBe(0);
    for (const c of ['train', 'eval', 'predict', 'preprocessor', 'export', 'import', 'prep', 'cv']) expect(top.out).toMatch(new RegExp(`\\n  ${c} `));
    const train = await ldl('train', '--help');
    expect(train.code).toBe(0);
    expect(train.out).toMatch(/--wasm-threads <value> +wasm backend threads, 1\.\.8/);
    expect(train.out).toContain('Precedence: preset < file < the file\'s presets.<name> < flags.');
    for (const name of Object.keys(PRESETS)) expect(train.out).toContain(`  ${name} `);
    const predict = await ldl('predict', '--help');
    expect(predict.out).toContain('--checkpoint <path>');
    expect(predict.out).not.toContain('--epochs');
  });

  it('a usage mistake exits with 2, a bad value with 1 and the team error format', async () => {
    expect((await ldl()).code).toBe(2);
    expect((await ldl('train', '--no-such-flag')).code).toBe(2);
    for (const bad of ['0', '9', '1.5', 'two', '']) {
      const r = await ldl('train', `--wasm-threads=${bad}`);
      expect(r.code).toBe(1);
      expect(r.out).toContain(`Error in --wasm-threads: --wasm-threads must be an integer in 1..8, but got ${JSON.stringify(bad)}.`);
    }
    expect((await ldl('eval', '--backend', 'cpu', '--wasm-threads', '2', '--checkpoint', dir)).out).toContain(
      'Error in --wasm-threads: --wasm-threads needs the wasm backend (or automatic choice), but got --backend "cpu".',
    );
    expect((await ldl('train', '--preset', 'huge')).out).toContain('Error in --preset: preset must be one of paper, small, finetune, finetune-head, ensemble-head, faceres-head, imagenet-resnet50, start, but got "huge".');
    expect((await ldl('train', '--preset', 'small')).out).toContain('Error in ldl train: --data must name the data set');
  });
});

describe('config files', () => {
  it('preset < file < file presets.<name> < flags; relative paths from the file; JSON and YAML alike', () => {
    const json = write('run.json', JSON.stringify({ preset: 'small', data: 'faces', epochs: 3, lr: 0.01, presets: { small: { epochs: 4, margin: 0.4 }, paper: { epochs: 99 } } }));
    const yaml = write('run.yaml', 'preset: small\ndata: faces\nepochs: 3\nlr: 0.01\npresets:\n  small:\n    epochs: 4\n    margin: 0.4\n  paper:\n    epochs: 99\n');
    for (const file of [json, yaml]) {
      const config = readConfigFile(file, 'train');
      expect(config.settings.data).toBe(path.join(dir, 'faces'));
      const flags = checkFlags({ lr: '0.5', batchSize: '8' }, () => true);
      const r = resolveSettings(flags, undefined, config);
      expect(r.chosen).toBe('small');
      // small's own values stay where nothing overrides them
      expect(r.settings).toMatchObject({ backbone: 'resnet50', imageSize: 64, stepSize: 4, epochs: 4, margin: 0.4, lr: 0.5, batchSize: 8 });
      expect(resolveSettings({}, 'paper', config).settings).toMatchObject({ epochs: 99, backbone: 'seresnext50_32x4d', lr: 0.01 });
    }
  });

  it("--resume: the run's config.json is above the file (its preset first), below the flags", () => {
    const file = readConfigFile(write('base.json', JSON.stringify({ preset: 'paper', lr: 0.01, presets: { small: { epochs: 4, margin: 0.4 } } })), 'train');
    const run = readConfigFile(write('resumed-config.json', JSON.stringify({ preset: 'small', epochs: 2, extraTrain: [] })), 'train');
    const r = resolveSettings(checkFlags({ batchSize: '8' }, () => true), undefined, file, run);
    expect(r.chosen).toBe('small');
    expect(r.settings).toMatchObject({ epochs: 2, margin: 0.4, lr: 0.01, batchSize: 8, extraTrain: [] });
    expect(resolveSettings(checkFlags({ epochs: '5' }, () => true), undefined, file, run).settings.epochs).toBe(5);
  });

  it('names the file and key of a wrong or unknown setting; settings of other commands are left to them', () => {
    expect(() => readConfigFile(write('a.json', '{"epochs": "x"}'), 'train')).toThrow(`Error in readConfigFile: ${path.join(dir, 'a.json')}: epochs must be an integer ≥ 1, but got "x".`);
    expect(() => readConfigFile(write('b.json', '{"imgSize": 3}'), 'train')).toThrow(`${path.join(dir, 'b.json')}: imgSize must be a setting of 'ldl train'`);
    expect(() => readConfigFile(write('c.json', '{"presets": {"small": {"backbone": 5}}}'), 'train')).toThrow('presets.small.backbone must be a non-empty string, but got 5.');
    expect(() => readConfigFile(write('d.json', '{"epochs": 3,'), 'train')).toThrow(`Error in readConfigFile: ${path.join(dir, 'd.json')} must be JSON (or name a .yaml file), but it does not parse`);
    expect(readConfigFile(write('e.json', '{"epochs": 3, "checkpoint": "run"}'), 'eval').settings).toEqual({ checkpoint: path.join(dir, 'run') });
  });

  it('a number YAML or JSON reads as NaN or Infinity is reported as such, with its text (not "got null")', () => {
    const cases: [string, string, string][] = [
      ['nan.yaml', 'lr: .nan\n', 'lr must be a finite number (a number > 0), but got NaN (written .nan).'],
      ['big.yaml', 'epochs: 3\nlr: 1e999\n', 'lr must be a finite number (a number > 0), but got Infinity (written 1e999).'],
      ['big.json', '{"epochs": 3, "lr": 1e999}', 'lr must be a finite number (a number > 0), but got Infinity (written 1e999).'],
      ['inf.yaml', 'presets:\n  small:\n    sigma: -.inf\n', 'presets.small.sigma must be a finite number'],
    ];
    for (const [name, text, message] of cases) {
      const file = write(name, text);
      expect(() => readConfigFile(file, 'train')).toThrow(`Error in readConfigFile: ${file}: ${message}`);
    }
  });

  it('start: small on synthetic faces (8 epochs) when the data is absent', () => {
    const r = resolveSettings({}, 'start', readConfigFile(write('s.json', JSON.stringify({ data: 'absent', presets: { small: { margin: 0.4 } } })), 'train'));
    expect(r.chosen).toBe('small');
    expect(r.settings).toMatchObject({ synthetic: true, epochs: 8, stepSize: 6, margin: 0.4 });
    expect(r.notes.at(-1)).toBe('preset start → small (no real face data: training from random weights on synthetic faces)');
  });
});

describe('config-file checks', () => {
  it('names the file and key of a presets section that is no preset (a typo)', () => {
    const file = write('typo.json', JSON.stringify({ presets: { smal: { epochs: 3 } } }));
    expect(() => readConfigFile(file, 'train')).toThrow(`Error in readConfigFile: ${file}: presets.smal must be a section named by a preset (paper, small, finetune, finetune-head, ensemble-head, faceres-head, imagenet-resnet50), but got "smal".`);
  });

  it("only the preset's own extraTrain is optional: a file's, a flag's or a replayed run's must exist", async () => {
    const preset = resolveSettings({}, 'finetune', undefined);
    expect(preset.extraFromPreset).toBe(true);
    const file = readConfigFile(write('extra.json', JSON.stringify({ presets: { finetune: { extraTrain: ['nowhere.csv'] } } })), 'train');
    expect(resolveSettings({}, 'finetune', file).extraFromPreset).toBe(false);
    expect(resolveSettings(checkFlags({ extraTrain: ['x.csv'] }, () => true), 'finetune', undefined).extraFromPreset).toBe(false);
    expect(resolveSettings({}, undefined, undefined, readConfigFile(write('run-config.json', JSON.stringify({ preset: 'finetune', extraTrain: ['x.csv'] })), 'train')).extraFromPreset).toBe(false);
    // read before any training: a missing extra dataset named in the file stops the run
    const r = await ldl('train', '--config', write('extra-run.json', JSON.stringify({ data: data.csv, photoCol: 'file', raceClasses: 'B,W,A,H,O', extraTrain: ['nowhere.csv'], runsDir: path.join(dir, 'runs') })), '--preset', 'small');
    expect(r.code).toBe(1);
    expect(r.out).toContain(`Error in readDataset: ${path.join(dir, 'nowhere.csv')} must be a MegaAge-Asian folder`);
  });
});

/** A MORPH-style CSV over 30 synthetic 32-px faces with MORPH race letters (B,W,A,H,O). */
const data = { csv: '' };
beforeAll(async () => {
  await generateSyntheticMegaAge(path.join(dir, 'syn'), { trainCount: 30, testCount: 1, size: 32 });
  const ages = readFileSync(path.join(dir, 'syn/list/train_age.txt'), 'utf8').trim().split('\n');
  const rows = ages.map((a, i) => `syn/train/train_${String(i).padStart(5, '0')}.jpg,${a},${i % 2 ? 'F' : 'M'},${'BWAHO'[i % 5]}`);
  data.csv = write('morph.csv', ['file,age,gender,race', ...rows].join('\n'));
});

describe('a run: --resume from its config.json, eval with its split and classes, predict through log', () => {
  it('trains, resumes without repeating the flags, leaves a finished run alone when a resume fails, evaluates the same split', { timeout: 240_000 }, async () => {
    const runDir = path.join(dir, 'run');
    const tiny = ['--preset', 'small', '--image-size', '32', '--width-scale', '0.0625', '--backend', 'cpu', '--batch-size', '8'];
    const first = await ldl('train', ...tiny, '--epochs', '1', '--data', data.csv, '--photo-col', 'file', '--multi-task', '--race-classes', 'B,W,A,H,O', '--split-seed', '3', '--run-dir', runDir);
    expect(first.code, first.out).toBe(0);

    const resumed = await ldl('train', '--run-dir', runDir, '--resume', '--epochs', '2');
    expect(resumed.code, resumed.out).toBe(0);
    expect(resumed.out).toContain('1 epoch(s) done');
    const config = readFileSync(path.join(runDir, 'config.json'), 'utf8');
    expect(JSON.parse(config)).toMatchObject({ preset: 'small', epochs: 2, splitSeed: 3, raceClasses: ['B', 'W', 'A', 'H', 'O'] });
    const report = readFileSync(path.join(runDir, 'report.json'), 'utf8');
    const done = JSON.parse(report) as { counts: { test: number }; test: { mae: number } };

    // a resume that fails before the trainer takes it (a flag's extra data is missing) changes nothing in the run
    const failed = await ldl('train', '--run-dir', runDir, '--resume', '--epochs', '3', '--extra-train', path.join(dir, 'nowhere.csv'));
    expect(failed.code).toBe(1);
    expect(failed.out).toContain(`Error in readDataset: ${path.join(dir, 'nowhere.csv')} must be`);
    expect(readFileSync(path.join(runDir, 'report.json'), 'utf8')).toBe(report);
    expect(readFileSync(path.join(runDir, 'config.json'), 'utf8')).toBe(config);
    // the trainer's check refuses a change a checkpoint cannot take; config.json and the finished report stay the run's
    const refused = await ldl('train', '--run-dir', runDir, '--resume', '--epochs', '3', '--sigma', '3');
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('Error in Trainer.fit: resume must keep the settings that define the model, data, preprocessing and optimisation, but these changed since');
    expect(refused.out).toContain(': sigma (checkpoint 2, now 3), preprocessing.sigma (checkpoint 2, now 3). Put them back');
    expect(readFileSync(path.join(runDir, 'config.json'), 'utf8')).toBe(config);
    expect(readFileSync(path.join(runDir, 'report.json'), 'utf8')).toBe(report);
    expect((await ldl('train', '--resume')).out).toContain('Error in --resume: --resume must name the run to continue with --run-dir');

    // eval: the split seed and columns from the run's config.json, the classes from preprocessor.json
    const ev = await ldl('eval', '--checkpoint', runDir, '--data', data.csv, '--backend', 'cpu');
    expect(ev.code, ev.out).toBe(0);
    expect(ev.out).toContain(`settings of the run (${path.join(runDir, 'config.json')}): splitSeed 3, raceClasses ["B","W","A","H","O"], photoCol "file"`);
    expect(ev.out).toContain('80/20 split with --split-seed 3');
    expect(ev.out).toContain(`eval on ${done.counts.test} images: MAE ${done.test.mae.toFixed(3)}`);
    expect(ev.out).toContain('(classes B,W,A,H,O)');
    const latest = readdirSync(path.join(runDir, 'checkpoints')).filter((f) => f.startsWith('epoch-')).sort().at(-1)!;
    const fromCheckpoint = await ldl('eval', '--checkpoint', path.join(runDir, 'checkpoints', latest), '--data', data.csv, '--backend', 'cpu');
    expect(fromCheckpoint.code, fromCheckpoint.out).toBe(0);
    expect(fromCheckpoint.out).toContain(`settings of the run (${path.join(runDir, 'config.json')}): splitSeed 3`);
    const wrong = await ldl('eval', '--checkpoint', runDir, '--data', data.csv, '--backend', 'cpu', '--race-classes', 'W,B,A,H,O');
    expect(wrong.code).toBe(1);
    expect(wrong.out).toContain(`Error in ldl eval: --race-classes must be the model's ethnicity classes (${path.join(runDir, 'best', 'preprocessor.json')}: B,W,A,H,O), but got W,B,A,H,O.`);

    // predict prints through createProgram's log, not console.log
    const logged: string[] = [];
    const consoleLog = vi.spyOn(console, 'log');
    try {
      expect(await runCli(['predict', '--checkpoint', runDir, '--backend', 'cpu', path.join(dir, 'syn/train/train_00000.jpg')], (l) => logged.push(l))).toBe(0);
      expect(consoleLog).not.toHaveBeenCalled();
    } finally {
      consoleLog.mockRestore();
    }
    expect(logged.join('\n')).toMatch(/train_00000\.jpg: age \d+\.\d\ntop of the distribution: .*\ngender: .*; ethnicity: B \d+\.\d %, W/);
  });
});
