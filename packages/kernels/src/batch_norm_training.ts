import { engine, type GradConfig, type KernelBackend, type KernelFunc, type NamedAttrMap, type Tensor, type TensorInfo } from '@tensorflow/tfjs-core';

import { callWasm, readFloat32, writeFloat32 } from './wasm_module';

/**
 * Kernel name of training-mode batch normalisation over every axis but the last (NHWC):
 * inputs `{ x: [..., C], gamma: [C], beta: [C] }`, attrs `{ epsilon }`, outputs
 * `[y (x's shape), mean [C], variance [C]]` with the batch mean and the biased batch variance (as
 * tfjs-layers' `BatchNormalization`), `y = γ·(x − mean)/√(variance + ε) + β`.
 *
 * `@ldl/backbones` runs it, where the backend registers it, instead of `tf.moments` + `tf.batchNorm`:
 * 2 passes over `x` forward and 2 backward instead of ~20 full-size ops.
 */
export const LdlBatchNormTraining = 'LdlBatchNormTraining';

/**
 * Kernel name of the gradient of {@link LdlBatchNormTraining}: inputs `{ x, dy, gamma, mean, variance,
 * dmean, dvariance }`, attrs `{ epsilon }`, outputs `[dx, dgamma, dbeta]` — the total derivative,
 * the batch statistics being functions of `x`.
 */
export const LdlBatchNormTrainingGrad = 'LdlBatchNormTrainingGrad';

interface BatchNormTrainingAttrs {
  epsilon: number;
}

/** Rows `m` (the product of all axes but the last) and channels `c` of `x`, checking `vectors` are `[c]`. */
export function channels(fn: string, x: TensorInfo, vectors: Record<string, TensorInfo>): { m: number; c: number } {
  const c = x.shape[x.shape.length - 1] ?? 0;
  if (x.shape.length < 2 || c < 1) throw new Error(`Error in ${fn}: x must have rank >= 2 and channels last, but got shape [${x.shape.join(', ')}].`);
  for (const [name, v] of Object.entries(vectors)) {
    if (v.shape.length !== 1 || v.shape[0] !== c) throw new Error(`Error in ${fn}: ${name} must have shape [${c}], but got [${v.shape.join(', ')}].`);
  }
  const size = x.shape.reduce((a, b) => a * b, 1);
  return { m: size / c, c };
}

/** `attrs.epsilon`, checked. */
export function epsilonOf(fn: string, attrs: NamedAttrMap | undefined): number {
  const { epsilon } = (attrs ?? {}) as unknown as Partial<BatchNormTrainingAttrs>;
  if (typeof epsilon !== 'number' || !(epsilon >= 0)) throw new Error(`Error in ${fn}: attrs.epsilon must be a number >= 0, but got ${String(epsilon)}.`);
  return epsilon;
}

/** {@link LdlBatchNormTraining} on a backend whose tensors live in JS or wasm memory (wasm, cpu): the SIMD module. */
export const batchNormTrainingKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const fn = LdlBatchNormTraining;
  const b = backend as KernelBackend;
  const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  const { m, c } = channels(fn, x, { gamma, beta });
  const eps = epsilonOf(fn, attrs);
  const [y, mean, variance] = callWasm(
    { inputs: [readFloat32(fn, b, x), readFloat32(fn, b, gamma), readFloat32(fn, b, beta)], outputs: [m * c, c, c, 3 * c] },
    (w, at) => {
      const [px, pg, pb] = at.inputs as [number, number, number];
      const [py, pm, pv, scratch] = at.outputs as [number, number, number, number];
      w.batch_norm_training(px, m, c, pg, pb, eps, py, pm, pv, scratch);
    },
  );
  return [writeFloat32(b, x.shape, y!), writeFloat32(b, [c], mean!), writeFloat32(b, [c], variance!)];
};

/** The inputs of {@link LdlBatchNormTrainingGrad}. */
export type BatchNormTrainingGradInputs = Record<'x' | 'dy' | 'gamma' | 'mean' | 'variance' | 'dmean' | 'dvariance', TensorInfo>;

/** {@link channels} of a {@link LdlBatchNormTrainingGrad} call, also checking that `dy` has `x`'s shape. */
export function gradChannels(fn: string, t: BatchNormTrainingGradInputs): { m: number; c: number } {
  const dims = channels(fn, t.x, { gamma: t.gamma, mean: t.mean, variance: t.variance, dmean: t.dmean, dvariance: t.dvariance });
  if (t.dy.shape.join() !== t.x.shape.join()) {
    throw new Error(`Error in ${fn}: dy must have x's shape [${t.x.shape.join(', ')}], but got [${t.dy.shape.join(', ')}].`);
  }
  return dims;
}

/** {@link LdlBatchNormTrainingGrad} for wasm and cpu (the SIMD module). */
export const batchNormTrainingGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const fn = LdlBatchNormTrainingGrad;
  const b = backend as KernelBackend;
  const t = inputs as BatchNormTrainingGradInputs;
  const { m, c } = gradChannels(fn, t);
  const eps = epsilonOf(fn, attrs);
  const read = (name: keyof typeof t) => readFloat32(fn, b, t[name]);
  const [dx, dgamma, dbeta] = callWasm(
    {
      inputs: [read('x'), read('dy'), read('gamma'), read('mean'), read('variance'), read('dmean'), read('dvariance')],
      outputs: [m * c, c, c, 3 * c],
    },
    (w, at) => {
      const [px, pdy, pg, pm, pv, pdm, pdv] = at.inputs as [number, number, number, number, number, number, number];
      const [pdx, pdg, pdb, scratch] = at.outputs as [number, number, number, number];
      w.batch_norm_training_grad(px, pdy, m, c, pg, pm, pv, eps, pdm, pdv, pdx, pdg, pdb, scratch);
    },
  );
  return [writeFloat32(b, t.x.shape, dx!), writeFloat32(b, [c], dgamma!), writeFloat32(b, [c], dbeta!)];
};

/**
 * Gradient of {@link LdlBatchNormTraining}: one {@link LdlBatchNormTrainingGrad} kernel call, with
 * the gradients reaching the `mean` and `variance` outputs included (zeros where they feed nothing,
 * e.g. only the moving averages).
 */
export const batchNormTrainingGradConfig: GradConfig = {
  kernelName: LdlBatchNormTraining,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [dy, dmean, dvariance] = dys as [Tensor, Tensor, Tensor];
    const [x, gamma, mean, variance] = saved as [Tensor, Tensor, Tensor, Tensor];
    const [dx, dgamma, dbeta] = engine().runKernel(
      LdlBatchNormTrainingGrad,
      { x, dy, gamma, mean, variance, dmean, dvariance },
      attrs,
    ) as Tensor[];
    return { x: () => dx as Tensor, gamma: () => dgamma as Tensor, beta: () => dbeta as Tensor };
  },
};
