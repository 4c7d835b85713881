import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PRESETS } from '@ldl/train';
import { describe, expect, it, vi } from 'vitest';
import { resolveSettings } from '../src/commands';
import { checkFlags, readConfigFile } from '../src/config';
import { runCli } from '../src/program';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ldl-cli-'));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

/** Runs `ldl` in this process and returns its exit code and what it printed. */
async function ldl(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const spies = [
    vi.spyOn(console, 'error').mockImplementation((l: unknown) => void lines.push(String(l))),
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => lines.push(String(s)) > 0),
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => lines.push(String(s)) > 0),
  ];
  try {
    const code = await runCli(argv, (l) => lines.push(l));
    return { code, out: lines.join('\n') };
  } finally {
    spies.forEach((s) => s.mockRestore());
  }
}

describe('ldl command tree', () => {
  it('lists the commands, and each command its flags (train: the presets and the config file)', async () => {
    const top = await ldl('--help');
    expect(top.code).toBe(0);
    for (const c of ['train', 'eval', 'predict', 'preprocessor', 'prep', 'cv']) expect(top.out).toMatch(new RegExp(`\\n  ${c} `));
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
    expect((await ldl('train', '--preset', 'huge')).out).toContain('Error in --preset: preset must be one of paper, small, finetune, finetune-head, ensemble-head, imagenet-resnet50, start, but got "huge".');
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

  it('names the file and key of a wrong or unknown setting; settings of other commands are left to them', () => {
    expect(() => readConfigFile(write('a.json', '{"epochs": "x"}'), 'train')).toThrow(`Error in readConfigFile: ${path.join(dir, 'a.json')}: epochs must be an integer ≥ 1, but got "x".`);
    expect(() => readConfigFile(write('b.json', '{"imgSize": 3}'), 'train')).toThrow(`${path.join(dir, 'b.json')}: imgSize must be a setting of 'ldl train'`);
    expect(() => readConfigFile(write('c.json', '{"presets": {"small": {"backbone": 5}}}'), 'train')).toThrow('presets.small.backbone must be a non-empty string, but got 5.');
    expect(() => readConfigFile(write('d.json', '{"epochs": 3,'), 'train')).toThrow(`Error in readConfigFile: ${path.join(dir, 'd.json')} must be JSON (or name a .yaml file), but it does not parse`);
    expect(readConfigFile(write('e.json', '{"epochs": 3, "checkpoint": "run"}'), 'eval').settings).toEqual({ checkpoint: path.join(dir, 'run') });
  });

  it('start: small on synthetic faces (8 epochs) when the data is absent', () => {
    const r = resolveSettings({}, 'start', readConfigFile(write('s.json', JSON.stringify({ data: 'absent', presets: { small: { margin: 0.4 } } })), 'train'));
    expect(r.chosen).toBe('small');
    expect(r.settings).toMatchObject({ synthetic: true, epochs: 8, stepSize: 6, margin: 0.4 });
    expect(r.notes.at(-1)).toBe('preset start → small (no real face data: training from random weights on synthetic faces)');
  });
});
