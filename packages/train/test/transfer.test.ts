import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BatchNorm, loadModel, loadWeightMap, namedWeights, saveModel, splitModel } from '@ldl/backbones';
import * as tf from '@tensorflow/tfjs-core';
import { enableFastKernels } from '@ldl/kernels';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/run/backend';
import type { PreprocessorConfig } from '../src/saved/preprocessor';
import { buildAgeModel } from '../src/model/build';
import { type ExperimentReport, runExperiment } from '../src/run/experiment';
import { evaluateSaved, predictImage } from '../src/saved/inference';
import { loadSavedModel } from '../src/saved/load';
import { FeatureCache } from '../src/data/feature_cache';
import { DataLoader, normalizeInto } from '../src/data/pipeline';
import { type AgeSample, readMegaAge } from '../src/data/readers';
import { generateSyntheticMegaAge } from '../src/data/synthetic';
import { Trainer } from '../src/run/trainer';
import { tempDir } from './helpers';

let train: AgeSample[];
let test: AgeSample[];

beforeAll(async () => {
  // The face-recognition net at 112 px is too slow on the pure-JS cpu backend: one wasm thread.
  await selectBackend('wasm', { wasmThreads: 1 });
  enableFastKernels(); // stock wasm has no convolution gradients
  const root = path.join(tempDir(), 'syn');
  await generateSyntheticMegaAge(root, { trainCount: 8, testCount: 4, size: 112 });
  train = (await readMegaAge(root, 'train')).samples;
  test = (await readMegaAge(root, 'test')).samples;
});

const quiet = { progress: false as const, log: () => undefined };

describe('learning-rate schedules', () => {
  it('warm-up then cosine to the floor, and StepLR unchanged without warm-up', async () => {
    const { model: m } = await buildAgeModel({ backbone: 'resnet50', widthScale: 1 / 16, depthScale: 0.34, imageSize: 32, numClasses: 5 });
    const cosine = new Trainer(m, { runDir: tempDir(), epochs: 10, learningRate: 1e-3, schedule: 'cosine', warmupEpochs: 1, minLearningRate: 1e-5, ...quiet });
    expect(cosine.learningRateAt(1, 0.25)).toBeCloseTo(2.5e-4, 12);
    expect(cosine.learningRateAt(1, 1)).toBeCloseTo(1e-3, 12);
    expect(cosine.learningRateAt(6, 0.5)).toBeCloseTo(1e-5 + (1e-3 - 1e-5) * 0.5, 12);
    expect(cosine.learningRateAt(10, 1)).toBeCloseTo(1e-5, 12);
    const step = new Trainer(m, { runDir: tempDir(), stepSize: 20, gamma: 0.2, ...quiet });
    expect(step.learningRateAt(21, 0.5)).toBeCloseTo(2e-4, 12);
    expect(() => new Trainer(m, { runDir: tempDir(), schedule: 'linear' as never, ...quiet })).toThrow("schedule must be 'step' or 'cosine'");
    expect(() => new Trainer(m, { runDir: tempDir(), parameterGroups: [{ name: 'x', layers: ['nope'], lrScale: 1 }], ...quiet })).toThrow(
      "parameterGroups 'x' must name layers of the model, but got nope",
    );
  });
});

describe('pretrained backbone + frozen prefix + cached features', () => {
  it('builds the face-api backbone with an age head, freezes up to layer3, and uses its normalisation', async () => {
    const built = await buildAgeModel({ backbone: 'facerec_resnet34', pretrained: 'faceapi', imageSize: 112, headFeatures: ['layer3', 'pool'], freeze: 'layer3' });
    expect(built.pretrainedCfg?.tag).toBe('faceapi');
    expect(built.normalization.mean[0]).toBeCloseTo(122.782 / 255, 6);
    expect(built.model.outputs[0]!.shape).toEqual([null, 101]);
    expect(built.frozenLayers).toEqual(['conv32_down', 'conv32_1', 'conv32_2', 'conv32_3', 'conv64_down', 'conv64_1', 'conv64_2', 'conv64_3', 'conv128_down', 'conv128_1', 'conv128_2']);
    expect(built.model.getLayer('conv256_down').trainable).toBe(true);
    // The head: pooled layer3 (128) + pooled layer4 (256) → 101.
    expect(built.model.getLayer('age').getWeights()[0]!.shape).toEqual([384, 101]);
    built.model.dispose();
  }, 120_000);

  it('extraBackbones: face-api\'s age-gender net on the resized input joins the head (normalised by the networks\' BatchNorm), and the whole model saves and loads', async () => {
    const { model } = await buildAgeModel({
      backbone: 'facerec_resnet34', pretrained: true, imageSize: 120, headFeatures: ['pool'], freeze: 'head_concat', headNorm: true,
      extraBackbones: [{ backbone: 'agegender_tinyxception', pretrained: true, imageSize: 112 }],
    });
    expect(model.getLayer('age').getWeights()[0]!.shape).toEqual([256 + 512, 101]);
    expect(model.getLayer('head_norm')).toBeInstanceOf(BatchNorm);
    expect(model.trainableWeights.map((w) => w.originalName)).toEqual(['head_norm/gamma', 'head_norm/beta', 'age/kernel', 'age/bias']);
    const dir = tempDir();
    await saveModel(model, dir);
    const back = await loadModel(dir);
    const x = tf.randomUniform([1, 120, 120, 3], -0.5, 0.5, 'float32', 2);
    const [a, b] = [model.predict(x) as tf.Tensor, back.predict(x) as tf.Tensor];
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
    // The reloaded model lists the nested backbone's weights elsewhere: copying goes by name.
    expect(loadWeightMap(model, namedWeights(back)).loaded).toHaveLength(model.weights.length);
    await expect(
      buildAgeModel({ backbone: 'resnet50', pretrained: true, imageSize: 112, extraBackbones: [{ backbone: 'agegender_tinyxception', pretrained: true, imageSize: 112 }] }),
    ).rejects.toThrow(/extraBackbones 'agegender_tinyxception' must expect the normalisation of 'resnet50'/);
    tf.dispose([x, a, b]);
    model.dispose();
    back.dispose();
  }, 120_000);

  it('trained on cached features, the suffix is the whole model: flip-TTA predictions agree, and the head moves while a backbone at lr ×0 does not', async () => {
    const { model, normalization } = await buildAgeModel({ backbone: 'facerec_resnet34', pretrained: true, imageSize: 112, headFeatures: ['layer3', 'pool'], freeze: 'layer3' }, 1);
    const { prefix, suffix } = splitModel(model, 'layer3');
    const images = { size: 112, crop: 'square-bottom' as const, normalization, batchSize: 4 };
    const cache = await FeatureCache.build(prefix, new DataLoader(test, images), { flips: true, progress: false });
    expect(cache.featureShape).toEqual([6, 6, 128]);
    const viaCache = await new Trainer(suffix, { runDir: tempDir(), flipTta: true, ...quiet }).evaluate(cache);
    const viaImages = await new Trainer(model, { runDir: tempDir(), flipTta: true, ...quiet }).evaluate(new DataLoader(test, images));
    viaCache.predictions.forEach((p, i) => expect(p).toBeCloseTo(viaImages.predictions[i]!, 3));

    const backboneLayers = ['conv256_down', 'conv256_1', 'conv256_2', 'conv256_down_out'];
    const before = (name: string) => model.getLayer(name).getWeights().map((w) => w.dataSync().slice());
    const [b0, h0] = [before('conv256_1'), before('age')];
    const trainCache = await FeatureCache.build(prefix, new DataLoader(train, images), { flips: true, train: true, progress: false });
    const runDir = tempDir();
    const trainer = new Trainer(suffix, { runDir, epochs: 1, parameterGroups: [{ name: 'backbone', layers: backboneLayers, lrScale: 0 }], exportModel: model, ...quiet });
    await trainer.fit(trainCache, cache);
    const [b1, h1] = [before('conv256_1'), before('age')];
    expect(b1.every((w, i) => w.every((v, j) => v === b0[i]![j]))).toBe(true);
    expect(h1.some((w, i) => w.some((v, j) => v !== h0[i]![j]))).toBe(true);
    // best/ holds the whole model (image input), not the suffix.
    const best = JSON.parse(readFileSync(path.join(runDir, 'best', 'model.json'), 'utf8')) as { modelTopology: { config: { layers: { name: string }[] } } };
    expect(best.modelTopology.config.layers.map((l) => l.name)).toContain('conv32_down');
    // The run config in meta.json is the settings, not the exported model.
    const meta = JSON.parse(readFileSync(path.join(runDir, 'best', 'meta.json'), 'utf8')) as { config: Record<string, unknown> };
    expect(meta.config.exportModel).toBeUndefined();
    expect(meta.config.parameterGroups).toEqual([{ name: 'backbone', layers: backboneLayers, lrScale: 0 }]);
    model.dispose();
  }, 240_000);

  it('runExperiment with cacheFeatures: report, preprocessor.json, eval/predict on images, and a resume that reuses the stored features', async () => {
    const runDir = path.join(tempDir(), 'run');
    const options = {
      title: 'transfer', runDir, train, test, backend: 'wasm', wasmThreads: 1, epochs: 1, batchSize: 4, crop: 'square-bottom' as const, flipTta: true, schedule: 'cosine' as const, warmupEpochs: 0.5,
      model: { backbone: 'facerec_resnet34' as const, pretrained: 'faceapi', imageSize: 112, headFeatures: ['layer3', 'pool'], freeze: 'layer3', backboneLrScale: 0.03, cacheFeatures: true },
    };
    const report = await runExperiment(options);
    const json = JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')) as ExperimentReport;
    expect(json.throughput.featureCacheSeconds).toBeGreaterThan(0);
    expect(json.throughput.imagesPerSecond).toBeGreaterThan(0);
    const pre = JSON.parse(readFileSync(path.join(runDir, 'best', 'preprocessor.json'), 'utf8')) as PreprocessorConfig;
    expect(pre).toMatchObject({ format: 'ldl-preprocessor', version: 2, inputSize: 112, crop: 'square-bottom', colorOrder: 'rgb', weights: 'facerec_resnet34.faceapi', numClasses: 101, heads: ['age'] });
    // The same file beside every checkpoint's weights.
    expect(JSON.parse(readFileSync(path.join(runDir, 'checkpoints', 'epoch-0001', 'model', 'preprocessor.json'), 'utf8'))).toEqual(pre);
    expect(existsSync(path.join(runDir, 'feature-cache', 'train.bin'))).toBe(true);
    const saved = await loadSavedModel(runDir);
    expect(saved.preprocessor.mean).toEqual(pre.mean);
    const ev = await evaluateSaved(saved, test, { runDir, flipTta: true });
    expect(ev.metrics.mae).toBeCloseTo(report.test.mae, 3);
    const p = await predictImage(saved, test[0]!.path);
    expect(Number.isFinite(p.age)).toBe(true);
    // Resume to 2 epochs: the features come from the run's store, not from the prefix again.
    const resumed = await runExperiment({ ...options, epochs: 2, resume: true, notes: [] });
    expect(resumed.epochsRun).toBe(2);
    expect(resumed.throughput.featureCacheSeconds).toBe(0);
    expect(readFileSync(path.join(runDir, 'train.log'), 'utf8')).toContain('feature cache: read from');
  }, 300_000);
});

describe('pipeline preprocessing', () => {
  it('BGR normalisation (the square crops are face-prep\'s wholeImageBox, tested there)', () => {
    const out = new Float32Array(3);
    normalizeInto({ width: 1, height: 1, data: new Uint8Array([255, 0, 51]) }, out, 0, { colorOrder: 'bgr', mean: [0.1, 0.2, 0.3], std: [1, 1, 0.5] });
    expect(Array.from(out).map((v) => +v.toFixed(4))).toEqual([0.1, -0.2, 1.4]);
  });
});
