import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';

import { runWgsl, type WgslKernel } from './webgpu_program';

describe('runWgsl', () => {
  const kernel: WgslKernel = { name: 'copy_a', inputs: ['a', 'b'], uniforms: [], body: 'fn main(index : i32) { setOutputAtIndex(index, a[index]); }' };

  it('refuses a shader that does not read one of its inputs (Dawn would only warn and return zeros)', async () => {
    await tf.setBackend('cpu');
    const x = tf.zeros([2]);
    expect(() => runWgsl(tf.backend(), kernel, [x, x], [2], 2, [])).toThrow('Error in copy_a: every input must be read by the shader, but b is not.');
  });

  it('needs the webgpu backend and matching inputs and uniforms', async () => {
    await tf.setBackend('cpu');
    const x = tf.zeros([2]);
    const ok: WgslKernel = { ...kernel, name: 'add_ab', body: 'fn main(index : i32) { setOutputAtIndex(index, a[index] + b[index]); }' };
    expect(() => runWgsl(tf.backend(), ok, [x], [2], 2, [])).toThrow('Error in add_ab: expected 2 inputs and 0 uniforms, but got 1 and 0.');
    expect(() => runWgsl(tf.backend(), ok, [x, x], [2], 2, [])).toThrow(
      "Error in add_ab: backend must be tfjs-backend-webgpu's, but got one without runWebGPUProgram.",
    );
  });
});
