import '@tensorflow/tfjs-backend-cpu';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { exportPyTorchWeights, PYTORCH_METADATA, readSafetensors, readSafetensorsMetadata, saveModel, writeSafetensors } from '@ldl/backbones';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, type ModelConfig } from '../src/model/build';
import { loadSavedModel } from '../src/saved/load';
import { PREPROCESSOR_FORMAT, PREPROCESSOR_VERSION, type PreprocessorConfig } from '../src/saved/preprocessor';
import { exportPyTorchSafetensors, importPyTorchSafetensors } from '../src/saved/pytorch';
import { tempDir } from './helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A preprocessor.json for `config` (indented as the trainer writes it, plus a trailing newline to show the text travels exactly). */
function preprocessorText(config: ModelConfig): string {
  const multi = config.multiTask === true;
  const p: PreprocessorConfig = {
    format: PREPROCESSOR_FORMAT, version: PREPROCESSOR_VERSION, inputSize: config.imageSize!, colorOrder: 'rgb', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225],
    crop: 'stretch', margin: 0.2, heads: multi ? ['age', 'gender', 'ethnicity'] : ['age'], minAge: 0, numClasses: config.numClasses ?? 101, sigma: 2,
    genderClasses: multi ? ['male', 'female'] : null, ethnicityClasses: multi ? ['White', 'Black', 'Asian', 'Indian', 'Others'] : null, backbone: config.backbone!, weights: null,
  };
  return `${JSON.stringify(p, null, 2)}\n`;
}

/** Every weight random (BN statistics included), so a mis-mapped tensor shows; small enough to keep activations finite. */
function randomize(model: LayersModel, seed: number): void {
  model.weights.forEach((w, i) => {
    const shape = w.shape as number[];
    const t = w.originalName.endsWith('moving_variance') ? tf.randomUniform(shape, 0.5, 1.5, 'float32', seed + i) : tf.randomNormal(shape, 0, 0.2, 'float32', seed + i);
    w.write(t);
    t.dispose();
  });
}

/** A saved model folder as a run writes its `best/` (model.json + weights, preprocessor.json, meta.json). */
async function savedModelDir(config: ModelConfig, seed = 1): Promise<{ dir: string; model: LayersModel; text: string }> {
  const dir = path.join(tempDir('ldl-pt-'), 'best');
  const model = buildModel(config);
  randomize(model, seed);
  await saveModel(model, dir);
  const text = preprocessorText(config);
  writeFileSync(path.join(dir, 'preprocessor.json'), text);
  writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ epoch: 1, config: { model: config } }));
  return { dir, model, text };
}

const tiny: Record<string, ModelConfig> = {
  seresnext: { backbone: 'seresnext50_32x4d', widthScale: 1 / 8, depthScale: 0.34, imageSize: 32, numClasses: 101 },
  resnet18: { backbone: 'resnet18', widthScale: 1 / 16, depthScale: 0.5, imageSize: 32, numClasses: 61 },
  vgg: { backbone: 'vgg16bn', widthScale: 1 / 16, imageSize: 32, numClasses: 101 },
  // stem 19, planes 19/38/77/154: no single ratio of channels gives them (38.4 and 76.8 round apart)
  oddWidth: { backbone: 'resnet50', widthScale: 0.3, depthScale: 0.34, imageSize: 32, numClasses: 101 },
  vggOddWidth: { backbone: 'vgg16bn', widthScale: 0.07, imageSize: 32, numClasses: 101 },
  multitask: { backbone: 'resnet50', widthScale: 1 / 16, depthScale: 0.34, imageSize: 32, multiTask: true },
};

async function logits(model: LayersModel, x: tf.Tensor): Promise<Float32Array[]> {
  const y = model.predict(x) as tf.Tensor | tf.Tensor[];
  const ys = Array.isArray(y) ? y : [y];
  const out = await Promise.all(ys.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(ys);
  return out;
}

describe('ldl export --format safetensors / ldl import', () => {
  it.each(Object.entries(tiny))('%s: export → import gives the same weights, logits and preprocessor.json text', async (_name, config) => {
    const { dir, model, text } = await savedModelDir(config);
    const file = path.join(tempDir('ldl-pt-'), 'model.safetensors');
    const exported = await exportPyTorchSafetensors(path.dirname(dir), file); // the run directory (uses best/)
    expect(exported.modelDir).toBe(dir);
    expect(exported.timmModel).toBeNull(); // reduced widths: no timm model of that size
    const bytes = readFileSync(file);
    expect(readSafetensorsMetadata(bytes)).toEqual({ [PYTORCH_METADATA.format]: 'pt', [PYTORCH_METADATA.preprocessor]: text });
    expect(Object.values(readSafetensors(bytes)).filter((e) => e.dtype === 'I64').length).toBeGreaterThan(0);
    const out = path.join(tempDir('ldl-pt-'), 'imported');
    const imported = await importPyTorchSafetensors(file, out);
    expect(imported.loaded).toBe(model.weights.length);
    expect(readFileSync(path.join(out, 'preprocessor.json'), 'utf8')).toBe(text);
    const saved = await loadSavedModel(out);
    saved.model.weights.forEach((w, i) => expect(w.read().dataSync(), w.originalName).toEqual(model.weights[i]!.read().dataSync()));
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3);
    expect(await logits(saved.model, x)).toEqual(await logits(model, x));
    saved.model.dispose();
    model.dispose();
  });

  it("a checkpoint's num_batches_tracked is its optimizer step count", async () => {
    const { dir, model, text } = await savedModelDir(tiny.resnet18!);
    const checkpoint = path.join(tempDir('ldl-pt-'), 'checkpoints', 'epoch-0003');
    await saveModel(model, path.join(checkpoint, 'model'));
    writeFileSync(path.join(checkpoint, 'model', 'preprocessor.json'), text);
    writeFileSync(path.join(checkpoint, 'state.json'), JSON.stringify({ version: 1, epoch: 3, step: 42, config: {} }));
    const file = path.join(tempDir('ldl-pt-'), 'ckpt.safetensors');
    expect((await exportPyTorchSafetensors(checkpoint, file)).modelDir).toBe(path.join(checkpoint, 'model'));
    const state = readSafetensors(readFileSync(file));
    expect(state['bn1.num_batches_tracked']).toEqual({ dtype: 'I64', shape: [], data: new Float32Array([42]) });
    await exportPyTorchSafetensors(dir, file); // best/ records no step count
    expect(readSafetensors(readFileSync(file))['bn1.num_batches_tracked']!.data).toEqual(new Float32Array([0]));
    model.dispose();
  });

  it('errors a user moving a model expects', async () => {
    const { dir, model } = await savedModelDir(tiny.resnet18!);
    const state = exportPyTorchWeights(model);
    const work = tempDir('ldl-pt-');
    const bare = path.join(work, 'bare.safetensors');
    writeFileSync(bare, writeSafetensors(state, { format: 'pt' }));
    // No preprocessor.json in the metadata: say what to pass instead.
    await expect(importPyTorchSafetensors(bare, path.join(work, 'a'))).rejects.toThrow(
      `Error in importPyTorchSafetensors: ${bare} must carry the model's preprocessor.json in its safetensors __metadata__ ('preprocessor.json', as ldl export and ldl_torch write it), but its metadata has only format; pass the model's preprocessor.json with --preprocessor FILE (options.preprocessor).`,
    );
    const ok = await importPyTorchSafetensors(bare, path.join(work, 'a'), { preprocessor: path.join(dir, 'preprocessor.json') });
    expect(ok.loaded).toBe(model.weights.length);
    // The output folder is never overwritten.
    await expect(importPyTorchSafetensors(bare, path.join(work, 'a'), { preprocessor: path.join(dir, 'preprocessor.json') })).rejects.toThrow('outDir must be a new or empty folder (nothing is overwritten)');
    const meta = { format: 'pt', 'preprocessor.json': readFileSync(path.join(dir, 'preprocessor.json'), 'utf8') };
    // A missing and an extra key: both listed (the strict import's error).
    const { 'layer1.0.conv2.weight': _dropped, ...rest } = state;
    const odd = path.join(work, 'odd.safetensors');
    writeFileSync(odd, writeSafetensors({ ...rest, 'head.extra.weight': { dtype: 'F32', shape: [1], data: new Float32Array(1) } }, meta));
    await expect(importPyTorchSafetensors(odd, path.join(work, 'b'))).rejects.toThrow(/must match model .* \(strict\), but got missing \[layer1\.0\.conv2\.weight\] and unexpected \[head\.extra\.weight\]/);
    // A shape mismatch names the key and both shapes.
    const wide = path.join(work, 'wide.safetensors');
    writeFileSync(wide, writeSafetensors({ ...state, 'layer1.0.conv2.weight': { dtype: 'F32', shape: [4, 4, 3, 1], data: new Float32Array(48) } }, meta));
    await expect(importPyTorchSafetensors(wide, path.join(work, 'c'))).rejects.toThrow(
      "Error in importPyTorchWeights: 'layer1.0.conv2.weight' must have a shape compatible with layer1.0/conv2/kernel [3, 3, 4, 4], but got [4, 4, 3, 1].",
    );
    // A classifier of another class count than preprocessor.json's.
    const fewer = path.join(work, 'fewer.safetensors');
    writeFileSync(fewer, writeSafetensors({ ...state, 'fc.weight': { dtype: 'F32', shape: [10, 32], data: new Float32Array(320) }, 'fc.bias': { dtype: 'F32', shape: [10], data: new Float32Array(10) } }, meta));
    await expect(importPyTorchSafetensors(fewer, path.join(work, 'd'))).rejects.toThrow(
      `Error in importPyTorchSafetensors: 'fc.weight' must have [61, …] (numClasses 61 of ${fewer} __metadata__ 'preprocessor.json'), but got [10, 32].`,
    );
    for (const d of ['b', 'c', 'd']) expect(existsSync(path.join(work, d))).toBe(false);
    model.dispose();
  });
});

// Export → 2 training steps in PyTorch (timm, strict load) → import: @ldl's logits equal PyTorch's.
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const PYTHON = path.join(REPO, 'tools/reference/.venv/bin/python');
const haveTorch = existsSync(PYTHON);
if (!haveTorch) console.log(`pytorch.test.ts: PyTorch round trip skipped, no ${PYTHON} (create it with tools/reference/setup.sh)`);

describe.skipIf(!haveTorch)('export → train 2 steps in PyTorch → import (max |Δ| ≤ 1e-4)', () => {
  const cases: { name: string; config: ModelConfig; arch: Record<string, string>; optimizer: 'adam' | 'sgd' }[] = [
    { name: 'seresnext50_32x4d', config: { backbone: 'seresnext50_32x4d', imageSize: 64, numClasses: 101 }, arch: { timm: 'seresnext50_32x4d' }, optimizer: 'adam' },
    { name: 'multitask_resnet18', config: { backbone: 'resnet18', imageSize: 64, multiTask: true }, arch: { multitask: 'resnet18' }, optimizer: 'sgd' },
  ];
  it.each(cases)('$name ($optimizer)', async ({ name, config, arch, optimizer }) => {
    const { dir, model } = await savedModelDir(config);
    model.dispose();
    const work = tempDir('ldl-pt-torch-');
    const exported = await exportPyTorchSafetensors(dir, path.join(work, 'exported.safetensors'));
    expect(exported.timmModel).toBe(arch.timm ?? arch.multitask);
    const x = tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', 5);
    const nchw = tf.transpose(x, [0, 3, 1, 2]);
    writeFileSync(path.join(work, 'inputs.safetensors'), writeSafetensors({ [name]: { shape: nchw.shape, data: nchw.dataSync() as Float32Array } }));
    const manifest = {
      inputs: 'inputs.safetensors',
      out: 'logits.safetensors',
      cases: [{ name, file: 'exported.safetensors', arch, train: { steps: 2, optimizer, lr: optimizer === 'adam' ? 1e-3 : 0.01, out: 'trained.safetensors' } }],
    };
    mkdirSync(work, { recursive: true });
    writeFileSync(path.join(work, 'manifest.json'), JSON.stringify(manifest));
    await promisify(execFile)(PYTHON, [path.join(REPO, 'tools/reference/export_parity.py'), path.join(work, 'manifest.json')], { timeout: 300_000 });
    const ref = readSafetensors(readFileSync(path.join(work, 'logits.safetensors')));
    const imported = await importPyTorchSafetensors(path.join(work, 'trained.safetensors'), path.join(work, 'imported'));
    expect(imported.timmModel).toBe(exported.timmModel);
    const saved = await loadSavedModel(imported.dir);
    const ours = await logits(saved.model, x);
    const heads = ours.length === 1 ? [`${name}.trained`] : ['age', 'gender', 'ethnicity'].map((h) => `${name}.trained.${h}`);
    let worst = 0;
    let moved = 0; // the 2 steps changed the logits (else the test would prove nothing)
    heads.forEach((key, i) => {
      const trained = ref[key]!.data;
      const before = ref[key.replace('.trained', '')]!.data;
      ours[i]!.forEach((v, j) => {
        worst = Math.max(worst, Math.abs(v - trained[j]!));
        moved = Math.max(moved, Math.abs(trained[j]! - before[j]!));
      });
    });
    console.log(`export → torch 2 ${optimizer} steps → import ${name}: max |Δ| = ${worst.toExponential(2)} (the steps moved the logits by up to ${moved.toFixed(3)})`);
    expect(moved).toBeGreaterThan(1e-2);
    expect(worst).toBeLessThanOrEqual(1e-4);
    saved.model.dispose();
    tf.dispose([x, nchw]);
  }, 600_000);
});

// The same through the Python package itself (python/ldl_torch, on PYTHONPATH): its roundtrip loads the exported
// `small`-preset-sized model strictly, trains 2 Adam steps with @ldl's loss and writes a probe batch with its logits.
const LDL_TORCH = path.join(REPO, 'python');
describe.skipIf(!haveTorch || !existsSync(path.join(LDL_TORCH, 'ldl_torch', 'roundtrip.py')))('export → ldl_torch.roundtrip (2 Adam steps) → import', () => {
  it.each([
    ['small', { backbone: 'resnet50', widthScale: 0.25, depthScale: 0.34, imageSize: 32, numClasses: 101 }],
    ['small multi-task', { backbone: 'resnet50', widthScale: 0.25, depthScale: 0.34, imageSize: 32, multiTask: true }],
  ] as [string, ModelConfig][])('%s', async (name, config) => {
    const { dir, model } = await savedModelDir(config);
    model.dispose();
    const work = tempDir('ldl-pt-torch-');
    await exportPyTorchSafetensors(dir, path.join(work, 'exported.safetensors'));
    await promisify(execFile)(PYTHON, ['-m', 'ldl_torch.roundtrip', 'exported.safetensors', 'trained.safetensors', '--steps', '2', '--probe', 'probe.json'], {
      cwd: work,
      env: { ...process.env, PYTHONPATH: LDL_TORCH },
      timeout: 300_000,
    });
    const probe = JSON.parse(readFileSync(path.join(work, 'probe.json'), 'utf8')) as { inputNHWC: number[][][][]; logits: Record<string, number[][]> };
    const saved = await loadSavedModel((await importPyTorchSafetensors(path.join(work, 'trained.safetensors'), path.join(work, 'imported'))).dir);
    const ours = await logits(saved.model, tf.tensor4d(probe.inputNHWC));
    let worst = 0;
    saved.preprocessor.heads.forEach((head, i) => probe.logits[head]!.flat().forEach((v, j) => (worst = Math.max(worst, Math.abs(v - ours[i]![j]!)))));
    console.log(`export → ldl_torch.roundtrip → import (${name}): max |Δ| = ${worst.toExponential(2)} over ${saved.preprocessor.heads.join('/')}`);
    expect(worst).toBeLessThanOrEqual(1e-4);
    saved.model.dispose();
  }, 600_000);
});
