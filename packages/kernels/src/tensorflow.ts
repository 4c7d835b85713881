import {
  add,
  dispose,
  engine,
  mul,
  reshape,
  scalar,
  sub,
  tensor,
  tidy,
  type KernelBackend,
  type KernelFunc,
  type Tensor,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

import { epsilonOf } from './batch_norm_training';
import { LdlBatchNormTraining, LdlBatchNormTrainingGrad } from './ops/kernel_names';

/** An attribute of a TensorFlow op as tfjs-node's binding takes it. */
interface TfOpAttr {
  name: string;
  type: number;
  value: number | boolean | string;
}

/**
 * What these kernels use of tfjs-node's `NodeJSKernelBackend` (structurally: tfjs-node is not a
 * dependency): its TensorFlow C binding's constants and eager execution of any TensorFlow op.
 */
interface TensorflowBackend {
  binding: { TF_ATTR_TYPE: number; TF_ATTR_FLOAT: number; TF_ATTR_BOOL: number; TF_ATTR_STRING: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: TfOpAttr[], inputs: TensorInfo[]): Tensor;
  executeMultipleOutputs(name: string, attrs: TfOpAttr[], inputs: TensorInfo[], numOutputs: number): Tensor[];
}

function tensorflowBackend(fn: string, backend: unknown): TensorflowBackend {
  const b = backend as Partial<TensorflowBackend>;
  if (typeof b.executeMultipleOutputs !== 'function' || b.binding == null) {
    throw new Error(`Error in ${fn}: backend must be tfjs-node's 'tensorflow' backend, but got one without executeMultipleOutputs.`);
  }
  return b as TensorflowBackend;
}

function batchNormAttrs(b: TensorflowBackend, epsilon: number, extra: TfOpAttr[] = []): TfOpAttr[] {
  const { binding } = b;
  return [
    { name: 'T', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
    { name: 'U', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
    { name: 'epsilon', type: binding.TF_ATTR_FLOAT, value: epsilon },
    { name: 'data_format', type: binding.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'is_training', type: binding.TF_ATTR_BOOL, value: true },
    ...extra,
  ];
}

/**
 * A kernel input as a Tensor to run ops on, holding its own reference to the data (freed with it,
 * e.g. by the enclosing `tidy`, while the caller's tensor stays valid).
 */
function asTensor(backend: KernelBackend, info: TensorInfo): Tensor {
  backend.incRef(info.dataId);
  return engine().makeTensorFromTensorInfo(info);
}

/** `[..., C]` as the `[1, 1, M, C]` NHWC tensor TensorFlow's fused batch-norm ops take. */
function asNHWC(backend: KernelBackend, x: TensorInfo): { x4: Tensor; m: number; c: number } {
  const c = x.shape[x.shape.length - 1] as number;
  const m = x.shape.reduce((a, b) => a * b, 1) / c;
  return { x4: reshape(asTensor(backend, x), [1, 1, m, c]), m, c };
}

/**
 * `LdlBatchNormTraining` on tfjs-node: TensorFlow's `FusedBatchNormV3` in training mode (one op for
 * the statistics and the normalisation). Its `batch_variance` output is Bessel-corrected; the
 * kernel's contract (tfjs-layers') is the biased variance, so it is scaled by `(m − 1)/m`.
 */
export const batchNormTrainingTensorflow: KernelFunc = ({ inputs, backend, attrs }) => {
  const fn = LdlBatchNormTraining;
  const b = tensorflowBackend(fn, backend);
  const epsilon = epsilonOf(fn, attrs);
  const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  return tidy(() => {
    const { x4, m } = asNHWC(backend as KernelBackend, x);
    const empty = tensor([], [0]);
    const exponentialAvgFactor = { name: 'exponential_avg_factor', type: b.binding.TF_ATTR_FLOAT, value: 1 };
    const outs = b.executeMultipleOutputs('FusedBatchNormV3', batchNormAttrs(b, epsilon, [exponentialAvgFactor]), [x4, gamma, beta, empty, empty], 6);
    const [y, mean, unbiased] = outs as [Tensor, Tensor, Tensor];
    const variance = mul(unbiased, scalar(m > 1 ? (m - 1) / m : 0));
    return [reshape(y, x.shape), mean, variance];
  }) as TensorInfo[];
};

/**
 * `LdlBatchNormTrainingGrad` on tfjs-node: TensorFlow's `FusedBatchNormGradV3` in training mode (the
 * total derivative through the batch statistics), plus the terms of gradients that reach the
 * `mean` / `variance` outputs themselves where those are not zero (read back: `[C]` values).
 */
export const batchNormTrainingGradTensorflow: KernelFunc = ({ inputs, backend, attrs }) => {
  const fn = LdlBatchNormTrainingGrad;
  const b = tensorflowBackend(fn, backend);
  const epsilon = epsilonOf(fn, attrs);
  const t = inputs as Record<'x' | 'dy' | 'gamma' | 'mean' | 'variance' | 'dmean' | 'dvariance', TensorInfo>;
  const k = (info: TensorInfo) => asTensor(backend as KernelBackend, info);
  const nonzero = (info: TensorInfo) => (k(info).dataSync() as Float32Array).some((v) => v !== 0);
  return tidy(() => {
    const { x4, m } = asNHWC(backend as KernelBackend, t.x);
    const dy4 = reshape(k(t.dy), x4.shape);
    const outs = b.executeMultipleOutputs('FusedBatchNormGradV3', batchNormAttrs(b, epsilon), [dy4, x4, t.gamma, t.mean, t.variance, tensor([], [0])], 5);
    const [dx4, dgamma, dbeta] = outs as [Tensor, Tensor, Tensor];
    let dx: Tensor = reshape(dx4, t.x.shape);
    // d mean/dx = 1/m; d variance/dx = 2(x − mean)/m.
    if (nonzero(t.dmean)) dx = add(dx, mul(k(t.dmean), scalar(1 / m)));
    if (nonzero(t.dvariance)) dx = add(dx, mul(sub(k(t.x), k(t.mean)), mul(k(t.dvariance), scalar(2 / m))));
    return [dx, dgamma, dbeta];
  }) as TensorInfo[];
};

/**
 * `Step` on tfjs-node where `alpha` is 0 (the ReLU gradient's mask): `Sign(Relu(x))`, two TensorFlow
 * ops (NaN stays NaN), instead of the stock kernel's seven (`isNaN`, `greater`, `ones`, `fill`,
 * `where`, `Select`, …); any other `alpha` goes to the stock kernel.
 */
export function stepTensorflow(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { alpha } = args.attrs as { alpha?: number };
    const { x } = args.inputs as { x: TensorInfo };
    if ((alpha ?? 0) !== 0 || x.dtype !== 'float32') return stock(args);
    const b = tensorflowBackend('Step', args.backend);
    const type = [{ name: 'T', type: b.binding.TF_ATTR_TYPE, value: b.binding.TF_FLOAT }];
    const relu = b.executeSingleOutput('Relu', type, [x]);
    const out = b.executeSingleOutput('Sign', type, [relu]);
    dispose(relu);
    return out;
  };
}
