import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BACKENDS, randomValues, relativeError } from '../test/helpers';
import { webgpuBackends } from '../test/webgpu';
import { fusedAdam } from './fused_adam';
import { LdlAdamUpdate } from './ops/kernel_names';
import { disableFastKernels, enableFastKernels } from './enable';

const WEBGPU = await webgpuBackends();

/** Three steps of `optimizer` on two variables with fixed gradients; values and moments afterwards. */
async function train(backend: string, make: () => tf.AdamOptimizer, steps = 3): Promise<{ values: Float32Array[]; weights: Float32Array[]; iterations: number }> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
  const optimizer = make();
  const a = tf.variable(tf.tensor(randomValues(37, 1), [37]), true, 'adam_a');
  const b = tf.variable(tf.tensor(randomValues(12, 2).map((x) => x * 50), [3, 4]), true, 'adam_b');
  for (let s = 0; s < steps; s++) {
    const grads = { adam_a: tf.tensor(randomValues(37, 10 + s), [37]), adam_b: tf.tensor(randomValues(12, 20 + s).map((x) => x * 1e-3), [3, 4]) };
    optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    tf.dispose(Object.values(grads));
  }
  const weights = await optimizer.getWeights();
  const out = {
    values: [(await a.data()) as Float32Array, (await b.data()) as Float32Array],
    weights: await Promise.all(weights.slice(1).map(async (w) => (await w.tensor.data()) as Float32Array)),
    iterations: optimizer.iterations,
  };
  weights[0]!.tensor.dispose(); // the iteration count getWeights() made
  a.dispose();
  b.dispose();
  optimizer.dispose();
  return out;
}

describe('FusedAdamOptimizer (LdlAdamUpdate)', () => {
  beforeAll(() => enableFastKernels({ backends: [...BACKENDS, ...WEBGPU] }));
  afterAll(() => disableFastKernels());

  // wasm has no LdlAdamUpdate (its stock ops are faster): there the stock update runs.
  for (const backend of [...BACKENDS, ...WEBGPU]) {
    it(`equals tf.train.adam step for step on ${backend} (values, moments, iterations), leaking no more than it`, async () => {
      // (tfjs's AdamOptimizer itself leaves a tensor or so behind after dispose(): compare with it.)
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      const stock = await train(backend, () => tf.train.adam(0.01, 0.8, 0.95, 1e-6));
      const stockLeft = tf.memory().numTensors - before;
      const fused = await train(backend, () => fusedAdam(0.01, 0.8, 0.95, 1e-6));
      expect(tf.memory().numTensors - before - stockLeft, 'tensors left beyond the stock optimizer').toBe(stockLeft);
      expect(fused.iterations).toBe(3);
      fused.values.forEach((v, i) => expect(relativeError(v, stock.values[i]!), `value ${i}`).toBeLessThan(1e-6));
      expect(fused.weights.length).toBe(4);
      fused.weights.forEach((w, i) => expect(relativeError(w, stock.weights[i]!), `moment ${i}`).toBeLessThan(1e-6));
    });
  }

  it('runs the kernel where registered and the stock update elsewhere', async () => {
    await tf.setBackend('cpu');
    const calls: string[] = [];
    const profile = await tf.profile(async () => {
      const x = tf.variable(tf.ones([4]), true, 'adam_p');
      const opt = fusedAdam(0.1);
      opt.applyGradients([{ name: 'adam_p', tensor: tf.ones([4]) }]);
      disableFastKernels();
      opt.applyGradients([{ name: 'adam_p', tensor: tf.ones([4]) }]);
      enableFastKernels({ backends: ['cpu'] });
      opt.dispose();
      x.dispose();
    });
    calls.push(...profile.kernelNames);
    expect(calls).toContain(LdlAdamUpdate);
    expect(calls).toContain('Sqrt'); // the stock update, after disableFastKernels()
  });

  it('continues from a stock Adam checkpoint (getWeights / setWeights)', async () => {
    await tf.setBackend('cpu');
    const v = tf.variable(tf.tensor([1, 2, 3]), true, 'adam_c');
    const gradient = tf.tensor([0.5, -1, 2]);
    const g = [{ name: 'adam_c', tensor: gradient }];
    const stock = tf.train.adam(0.1);
    stock.applyGradients(g);
    const saved = await stock.getWeights();
    const fused = fusedAdam(0.1);
    await fused.setWeights(saved);
    const snapshot = v.clone();
    stock.applyGradients(g);
    const afterStock = await v.data();
    v.assign(snapshot);
    fused.applyGradients(g);
    expect(relativeError(await v.data(), afterStock)).toBeLessThan(1e-6);
    tf.dispose([v, snapshot, gradient]);
    stock.dispose();
    fused.dispose();
  });

  // Parameter groups: every backend (wasm and tfjs-node through the stock-op fallback, cpu and webgpu through the kernel).
  for (const backend of [...BACKENDS, ...WEBGPU]) {
    it(`lrScales and setLearningRate: a variable at scale s moves as under lr·s, scale 0 freezes it (${backend})`, async () => {
      const scaled = await train(backend, () => Object.assign(fusedAdam(0.01, 0.8, 0.95, 1e-6), { lrScales: new Map([['adam_a', 0.5], ['adam_b', 0]]) }));
      const half = await train(backend, () => tf.train.adam(0.005, 0.8, 0.95, 1e-6));
      const start = await train(backend, () => tf.train.adam(0.01, 0.8, 0.95, 1e-6), 0);
      expect(relativeError(scaled.values[0]!, half.values[0]!)).toBeLessThan(1e-6);
      expect(relativeError(scaled.values[1]!, start.values[1]!)).toBe(0);
      // Moments advance for every variable, whatever its rate.
      expect(relativeError(scaled.weights[1]!, half.weights[1]!)).toBeLessThan(1e-6);
      const viaSetter = await train(backend, () => {
        const o = fusedAdam(1, 0.8, 0.95, 1e-6);
        o.setLearningRate(0.005);
        return o;
      });
      viaSetter.values.forEach((v, i) => expect(relativeError(v, half.values[i]!)).toBeLessThan(1e-6));
    });
  }

  it('setLearningRate refuses a negative or non-finite rate', () => {
    expect(() => fusedAdam().setLearningRate(-1)).toThrow('Error in FusedAdamOptimizer.setLearningRate: lr must be a finite number ≥ 0, but got -1.');
  });

  it('names the bad input or attribute', async () => {
    await tf.setBackend('cpu');
    const x = tf.zeros([2]);
    const attrs = { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, correction1: 0.1, correction2: 0.001 };
    const run = (inputs: tf.NamedTensorMap, a: object = attrs) => tf.engine().runKernel(LdlAdamUpdate, inputs, a as unknown as tf.NamedAttrMap);
    expect(() => run({ value: x, m: x, v: x, gradient: tf.zeros([3]) })).toThrow(
      "Error in LdlAdamUpdate: gradient must be a float32 tensor of value's shape [2], but got float32 [3].",
    );
    expect(() => run({ value: x, m: x, v: x, gradient: x }, { ...attrs, correction2: Number.NaN })).toThrow(
      'Error in LdlAdamUpdate: attrs.correction2 must be a finite number, but got NaN.',
    );
  });
});
