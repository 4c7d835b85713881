import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { disableFastKernels, enableFastKernels } from '@ldl/kernels';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  groupedConv2d,
  getGroupedConvStrategy,
  nativeGroupedConvAvailable,
  resolveGroupedConvStrategy,
  setGroupedConvStrategy,
  strategySupported,
  type GroupedConvStrategy,
} from './grouped_conv';

/** `[k, k, c, o]` → the equivalent undilated `[(k-1)d+1, (k-1)d+1, c, o]` filter (zeros between taps), by matMul. */
function dilateFilter(f: tf.Tensor4D, d: number): tf.Tensor4D {
  const [k, , c, o] = f.shape;
  const kd = (k - 1) * d + 1;
  const spread = tf.tensor2d(Array.from({ length: kd * k }, (_, i) => (Math.floor(i / k) === (i % k) * d ? 1 : 0)), [kd, k]);
  const rows = tf.reshape(tf.matMul(spread, tf.reshape(f, [k, k * c * o])), [kd, k, c, o]);
  const cols = tf.matMul(spread, tf.reshape(tf.transpose(rows, [1, 0, 2, 3]), [k, kd * c * o]));
  return tf.transpose(tf.reshape(cols, [kd, kd, c, o]), [1, 0, 2, 3]);
}

/**
 * Independent reference: pad, then one undilated `conv2d` per group on channel slices (dilation by a
 * zero-spread filter, since TF.js conv gradients reject dilations), concatenated.
 */
function reference(x: tf.Tensor4D, f0: tf.Tensor4D, groups: number, stride: number, pad: number, dilation: number): tf.Tensor4D {
  const f = dilation === 1 ? f0 : dilateFilter(f0, dilation);
  const cg = x.shape[3] / groups;
  const og = f.shape[3] / groups;
  const xp = tf.pad(x, [
    [0, 0],
    [pad, pad],
    [pad, pad],
    [0, 0],
  ]);
  const outs = Array.from({ length: groups }, (_, g) =>
    tf.conv2d(
      tf.slice(xp, [0, 0, 0, g * cg], [-1, -1, -1, cg]),
      tf.slice(f, [0, 0, 0, g * og], [-1, -1, -1, og]),
      stride,
      'valid',
    ),
  );
  return tf.concat(outs, 3);
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

const STRATEGIES: GroupedConvStrategy[] = ['split', 'blockDiagonal', 'im2col', 'depthwise'];
// [N, H, W, Cin, Cout, k, groups, stride, pad, dilation]
const CASES: [number, number, number, number, number, number, number, number, number, number][] = [
  [2, 7, 6, 8, 8, 3, 4, 1, 1, 1],
  [2, 9, 8, 8, 12, 3, 4, 2, 1, 1],
  [1, 8, 8, 6, 6, 3, 3, 2, 0, 1],
  [1, 10, 9, 4, 8, 3, 2, 1, 2, 2],
  [2, 6, 6, 8, 16, 1, 8, 2, 0, 1],
  [1, 7, 7, 4, 4, 3, 1, 2, 1, 1],
  [1, 11, 11, 6, 6, 5, 2, 3, 2, 1],
];

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => setGroupedConvStrategy('auto'));

/** Forward and both gradients of `strategy` against {@link reference}, for one case. */
function checkStrategy(strategy: GroupedConvStrategy, [n, h, w, cin, cout, k, groups, s, p, d]: (typeof CASES)[number], gradientsWithDilation: boolean): void {
  const x = tf.randomNormal([n, h, w, cin], 0, 1, 'float32', 1) as tf.Tensor4D;
  const f = tf.randomNormal([k, k, cin / groups, cout], 0, 1, 'float32', 2) as tf.Tensor4D;
  const opts = { groups, strides: s, pad: p, dilations: d, strategy };
  const y = groupedConv2d(x, f, opts);
  const yRef = reference(x, f, groups, s, p, d);
  expect(y.shape).toEqual(yRef.shape);
  expect(maxDiff(y, yRef)).toBeLessThan(1e-4);
  if (d > 1 && !gradientsWithDilation) return;
  const dy = tf.randomNormal(yRef.shape, 0, 1, 'float32', 3);
  const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) => groupedConv2d(a as tf.Tensor4D, b as tf.Tensor4D, opts))([x, f], dy);
  const [rx, rf] = tf.grads((a: tf.Tensor, b: tf.Tensor) => reference(a as tf.Tensor4D, b as tf.Tensor4D, groups, s, p, d))([x, f], dy);
  expect(maxDiff(gx!, rx!)).toBeLessThan(1e-4);
  expect(maxDiff(gf!, rf!)).toBeLessThan(1e-4);
  tf.dispose([x, f, y, yRef, dy, gx!, gf!, rx!, rf!]);
}

describe('groupedConv2d', () => {
  for (const strategy of STRATEGIES) {
    // TF.js's conv2d / depthwiseConv2d gradients reject dilations > 1; only im2col differentiates them.
    it.each(CASES)(`${strategy}: forward and gradients equal the per-group reference (N=%i H=%i W=%i in=%i out=%i k=%i G=%i s=%i p=%i d=%i)`, (...c) =>
      checkStrategy(strategy, c, strategy === 'im2col'),
    );
  }

  it('does not leak tensors', () => {
    const x = tf.randomNormal([1, 6, 6, 4]) as tf.Tensor4D;
    const f = tf.randomNormal([3, 3, 2, 4]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    for (const strategy of STRATEGIES) groupedConv2d(x, f, { groups: 2, strides: 2, pad: 1, strategy }).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('follows the global strategy and resolves auto per backend, inference vs gradient tape', () => {
    expect(getGroupedConvStrategy()).toBe('auto');
    expect(resolveGroupedConvStrategy()).toBe('depthwise');
    let underTape = '';
    tf.grad((x: tf.Tensor) => {
      underTape = resolveGroupedConvStrategy();
      return tf.sum(x);
    })(tf.ones([2]));
    expect(underTape).toBe('depthwise');
    expect(strategySupported('depthwise', 'cpu', true)).toBe(true);
    expect(strategySupported('split', 'no-such-backend', false)).toBe(false);
    expect(strategySupported('native', 'cpu', false)).toBe(false);
    setGroupedConvStrategy('split');
    expect(resolveGroupedConvStrategy('auto')).toBe('split');
    expect(resolveGroupedConvStrategy('depthwise')).toBe('depthwise');
  });

  it('rejects bad arguments with a clear message', () => {
    const x = tf.zeros([1, 4, 4, 6]) as tf.Tensor4D;
    expect(() => groupedConv2d(x, tf.zeros([3, 3, 2, 6]) as tf.Tensor4D, { groups: 2 })).toThrow(
      'Error in groupedConv2d: filter.shape[2] must be in/groups = 6/2, but got 2.',
    );
    expect(() => groupedConv2d(x, tf.zeros([3, 3, 3, 5]) as tf.Tensor4D, { groups: 2 })).toThrow('filter.shape[3] (out) must be divisible by groups = 2, but got 5.');
    expect(() => groupedConv2d(x, tf.zeros([3, 3, 3, 6]) as tf.Tensor4D, { groups: 2, strategy: 'fast' as GroupedConvStrategy })).toThrow(
      "Error in groupedConv2d: strategy must be one of 'auto', 'split', 'blockDiagonal', 'im2col', 'depthwise', 'native', but got \"fast\".",
    );
    expect(() => groupedConv2d(x, tf.zeros([3, 3, 3, 6]) as tf.Tensor4D, { groups: 2, strategy: 'native' })).toThrow(
      "Error in groupedConv2d: strategy 'native' needs a backend whose Conv2D kernels accept grouped filters (tensorflow, or wasm/cpu/webgpu after @ldl/kernels' enableFastKernels()), but got 'cpu'.",
    );
    expect(() => setGroupedConvStrategy('nope' as GroupedConvStrategy)).toThrow('Error in setGroupedConvStrategy: strategy must be one of');
  });
});

describe("groupedConv2d 'native' on cpu with @ldl/kernels' grouped kernels", () => {
  beforeAll(() => {
    expect(nativeGroupedConvAvailable('cpu')).toBe(false); // the stock cpu Conv2D misreads a grouped filter
    enableFastKernels({ backends: ['cpu'] });
  });
  afterAll(() => disableFastKernels());

  it('is found by the probe and chosen by auto, for inference and training', () => {
    expect(nativeGroupedConvAvailable('cpu')).toBe(true);
    expect(strategySupported('native', 'cpu', true)).toBe(true);
    expect(resolveGroupedConvStrategy()).toBe('native');
    expect(nativeGroupedConvAvailable('no-such-backend')).toBe(false);
  });

  // The grouped kernels take dilations in their gradients too.
  it.each(CASES)('native: forward and gradients equal the per-group reference (N=%i H=%i W=%i in=%i out=%i k=%i G=%i s=%i p=%i d=%i)', (...c) =>
    checkStrategy('native', c, true),
  );

  it('reports false again once the grouped kernels are gone', () => {
    disableFastKernels();
    expect(nativeGroupedConvAvailable('cpu')).toBe(false);
    enableFastKernels({ backends: ['cpu'] });
    expect(nativeGroupedConvAvailable('cpu')).toBe(true);
  });
});
