import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BACKENDS, randomValues, relativeError, runOn } from '../test/helpers';
import { disableFastKernels, enableFastKernels } from './enable';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface Case {
  name: string;
  x: [number, number, number, number];
  k: [number, number];
  co: number;
  strides: [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
}

const cases: Case[] = [
  { name: '1x1 stride 1', x: [2, 5, 4, 3], k: [1, 1], co: 4, strides: [1, 1], pad: 'same' },
  { name: '1x1 stride 2 odd', x: [2, 7, 5, 3], k: [1, 1], co: 4, strides: [2, 2], pad: 'same' },
  { name: '1x1 stride 2 valid', x: [1, 6, 6, 2], k: [1, 1], co: 3, strides: [2, 2], pad: 'valid' },
  { name: '3x3 stride 1 same', x: [2, 6, 5, 3], k: [3, 3], co: 4, strides: [1, 1], pad: 'same' },
  { name: '3x3 stride 2 same odd', x: [2, 7, 6, 3], k: [3, 3], co: 5, strides: [2, 2], pad: 'same' },
  { name: '3x3 stride 2 valid', x: [1, 8, 7, 2], k: [3, 3], co: 3, strides: [2, 2], pad: 'valid' },
  { name: '3x2 strides 1x2 explicit', x: [1, 7, 6, 2], k: [3, 2], co: 3, strides: [1, 2], pad: [[0, 0], [2, 0], [1, 2], [0, 0]] },
  { name: '3x3 stride 3 same', x: [1, 8, 8, 2], k: [3, 3], co: 2, strides: [3, 3], pad: 'same' },
  { name: '7x7 stride 2 same (stem)', x: [1, 11, 10, 3], k: [7, 7], co: 4, strides: [2, 2], pad: 'same' },
  { name: '2x2 stride 2 valid', x: [2, 5, 5, 3], k: [2, 2], co: 2, strides: [2, 2], pad: 'valid' },
  { name: '3x3 per-tap path (64 channels)', x: [1, 5, 4, 64], k: [3, 3], co: 8, strides: [2, 2], pad: 'same' },
  { name: '1x1 few pixels, many channels (wasm: transposed product)', x: [1, 2, 3, 20], k: [1, 1], co: 6, strides: [1, 1], pad: 'valid' },
  { name: '1x1 stride 2, few pixels (wasm: transposed product)', x: [1, 5, 4, 24], k: [1, 1], co: 7, strides: [2, 2], pad: 'same' },
  { name: '3x3 NCHW', x: [2, 3, 6, 5], k: [3, 3], co: 4, strides: [2, 2], pad: 'same', dataFormat: 'NCHW' },
];

describe('Conv2DBackpropFilter / Conv2DBackpropInput', () => {
  beforeAll(() => disableFastKernels());
  afterAll(() => disableFastKernels());

  for (const c of cases) {
    it(`matches the stock cpu kernels: ${c.name}`, async () => {
      const dataFormat = c.dataFormat ?? 'NHWC';
      const ci = dataFormat === 'NHWC' ? c.x[3] : c.x[1];
      const fShape: [number, number, number, number] = [c.k[0], c.k[1], ci, c.co];
      const xv = randomValues(tf.util.sizeFromShape(c.x), 1);
      const fv = randomValues(tf.util.sizeFromShape(fShape), 2);
      const grads = () => {
        const x = tf.tensor4d(xv, c.x);
        const f = tf.tensor4d(fv, fShape);
        const info = tf.backend_util.computeConv2DInfo(c.x, fShape, c.strides, 1, c.pad, undefined, false, dataFormat === 'NHWC' ? 'channelsLast' : 'channelsFirst');
        const dy = tf.tensor4d(randomValues(tf.util.sizeFromShape(info.outShape), 3), info.outShape);
        return [
          tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { strides: c.strides, pad: c.pad, dataFormat, inputShape: c.x }) as tf.Tensor,
          tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: c.strides, pad: c.pad, dataFormat, filterShape: fShape }) as tf.Tensor,
        ];
      };
      disableFastKernels();
      const [dxRef, dwRef] = await runOn('cpu', grads);
      enableFastKernels({ backends: [...BACKENDS] });
      for (const backend of BACKENDS) {
        const [dx, dw] = await runOn(backend, grads);
        expect(relativeError(dx as Float32Array, dxRef as Float32Array), `${backend} dx`).toBeLessThan(1e-4);
        expect(relativeError(dw as Float32Array, dwRef as Float32Array), `${backend} dw`).toBeLessThan(1e-4);
      }
    });
  }
});
