import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

describe('workspace', () => {
  it('runs tfjs on the cpu backend', async () => {
    await tf.setBackend('cpu');
    expect(tf.add(1, 2).dataSync()[0]).toBe(3);
  });
});
