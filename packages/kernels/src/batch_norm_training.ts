import type { KernelBackend, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

import { LdlBatchNormTraining, LdlBatchNormTrainingGrad, type BatchNormTrainingAttrs, type BatchNormTrainingGradInputs } from './ops/kernel_names';
import { callWasm, readFloat32, writeFloat32 } from './wasm_module';

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

/** The inputs of {@link LdlBatchNormTrainingGrad}, all present. */
export type BatchNormTrainingGradTensors = Record<keyof BatchNormTrainingGradInputs, TensorInfo>;

/** {@link channels} of a {@link LdlBatchNormTrainingGrad} call, also checking that `dy` has `x`'s shape. */
export function gradChannels(fn: string, t: BatchNormTrainingGradTensors): { m: number; c: number } {
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
  const t = inputs as BatchNormTrainingGradTensors;
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
