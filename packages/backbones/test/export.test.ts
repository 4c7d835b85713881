import type { LayersModel } from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  exportPyTorchWeights,
  faceRecognitionNet,
  ageGenderNet,
  importPyTorchWeights,
  multiTaskAgeModel,
  PYTORCH_METADATA,
  readSafetensors,
  readSafetensorsMetadata,
  renameKey,
  resnet,
  sourceKeyOf,
  vgg,
  writeSafetensors,
  type WeightSource,
} from '@ldl/backbones';
import { randomizeWeights, useCpu } from './helpers';

beforeAll(useCpu);

const tinyCases: Record<string, { build: () => LayersModel; target?: WeightSource }> = {
  basic: { build: () => resnet({ depths: [1, 2], block: 'basic', widthScale: 1 / 16, numClasses: 3, inputShape: [32, 32, 3] }) },
  bottleneck: { build: () => resnet({ depths: [1, 1, 1], widthScale: 1 / 16, numClasses: 3, inputShape: [32, 32, 3] }) },
  seresnext: { build: () => resnet({ depths: [1, 1], cardinality: 2, baseWidth: 64, attention: 'se', widthScale: 1 / 8, numClasses: 4, inputShape: [32, 32, 3] }) },
  cadene: { build: () => resnet({ depths: [1, 1], cardinality: 2, attention: 'se', widthScale: 1 / 8, numClasses: 4, inputShape: [33, 33, 3], stemPool: 'cadene' }), target: 'cadene' },
  vgg: { build: () => vgg({ cfg: [4, 'M', 8, 'M'], numFeatures: 6, numClasses: 3, inputShape: [28, 28, 3] }) },
  vggTorchvision: { build: () => vgg({ cfg: [4, 'M', 8, 'M'], numFeatures: 6, numClasses: 3, inputShape: [28, 28, 3] }), target: 'torchvision' },
  multitask: { build: () => multiTaskAgeModel({ backbone: 'resnet50', widthScale: 1 / 16, depthScale: 0.34, numClasses: 7, inputShape: [32, 32, 3] }) },
  headless: { build: () => resnet({ depths: [1, 1], widthScale: 1 / 16, includeTop: false, inputShape: [32, 32, 3] }) },
};

describe('exportPyTorchWeights', () => {
  it.each(Object.entries(tinyCases))('%s: import(export(model)) reproduces every weight bit for bit, through a safetensors file', (name, c) => {
    const source = c.build();
    randomizeWeights(source, 11);
    const state = exportPyTorchWeights(source, c.target ? { target: c.target } : {});
    const bytes = writeSafetensors(state, { [PYTORCH_METADATA.format]: 'pt' });
    const back = readSafetensors(bytes);
    expect(Object.keys(back).sort()).toEqual(Object.keys(state).sort());
    const target = c.build();
    const report = importPyTorchWeights(target, back, { source: c.target ?? 'timm', strict: true });
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expect(report.skippedClassifier).toBe(false);
    const bns = source.weights.filter((w) => w.originalName.endsWith('moving_variance')).length;
    expect(report.ignored.length).toBe(bns);
    expect(report.loaded.length).toBe(source.weights.length);
    source.weights.forEach((w, i) => {
      const a = new Uint32Array((w.read().dataSync() as Float32Array).buffer.slice(0));
      const b = new Uint32Array((target.weights[i]!.read().dataSync() as Float32Array).buffer.slice(0));
      expect(b, `${name}: ${w.originalName}`).toEqual(a);
    });
    source.dispose();
    target.dispose();
  });

  it("writes timm's layouts, buffers and key names", () => {
    const m = tinyCases.seresnext!.build();
    const s = exportPyTorchWeights(m, { numBatchesTracked: 7 });
    expect(s['conv1.weight']!.shape).toEqual([8, 3, 7, 7]); // OIHW
    expect(s['layer1.0.conv2.weight']!.shape).toEqual([16, 8, 3, 3]); // grouped: [out, in/groups, kH, kW]
    expect(s['layer1.0.se.fc1.weight']!.shape).toEqual([8, 32, 1, 1]); // timm's SE: 1×1 convolutions
    expect(s['fc.weight']!.shape).toEqual([4, 64]); // nn.Linear [out, in]
    expect(s['layer2.0.downsample.1.num_batches_tracked']).toEqual({ dtype: 'I64', shape: [], data: new Float32Array([7]) });
    const fc = m.getLayer('fc').getWeights()[0]!.arraySync() as number[][];
    expect(s['fc.weight']!.data[1 * 64 + 5]).toBe(fc[5]![1]); // [out=1, in=5] ← kernel [in=5, out=1]
    const file = readSafetensors(writeSafetensors(s));
    expect(file['bn1.num_batches_tracked']).toEqual({ dtype: 'I64', shape: [], data: new Float32Array([7]) });
    m.dispose();
    const cad = exportPyTorchWeights(tinyCases.cadene!.build());
    expect(Object.keys(cad)).toEqual(expect.arrayContaining(['layer0.conv1.weight', 'layer0.bn1.num_batches_tracked', 'layer1.0.se_module.fc2.weight', 'last_linear.bias']));
    const tv = exportPyTorchWeights(tinyCases.vggTorchvision!.build(), { target: 'torchvision' });
    expect(tv['classifier.0.weight']!.shape).toEqual([6, 8 * 7 * 7]); // nn.Linear on the flattened NCHW 7×7 map
    expect(tv['classifier.3.weight']!.shape).toEqual([6, 6]);
    expect(tv['classifier.6.weight']!.shape).toEqual([3, 6]);
  });

  it('shares one name map with the import (sourceKeyOf inverts renameKey)', () => {
    for (const [key, source] of [
      ['layer0.conv1.weight', 'cadene'],
      ['layer3.1.se_module.fc2.bias', 'cadene'],
      ['last_linear.weight', 'cadene'],
      ['classifier.0.weight', 'torchvision'],
      ['classifier.6.bias', 'torchvision'],
      ['layer1.0.bn1.running_mean', 'timm'],
    ] as const) {
      expect(sourceKeyOf(renameKey(key, source), source).key).toBe(key);
    }
    expect(sourceKeyOf('pre_logits.fc1.weight', 'torchvision')).toEqual({ key: 'classifier.0.weight', linear: true });
  });

  it('writes the multi-task heads as the documented extra keys', () => {
    const m = tinyCases.multitask!.build();
    const s = exportPyTorchWeights(m);
    expect(s['gender.weight']!.shape).toEqual([2, 32]); // on layer2 pooled (512 · 1/16)
    expect(s['ethnicity.weight']!.shape).toEqual([5, 32]);
    expect(s['age.weight']!.shape).toEqual([7, 128 + 2 + 5]); // concat(pool, gender, ethnicity)
    expect(Object.keys(s).some((k) => k.startsWith('fc.'))).toBe(false);
    m.dispose();
  });

  it('names the layer with no PyTorch counterpart, and refuses a stem pool of the other naming', () => {
    const fr = faceRecognitionNet({ inputShape: [150, 150, 3] });
    expect(() => exportPyTorchWeights(fr)).toThrow(
      "Error in exportPyTorchWeights: layer 'conv32_down' (class DlibConv) has no PyTorch counterpart (dlib's face-recognition ResNet of face-api.js); exportPyTorchWeights supports",
    );
    fr.dispose();
    const ag = ageGenderNet();
    expect(() => exportPyTorchWeights(ag)).toThrow("(class Conv2D) has no PyTorch counterpart (face-api.js's AgeGenderNet, a TinyXception)");
    ag.dispose();
    const keras = resnet({ depths: [1], strideIn1x1: true, convBias: true, bnEpsilon: 1e-3, widthScale: 1 / 16, inputShape: [32, 32, 3] });
    expect(() => exportPyTorchWeights(keras)).toThrow("Error in exportPyTorchWeights: layer 'conv1' (class GroupedConv2D) has no PyTorch counterpart in timm: a stem convolution with a bias");
    keras.dispose();
    expect(() => exportPyTorchWeights(tinyCases.cadene!.build(), { target: 'timm' })).toThrow(
      "Error in exportPyTorchWeights: target must match the stem max-pool, but got target 'timm' for a model with Cadene's ceil-mode pool (timm 'legacy_seresnext50_32x4d'): use target 'cadene'.",
    );
    expect(() => exportPyTorchWeights(tinyCases.basic!.build(), { numBatchesTracked: 1.5 })).toThrow('numBatchesTracked must be an integer');
  });

  it('metadata round trip: strings only', () => {
    const meta = { [PYTORCH_METADATA.format]: 'pt', [PYTORCH_METADATA.preprocessor]: '{\n  "a": 1\n}', [PYTORCH_METADATA.timmModel]: 'resnet50' };
    const bytes = writeSafetensors({ x: { shape: [1], data: new Float32Array([1]) } }, meta);
    expect(readSafetensorsMetadata(bytes)).toEqual(meta);
    expect(readSafetensorsMetadata(writeSafetensors({}))).toEqual({});
    expect(() => writeSafetensors({}, { n: 1 as unknown as string })).toThrow("Error in writeSafetensors: metadata 'n' must be a string");
  });
});
