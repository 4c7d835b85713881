import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

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

/**
 * `n` synthetic `h`×`w` RGB "photos" on the 0..255 scale `[n, h, w, 3]`: smooth colour gradients plus uniform
 * noise in `[0, noise)` (seeded), clipped.
 */
export function syntheticPhotos(n: number, h: number, w: number, noise: number, seed: number): tf.Tensor4D {
  return tf.tidy(() => {
    const y = tf.reshape(tf.linspace(0, 1, h), [1, h, 1, 1]);
    const x = tf.reshape(tf.linspace(0, 1, w), [1, 1, w, 1]);
    const base = tf.add(tf.mul(y, tf.tensor([200, 120, 60], [1, 1, 1, 3])), tf.mul(x, tf.tensor([30, 90, 160], [1, 1, 1, 3])));
    return tf.clipByValue(tf.add(base, tf.randomUniform([n, h, w, 3], 0, noise, 'float32', seed)), 0, 255) as tf.Tensor4D;
  });
}
