import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadImage, loadSavedModel, normalizeInto } from '@ldl/train';
import * as ort from 'onnxruntime-node';
import { ldl as runLdl } from './helpers';

const ldl = (argv: string[]) => runLdl(...argv);

/** The `npx ldl …` lines of the README's sh block under `heading` (or the first block), as argv. */
function readmeCommands(heading: string | null): string[][] {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const from = heading === null ? readme : readme.slice(readme.indexOf(heading));
  const block = /```sh\n([\s\S]*?)```/.exec(from)![1]!;
  return block.split('\n').filter((l) => l.startsWith('npx ldl ')).map((l) => l.slice('npx ldl '.length).split(' '));
}


describe('README: to PyTorch and back', () => {
  it('the commands run as written (after the README\'s tiny training)', async () => {
    const cwd = process.cwd();
    process.chdir(mkdtempSync(path.join(os.tmpdir(), 'ldl-cli-pt-')));
    try {
      const train = readmeCommands(null).find((a) => a[0] === 'train')!;
      const trained = await ldl([...train, '--backend', 'wasm', '--wasm-threads', '1']); // wasm: 16 s here, the cpu backend 2 min
      expect(trained.code, trained.out).toBe(0);
      const [exp, imp, predict] = readmeCommands('## To PyTorch and back');
      const e = await ldl(exp!);
      expect(e.code, e.out).toBe(0);
      expect(e.out).toMatch(/^wrote runs\/tiny\.safetensors \(safetensors: \d+ tensors, [\d.]+ MB\) from .*runs\/tiny\/best$/m);
      expect(e.out).toContain('timm has no model of this size');
      const i = await ldl(imp!);
      expect(i.code, i.out).toBe(0);
      expect(i.out).toMatch(/^wrote runs\/tiny-imported \(resnet50, timm key names, \d+ tensors, 32 px, heads age\)$/m);
      expect(readFileSync('runs/tiny-imported/preprocessor.json', 'utf8')).toBe(readFileSync('runs/tiny/best/preprocessor.json', 'utf8'));
      const p = await ldl([...predict!, '--backend', 'cpu']);
      const original = await ldl(['predict', '--checkpoint', 'runs/tiny', '--backend', 'cpu', predict!.at(-1)!]);
      expect(p.code, p.out).toBe(0);
      // the same age and distribution as the model before the round trip
      const ages = (out: string) => out.split('\n').filter((l) => l.includes('age ') || l.startsWith('top of'));
      expect(ages(p.out)).toEqual(ages(original.out));
      expect(ages(p.out).length).toBe(2);
      // the import never overwrites, and a usage mistake (no --format) exits 2
      expect((await ldl(imp!)).out).toContain('outDir must be a new or empty folder');
      expect((await ldl(['export', 'runs/tiny', 'x.safetensors'])).code).toBe(2);
      expect((await ldl(['export', '--format', 'onnx-nope', 'runs/tiny', 'x.safetensors'])).code).toBe(2);
      // ONNX options with the safetensors format are refused, naming them
      const mixed = await ldl(['export', '--format', 'safetensors', '--layout', 'nchw', 'runs/tiny', 'y.safetensors']);
      expect(mixed.code).toBe(1);
      expect(mixed.out).toContain('--layout must go with --format onnx');

      // To ONNX Runtime and Triton: the README's command, then onnxruntime-node's expected_age equals ldl predict's age
      const [onnxExport] = readmeCommands('## To ONNX Runtime and Triton');
      const o = await ldl(onnxExport!);
      expect(o.code, o.out).toBe(0);
      expect(o.out).toMatch(/^wrote runs\/tiny\.onnx \(onnx, opset 17, nhwc input, outputs fc, probabilities, expected_age; [\d.]+ MB\)/m);
      expect(readFileSync('runs/triton/tiny/config.pbtxt', 'utf8')).toContain('platform: "onnxruntime_onnx"');
      expect(readFileSync('runs/triton/tiny/1/model.onnx')).toEqual(readFileSync('runs/tiny.onnx'));
      const saved = await loadSavedModel('runs/tiny');
      const p2 = saved.preprocessor;
      saved.model.dispose();
      const image = predict!.at(-1)!;
      const rgb = await loadImage({ path: path.resolve(image), age: 0, source: { file: image, line: 0 } }, { size: p2.inputSize, margin: p2.margin, crop: p2.crop });
      const x = new Float32Array(p2.inputSize * p2.inputSize * 3);
      normalizeInto(rgb, x, 0, { colorOrder: p2.colorOrder, mean: p2.mean, std: p2.std });
      const session = await ort.InferenceSession.create('runs/tiny.onnx');
      const result = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', x, [1, p2.inputSize, p2.inputSize, 3]) });
      const onnxAge = (result.expected_age!.data as Float32Array)[0]!;
      const predicted = Number(/: age ([\d.]+)$/m.exec(original.out)![1]);
      console.log(`ldl export --format onnx: onnxruntime-node expected_age ${onnxAge.toFixed(4)}, ldl predict ${predicted}`);
      expect(Math.abs(onnxAge - predicted)).toBeLessThan(0.06); // predict prints one decimal
    } finally {
      process.chdir(cwd);
    }
  }, 600_000);
});
