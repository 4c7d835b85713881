import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { importPyTorchWeights, readSafetensors, resnet, vgg, type ResNetConfig, type VggConfig, type WeightSource } from '@ldl/backbones';
import { maxAbsDiff, useCpu } from './helpers';

// Fixtures from tools/reference/backbones_parity.py (timm, random weights + random BN statistics, eval mode).
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const meta = JSON.parse(readFileSync(fixture('parity.json'), 'utf8')) as {
  cases: Record<string, { family: 'resnet' | 'vgg'; source: WeightSource; tfjsConfig: ResNetConfig | VggConfig; storageDtype: string }>;
};
const io = readSafetensors(readFileSync(fixture('io.safetensors')), 'io.safetensors');

beforeAll(useCpu);

describe('parity with timm (max |logit diff| < 1e-4)', () => {
  it.each(Object.entries(meta.cases))('%s', async (name, c) => {
    const model: LayersModel = c.family === 'vgg' ? vgg(c.tfjsConfig as VggConfig) : resnet(c.tfjsConfig as ResNetConfig);
    const state = readSafetensors(readFileSync(fixture(`${name}.safetensors`)), `${name}.safetensors`);
    expect(Object.values(state).some((e) => e.dtype === { float32: 'F32', float16: 'F16', bfloat16: 'BF16' }[c.storageDtype])).toBe(true);
    const report = importPyTorchWeights(model, state, { source: c.source, strict: true });
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expect(report.skippedClassifier).toBe(false);
    const input = io[`${name}.input`]!;
    const expected = io[`${name}.logits`]!;
    const x = tf.transpose(tf.tensor(input.data, input.shape), [0, 2, 3, 1]);
    const y = model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual(expected.shape);
    const diff = await maxAbsDiff(y, tf.tensor(expected.data, expected.shape));
    console.log(`parity ${name}: max |diff| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
    model.dispose();
  });

  it("Cadene's ceil-mode stem pool matters (the same weights with the timm pool give other logits)", async () => {
    const name = 'seresnext_tiny_cadene';
    const c = meta.cases[name]!;
    const model = resnet({ ...(c.tfjsConfig as ResNetConfig), stemPool: 'timm' });
    importPyTorchWeights(model, readSafetensors(readFileSync(fixture(`${name}.safetensors`))), { source: 'cadene', strict: true });
    const input = io[`${name}.input`]!;
    const expected = io[`${name}.logits`]!;
    const y = model.predict(tf.transpose(tf.tensor(input.data, input.shape), [0, 2, 3, 1])) as tf.Tensor;
    expect(await maxAbsDiff(y, tf.tensor(expected.data, expected.shape))).toBeGreaterThan(1e-3);
    model.dispose();
  });
});
