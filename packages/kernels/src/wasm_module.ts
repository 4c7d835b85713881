import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

import { LDL_KERNELS_WASM_BASE64 } from './ldl_kernels_wasm';

/** Exports of the WebAssembly module built from `wasm/ldl_kernels.c` (addresses are byte offsets in `memory`). */
export interface LdlKernelsWasm {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  grouped_conv_forward(geometry: number, x: number, f: number, y: number): void;
  grouped_conv_backprop_input(geometry: number, dy: number, f: number, dx: number, scratch: number): void;
  grouped_conv_backprop_filter(geometry: number, x: number, dy: number, df: number): void;
  batch_norm_training(x: number, m: number, c: number, gamma: number, beta: number, eps: number, y: number, mean: number, variance: number, scratch: number): void;
  batch_norm_training_grad(
    x: number, dy: number, m: number, c: number, gamma: number, mean: number, variance: number, eps: number,
    dmean: number, dvariance: number, dx: number, dgamma: number, dbeta: number, scratch: number,
  ): void;
}

let instance: LdlKernelsWasm | undefined;

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const bytes = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** The module, compiled and instantiated on first use (synchronously: it is ~19 KB). */
function wasmModule(): LdlKernelsWasm {
  if (instance == null) {
    const compiled = new WebAssembly.Module(decodeBase64(LDL_KERNELS_WASM_BASE64));
    instance = new WebAssembly.Instance(compiled, {}).exports as unknown as LdlKernelsWasm;
  }
  return instance;
}

/** Buffers of one call: int32 values (a C struct), float32 inputs copied in, float32 outputs (lengths). */
export interface WasmCall {
  ints?: readonly number[];
  inputs: readonly ArrayLike<number>[];
  outputs: readonly number[];
}

/** Addresses handed to the body of {@link callWasm}: the ints block, inputs then outputs. */
export interface WasmAddresses {
  ints: number;
  inputs: number[];
  outputs: number[];
}

/**
 * Lays `call`'s buffers out after the module's stack and static data (16-byte aligned), grows its
 * memory to fit, copies the ints and inputs in, runs `body`, and returns views of the outputs in
 * the module's memory — valid until the next call (copy them to keep them). Single-threaded: the
 * buffers of one call are reused by the next.
 */
export function callWasm(call: WasmCall, body: (m: LdlKernelsWasm, at: WasmAddresses) => void): Float32Array[] {
  const m = wasmModule();
  const align = (v: number) => Math.ceil(v / 16) * 16;
  let end = align(m.__heap_base.value as number);
  const reserve = (bytes: number) => {
    const p = end;
    end += align(bytes);
    return p;
  };
  const ints = reserve((call.ints?.length ?? 0) * 4);
  const inputs = call.inputs.map((a) => reserve(a.length * 4));
  const outputs = call.outputs.map((len) => reserve(len * 4));
  const missing = end - m.memory.buffer.byteLength;
  if (missing > 0) m.memory.grow(Math.ceil(missing / 65536));
  if (call.ints != null) new Int32Array(m.memory.buffer, ints, call.ints.length).set(call.ints);
  call.inputs.forEach((a, i) => new Float32Array(m.memory.buffer, inputs[i], a.length).set(a));
  body(m, { ints, inputs, outputs });
  return call.outputs.map((len, i) => new Float32Array(m.memory.buffer, outputs[i], len));
}

/** The wasm backend's own tensor memory: views of its heap (no copy) and outputs allocated there. */
interface HeapBackend {
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

function isHeapBackend(b: KernelBackend): b is KernelBackend & HeapBackend {
  const h = b as Partial<HeapBackend>;
  return typeof h.typedArrayFromHeap === 'function' && typeof h.makeOutput === 'function';
}

/** The float32 values of `t` (a view of the wasm heap there; the backing array on cpu). */
export function readFloat32(fn: string, backend: KernelBackend, t: TensorInfo): ArrayLike<number> {
  if (t.dtype !== 'float32') throw new Error(`Error in ${fn}: inputs must be float32, but got ${t.dtype}.`);
  return isHeapBackend(backend) ? backend.typedArrayFromHeap(t) : (backend.readSync(t.dataId) as Float32Array);
}

/**
 * New float32 outputs of `shape` to be filled in place: on wasm views of their heap memory (allocate
 * them before taking views of the inputs — allocating may grow the heap and detach older views), on
 * cpu fresh arrays the backend then takes over. `finish()` returns the tensors.
 */
export function allocFloat32(backend: KernelBackend, shape: number[], count: number): { views: Float32Array[]; finish: () => TensorInfo[] } {
  if (isHeapBackend(backend)) {
    const outs = Array.from({ length: count }, () => backend.makeOutput(shape, 'float32'));
    return { views: outs.map((o) => backend.typedArrayFromHeap(o)), finish: () => outs };
  }
  const size = shape.reduce((a, b) => a * b, 1);
  const views = Array.from({ length: count }, () => new Float32Array(size));
  return { views, finish: () => views.map((v) => ({ dataId: backend.write(v, shape, 'float32'), shape, dtype: 'float32' as const })) };
}

/** A new float32 tensor of `backend` holding a copy of `values` (e.g. a view {@link callWasm} returned). */
export function writeFloat32(backend: KernelBackend, shape: number[], values: Float32Array): TensorInfo {
  const out = allocFloat32(backend, shape, 1);
  out.views[0]!.set(values);
  return out.finish()[0]!;
}
