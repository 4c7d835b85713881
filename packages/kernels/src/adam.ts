import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

import { sameShapeFloat32 } from './checks';
import { ADAM_UPDATE_ATTR_NAMES as ATTR_NAMES, LdlAdamUpdate, type AdamUpdateAttrs, type AdamUpdateInputs } from './ops/kernel_names';
import { allocFloat32, readFloat32 } from './wasm_module';
import { runWgsl, type WgslKernel, type WgslUniform } from './webgpu_program';

const INPUT_NAMES = ['value', 'm', 'v', 'gradient'] as const;
type Inputs = Record<keyof AdamUpdateInputs, TensorInfo>;

function checked(inputs: Partial<Inputs>, attrs: Partial<AdamUpdateAttrs>): { t: Inputs; a: AdamUpdateAttrs } {
  const fn = LdlAdamUpdate;
  const t = sameShapeFloat32(fn, inputs, INPUT_NAMES);
  for (const name of ATTR_NAMES) {
    const v = attrs[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`Error in ${fn}: attrs.${name} must be a finite number, but got ${String(v)}.`);
  }
  return { t, a: attrs as AdamUpdateAttrs };
}

/** {@link LdlAdamUpdate} for backends whose tensors live in JS or wasm memory (registered on cpu): one loop, writing the outputs in place. */
export const adamUpdateKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { t, a } = checked(inputs as Partial<Inputs>, attrs as Partial<AdamUpdateAttrs>);
  const b = backend as KernelBackend;
  const outputs = allocFloat32(b, t.value.shape, 3);
  const [x2, m2, v2] = outputs.views as [Float32Array, Float32Array, Float32Array];
  const [x, m, v, g] = INPUT_NAMES.map((name) => readFloat32(LdlAdamUpdate, b, t[name])) as ArrayLike<number>[] as [
    ArrayLike<number>,
    ArrayLike<number>,
    ArrayLike<number>,
    ArrayLike<number>,
  ];
  // Rounded to float32 after every operation, as tfjs's elementwise kernels do: the same values as its Adam.
  const f = Math.fround;
  const [lr, b1, b2, eps, c1, c2] = ATTR_NAMES.map((k) => f(a[k])) as [number, number, number, number, number, number];
  const [ob1, ob2] = [f(1 - a.beta1), f(1 - a.beta2)];
  for (let i = 0; i < x2.length; i++) {
    const gi = g[i]!;
    const mi = f(f(m[i]! * b1) + f(gi * ob1));
    const vi = f(f(v[i]! * b2) + f(f(gi * gi) * ob2));
    m2[i] = mi;
    v2[i] = vi;
    x2[i] = f(f(f(f(mi / c1) / f(f(Math.sqrt(f(vi / c2))) + eps)) * -lr) + x[i]!);
  }
  return outputs.finish();
};

/** The shaders' names of {@link ATTR_NAMES}, in that order. */
const SHADER_SCALARS = ['lr', 'b1', 'b2', 'eps', 'c1', 'c2'] as const;

/** The three webgpu shaders (value', m', v'), each reading only what it needs (an unread input would be a binding the pipeline lacks). */
function adamShader(output: 'value' | 'm' | 'v'): WgslKernel {
  const mNew = 'let mNew = m[index] * uniforms.b1 + g * (1.0 - uniforms.b1);';
  const vNew = 'let vNew = v[index] * uniforms.b2 + (g * g) * (1.0 - uniforms.b2);';
  const { inputs, lets, result } = {
    value: {
      inputs: INPUT_NAMES,
      lets: `${mNew} ${vNew}`,
      result: 'value[index] + (mNew / uniforms.c1) / (sqrt(vNew / uniforms.c2) + uniforms.eps) * (-uniforms.lr)',
    },
    m: { inputs: ['m', 'gradient'], lets: mNew, result: 'mNew' },
    v: { inputs: ['v', 'gradient'], lets: vNew, result: 'vNew' },
  }[output];
  return {
    name: `adam_update_${output}`,
    inputs,
    uniforms: [...SHADER_SCALARS.map((name): WgslUniform => ({ name, type: 'f32' })), { name: 'count', type: 'i32' }],
    workgroupSize: 256,
    body: `
  fn main(index : i32) {
    if (index >= uniforms.count) { return; }
    let g = gradient[index];
    ${lets}
    setOutputAtIndex(index, ${result});
  }`,
  };
}

const ADAM_SHADERS = [adamShader('value'), adamShader('m'), adamShader('v')] as const;

/** {@link LdlAdamUpdate} on webgpu: three elementwise dispatches, the scalars as uniforms (no uploads). */
export const adamUpdateWebGpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const { t, a } = checked(inputs as Partial<Inputs>, attrs as Partial<AdamUpdateAttrs>);
  const shape = t.value.shape;
  const n = shape.reduce((p, q) => p * q, 1);
  const values = [...ATTR_NAMES.map((k) => a[k]), n];
  return ADAM_SHADERS.map((k) => runWgsl(backend as KernelBackend, k, k.inputs.map((name) => t[name as keyof Inputs]), shape, n, values));
};
