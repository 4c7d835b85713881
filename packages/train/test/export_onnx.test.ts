// exportOnnxRun (a saved run → .onnx + Triton) and the transfer presets' age models in onnxruntime-node (CPU)
// against tfjs: max |Δ| < 1e-4 on every output and the probabilities, expected_age within 1e-3 years, at batch 1
// and 5, NHWC and NCHW, with and without the extra outputs. Each model prints its max |Δ|.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { saveModel } from '@ldl/backbones';
import { exportOnnx, readOnnxModel, type OnnxLayout } from '@ldl/backbones/onnx';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAgeModel, buildModel } from '../src/model/build';
import { selectBackend } from '../src/run/backend';
import { transferPresets, type TransferPresetName } from '../src/run/presets';
import { exportOnnxRun } from '../src/saved/export_onnx';
import { PREPROCESSOR_FORMAT, PREPROCESSOR_VERSION, type PreprocessorConfig } from '../src/saved/preprocessor';
import { tempDir } from './helpers';

beforeAll(async () => {
  // The face-recognition net at 150 px is too slow on the pure-JS cpu backend: one wasm thread.
  await selectBackend('wasm', { wasmThreads: 1 });
});

/** The largest |a − b| per output of an onnxruntime run against tfjs' values. */
function worstDiff(got: ort.InferenceSession.OnnxValueMapType, want: Record<string, Float32Array>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(want).map(([name, w]) => {
      const g = got[name]!.data as Float32Array;
      expect(g.length, name).toBe(w.length);
      return [name, g.reduce((m, v, i) => Math.max(m, Math.abs(v - w[i]!)), 0)];
    }),
  );
}

/** tfjs outputs of `model` on `x`, keyed by ONNX output name, plus the softmax of the age head and Σ (minAge + k)·p_k. */
function tfjsOutputs(model: LayersModel, x: tf.Tensor, names: string[], minAge: number, age = 'age'): Record<string, Float32Array> {
  return tf.tidy(() => {
    const ys = [model.predict(x)].flat() as tf.Tensor[];
    const out: Record<string, Float32Array> = Object.fromEntries(ys.map((y, i) => [names[i]!, y.dataSync() as Float32Array]));
    const p = tf.softmax(ys[names.indexOf(age)] as tf.Tensor2D);
    out.probabilities = p.dataSync() as Float32Array;
    out.expected_age = tf.sum(tf.mul(p, tf.add(tf.range(0, p.shape[1], 1, 'float32'), minAge)), 1).dataSync() as Float32Array;
    return out;
  });
}

/** Every layout × extras export of `model` in onnxruntime at batch 1 and 5 against tfjs; returns [max |Δ|, max |Δ| years]. */
async function presetParity(model: LayersModel, minAge: number): Promise<[number, number]> {
  const names = model.outputs.map((o) => o.sourceLayer.name);
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  const batches = [1, 5].map((n) => {
    const x = tf.randomUniform([n, ...shape], -2, 2, 'float32', 40 + n);
    return { x, want: tfjsOutputs(model, x, names, minAge) };
  });
  let worst = 0;
  let worstYears = 0;
  for (const layout of ['nhwc', 'nchw'] as OnnxLayout[]) {
    for (const extra of [false, true]) {
      const session = await ort.InferenceSession.create(exportOnnx(model, { layout, probabilities: extra, expectedAge: extra, minAge }));
      for (const { x, want } of batches) {
        const xl = layout === 'nchw' ? tf.transpose(x, [0, 3, 1, 2]) : tf.clone(x);
        const got = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', xl.dataSync() as Float32Array, xl.shape) });
        xl.dispose();
        const wanted = Object.fromEntries(session.outputNames.map((n) => [n, want[n]!]));
        for (const [name, d] of Object.entries(worstDiff(got, wanted))) {
          expect(d, `${layout} batch ${x.shape[0]} ${name}`).toBeLessThan(name === 'expected_age' ? 1e-3 : 1e-4);
          if (name === 'expected_age') worstYears = Math.max(worstYears, d);
          else worst = Math.max(worst, d);
        }
      }
      await session.release();
    }
  }
  batches.forEach(({ x }) => x.dispose());
  return [worst, worstYears];
}

/** Moving statistics of every batch norm drawn at random (a fresh head_norm is the identity). */
function randomizeStatistics(model: LayersModel): void {
  model.weights
    .filter((w) => /moving_(mean|variance)$/.test(w.originalName))
    .forEach((w, i) => w.write(tf.randomUniform(w.shape as number[], w.originalName.endsWith('variance') ? 0.5 : -0.3, w.originalName.endsWith('variance') ? 1.5 : 0.3, 'float32', i)));
}

const presets = transferPresets();

describe('the transfer presets’ age models in onnxruntime-node equal tfjs', () => {
  it.each(Object.keys(presets) as TransferPresetName[])('%s', async (name) => {
    const built = await buildAgeModel(presets[name].model, 1);
    randomizeStatistics(built.model);
    const [d, years] = await presetParity(built.model, 0);
    console.log(`onnx parity preset ${name} (${built.model.name}, ${built.model.inputs[0]!.shape.slice(1).join('x')}): max |Δ| = ${d.toExponential(2)}, expected_age ${years.toExponential(2)} years`);
    built.model.dispose();
  }, 600_000);
});

describe('exportOnnxRun', () => {
  it('writes the .onnx with preprocessor.json in metadata_props, minAge in expected_age, and a Triton repository', async () => {
    const runDir = tempDir('ldl-onnx-run-');
    const best = path.join(runDir, 'best');
    const model = buildModel({ backbone: 'resnet18', widthScale: 0.125, imageSize: 32, numClasses: 61 });
    await saveModel(model, best);
    const preprocessor: PreprocessorConfig = {
      format: PREPROCESSOR_FORMAT,
      version: PREPROCESSOR_VERSION,
      inputSize: 32,
      colorOrder: 'rgb',
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      crop: 'square-center',
      margin: 0.4,
      heads: ['age'],
      minAge: 16,
      numClasses: 61,
      sigma: 2,
      genderClasses: null,
      ethnicityClasses: null,
      backbone: 'resnet18',
      weights: null,
    };
    const text = `${JSON.stringify(preprocessor, null, 2)}\n`;
    writeFileSync(path.join(best, 'preprocessor.json'), text);
    writeFileSync(path.join(best, 'meta.json'), JSON.stringify({ epoch: 1, config: { model: { backbone: 'resnet18' } } }));
    const out = path.join(runDir, 'export', 'age.onnx');
    const repo = path.join(runDir, 'triton');
    const r = await exportOnnxRun(runDir, out, { layout: 'nchw', expectedAge: true, metadata: { run: 'test' }, triton: { dir: repo, maxBatchSize: 8 } });
    expect(r).toMatchObject({ file: out, modelDir: best, outputs: ['fc', 'expected_age'] });
    const bytes = readFileSync(out);
    expect(r.bytes).toBe(bytes.byteLength);
    const info = readOnnxModel(bytes);
    expect(info.metadata).toEqual({ run: 'test', 'preprocessor.json': text });
    expect(info.inputs).toEqual([{ name: 'input', shape: ['batch', 3, 32, 32] }]);
    expect(r.triton).toEqual({ config: path.join(repo, 'age', 'config.pbtxt'), model: path.join(repo, 'age', '1', 'model.onnx') });
    expect(readFileSync(r.triton!.model).equals(bytes)).toBe(true);
    expect(readFileSync(r.triton!.config, 'utf8')).toContain('max_batch_size: 8\n');
    // expected_age counts from preprocessor.json's minAge (16).
    const x = tf.randomUniform([3, 32, 32, 3], -2, 2, 'float32', 5);
    const want = tfjsOutputs(model, x, ['fc'], 16, 'fc');
    const xl = tf.transpose(x, [0, 3, 1, 2]);
    const session = await ort.InferenceSession.create(bytes);
    const got = await session.run({ input: new ort.Tensor('float32', xl.dataSync() as Float32Array, xl.shape) });
    const d = worstDiff(got, { fc: want.fc!, expected_age: want.expected_age! });
    expect(d.fc).toBeLessThan(1e-4);
    expect(d.expected_age).toBeLessThan(1e-3);
    expect(Math.min(...(got.expected_age!.data as Float32Array))).toBeGreaterThanOrEqual(16);
    await expect(exportOnnxRun(runDir, out, { metadata: { 'preprocessor.json': '{}' } })).rejects.toThrow("Error in exportOnnxRun: metadata must not set 'preprocessor.json'");
    const empty = tempDir('ldl-onnx-empty-');
    mkdirSync(path.join(empty, 'best'));
    await expect(exportOnnxRun(empty, out)).rejects.toThrow(/must be a run directory, its best\/ directory or a checkpoint directory/);
    tf.dispose([x, xl]);
    model.dispose();
  });
});
