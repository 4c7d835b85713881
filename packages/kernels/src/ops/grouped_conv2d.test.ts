import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BACKENDS, relativeError, runOn } from '../../test/helpers';
import { webgpuBackends } from '../../test/webgpu';
import { disableFastKernels, enableFastKernels } from '../enable';
import { groupedConv2d } from './grouped_conv2d';
import { LdlGroupedConv2D, LdlGroupedConv2DBackpropFilter, LdlGroupedConv2DBackpropInput } from './kernel_names';

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

/** `y`, `dx`, `df` of `conv` for one case (random `x`, `f`, `dy` from fixed seeds) on `backend`. */
async function outputs(backend: string, [n, h, w, cin, cout, k, groups]: (typeof CASES)[number], conv: (x: tf.Tensor4D, f: tf.Tensor4D) => tf.Tensor4D, gradients: boolean) {
  return runOn(backend, () => {
    const x = tf.randomNormal([n, h, w, cin], 0, 1, 'float32', 1) as tf.Tensor4D;
    const f = tf.randomNormal([k, k, cin / groups, cout], 0, 1, 'float32', 2) as tf.Tensor4D;
    const y = conv(x, f);
    if (!gradients) return [y];
    const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 3);
    const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) => conv(a as tf.Tensor4D, b as tf.Tensor4D))([x, f], dy);
    return [y, gx!, gf!];
  });
}

/**
 * Forward and (with `gradients`) both gradients of {@link groupedConv2d} on `backend`, with the kernels
 * registered now, against {@link reference} on cpu (stock wasm cannot differentiate `conv2d`).
 */
async function check(backend: string, c: (typeof CASES)[number], gradients = true): Promise<void> {
  const [, , , , , , groups, s, p, d] = c;
  const ref = await outputs('cpu', c, (x, f) => reference(x, f, groups, s, p, d), gradients);
  const got = await outputs(backend, c, (x, f) => groupedConv2d(x, f, { groups, strides: s, pad: p, dilations: d }), gradients);
  ['y', 'dx', 'df'].slice(0, got.length).forEach((name, i) => {
    expect(got[i]!.length, `${name} size`).toBe(ref[i]!.length);
    expect(relativeError(got[i]!, ref[i]!), name).toBeLessThan(1e-5);
  });
}

const OP_KERNELS = [LdlGroupedConv2D, LdlGroupedConv2DBackpropInput, LdlGroupedConv2DBackpropFilter];

// webgpu where Dawn finds an adapter (a GPU, or lavapipe on the CPU).
const WEBGPU = await webgpuBackends();

for (const backend of [...BACKENDS, ...WEBGPU]) {
  describe(`groupedConv2d on ${backend}`, () => {
    beforeAll(async () => {
      disableFastKernels();
      await tf.setBackend(backend);
    });
    afterAll(() => disableFastKernels());

    // The composite (one conv2d per group) where no kernel is registered: differentiable where conv2d is
    // (not on stock wasm: no Conv2DBackpropFilter), for dilations 1 (tfjs's conv2d gradient rejects others).
    it.each(CASES)('composite fallback: forward and gradients equal the per-group reference (N=%i H=%i W=%i in=%i out=%i k=%i G=%i s=%i p=%i d=%i)', async (...c) => {
      expect(OP_KERNELS.some((name) => tf.getKernel(name, backend) !== undefined)).toBe(false);
      await check(backend, c, backend !== 'wasm' && c[9] === 1);
    });

    it.each(CASES)(`${LdlGroupedConv2D} kernels: forward and gradients equal the per-group reference (N=%i H=%i W=%i in=%i out=%i k=%i G=%i s=%i p=%i d=%i)`, async (...c) => {
      enableFastKernels({ backends: [backend] });
      await check(backend, c);
    });

    it('runs the registered kernel (and its gradient kernels) where there is one, the composite elsewhere', async () => {
      const x = tf.randomNormal([1, 6, 6, 4]) as tf.Tensor4D;
      const f = tf.randomNormal([3, 3, 2, 4]) as tf.Tensor4D;
      const conv = (a: tf.Tensor, b: tf.Tensor) => groupedConv2d(a as tf.Tensor4D, b as tf.Tensor4D, { groups: 2, strides: 2, pad: 1 });
      // Stock wasm cannot differentiate conv2d: there the composite runs forward only.
      const run = async (gradients: boolean) =>
        (await tf.profile(() => (gradients ? tf.grads(conv)([x, f]) : [conv(x, f)]))).kernelNames;
      disableFastKernels();
      const composite = await run(backend !== 'wasm');
      expect(composite).toContain('Conv2D');
      expect(composite.filter((k) => OP_KERNELS.includes(k))).toEqual([]);
      enableFastKernels({ backends: [backend] });
      expect(await run(true)).toEqual(expect.arrayContaining(OP_KERNELS));
      tf.dispose([x, f]);
    });

    it('differentiates dilations > 1 with the kernels, and says why not without them', () => {
      const x = tf.randomNormal([1, 9, 9, 4]) as tf.Tensor4D;
      const f = tf.randomNormal([3, 3, 2, 4]) as tf.Tensor4D;
      const grad = () => tf.grads((a: tf.Tensor) => groupedConv2d(a as tf.Tensor4D, f, { groups: 2, pad: 2, dilations: 2 }))([x]);
      disableFastKernels();
      expect(grad).toThrow('Error in gradient of conv2D: dilation rates greater than 1 are not yet supported in gradients.');
      enableFastKernels({ backends: [backend] });
      tf.dispose(grad());
      tf.dispose([x, f]);
    });

    it('does not leak tensors', () => {
      const x = tf.randomNormal([1, 6, 6, 4]) as tf.Tensor4D;
      const f = tf.randomNormal([3, 3, 2, 4]) as tf.Tensor4D;
      for (const fast of [false, true]) {
        if (fast) enableFastKernels({ backends: [backend] });
        else disableFastKernels();
        const before = tf.memory().numTensors;
        groupedConv2d(x, f, { groups: 2, strides: 2, pad: 1 }).dispose();
        tf.dispose(tf.grads((a: tf.Tensor) => groupedConv2d(a as tf.Tensor4D, f, { groups: 2, strides: 2, pad: 1 }))([x]));
        expect(tf.memory().numTensors, fast ? 'kernel' : 'composite').toBe(before);
      }
      tf.dispose([x, f]);
    });
  });
}

describe('groupedConv2d arguments', () => {
  it('rejects bad arguments with a clear message', async () => {
    await tf.setBackend('cpu');
    const x = tf.zeros([1, 4, 4, 6]) as tf.Tensor4D;
    expect(() => groupedConv2d(x, tf.zeros([3, 3, 2, 6]) as tf.Tensor4D, { groups: 2 })).toThrow(
      'Error in groupedConv2d: filter.shape[2] must be in/groups = 6/2, but got 2.',
    );
    expect(() => groupedConv2d(x, tf.zeros([3, 3, 3, 5]) as tf.Tensor4D, { groups: 2 })).toThrow('filter.shape[3] (out) must be divisible by groups = 2, but got 5.');
    expect(() => groupedConv2d(x, tf.zeros([3, 3, 3, 6]) as tf.Tensor4D, { groups: 2, strides: 0 })).toThrow(
      'Error in groupedConv2d: strides must be integers >= 1, but got 0.',
    );
  });
});
