import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BACKENDS, randomValues, relativeError, runOn } from '../test/helpers';
import { webgpuBackends } from '../test/webgpu';
import { disableFastKernels, enableFastKernels } from './enable';
import { groupedConvBackpropFilter, groupedConvBackpropInput, groupedConvForward, type GroupedConvGeometry } from './grouped_conv';
import { LdlGroupedConv2D, LdlGroupedConv2DBackpropFilter, LdlGroupedConv2DBackpropInput } from './ops/kernel_names';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface Case {
  name: string;
  x: [number, number, number, number];
  k: [number, number];
  groups: number;
  co: number;
  strides: [number, number];
  pad: Pad;
  dilations?: [number, number];
}

// SIMD paths: in/groups and out/groups multiples of 4; the rest take the scalar loops.
const cases: Case[] = [
  { name: 'ResNeXt 3x3 s1 (4 per group, SIMD)', x: [2, 6, 5, 16], k: [3, 3], groups: 4, co: 16, strides: [1, 1], pad: 'same' },
  { name: 'ResNeXt 3x3 s2 odd (8 per group, SIMD)', x: [2, 7, 6, 16], k: [3, 3], groups: 2, co: 16, strides: [2, 2], pad: 'same' },
  { name: 'batch 5: blocks of four images and a remainder (SIMD)', x: [5, 6, 5, 16], k: [3, 3], groups: 4, co: 16, strides: [1, 1], pad: 'same' },
  { name: 'batch 4, stride 2, 8 per group (SIMD blocks)', x: [4, 7, 6, 16], k: [3, 3], groups: 2, co: 16, strides: [2, 2], pad: 'same' },
  { name: 'batch 4, scalar path (3 per group)', x: [4, 5, 5, 6], k: [3, 3], groups: 2, co: 6, strides: [1, 1], pad: 'same' },
  { name: '3x3 s2 explicit padding (PyTorch style)', x: [1, 8, 7, 8], k: [3, 3], groups: 2, co: 8, strides: [2, 2], pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
  { name: '3x3 valid, 4 in / 8 out per group', x: [2, 6, 6, 8], k: [3, 3], groups: 2, co: 16, strides: [1, 1], pad: 'valid' },
  { name: '3x3 dilation 2', x: [1, 9, 8, 8], k: [3, 3], groups: 2, co: 8, strides: [1, 1], pad: 'same', dilations: [2, 2] },
  { name: '3x2 strides 1x2, scalar (3 per group)', x: [1, 7, 6, 6], k: [3, 2], groups: 2, co: 6, strides: [1, 2], pad: [[0, 0], [2, 0], [1, 2], [0, 0]] },
  { name: '1x1 stride 3, scalar (1 in, 2 out per group)', x: [2, 8, 8, 3], k: [1, 1], groups: 3, co: 6, strides: [3, 3], pad: 'same' },
  { name: '5x5 stride 2, 2 in / 4 out per group', x: [1, 9, 9, 4], k: [5, 5], groups: 2, co: 8, strides: [2, 2], pad: 'same' },
  // webgpu's filter gradient: 760 pixels in 24 chunks, the last one short, crossing image and row ends.
  { name: '760 output pixels (webgpu: chunked filter gradient)', x: [2, 20, 19, 8], k: [3, 3], groups: 2, co: 8, strides: [1, 1], pad: 'same' },
];

function filterShape(c: Case): [number, number, number, number] {
  return [c.k[0], c.k[1], c.x[3] / c.groups, c.co];
}

/** Forward, input and filter gradient of one case through the three grouped-convolution kernels registered now. */
function grouped(c: Case, dyv: Float32Array, outShape: number[]): () => tf.Tensor[] {
  const fShape = filterShape(c);
  return () => {
    const x = tf.tensor4d(randomValues(tf.util.sizeFromShape(c.x), 1), c.x);
    const f = tf.tensor4d(randomValues(tf.util.sizeFromShape(fShape), 2), fShape);
    const dy = tf.tensor(dyv, outShape);
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: c.dilations ?? [1, 1] };
    const run = (name: string, inputs: tf.NamedTensorMap, extra: object = {}) =>
      tf.engine().runKernel(name, inputs, { ...attrs, ...extra } as unknown as tf.NamedAttrMap) as tf.Tensor;
    return [
      run(LdlGroupedConv2D, { x, filter: f }),
      run(LdlGroupedConv2DBackpropInput, { dy, filter: f }, { inputShape: c.x }),
      run(LdlGroupedConv2DBackpropFilter, { x, dy }, { filterShape: fShape }),
    ];
  };
}

/** The same three by definition: one ordinary convolution per group (stock kernels), concatenated. */
function reference(c: Case, dyv: Float32Array, outShape: number[]): () => tf.Tensor[] {
  const fShape = filterShape(c);
  return () => {
    const x = tf.tensor4d(randomValues(tf.util.sizeFromShape(c.x), 1), c.x);
    const f = tf.tensor4d(randomValues(tf.util.sizeFromShape(fShape), 2), fShape);
    const dy = tf.tensor4d(dyv, outShape as [number, number, number, number]);
    const xs = tf.split(x, c.groups, 3);
    const fs = tf.split(f, c.groups, 3);
    const dys = tf.split(dy, c.groups, 3);
    const [dh, dw] = c.dilations ?? [1, 1];
    // tfjs's conv2d gradient rejects dilations > 1: dilate the filter itself (zeros between taps) instead.
    const dilate = (fi: tf.Tensor4D): tf.Tensor4D => {
      if (dh === 1 && dw === 1) return fi;
      const [kh, kw, ci, co] = fi.shape;
      const spread = tf.pad(tf.reshape(fi, [kh, 1, kw, 1, ci, co]), [[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0], [0, 0]]);
      return tf.slice4d(tf.reshape(spread, [kh * dh, kw * dw, ci, co]) as tf.Tensor4D, [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, ci, co]);
    };
    const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, dilate(b as tf.Tensor4D), c.strides, c.pad);
    const y = tf.concat(xs.map((xi, g) => conv(xi, fs[g]!)), 3);
    const parts = xs.map((xi, g) => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b), dys[g]!)))([xi, fs[g]!]));
    return [y, tf.concat(parts.map((p) => p[0]!), 3), tf.concat(parts.map((p) => p[1]!), 3)];
  };
}

// webgpu (a compute shader) where an adapter exists: a GPU, or lavapipe on the CPU.
const WEBGPU = await webgpuBackends();

describe(`${LdlGroupedConv2D} / ${LdlGroupedConv2DBackpropInput} / ${LdlGroupedConv2DBackpropFilter} (WebAssembly SIMD kernel; webgpu shader)`, () => {
  beforeAll(() => disableFastKernels());
  afterAll(() => disableFastKernels());

  for (const c of cases) {
    it(`matches per-group stock convolutions: ${c.name}`, async () => {
      const info = tf.backend_util.computeConv2DInfo(c.x, filterShape(c), c.strides, c.dilations ?? 1, c.pad);
      const dyv = randomValues(tf.util.sizeFromShape(info.outShape), 3);
      disableFastKernels();
      const ref = await runOn('cpu', reference(c, dyv, info.outShape));
      enableFastKernels({ backends: [...BACKENDS, ...WEBGPU] });
      for (const backend of [...BACKENDS, ...WEBGPU]) {
        const before = tf.memory().numTensors;
        const got = await runOn(backend, grouped(c, dyv, info.outShape));
        expect(tf.memory().numTensors, `${backend} leaked tensors`).toBe(before);
        ['y', 'dx', 'df'].forEach((name, i) => {
          expect(got[i]!.length, `${backend} ${name} size`).toBe(ref[i]!.length);
          expect(relativeError(got[i]!, ref[i]!), `${backend} ${name}`).toBeLessThan(1e-5);
        });
      }
    });
  }

  it('array API: results are copies that the next call does not overwrite', () => {
    const g: GroupedConvGeometry = { n: 1, h: 1, w: 1, cin: 2, ho: 1, wo: 1, cout: 2, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, groups: 2 };
    const y = groupedConvForward(g, [1, 2], [3, 5]);
    expect(Array.from(groupedConvForward(g, [7, 7], [1, 1]))).toEqual([7, 7]);
    expect(Array.from(y)).toEqual([3, 10]);
    expect(Array.from(groupedConvBackpropInput(g, [1, 1], [3, 5]))).toEqual([3, 5]);
    expect(Array.from(groupedConvBackpropFilter(g, [1, 2], [1, 1]))).toEqual([1, 2]);
  });

  it('rejects inconsistent shapes with the argument named', async () => {
    enableFastKernels({ backends: ['cpu'] });
    await tf.setBackend('cpu');
    const attrs = (dataFormat: string) => ({ strides: 1, pad: 'same', dataFormat, dilations: 1 }) as unknown as tf.NamedAttrMap;
    expect(() => tf.engine().runKernel(LdlGroupedConv2D, { x: tf.zeros([1, 4, 4, 6]), filter: tf.zeros([3, 3, 4, 4]) }, attrs('NHWC'))).toThrow(
      "Error in LdlGroupedConv2D: the filter's input depth must divide the input channels 6, but got 4.",
    );
    expect(() => tf.engine().runKernel(LdlGroupedConv2D, { x: tf.zeros([1, 8, 4, 4]), filter: tf.zeros([3, 3, 4, 4]) }, attrs('NCHW'))).toThrow(
      "Error in LdlGroupedConv2D: dataFormat must be 'NHWC', but got 'NCHW'.",
    );
    const g: GroupedConvGeometry = { n: 1, h: 2, w: 2, cin: 4, ho: 2, wo: 2, cout: 4, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, groups: 3 };
    expect(() => groupedConvForward(g, new Float32Array(16), new Float32Array(16))).toThrow(
      'Error in groupedConvForward: geometry.groups must divide cin = 4 and cout = 4, but got 3.',
    );
    expect(() => groupedConvForward({ ...g, groups: 2 }, new Float32Array(15), new Float32Array(8))).toThrow(
      'Error in groupedConvForward: x must have 16 elements, but got 15.',
    );
  });
});
