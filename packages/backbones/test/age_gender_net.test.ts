import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ageGenderNet, createModel, getFeatureModel } from '@ldl/backbones';
import { faceApi, maxAbsDiff, normalizeFor, saveAndLoad, syntheticPhotos, trainableCount, useCpu, withFaceApiWeights } from './helpers';

beforeAll(useCpu);

describe('agegender_tinyxception (face-api.js AgeGenderNet from @vladmandic/face-api)', () => {
  it('builds the face-api architecture: feature maps at 112 px, pooled features, two heads', () => {
    const model = ageGenderNet();
    const shape = (name: string) => model.getLayer(name).outputShape;
    expect(['entry_flow/relu', 'entry_flow/reduction_block_0/add', 'entry_flow/reduction_block_1/add', 'middle_flow/main_block_1/add', 'exit_flow/reduction_block/add', 'exit_flow/relu'].map(shape)).toEqual([
      [null, 56, 56, 32],
      [null, 28, 28, 64],
      [null, 14, 14, 128],
      [null, 14, 14, 128],
      [null, 7, 7, 256],
      [null, 7, 7, 512],
    ]);
    expect(model.outputs.map((o) => o.shape)).toEqual([
      [null, 1],
      [null, 2],
    ]);
    // TinyXception(2) + fc/age + fc/gender: the element count of face-api's weight manifest.
    expect(trainableCount(model)).toBe(421_731);
    model.dispose();
    const headless = ageGenderNet({ includeTop: false, inputShape: [144, 144, 3], numMainBlocks: 1 });
    expect(headless.outputs[0]!.shape).toEqual([null, 2 * 2 * 512]);
    headless.dispose();
    expect(() => ageGenderNet({ inputShape: [96, 96, 3] })).toThrow(/inputShape must be at least \[97, 97, 3\].*\[96, 96, 3\]/);
  });

  it('with the face-api weights, equals face-api.js AgeGenderNet (age, gender probabilities, pooled features; max abs ≤ 1e-4)', async () => {
    const api = faceApi();
    const { cfg, reference, ours } = await withFaceApiWeights('agegender_tinyxception', new api.AgeGenderNet());
    expect(ours.pretrainedCfg?.tag).toBe('faceapi');
    expect(ours.loadReport?.missing).toEqual([]);
    expect(ours.loadReport?.ignored).toEqual([]);
    // Two synthetic 112×112 RGB "photos" (smooth gradients + noise), 0..255.
    const pixels = syntheticPhotos(2, 112);
    const theirs = tf.tidy(() => {
      const netInput = new api.NetInput(tf.unstack(pixels) as tf.Tensor3D[]);
      const { age, gender } = reference.forwardInput(netInput);
      // AgeGenderNet.runNet pools the extractor's output this way before its heads.
      const pooled = tf.reshape(tf.avgPool(reference.faceFeatureExtractor.forwardInput(netInput), 7, 2, 'valid'), [2, -1]);
      return { age: tf.reshape(age, [2, 1]), gender, pooled };
    });
    const input = normalizeFor(pixels, cfg);
    const [age, gender] = ours.predict(input) as tf.Tensor[];
    const features = getFeatureModel(ours, ['pooled']);
    const pooled = features.predict(input) as tf.Tensor;
    expect(pooled.shape).toEqual([2, 512]);
    const diffs = { age: await maxAbsDiff(age!, theirs.age), gender: await maxAbsDiff(gender!, theirs.gender), pooled: await maxAbsDiff(pooled, theirs.pooled) };
    console.log(`agegender_tinyxception vs face-api.js, max abs diff: ${JSON.stringify(diffs)}; ages ${(await theirs.age.data()).join(', ')}`);
    // Not a degenerate comparison: plausible ages, two different images, non-zero features.
    const ages = await theirs.age.data();
    expect(Math.min(...ages)).toBeGreaterThan(1);
    expect(Math.abs(ages[0]! - ages[1]!)).toBeGreaterThan(1e-3);
    expect((await tf.max(theirs.pooled).data())[0]).toBeGreaterThan(0.01);
    expect(diffs.age).toBeLessThanOrEqual(1e-4);
    expect(diffs.gender).toBeLessThanOrEqual(1e-4);
    expect(diffs.pooled).toBeLessThanOrEqual(1e-4);
    // A saved and reloaded model gives the same outputs.
    const back = await saveAndLoad(ours);
    const again = back.predict(input) as tf.Tensor[];
    expect(await maxAbsDiff(again[0]!, age!)).toBe(0);
    expect(await maxAbsDiff(again[1]!, gender!)).toBe(0);
    back.dispose();
    tf.dispose([pixels, theirs.age, theirs.gender, theirs.pooled, input, age!, gender!, pooled, ...again]);
    reference.dispose();
    ours.dispose();
  });

  it('loads the extractor alone with includeTop: false and refuses a head size it does not have', async () => {
    const model = await createModel('agegender_tinyxception', { pretrained: true, includeTop: false });
    expect(model.outputs[0]!.shape).toEqual([null, 512]);
    expect(model.loadReport?.ignored.sort()).toEqual(['fc/age/bias', 'fc/age/weights', 'fc/gender/bias', 'fc/gender/weights']);
    model.dispose();
    await expect(createModel('agegender_tinyxception', { pretrained: true, numClasses: 101 })).rejects.toThrow(/fixed heads .* but got numClasses 101/);
  });
});
