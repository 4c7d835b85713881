import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { backbones, importPyTorchWeights, readSafetensors, renameKey, resnet, torchKeyOf, toTfLayout, vgg, writeSafetensors, type StateDict } from '@ldl/backbones';
import { maxAbsDiff, useCpu } from './helpers';

beforeAll(useCpu);

/** TF layout → PyTorch layout (the inverse of the importer), written independently for the test. */
function toTorch(name: string, shape: number[], data: Float32Array): { shape: number[]; data: Float32Array } {
  const permuteTo = (inShape: number[], perm: number[]) => {
    const t = tf.transpose(tf.tensor(data, inShape), perm);
    const out = { shape: t.shape, data: t.dataSync() as Float32Array };
    t.dispose();
    return out;
  };
  if (shape.length === 4) return permuteTo(shape, [3, 2, 0, 1]); // [kh, kw, i, o] → [o, i, kh, kw]
  if (shape.length === 2) {
    const linear = permuteTo(shape, [1, 0]);
    // timm's SE uses 1×1 convs: [R, C, 1, 1]
    return name.includes('/se/') ? { shape: [...linear.shape, 1, 1], data: linear.data } : linear;
  }
  return { shape, data };
}

/** A PyTorch-style state dict made of `model`'s current values. */
function stateDictOf(model: LayersModel): StateDict {
  const out: StateDict = {};
  for (const w of model.weights) {
    const t = toTorch(w.originalName, w.shape as number[], w.read().dataSync() as Float32Array);
    out[torchKeyOf(w.originalName)] = { dtype: 'F32', ...t };
  }
  return out;
}

const tiny = (numClasses = 5) => resnet({ depths: [1, 1], cardinality: 2, baseWidth: 64, attention: 'se', widthScale: 1 / 16, numClasses, inputShape: [16, 16, 3] });

describe('importPyTorchWeights', () => {
  it('a state dict exported from one model reproduces its outputs in a fresh model', async () => {
    const source = tiny();
    // Non-trivial BN statistics, so that a mis-mapped running stat would show.
    for (const w of source.weights) if (w.originalName.includes('moving')) w.write(tf.randomUniform(w.shape as number[], 0.5, 1.5));
    const target = tiny();
    const state = { ...stateDictOf(source), 'bn1.num_batches_tracked': { dtype: 'I64', shape: [], data: new Float32Array([3]) } };
    const report = importPyTorchWeights(target, state, { strict: true });
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expect(report.ignored).toEqual(['bn1.num_batches_tracked']);
    expect(report.loaded).toContain('layer1.0.se.fc1.weight');
    expect(report.loaded).toContain('layer2.0.downsample.1.running_var');
    const x = tf.randomNormal([2, 16, 16, 3]);
    expect(await maxAbsDiff(target.predict(x) as tf.Tensor, source.predict(x) as tf.Tensor)).toBeLessThan(1e-6);
  });

  it("resnet18's weights are torchvision/timm resnet18's state-dict keys (122 less 20 num_batches_tracked) and import", async () => {
    const full = backbones.resnet18({ inputShape: [32, 32, 3] });
    const keys = full.weights.map((w) => torchKeyOf(w.originalName));
    expect(new Set(keys).size).toBe(102);
    expect(keys).toEqual(
      expect.arrayContaining(['conv1.weight', 'bn1.running_var', 'layer1.0.conv2.weight', 'layer1.1.bn2.bias', 'layer2.0.downsample.0.weight', 'layer4.1.bn2.running_mean', 'fc.weight', 'fc.bias']),
    );
    expect(keys.filter((k) => k.startsWith('layer1.0.downsample') || k.includes('conv3'))).toEqual([]);
    full.dispose();
    const basic = () => resnet({ depths: [1, 1], block: 'basic', widthScale: 1 / 16, numClasses: 3, inputShape: [16, 16, 3] });
    const source = basic();
    for (const w of source.weights) w.write(tf.randomUniform(w.shape as number[], 0.5, 1.5));
    const target = basic();
    expect(importPyTorchWeights(target, stateDictOf(source), { strict: true }).missing).toEqual([]);
    const x = tf.randomNormal([2, 16, 16, 3]);
    expect(await maxAbsDiff(target.predict(x) as tf.Tensor, source.predict(x) as tf.Tensor)).toBeLessThan(1e-5);
  });

  it('reports missing and unexpected keys, and throws in strict mode', () => {
    const state = stateDictOf(tiny());
    delete state['layer1.0.conv2.weight'];
    state['layer9.0.conv1.weight'] = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
    const target = tiny();
    const before = target.getWeights().map((w) => w.dataSync().slice());
    // Strict by default (PyTorch's load_state_dict), listing both kinds of key; nothing is written.
    expect(() => importPyTorchWeights(target, state)).toThrow(
      `Error in importPyTorchWeights: the state dict must match model '${target.name}' (strict), but got missing [layer1.0.conv2.weight] and unexpected [layer9.0.conv1.weight]; pass { strict: false } to load only the matching tensors.`,
    );
    expect(target.getWeights().map((w) => w.dataSync())).toEqual(before);
    const report = importPyTorchWeights(target, state, { strict: false });
    expect(report.missing).toEqual(['layer1.0.conv2.weight']);
    expect(report.unexpected).toEqual(['layer9.0.conv1.weight']);
    expect(report.loaded).toContain('layer1.0.conv1.weight');
  });

  it('keeps the classifier when the class count differs, and rejects other shape mismatches', () => {
    const target = tiny(101);
    const fcBefore = target.getLayer('fc').getWeights()[0]!.dataSync().slice();
    const report = importPyTorchWeights(target, stateDictOf(tiny(5)));
    expect(report.skippedClassifier).toBe(true);
    expect(report.loaded).not.toContain('fc.weight');
    expect(target.getLayer('fc').getWeights()[0]!.dataSync()).toEqual(fcBefore);
    const wider = resnet({ depths: [1, 1], cardinality: 2, attention: 'se', widthScale: 1 / 8, numClasses: 5, inputShape: [16, 16, 3] });
    expect(() => importPyTorchWeights(tiny(), stateDictOf(wider))).toThrow("Error in importPyTorchWeights: 'conv1.weight' must have a shape compatible with conv1/kernel [7, 7, 3, 4], but got [8, 3, 7, 7].");
  });

  it('renames Cadene and torchvision keys', () => {
    expect(renameKey('module.layer0.conv1.weight', 'cadene')).toBe('conv1.weight');
    expect(renameKey('layer3.1.se_module.fc2.bias', 'cadene')).toBe('layer3.1.se.fc2.bias');
    expect(renameKey('last_linear.weight', 'cadene')).toBe('fc.weight');
    expect(renameKey('classifier.0.weight', 'torchvision')).toBe('pre_logits.fc1.weight');
    expect(renameKey('classifier.6.bias', 'torchvision')).toBe('head.fc.bias');
    expect(torchKeyOf('layer1.0/downsample/1/moving_variance')).toBe('layer1.0.downsample.1.running_var');
    expect(torchKeyOf('features.1/gamma')).toBe('features.1.weight');
  });

  it("loads torchvision VGG's Linear classifier into the 7×7 ConvMlp", async () => {
    const cfg = [4, 'M', 8, 'M'] as const;
    const model = vgg({ cfg: [...cfg], numFeatures: 6, numClasses: 3, inputShape: [28, 28, 3] });
    const fc1 = model.getLayer('pre_logits.fc1').getWeights()[0]!; // [7, 7, 8, 6]
    const linear = toTorch('x', fc1.shape, fc1.dataSync() as Float32Array); // [6, 8, 7, 7]
    const flat = { shape: [6, 8 * 7 * 7], data: linear.data };
    expect(toTfLayout(flat, fc1.shape)).toEqual(fc1.dataSync());
    const state = stateDictOf(model);
    delete state['pre_logits.fc1.weight'];
    const tv = Object.fromEntries(
      Object.entries({ ...state, 'classifier.0.weight': { dtype: 'F32', ...flat } }).map(([k, v]) => [k.replace('pre_logits.fc1.', 'classifier.0.').replace('pre_logits.fc2.', 'classifier.3.').replace('head.fc.', 'classifier.6.'), v]),
    );
    const fresh = vgg({ cfg: [...cfg], numFeatures: 6, numClasses: 3, inputShape: [28, 28, 3] });
    expect(importPyTorchWeights(fresh, tv, { source: 'torchvision', strict: true }).loaded).toContain('pre_logits.fc1.weight');
    const x = tf.randomNormal([1, 28, 28, 3]);
    expect(await maxAbsDiff(fresh.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor)).toBeLessThan(1e-6);
  });
});

describe('safetensors', () => {
  it('write → read round trip (F32) and F16 / BF16 / I64 decoding', () => {
    const bytes = writeSafetensors({ b: { shape: [2, 2], data: new Float32Array([1, -2, 3.5, 0]) }, a: { shape: [1], data: new Float32Array([7]) } }, { format: 'pt' });
    const back = readSafetensors(bytes);
    expect(Object.keys(back).sort()).toEqual(['a', 'b']);
    expect(back.b).toEqual({ dtype: 'F32', shape: [2, 2], data: new Float32Array([1, -2, 3.5, 0]) });

    const header = JSON.stringify({
      h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] },
      bf: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] },
      n: { dtype: 'I64', shape: [], data_offsets: [10, 18] },
    });
    const raw = new Uint8Array(8 + header.length + 18);
    const view = new DataView(raw.buffer);
    view.setBigUint64(0, BigInt(header.length), true);
    raw.set(new TextEncoder().encode(header), 8);
    const at = 8 + header.length;
    [0x3c00, 0xc000, 0x3555].forEach((v, i) => view.setUint16(at + 2 * i, v, true)); // 1, -2, 0.333
    [0x3f80, 0xc0a0].forEach((v, i) => view.setUint16(at + 6 + 2 * i, v, true)); // 1, -5
    view.setBigInt64(at + 10, 42n, true);
    const d = readSafetensors(raw);
    expect(Array.from(d.h!.data)).toEqual([1, -2, Math.fround(0.333251953125)]);
    expect(Array.from(d.bf!.data)).toEqual([1, -5]);
    expect(Array.from(d.n!.data)).toEqual([42]);
  });

  it('names the file in errors', () => {
    expect(() => readSafetensors(new Uint8Array(4), 'w.safetensors')).toThrow('Error in readSafetensors: w.safetensors: the file must hold at least the 8-byte header length, but got 4 bytes.');
    const bad = new Uint8Array(16);
    new DataView(bad.buffer).setBigUint64(0, 100n, true);
    expect(() => readSafetensors(bad, 'w.safetensors')).toThrow('header length must fit the file (16 bytes), but got 100.');
  });
});
