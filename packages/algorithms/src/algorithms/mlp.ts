// The small Keras networks of PyLDL's gradient-descent methods (AA-BP, Duo-LDL, CPNN), trained
// full-batch with hand-written backpropagation on Float64Arrays: at these sizes (one hidden layer of
// 40–64 units) plain loops are faster than a tfjs graph, and the gradients are checked against finite
// differences in the tests.
import type { Rng } from '@ldl/core';
import type { Matrix } from '../matrix';
import { linearInto, transposeMulInto } from './maxent';

/** A dense layer `y = x W + b`, `W [in, out]` Glorot-uniform, `b` zeros (Keras' `Dense` defaults). */
export interface Dense {
  inputs: number;
  outputs: number;
  /** `[inputs · outputs]` then `[outputs]`: one flat parameter vector for the optimisers. */
  params: Float64Array;
}

/** A Glorot-uniform dense layer (Keras' default initialiser), bias zero. */
export function dense(inputs: number, outputs: number, rng: Rng): Dense {
  const params = new Float64Array(inputs * outputs + outputs);
  const limit = Math.sqrt(6 / (inputs + outputs));
  for (let k = 0; k < inputs * outputs; k++) params[k] = (2 * rng.next() - 1) * limit;
  return { inputs, outputs, params };
}

/** `x W + b` for `x [n, in]` → `[n, out]`. */
export function denseForward(layer: Dense, x: Matrix): Float64Array {
  const { inputs, outputs, params } = layer;
  const out = linearInto(x, params.subarray(0, inputs * outputs), outputs, new Float64Array(x.rows * outputs));
  for (let i = 0; i < x.rows; i++) for (let j = 0; j < outputs; j++) out[i * outputs + j] += params[inputs * outputs + j];
  return out;
}

/**
 * Gradient of a dense layer's parameters from the gradient `g [n, out]` of its output: `xᵀ g` and
 * column sums; returns it as one flat vector (the layout of `params`).
 */
export function denseGradient(layer: Dense, x: Matrix, g: Float64Array): Float64Array {
  const { inputs, outputs } = layer;
  const grad = new Float64Array(inputs * outputs + outputs);
  transposeMulInto(x, g, outputs, grad.subarray(0, inputs * outputs));
  for (let i = 0; i < x.rows; i++) for (let j = 0; j < outputs; j++) grad[inputs * outputs + j] += g[i * outputs + j];
  return grad;
}

/** Gradient with respect to the layer's input: `g Wᵀ` → `[n, in]`. */
export function denseInputGradient(layer: Dense, g: Float64Array, n: number): Float64Array {
  const { inputs, outputs, params } = layer;
  const out = new Float64Array(n * inputs);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < inputs; p++) {
      let s = 0;
      for (let j = 0; j < outputs; j++) s += g[i * outputs + j] * params[p * outputs + j];
      out[i * inputs + p] = s;
    }
  }
  return out;
}

/** Logistic sigmoid in place. */
export function sigmoidInPlace(a: Float64Array): Float64Array {
  for (let k = 0; k < a.length; k++) a[k] = 1 / (1 + Math.exp(-a[k]));
  return a;
}

/** A first-order optimiser updating a parameter vector in place from its gradient. */
export interface Optimizer {
  step(params: Float64Array, grad: Float64Array): void;
}

/** Plain gradient descent (Keras' `SGD`, no momentum). */
export function sgd(learningRate: number): (size: number) => Optimizer {
  return () => ({
    step(params, grad) {
      for (let k = 0; k < params.length; k++) params[k] -= learningRate * grad[k];
    },
  });
}

/** Adam with Keras 3's defaults (β₁ .9, β₂ .999, ε 1e-7, bias correction folded into the step size). */
export function adam(learningRate: number): (size: number) => Optimizer {
  return (size) => {
    const m = new Float64Array(size);
    const v = new Float64Array(size);
    let t = 0;
    return {
      step(params, grad) {
        t++;
        const alpha = (learningRate * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t);
        for (let k = 0; k < params.length; k++) {
          m[k] += (grad[k] - m[k]) * 0.1;
          v[k] += (grad[k] * grad[k] - v[k]) * 0.001;
          params[k] -= (alpha * m[k]) / (Math.sqrt(v[k]) + 1e-7);
        }
      },
    };
  };
}

/**
 * RProp as PyLDL's `RProp` optimiser (CPNN): a per-weight step that grows ×1.2 (to at most 50) while the
 * gradient keeps its sign and shrinks ×0.5 (to at least 1e-6) when it flips, in which case the last step
 * is undone; steps start at 1e-3.
 */
export function rprop(): (size: number) => Optimizer {
  return (size) => {
    const alpha = new Float64Array(size).fill(1e-3);
    const old = new Float64Array(size);
    const prev = new Float64Array(size);
    return {
      step(params, grad) {
        for (let k = 0; k < params.length; k++) {
          const g = grad[k];
          const prod = g * old[k];
          const a = prod > 0 ? Math.min(alpha[k] * 1.2, 50) : prod < 0 ? Math.max(alpha[k] * 0.5, 1e-6) : alpha[k];
          const delta = prod < 0 ? -prev[k] : g > 0 ? -a : g < 0 ? a : 0;
          params[k] += delta;
          alpha[k] = a;
          old[k] = prod < 0 ? 0 : g;
          prev[k] = delta;
        }
      },
    };
  };
}

/** A Keras `get_3layer_model`: Dense(hidden, sigmoid) → Dense(outputs, softmax | tanh). */
export interface ThreeLayer {
  hidden: Dense;
  output: Dense;
  activation: 'softmax' | 'tanh';
}

/** Output of {@link ThreeLayer} for `x [n, d]`; also the hidden activations for backpropagation. */
export function threeLayerForward(net: ThreeLayer, x: Matrix): { h: Matrix; out: Float64Array } {
  const h = { rows: x.rows, cols: net.hidden.outputs, data: sigmoidInPlace(denseForward(net.hidden, x)) };
  const out = denseForward(net.output, h);
  const L = net.output.outputs;
  if (net.activation === 'tanh') for (let k = 0; k < out.length; k++) out[k] = Math.tanh(out[k]);
  else {
    for (let i = 0; i < x.rows; i++) {
      const o = i * L;
      let max = -Infinity;
      for (let j = 0; j < L; j++) max = Math.max(max, out[o + j]);
      let s = 0;
      for (let j = 0; j < L; j++) s += out[o + j] = Math.exp(out[o + j] - max);
      for (let j = 0; j < L; j++) out[o + j] /= s;
    }
  }
  return { h, out };
}

/**
 * Trains a {@link ThreeLayer} full-batch (PyLDL's `BaseGD` with `batch_size=None`) on the mean squared
 * error `mean((out − target)²)` for `epochs` steps of `optimizer`.
 */
export function trainThreeLayerMse(net: ThreeLayer, x: Matrix, target: Float64Array, epochs: number, optimizer: (size: number) => Optimizer): void {
  const optHidden = optimizer(net.hidden.params.length);
  const optOutput = optimizer(net.output.params.length);
  const n = x.rows;
  const L = net.output.outputs;
  for (let e = 0; e < epochs; e++) {
    const { h, out } = threeLayerForward(net, x);
    const g = new Float64Array(n * L);
    const scale = 2 / (n * L);
    for (let k = 0; k < g.length; k++) g[k] = scale * (out[k] - target[k]);
    if (net.activation === 'tanh') for (let k = 0; k < g.length; k++) g[k] *= 1 - out[k] * out[k];
    else {
      for (let i = 0; i < n; i++) {
        const o = i * L;
        let dot = 0;
        for (let j = 0; j < L; j++) dot += g[o + j] * out[o + j];
        for (let j = 0; j < L; j++) g[o + j] = out[o + j] * (g[o + j] - dot);
      }
    }
    const gradOutput = denseGradient(net.output, h, g);
    const gh = denseInputGradient(net.output, g, n);
    for (let k = 0; k < gh.length; k++) gh[k] *= h.data[k] * (1 - h.data[k]);
    const gradHidden = denseGradient(net.hidden, x, gh);
    optOutput.step(net.output.params, gradOutput);
    optHidden.step(net.hidden.params, gradHidden);
  }
}
