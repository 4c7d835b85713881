import type { KernelBackend, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

import { sameShapeFloat32 } from './checks';
import { LdlMovingAverage } from './ops/kernel_names';
import { allocFloat32, readFloat32 } from './wasm_module';
import { runWgsl, type WgslKernel } from './webgpu_program';

function checked(inputs: Partial<Record<'average' | 'value', TensorInfo>>, attrs: NamedAttrMap | undefined): { average: TensorInfo; value: TensorInfo; momentum: number } {
  const fn = LdlMovingAverage;
  const { average, value } = sameShapeFloat32(fn, inputs, ['average', 'value']);
  const { momentum } = (attrs ?? {}) as { momentum?: unknown };
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) {
    throw new Error(`Error in ${fn}: attrs.momentum must be a number in [0, 1], but got ${String(momentum)}.`);
  }
  return { average, value, momentum };
}

/** {@link LdlMovingAverage} on cpu and wasm: one loop. */
export const movingAverageKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { average, value, momentum } = checked(inputs, attrs);
  const b = backend as KernelBackend;
  const out = allocFloat32(b, average.shape, 1);
  const [y] = out.views as [Float32Array];
  const a = readFloat32(LdlMovingAverage, b, average);
  const v = readFloat32(LdlMovingAverage, b, value);
  const f = Math.fround;
  const w = f(1 - momentum);
  for (let i = 0; i < y.length; i++) y[i] = f(a[i]! - f(f(a[i]! - v[i]!) * w));
  return out.finish()[0]!;
};

const SHADER: WgslKernel = {
  name: 'moving_average',
  inputs: ['average', 'value'],
  uniforms: [
    { name: 'w', type: 'f32' },
    { name: 'count', type: 'i32' },
  ],
  body: `
  fn main(index : i32) {
    if (index >= uniforms.count) { return; }
    let a = average[index];
    setOutputAtIndex(index, a - (a - value[index]) * uniforms.w);
  }`,
};

/** {@link LdlMovingAverage} on webgpu: one elementwise shader, `1 − momentum` as a uniform. */
export const movingAverageWebGpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const { average, value, momentum } = checked(inputs, attrs);
  const n = average.shape.reduce((p, q) => p * q, 1);
  return runWgsl(backend as KernelBackend, SHADER, [average, value], average.shape, n, [Math.fround(1 - momentum), n]);
};
