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
