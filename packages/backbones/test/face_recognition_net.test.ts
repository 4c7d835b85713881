import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel, faceRecognitionNet, FACEREC_STAGES, featureLayer } from '@ldl/backbones';
import { faceApi, maxAbsDiff, normalizeFor, saveAndLoad, syntheticPhotos, useCpu, withFaceApiWeights } from './helpers';

beforeAll(useCpu);

describe('facerec_resnet34 (dlib face-recognition ResNet from @vladmandic/face-api)', () => {
  it('builds the face-api architecture: stage shapes at 150 px and the 128-d descriptor', () => {
    const model = faceRecognitionNet();
    const shapes = Object.keys(FACEREC_STAGES).map((s) => featureLayer(model, s).outputShape);
    expect(shapes).toEqual([
      [null, 35, 35, 32],
      [null, 17, 17, 64],
      [null, 8, 8, 128],
      [null, 2, 2, 256],
    ]);
    expect(model.outputs[0]!.shape).toEqual([null, 128]);
    model.dispose();
    expect(faceRecognitionNet({ inputShape: [103, 103, 3] }).outputs[0]!.shape).toEqual([null, 128]);
    expect(() => faceRecognitionNet({ inputShape: [102, 140, 3] })).toThrow(/at least 103×103/);
  });

  it('with the face-api weights, equals face-api.js computeFaceDescriptor (max abs ≤ 1e-4)', async () => {
    const api = faceApi();
    const { cfg, reference, ours } = await withFaceApiWeights('facerec_resnet34', new api.FaceRecognitionNet());
    expect(ours.pretrainedCfg?.tag).toBe('faceapi');
    expect(ours.loadReport?.missing).toEqual([]);
    // Two synthetic 150×150 RGB "photos" (smooth gradients + noise), 0..255.
    const pixels = syntheticPhotos(2, 150);
    const theirs = tf.tidy(() => reference.forwardInput(new api.NetInput(tf.unstack(pixels) as tf.Tensor3D[])));
    const input = normalizeFor(pixels, cfg);
    const mine = ours.predict(input) as tf.Tensor2D;
    const diff = await maxAbsDiff(mine, theirs);
    const scale = (await tf.max(tf.abs(theirs)).data())[0]!;
    expect(scale).toBeGreaterThan(0.01);
    expect(diff).toBeLessThanOrEqual(1e-4);
    // A saved and reloaded model (custom layers registered) gives the same descriptor.
    const back = await saveAndLoad(ours);
    expect(await maxAbsDiff(back.predict(input) as tf.Tensor, mine)).toBe(0);
    back.dispose();
    tf.dispose([pixels, theirs, input, mine]);
    reference.dispose();
    ours.dispose();
  });

  it('re-initialises a classifier of another size and refuses unknown weight sets', async () => {
    const model = await createModel('facerec_resnet34', { pretrained: true, numClasses: 101, inputShape: [112, 112, 3] });
    expect(model.loadReport?.resized).toEqual(['fc/kernel']);
    expect(model.outputs[0]!.shape).toEqual([null, 101]);
    model.dispose();
    await expect(createModel('facerec_resnet34', { pretrained: 'nope' })).rejects.toThrow(/pretrained must name one of facerec_resnet34\.faceapi/);
    await expect(createModel('facerec_resnet34', { pretrained: true, weightsFile: '/nonexistent/x.json' })).rejects.toThrow(/nonexistent\/x\.json must be a readable/);
  });
});
