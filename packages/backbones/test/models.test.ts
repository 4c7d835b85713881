import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { input, layers, LayersModel, model, models, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backbones, getFeatureModel, loadModel, multiTaskAgeModel, resnet, saveModel, MODEL_JSON, WEIGHTS_BIN, type BackboneName } from '@ldl/backbones';
import { maxAbsDiff, trainableCount, useCpu } from './helpers';

/**
 * `[numClasses, trainable parameters]`: timm `sum(p.numel() for p in create_model(name, num_classes=101).parameters())`
 * (timm 1.0.31), and for ResNet-18/34 with the 1000-class head torchvision's published `num_params` (timm's
 * resnet18/34 are the same modules).
 */
const TIMM_TRAINABLE: Record<BackboneName, [number, number]> = {
  resnet18: [1000, 11_689_512],
  resnet34: [1000, 21_797_672],
  resnet50: [101, 23_714_981],
  resnext50_32x4d: [101, 23_186_853],
  seresnext50_32x4d: [101, 25_717_845],
  vgg16bn: [101, 134_682_789],
};

const tmp = mkdtempSync(join(tmpdir(), 'ldl-backbones-'));
beforeAll(useCpu);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Tiny twins of the named models for forward passes on the cpu backend. */
const TINY = { numClasses: 101, inputShape: [32, 32, 3] as [number, number, number], widthScale: 1 / 16, depthScale: 0.34 };

describe.each(Object.keys(backbones) as BackboneName[])('%s', (name) => {
  it(`has exactly timm’s trainable parameter count with ${TIMM_TRAINABLE[name][0]} classes`, () => {
    // Full width and depth; VGG's 7×7 ConvMlp is built for 224 px (no forward pass here).
    const [numClasses, count] = TIMM_TRAINABLE[name];
    const model = backbones[name]({ numClasses, inputShape: name === 'vgg16bn' ? [224, 224, 3] : [32, 32, 3] });
    expect(trainableCount(model)).toBe(count);
    model.dispose();
  });

  it('predicts [N, classes] without NaN, round-trips fromConfig(getConfig()) and save → load', async () => {
    const model = backbones[name](TINY);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 7);
    const y = model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 101]);
    expect((await tf.any(tf.isNaN(y)).data())[0]).toBe(0);

    // fromConfig decorates the object it is given (customObjects: {}), so compare JSON copies.
    const json = (o: unknown) => JSON.parse(JSON.stringify(o)) as unknown;
    const config = json(model.getConfig());
    const clone = LayersModel.fromConfig(LayersModel, model.getConfig()) as LayersModel;
    expect(json(clone.getConfig())).toEqual(config);
    expect(trainableCount(clone)).toBe(trainableCount(model));

    const dir = join(tmp, name);
    await saveModel(model, dir);
    expect(readdirSync(dir).sort()).toEqual([WEIGHTS_BIN, MODEL_JSON].sort());
    expect(JSON.parse(readFileSync(join(dir, MODEL_JSON), 'utf8')).weightsManifest[0].paths).toEqual([`./${WEIGHTS_BIN}`]);
    const loaded = await loadModel(dir);
    expect(await maxAbsDiff(loaded.predict(x) as tf.Tensor, y)).toBe(0);
    for (const m of [model, clone, loaded]) m.dispose();
  });
});

describe('features and the multi-task model', () => {
  it('getFeatureModel returns layer2 and pooled features (ResNet-50 shapes at 224 px)', () => {
    const model = backbones.resnet50({ inputShape: [224, 224, 3] });
    const features = getFeatureModel(model, ['layer2', 'pool']);
    expect(features.outputs.map((o) => o.shape)).toEqual([
      [null, 28, 28, 512],
      [null, 2048],
    ]);
    expect(features.getLayer('layer2.3')).toBe(model.getLayer('layer2.3')); // shared weights
    expect(() => getFeatureModel(model, ['layer9'])).toThrow("Error in getFeatureModel: names must be layers of 'resnet50' or 'layer1'…'layer4', but got 'layer9'.");
    expect(() => getFeatureModel(backbones.vgg16bn({ inputShape: [32, 32, 3], widthScale: 1 / 64 }), ['layer2'])).toThrow('has no stage');
    model.dispose();
  });

  it('multiTaskAgeModel: [age, gender, ethnicity] logits; heads on layer2 (512) and pooled+logits (2055)', async () => {
    const full = multiTaskAgeModel({ backbone: 'seresnext50_32x4d', inputShape: [32, 32, 3] });
    expect(full.outputNames).toEqual(['age', 'gender', 'ethnicity']);
    expect(full.getLayer('gender').getWeights()[0]!.shape).toEqual([512, 2]);
    expect(full.getLayer('ethnicity').getWeights()[0]!.shape).toEqual([512, 5]);
    expect(full.getLayer('age').getWeights()[0]!.shape).toEqual([2055, 101]);
    // timm seresnext50_32x4d without its fc + the three heads
    expect(trainableCount(full)).toBe(TIMM_TRAINABLE.seresnext50_32x4d[1] - (2048 * 101 + 101) + (512 * 2 + 2) + (512 * 5 + 5) + (2055 * 101 + 101));
    full.dispose();

    const tiny = multiTaskAgeModel({ backbone: 'resnext50_32x4d', inputShape: [32, 32, 3], widthScale: 1 / 16, depthScale: 0.34 });
    const outs = tiny.predict(tf.randomNormal([3, 32, 32, 3])) as tf.Tensor[];
    expect(outs.map((o) => o.shape)).toEqual([
      [3, 101],
      [3, 2],
      [3, 5],
    ]);
    const dir = join(tmp, 'multitask');
    await saveModel(tiny, dir);
    const loaded = await loadModel(dir);
    expect(loaded.outputNames).toEqual(['age', 'gender', 'ethnicity']);
    expect(() => multiTaskAgeModel({ backbone: 'vgg16bn' })).toThrow('Error in multiTaskAgeModel: backbone must be one of resnet18, resnet34, resnet50, resnext50_32x4d, seresnext50_32x4d or a ResNetConfig');
    tiny.dispose();
    loaded.dispose();
  });

  it('a backbone nested in a user model (README example) predicts and survives save → load', async () => {
    const backbone = backbones.seresnext50_32x4d({ ...TINY, includeTop: false });
    const x = input({ shape: TINY.inputShape });
    const logits = layers.dense({ units: 101, name: 'age' }).apply(backbone.apply(x) as SymbolicTensor) as SymbolicTensor;
    const user = model({ inputs: x, outputs: logits });
    const images = tf.randomNormal([2, ...TINY.inputShape]);
    const y = user.predict(images) as tf.Tensor;
    await saveModel(user, join(tmp, 'nested'));
    const loaded = await loadModel(join(tmp, 'nested'));
    expect(await maxAbsDiff(loaded.predict(images) as tf.Tensor, y)).toBe(0);
  });

  it('training mode updates BatchNorm statistics inside blocks and gives finite gradients', () => {
    const model = resnet({ depths: [1, 1], cardinality: 2, baseWidth: 64, attention: 'se', widthScale: 1 / 16, inputShape: [16, 16, 3], numClasses: 3 });
    const block = model.getLayer('layer1.0');
    const movingMean = () => block.weights.find((w) => w.originalName === 'layer1.0/bn1/moving_mean')!.read().dataSync().slice();
    const before = movingMean();
    const x = tf.randomNormal([2, 16, 16, 3], 1, 1);
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    expect(Object.keys(grads)).toHaveLength(model.trainableWeights.length);
    expect(movingMean()).not.toEqual(before);
    model.dispose();
  });

  it('rejects bad configs with a clear message', () => {
    expect(() => resnet({ depths: [] })).toThrow('Error in resnet: depths must be a non-empty array of positive integers, but got [].');
    expect(() => resnet({ depths: [1], widthScale: 0 })).toThrow('Error in resnet: widthScale must be a positive number, but got 0.');
    expect(() => resnet({ depths: [1], inputShape: [32, 32] as unknown as [number, number, number] })).toThrow('inputShape must be [height, width, channels]');
    expect(() => resnet({ depths: [1], block: 'basic', cardinality: 32 })).toThrow(
      'Error in resnet: basic blocks need cardinality 1, baseWidth 64 and no strideIn1x1, but got cardinality 32, baseWidth 64, strideIn1x1 false.',
    );
    expect(() => resnet({ depths: [1], block: 'wide' as 'basic' })).toThrow(`Error in resnet: block must be 'basic' or 'bottleneck', but got "wide".`);
    expect(() => resnet({ depths: [1], bnEpsilon: 0 })).toThrow('Error in resnet: bnEpsilon must be a positive number, but got 0.');
    expect(existsSync(tmp)).toBe(true);
  });
});

describe('serialisation registry', () => {
  it('custom layers deserialise by class name', () => {
    const model = backbones.seresnext50_32x4d({ ...TINY, includeTop: false });
    const json = model.toJSON(null, false) as object;
    const restored = models.modelFromJSON({ modelTopology: json } as never);
    return restored.then((m) => {
      expect(m.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
      expect(m.layers.some((l) => l.getClassName() === 'Bottleneck')).toBe(true);
    });
  });
});
