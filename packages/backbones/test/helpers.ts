import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { createModel, getPretrainedCfg, loadModel, readTfjsWeights, resolvePackageFile, saveModel, type ModelName, type Preprocessing } from '@ldl/backbones';

/** Puts every test file on the pure-JS cpu backend (the one every machine has). */
export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

/** Sum of element counts of the trainable weights (PyTorch `requires_grad` parameters). */
export function trainableCount(model: LayersModel): number {
  return model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 0), 1), 0);
}

/** max |a - b| of two tensors of the same shape. */
export async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const v = (await d.data())[0]!;
  d.dispose();
  return v;
}

/** A face-api.js net as its node-wasm build exposes it (`O`: what `forwardInput` returns). */
export interface FaceApiNet<O> {
  loadFromWeightMap(weightMap: tf.NamedTensorMap): void;
  forwardInput(input: unknown): O;
  dispose(): void;
}

/** The parts of `@vladmandic/face-api` the parity tests use. */
export interface FaceApi {
  NetInput: new (inputs: tf.Tensor3D[]) => unknown;
  FaceRecognitionNet: new () => FaceApiNet<tf.Tensor2D>;
  AgeGenderNet: new () => FaceApiNet<{ age: tf.Tensor1D; gender: tf.Tensor2D }> & { readonly faceFeatureExtractor: FaceApiNet<tf.Tensor4D> };
}

/** face-api.js's node-wasm build, which shares this process's tfjs engine (and so its cpu backend). */
export function faceApi(): FaceApi {
  return createRequire(import.meta.url)('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
}

/** `reference` (a face-api.js net) loaded with the weight set of `name`, and our `createModel(name, { pretrained: true })`. */
export async function withFaceApiWeights<R extends FaceApiNet<unknown>>(name: ModelName, reference: R) {
  const cfg = getPretrainedCfg(name);
  reference.loadFromWeightMap(await readTfjsWeights(resolvePackageFile(cfg.package, cfg.file)));
  return { cfg, reference, ours: await createModel(name, { pretrained: true }) };
}

/** `n` synthetic RGB "photos" `[n, size, size, 3]` on 0..255: smooth colour gradients plus seeded uniform noise. */
export function syntheticPhotos(n: number, size: number): tf.Tensor4D {
  return tf.tidy(() => {
    const y = tf.reshape(tf.linspace(0, 1, size), [1, size, 1, 1]);
    const x = tf.reshape(tf.linspace(0, 1, size), [1, 1, size, 1]);
    const base = tf.add(tf.mul(y, tf.tensor([200, 120, 60], [1, 1, 1, 3])), tf.mul(x, tf.tensor([30, 90, 160], [1, 1, 1, 3])));
    const noise = tf.randomUniform([n, size, size, 3], 0, 40, 'float32', 7);
    return tf.clipByValue(tf.add(base, noise), 0, 255) as tf.Tensor4D;
  });
}

/** A pretrained config's input: `(pixels / 255 − mean) / std`, `[N, H, W, 3]`. */
export function normalizeFor(pixels: tf.Tensor4D, cfg: Preprocessing): tf.Tensor4D {
  return tf.tidy(() => tf.div(tf.sub(tf.div(pixels, 255), tf.tensor1d(cfg.mean)), tf.tensor1d(cfg.std)));
}

/** The model after `saveModel` and `loadModel` through a temporary folder (removed afterwards). */
export async function saveAndLoad(model: LayersModel): Promise<LayersModel> {
  const dir = await mkdtemp(join(tmpdir(), 'ldl-backbones-'));
  try {
    await saveModel(model, dir);
    return await loadModel(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every weight (BN statistics included) drawn at random from `seed`, so a mis-mapped tensor shows. */
export function randomizeWeights(model: LayersModel, seed: number): void {
  model.weights.forEach((w, i) => {
    const shape = w.shape as number[];
    const t = w.originalName.endsWith('moving_variance') ? tf.randomUniform(shape, 0.5, 1.5, 'float32', seed + i) : tf.randomNormal(shape, 0, 0.5, 'float32', seed + i);
    w.write(t);
    t.dispose();
  });
}
