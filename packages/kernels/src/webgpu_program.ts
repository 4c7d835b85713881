import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

/** A uniform of a {@link WgslKernel}: a WGSL `i32`, `f32` or `vec4<i32>` field of `uniforms`. */
export interface WgslUniform {
  name: string;
  type: 'i32' | 'f32' | 'vec4<i32>';
}

/**
 * A compute shader run through tfjs-backend-webgpu's own program runner (its buffers, uniforms,
 * pipeline cache and command batching), described without importing that package.
 *
 * The body defines `fn main(index : i32)`, called once per invocation with the flat invocation index
 * (`0 .. invocations-1`; the runner reshapes dispatches that exceed the per-dimension limit). Inputs
 * are `array<f32>` storage buffers named as in `inputs`; the output is written with
 * `setOutputAtIndex(i, value)`; uniforms read `uniforms.<name>`. With `workgroupSize` threads a
 * workgroup, `index / workgroupSize` is the workgroup and `index % workgroupSize` the lane.
 */
export interface WgslKernel {
  /** Unique per shader source (the pipeline cache key, with the input ranks). */
  name: string;
  inputs: readonly string[];
  uniforms: readonly WgslUniform[];
  /** @default 64 */
  workgroupSize?: number;
  body: string;
}

/** The fields of tfjs-backend-webgpu's `WebGPUProgram` these kernels set. */
interface WebGpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms: string;
  getUserCode: () => string;
}

interface ProgramUniform {
  type: 'int32' | 'float32';
  data: number[];
}

interface WebGpuBackend extends KernelBackend {
  runWebGPUProgram(program: WebGpuProgram, inputs: TensorInfo[], outputDtype: 'float32', uniforms?: ProgramUniform[]): TensorInfo;
}

function asWebGpu(fn: string, backend: KernelBackend): WebGpuBackend {
  if (typeof (backend as Partial<WebGpuBackend>).runWebGPUProgram !== 'function') {
    throw new Error(`Error in ${fn}: backend must be tfjs-backend-webgpu's, but got one without runWebGPUProgram.`);
  }
  return backend as WebGpuBackend;
}

const checkedKernels = new WeakSet<WgslKernel>();

/**
 * Every input must be read by the body: the pipeline's layout (`'auto'`) leaves out unread storage
 * buffers, and binding one anyway fails validation at submit — in Dawn a printed warning and zeros,
 * not an exception.
 */
function checkBindings(kernel: WgslKernel): void {
  if (checkedKernels.has(kernel)) return;
  for (const name of kernel.inputs) {
    if (!new RegExp(`\\b${name}\\[`).test(kernel.body)) {
      throw new Error(`Error in ${kernel.name}: every input must be read by the shader, but ${name} is not.`);
    }
  }
  checkedKernels.add(kernel);
}

/**
 * Runs `kernel` with `invocations` threads on `inputs`, producing a float32 tensor of `outputShape`;
 * `values` are the uniforms' values in the order of `kernel.uniforms` (4 numbers for a `vec4<i32>`).
 */
export function runWgsl(
  backend: KernelBackend,
  kernel: WgslKernel,
  inputs: TensorInfo[],
  outputShape: number[],
  invocations: number,
  values: readonly (number | readonly number[])[],
): TensorInfo {
  const wg = kernel.workgroupSize ?? 64;
  checkBindings(kernel);
  if (inputs.length !== kernel.inputs.length || values.length !== kernel.uniforms.length) {
    throw new Error(
      `Error in ${kernel.name}: expected ${kernel.inputs.length} inputs and ${kernel.uniforms.length} uniforms, but got ${inputs.length} and ${values.length}.`,
    );
  }
  const program: WebGpuProgram = {
    variableNames: [...kernel.inputs],
    outputShape,
    shaderKey: `ldl_${kernel.name}`,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.max(1, Math.ceil(invocations / wg)), 1, 1],
    workgroupSize: [wg, 1, 1],
    uniforms: kernel.uniforms.map((u) => `${u.name} : ${u.type},`).join(' '),
    getUserCode: () => kernel.body,
  };
  const uniforms = kernel.uniforms.map((u, i): ProgramUniform => {
    const v = values[i]!;
    return { type: u.type === 'f32' ? 'float32' : 'int32', data: typeof v === 'number' ? [v] : [...v] };
  });
  return asWebGpu(kernel.name, backend).runWebGPUProgram(program, inputs, 'float32', uniforms);
}
