import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { randomValues, relativeError, runOn } from '../test/helpers';
import { disableFastKernels, enableFastKernels } from './enable';

interface Case {
  name: string;
  x: [number, number, number, number];
  k: [number, number];
  mult: number;
  strides: [number, number];
  dilations: [number, number];
  pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
}

const cases: Case[] = [
  { name: '3x3 stride 1 same', x: [2, 6, 5, 3], k: [3, 3], mult: 1, strides: [1, 1], dilations: [1, 1], pad: 'same' },
  { name: '3x3 stride 2 same odd, multiplier 2', x: [2, 7, 6, 3], k: [3, 3], mult: 2, strides: [2, 2], dilations: [1, 1], pad: 'same' },
  { name: '5x3 stride 2 valid', x: [1, 9, 8, 2], k: [5, 3], mult: 1, strides: [2, 2], dilations: [1, 1], pad: 'valid' },
  { name: '3x3 dilation 2 same, multiplier 3', x: [1, 8, 7, 2], k: [3, 3], mult: 3, strides: [1, 1], dilations: [2, 2], pad: 'same' },
  { name: '3x3 stride 2 explicit', x: [1, 7, 7, 2], k: [3, 3], mult: 1, strides: [2, 2], dilations: [1, 1], pad: [[0, 0], [0, 2], [1, 1], [0, 0]] },
];

/** Direct loops over the definition (the stock cpu kernels ignore dilations). */
function naiveGrads(c: Case, info: tf.backend_util.Conv2DInfo, x: Float32Array, w: Float32Array, dy: Float32Array): [Float32Array, Float32Array] {
  const [n, h, wd, ch] = c.x;
  const { outHeight: ho, outWidth: wo, padInfo } = info;
  const [kh, kw] = c.k;
  const dx = new Float32Array(x.length);
  const dw = new Float32Array(w.length);
  for (let b = 0; b < n; b++)
    for (let r = 0; r < ho; r++)
      for (let q = 0; q < wo; q++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const hr = r * c.strides[0] + i * c.dilations[0] - padInfo.top;
            const wc = q * c.strides[1] + j * c.dilations[1] - padInfo.left;
            if (hr < 0 || hr >= h || wc < 0 || wc >= wd) continue;
            for (let k = 0; k < ch; k++)
              for (let m = 0; m < c.mult; m++) {
                const g = dy[((b * ho + r) * wo + q) * ch * c.mult + k * c.mult + m] as number;
                const xi = ((b * h + hr) * wd + wc) * ch + k;
                const wi = ((i * kw + j) * ch + k) * c.mult + m;
                (dx[xi] as number) += g * (w[wi] as number);
                (dw[wi] as number) += g * (x[xi] as number);
              }
          }
  return [dx, dw];
}

describe('DepthwiseConv2dNativeBackpropFilter / DepthwiseConv2dNativeBackpropInput', () => {
  afterAll(() => disableFastKernels());

  for (const c of cases) {
    it(`matches the definition (and the stock cpu kernels): ${c.name}`, async () => {
      const fShape: [number, number, number, number] = [c.k[0], c.k[1], c.x[3], c.mult];
      const info = tf.backend_util.computeConv2DInfo(c.x, fShape, c.strides, c.dilations, c.pad, undefined, true);
      const xv = randomValues(tf.util.sizeFromShape(c.x), 4);
      const fv = randomValues(tf.util.sizeFromShape(fShape), 5);
      const dyv = randomValues(tf.util.sizeFromShape(info.outShape), 6);
      const attrs = { strides: c.strides, dilations: c.dilations, pad: c.pad };
      const grads = () => {
        const x = tf.tensor4d(xv, c.x);
        const filter = tf.tensor4d(fv, fShape);
        const dy = tf.tensor4d(dyv, info.outShape);
        return [
          tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...attrs, inputShape: c.x }) as tf.Tensor,
          tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: fShape }) as tf.Tensor,
        ];
      };
      const [dxRef, dwRef] = naiveGrads(c, info, xv, fv, dyv);
      if (c.dilations[0] === 1 && c.dilations[1] === 1) {
        disableFastKernels();
        const [dxStock, dwStock] = await runOn('cpu', grads);
        expect(relativeError(dxStock as Float32Array, dxRef), 'stock dx').toBeLessThan(1e-4);
        expect(relativeError(dwStock as Float32Array, dwRef), 'stock dw').toBeLessThan(1e-4);
      }
      // Registered on wasm (and webgpu, checked by bench/kernels_check.ts on a GPU); cpu keeps its own.
      enableFastKernels({ backends: ['wasm'] });
      for (const backend of ['wasm']) {
        const [dx, dw] = await runOn(backend, grads);
        expect(relativeError(dx as Float32Array, dxRef), `${backend} dx`).toBeLessThan(1e-4);
        expect(relativeError(dw as Float32Array, dwRef), `${backend} dw`).toBeLessThan(1e-4);
      }
    });
  }
});
