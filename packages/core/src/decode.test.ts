import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { argmaxAge, expectedAge, flipTTA } from './decode';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('expectedAge', () => {
  it('is Σ k·softmax_k (uniform over 0..100 → 50; shifted by minAge)', () => {
    expect(expectedAge(tf.zeros([2, 101]) as tf.Tensor2D).arraySync()).toEqual([expect.closeTo(50, 4), expect.closeTo(50, 4)]);
    const logits = tf.tensor2d([[0, Math.log(3)]]); // p = [0.25, 0.75]
    expect(expectedAge(logits, { minAge: 16 }).dataSync()[0]).toBeCloseTo(16.75, 5);
  });

  it('accepts probabilities', () => {
    const p = tf.tensor2d([[0.25, 0.75], [1, 0]]);
    const e = expectedAge(p, { from: 'probabilities', minAge: 1 }).dataSync();
    expect(e[0]).toBeCloseTo(1.75, 6);
    expect(e[1]).toBeCloseTo(1, 6);
  });

  it('rejects bad input', () => {
    expect(() => expectedAge(tf.zeros([3]) as unknown as tf.Tensor2D)).toThrow(
      new Error(
        'Error in expectedAge: logits must be a rank-2 Tensor [batch, numClasses], but got a rank-1 Tensor of shape [3] and dtype float32.',
      ),
    );
    expect(() => expectedAge(tf.zeros([1, 3]) as tf.Tensor2D, { from: 'probs' as 'logits' })).toThrow(
      new Error('Error in expectedAge: from must be one of "logits", "probabilities", but got "probs".'),
    );
    expect(() => expectedAge(tf.zeros([0, 3]) as tf.Tensor2D)).toThrow(
      new Error(
        'Error in expectedAge: logits must be non-empty (at least one row and one column), but got a rank-2 Tensor of shape [0,3] and dtype float32.',
      ),
    );
  });
});

describe('argmaxAge', () => {
  it('returns minAge + the most probable class as float32', () => {
    const a = argmaxAge(tf.tensor2d([[0, 5, 1], [9, 0, 1]]), { minAge: 20 });
    expect(a.dtype).toBe('float32');
    expect(a.arraySync()).toEqual([21, 20]);
  });
});

describe('flipTTA', () => {
  // A "model" whose logits are the pixel values along the width: mirroring reverses them.
  const predict = (x: tf.Tensor4D) => tf.reshape(x, [x.shape[0], x.shape[2]]) as tf.Tensor2D;
  const images = () => tf.tensor4d([0, 1, 2, 5, 5, 5], [2, 1, 3, 1]);

  it('averages the softmax of the images and of their horizontal mirror', () => {
    const p = flipTTA(predict, images()).arraySync();
    const s = (v: number[]) => {
      const e = v.map(Math.exp);
      const z = e.reduce((a, b) => a + b, 0);
      return e.map((x) => x / z);
    };
    const a = s([0, 1, 2]);
    const b = s([2, 1, 0]);
    a.forEach((ak, k) => expect(p[0][k]).toBeCloseTo((ak + b[k]) / 2, 6));
    p[1].forEach((v) => expect(v).toBeCloseTo(1 / 3, 6));
  });

  it('disposes every intermediate tensor', () => {
    const x = images();
    const before = tf.memory().numTensors;
    const p = flipTTA(predict, x);
    expect(tf.memory().numTensors).toBe(before + 1);
    p.dispose();
  });

  it('rejects bad images and bad predictions', () => {
    expect(() => flipTTA(predict, tf.zeros([1, 3, 1]) as unknown as tf.Tensor4D)).toThrow(
      new Error(
        'Error in flipTTA: images must be a rank-4 Tensor [N, H, W, C] (NHWC), but got a rank-3 Tensor of shape [1,3,1] and dtype float32.',
      ),
    );
    expect(() => flipTTA(() => tf.zeros([1, 3]) as tf.Tensor2D, images())).toThrow(
      new Error('Error in flipTTA: predict(images).shape[0] must be 2 (the number of images), but got 1.'),
    );
    expect(() => flipTTA('model' as unknown as (x: tf.Tensor4D) => tf.Tensor2D, images())).toThrow(
      new Error('Error in flipTTA: predict must be a function (images: Tensor4D) => Tensor2D, but got "model".'),
    );
  });
});
