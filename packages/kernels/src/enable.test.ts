import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';

import '../test/helpers';
import { disableFastKernels, enableFastKernels } from './enable';
import { LdlBatchNormTraining, LdlGroupedConv2D, LdlGroupedConv2DBackpropFilter } from './ops/kernel_names';

describe('enableFastKernels', () => {
  afterEach(() => {
    disableFastKernels();
    vi.restoreAllMocks();
  });

  it('replaces the kernels, is safe to call twice and restores the stock ones', () => {
    const stock = tf.getKernel('Conv2DBackpropFilter', 'cpu');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    const warn = vi.spyOn(console, 'warn');
    const first = enableFastKernels({ backends: ['cpu', 'wasm'] });
    const second = enableFastKernels({ backends: ['cpu', 'wasm'] });
    expect(warn).not.toHaveBeenCalled();
    expect(second.registered).toEqual(first.registered);
    expect(first.registered).toContain('Conv2DBackpropFilter/wasm');
    expect(first.registered).toContain('FusedBatchNorm/gradient');
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')).not.toBe(stock);
    // The stock forward Conv2D stays; cpu keeps its stock input gradient; grouped convolutions get their own kernels.
    expect(first.registered).not.toContain('Conv2D/wasm');
    expect(first.registered).not.toContain('Conv2DBackpropInput/cpu');
    expect(first.registered).toEqual(expect.arrayContaining([`${LdlGroupedConv2D}/cpu`, `${LdlGroupedConv2DBackpropFilter}/wasm`, `${LdlBatchNormTraining}/wasm`]));
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    disableFastKernels();
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')).toBe(stock);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
  });

  it('skips backends that are not registered and rejects unknown names', () => {
    const { registered } = enableFastKernels({ backends: ['webgpu'] });
    // webgpu is not imported by this suite, so only the (global) gradient is registered.
    expect(registered).toEqual(['FusedBatchNorm/gradient']);
    expect(() => enableFastKernels({ backends: ['webgl' as 'cpu'] })).toThrow(
      'Error in enableFastKernels: backends must contain only wasm, cpu, webgpu, tensorflow, but got webgl.',
    );
  });

  it('pads only tensors of rank <= 4 (webgpu compiles no Pad shader for rank 6)', async () => {
    await tf.setBackend('wasm');
    const stockPad = tf.getKernel('PadV2', 'wasm');
    const ranks: number[] = [];
    tf.unregisterKernel('PadV2', 'wasm');
    tf.registerKernel({
      ...stockPad,
      kernelFunc: (args) => {
        ranks.push((args.inputs.x as tf.TensorInfo).shape.length);
        return stockPad.kernelFunc(args);
      },
    });
    try {
      enableFastKernels({ backends: ['wasm'] });
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')));
      tf.dispose(g([tf.ones([1, 7, 6, 3]), tf.ones([3, 3, 3, 4])]));
      tf.dispose(g([tf.ones([1, 7, 6, 3]), tf.ones([1, 1, 3, 4])]));
    } finally {
      tf.unregisterKernel('PadV2', 'wasm');
      tf.registerKernel(stockPad);
    }
    expect(ranks.length).toBeGreaterThan(0);
    expect(Math.max(...ranks)).toBeLessThanOrEqual(4);
  });

  it('frees every intermediate of a composed kernel', async () => {
    enableFastKernels({ backends: ['wasm'] });
    await tf.setBackend('wasm');
    const x = tf.ones([1, 6, 6, 3]) as tf.Tensor4D;
    const f = tf.ones([3, 3, 3, 4]) as tf.Tensor4D;
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')));
    tf.dispose(g([x, f]));
    const before = tf.memory();
    tf.dispose(g([x, f]));
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    expect(after.numBytes).toBe(before.numBytes);
    tf.dispose([x, f]);
  });
});
