// The README's usage example, run end to end with a tiny tfjs-layers model on the CPU backend.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { AgeMetrics, expectedAge, flipTTA, ldlLoss } from '@ldl/core';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('README usage example', () => {
  it('trains any tfjs model with ldlLoss and evaluates it with flipTTA + AgeMetrics', async () => {
    const model = tfl.sequential({
      layers: [tfl.layers.flatten({ inputShape: [4, 4, 3] }), tfl.layers.dense({ units: 101, kernelInitializer: 'zeros' })],
    });
    // Mirror-symmetric images, so the mirrored view flipTTA adds is one the model was trained on.
    const half = tf.randomUniform([8, 4, 2, 3], 0, 1, 'float32', 7);
    const images = tf.concat([half, tf.reverse(half, 2)], 2) as tf.Tensor4D;
    const ages = [3, 17.5, 25, 33, 48, 61, 77, 99];
    const optimizer = tf.train.adam(0.05);
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      const loss = optimizer.minimize(() => ldlLoss(model.predict(images) as tf.Tensor2D, ages), true);
      losses.push((await loss!.data())[0]);
      loss!.dispose();
    }
    expect(losses.at(-1)!).toBeLessThan(0.5 * losses[0]);

    const metrics = new AgeMetrics();
    const probs = flipTTA((x) => model.predict(x) as tf.Tensor2D, images);
    metrics.update(await expectedAge(probs, { from: 'probabilities' }).data(), ages);
    const result = metrics.result();
    expect(result.count).toBe(8);
    // Untrained (zero) weights predict 50 for everyone: MAE 27.3. Training must beat that by far.
    expect(result.mae).toBeLessThan(10);
  });
});
