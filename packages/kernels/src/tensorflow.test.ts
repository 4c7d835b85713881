import { createRequire } from 'node:module';

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { randomValues, relativeError } from '../test/helpers';
import { groupedConv2d } from './ops/grouped_conv2d';
import { LdlBatchNormTraining, LdlGroupedConv2D } from './ops/kernel_names';
import { disableFastKernels, enableFastKernels } from './enable';
import { batchNormTraining } from './ops/batch_norm_training';

/**
 * tfjs-node (`LDL_TFJS_NODE`: a built package directory, see tools/tfjs-node; or an installed
 * `@tensorflow/tfjs-node`). Neither is installed by the README's commands or CI, so this suite
 * skips there, saying why.
 */
function loadTfjsNode(): string | null {
  try {
    createRequire(import.meta.url)(process.env.LDL_TFJS_NODE ?? '@tensorflow/tfjs-node');
    return null;
  } catch (e) {
    return (e as Error).message.split('\n')[0] ?? 'cannot load';
  }
}
const why = loadTfjsNode();
if (why != null) console.log(`@ldl/kernels tensorflow kernels: skipped, tfjs-node is not available (${why}); set LDL_TFJS_NODE to a build (tools/tfjs-node/build.sh).`);

describe.skipIf(why != null)('tfjs-node kernels (TensorFlow fused batch norm, grouped convolution, Step)', () => {
  beforeAll(async () => {
    await tf.setBackend('tensorflow');
  });
  afterAll(() => disableFastKernels());

  const values = (ts: tf.Tensor[]) => ts.map((t) => t.dataSync() as Float32Array);

  it(`${LdlBatchNormTraining} and its gradient equal tf.moments + tf.batchNorm with autodiff`, () => {
    const shape = [4, 5, 3, 8];
    const run = (fast: boolean, withStats: boolean) =>
      tf.tidy(() => {
        const x = tf.add(tf.tensor(randomValues(480, 1), shape), 5);
        const gamma = tf.tensor1d(randomValues(8, 2));
        const beta = tf.tensor1d(randomValues(8, 3));
        const w = tf.tensor(randomValues(480, 4), shape);
        const forward = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor[] => {
          if (fast) {
        expect(tf.getKernel(LdlBatchNormTraining, tf.getBackend())).toBeDefined();
        const { y, mean, variance } = batchNormTraining(xi, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
        return [y, mean, variance];
      }
          const { mean, variance } = tf.moments(xi, [0, 1, 2]);
          return [tf.batchNorm(xi, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-5), mean, variance];
        };
        const loss = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
          const [y, mean, variance] = forward(xi, g, b) as [tf.Tensor, tf.Tensor, tf.Tensor];
          const main = tf.sum(tf.mul(y, w));
          return withStats ? tf.addN([main, tf.sum(tf.mul(mean, 0.7)), tf.sum(tf.mul(variance, -1.3))]) : main;
        };
        return [...forward(x, gamma, beta), ...tf.grads(loss)([x, gamma, beta])];
      });
    for (const withStats of [false, true]) {
      disableFastKernels();
      const ref = values(run(false, withStats));
      enableFastKernels({ backends: ['tensorflow'] });
      const got = values(run(true, withStats));
      ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'].forEach((name, i) =>
        expect(relativeError(got[i]!, ref[i]!), `${name}${withStats ? ' (loss on the statistics too)' : ''}`).toBeLessThan(1e-4),
      );
    }
  });

  it(`${LdlGroupedConv2D} and its gradient kernels (TensorFlow's grouped Conv2D) equal the per-group composite`, () => {
    // [N, H, W, in, out, k, groups, stride, pad]: symmetric padding, stride 2 with a leftover row, 1×1.
    for (const [n, h, w, cin, cout, k, groups, stride, pad] of [
      [2, 7, 6, 8, 8, 3, 4, 1, 1],
      [1, 8, 9, 6, 12, 3, 3, 2, 1],
      [2, 6, 6, 8, 16, 1, 8, 2, 0],
    ]) {
      const run = () =>
        tf.tidy(() => {
          const x = tf.tensor4d(randomValues(n! * h! * w! * cin!, 1), [n!, h!, w!, cin!]);
          const f = tf.tensor4d(randomValues(k! * k! * (cin! / groups!) * cout!, 2), [k!, k!, cin! / groups!, cout!]);
          const conv = (a: tf.Tensor, b: tf.Tensor) => groupedConv2d(a as tf.Tensor4D, b as tf.Tensor4D, { groups, strides: stride, pad });
          const y = conv(x, f);
          const dy = tf.tensor(randomValues(y.size, 3), y.shape);
          return [y, ...tf.grads(conv)([x, f], dy)];
        });
      disableFastKernels();
      const ref = values(run());
      enableFastKernels({ backends: ['tensorflow'] });
      expect(tf.getKernel(LdlGroupedConv2D, 'tensorflow')).toBeDefined();
      const got = values(run());
      ['y', 'dx', 'df'].forEach((name, i) => expect(relativeError(got[i]!, ref[i]!), name).toBeLessThan(1e-5));
    }
  });

  it('Step with alpha 0 (the ReLU gradient) equals the stock kernel, NaN included', () => {
    const x = [-2, -0, 0, 1e-30, 3, Number.NaN];
    disableFastKernels();
    const stock = tf.step(tf.tensor1d(x)).dataSync();
    const stockAlpha = tf.step(tf.tensor1d(x), 0.5).dataSync();
    enableFastKernels({ backends: ['tensorflow'] });
    expect(Array.from(tf.step(tf.tensor1d(x)).dataSync())).toEqual(Array.from(stock));
    expect(Array.from(tf.step(tf.tensor1d(x), 0.5).dataSync())).toEqual(Array.from(stockAlpha));
  });
});
