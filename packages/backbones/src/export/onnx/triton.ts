/**
 * NVIDIA Triton Inference Server model repositories for exported ONNX models: `config.pbtxt` (platform
 * `onnxruntime_onnx`, the model's inputs and outputs, dynamic batching) and `<version>/model.onnx`.
 * Source: Triton's model configuration guide (docs/user_guide/model_configuration.md) and model_config.proto.
 */
import { readOnnxModel } from './proto.js';

// Node's fs is imported lazily so that browser bundles of this entry do not pull it in.
const fs = () => import('node:fs/promises');
const path = () => import('node:path');
const writeFileAtomic = async () => (await import('write-file-atomic')).default;

/** Options of {@link tritonConfig} and {@link writeTritonRepository}. */
export interface TritonOptions {
  /** Largest batch Triton forms (`max_batch_size`); the model's first dimension is the batch. @default 64 */
  maxBatchSize?: number;
  /** Batch sizes the dynamic batcher prefers (`preferred_batch_size`). @default [] (Triton's default) */
  preferredBatchSizes?: number[];
  /** How long a request may wait for others to batch with, microseconds (`max_queue_delay_microseconds`). @default 0 */
  maxQueueDelayMicroseconds?: number;
  /** Where instances run (`instance_group`): `'gpu'`, `'cpu'`, or `'auto'` (no `instance_group`: Triton's default, one per GPU, else CPU). @default 'auto' */
  instanceKind?: 'auto' | 'cpu' | 'gpu';
  /** Instances per device (`instance_group.count`; ignored with `'auto'`). @default 1 */
  instanceCount?: number;
  /** Version folder of the model. @default 1 */
  version?: number;
}

const positiveInteger = (fn: string, name: string, v: number) => {
  if (!Number.isInteger(v) || v < 1) throw new Error(`Error in ${fn}: ${name} must be a positive integer, but got ${v}.`);
};

/** A model name Triton takes as a repository folder. */
function checkName(fn: string, name: string): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === '.' || name === '..') {
    throw new Error(`Error in ${fn}: name must be a folder name of letters, digits, '_', '.' and '-', but got ${JSON.stringify(name)}.`);
  }
}

/**
 * The `config.pbtxt` (protobuf text format of Triton's `ModelConfig`) of an exported ONNX model: platform
 * `onnxruntime_onnx`, `max_batch_size`, every input and output with `TYPE_FP32` and its dims without the
 * batch dimension, and `dynamic_batching`.
 * @param name the model's name (its repository folder).
 * @param onnx the `.onnx` bytes ({@link exportOnnx}); its first dimension must be the dynamic batch.
 * @throws Error for a bad name or option, or a model whose inputs/outputs are not batched or have other
 * dynamic dimensions.
 */
export function tritonConfig(name: string, onnx: Uint8Array, options: TritonOptions = {}): string {
  const fn = 'tritonConfig';
  const { maxBatchSize = 64, preferredBatchSizes = [], maxQueueDelayMicroseconds = 0, instanceKind = 'auto', instanceCount = 1 } = options;
  checkName(fn, name);
  positiveInteger(fn, 'maxBatchSize', maxBatchSize);
  positiveInteger(fn, 'instanceCount', instanceCount);
  preferredBatchSizes.forEach((b) => positiveInteger(fn, 'preferredBatchSizes[i]', b));
  if (preferredBatchSizes.some((b) => b > maxBatchSize)) throw new Error(`Error in ${fn}: preferredBatchSizes must be at most maxBatchSize = ${maxBatchSize}, but got [${preferredBatchSizes.join(', ')}].`);
  if (!Number.isInteger(maxQueueDelayMicroseconds) || maxQueueDelayMicroseconds < 0) {
    throw new Error(`Error in ${fn}: maxQueueDelayMicroseconds must be a non-negative integer, but got ${maxQueueDelayMicroseconds}.`);
  }
  if (!['auto', 'cpu', 'gpu'].includes(instanceKind)) throw new Error(`Error in ${fn}: instanceKind must be 'auto', 'cpu' or 'gpu', but got ${JSON.stringify(instanceKind)}.`);
  const info = readOnnxModel(onnx);
  const tensor = (v: { name: string; shape: (number | string)[] }) => {
    const [batch, ...rest] = v.shape;
    if (typeof batch !== 'string' || rest.some((d) => typeof d !== 'number')) {
      throw new Error(`Error in ${fn}: '${v.name}' must have a dynamic batch dimension and fixed other dimensions, but its shape is [${v.shape.join(', ')}].`);
    }
    return `  {\n    name: ${JSON.stringify(v.name)}\n    data_type: TYPE_FP32\n    dims: [ ${rest.join(', ')} ]\n  }`;
  };
  const lines = [
    `name: ${JSON.stringify(name)}`,
    'platform: "onnxruntime_onnx"',
    `max_batch_size: ${maxBatchSize}`,
    `input [\n${info.inputs.map(tensor).join(',\n')}\n]`,
    `output [\n${info.outputs.map(tensor).join(',\n')}\n]`,
    `dynamic_batching {\n${preferredBatchSizes.length ? `  preferred_batch_size: [ ${preferredBatchSizes.join(', ')} ]\n` : ''}  max_queue_delay_microseconds: ${maxQueueDelayMicroseconds}\n}`,
  ];
  if (instanceKind !== 'auto') lines.push(`instance_group [\n  {\n    count: ${instanceCount}\n    kind: ${instanceKind === 'gpu' ? 'KIND_GPU' : 'KIND_CPU'}\n  }\n]`);
  return `${lines.join('\n')}\n`;
}

/** Files written by {@link writeTritonRepository}. */
export interface TritonRepositoryFiles {
  /** `dir/name/config.pbtxt`. */
  config: string;
  /** `dir/name/<version>/model.onnx`. */
  model: string;
}

/**
 * Writes a Triton model repository entry: `dir/name/config.pbtxt` ({@link tritonConfig}) and
 * `dir/name/<version>/model.onnx`, each written to a temporary name and renamed (the model first). Serve
 * with `tritonserver --model-repository=dir`. Node.js only.
 * @param dir the model repository (created if absent; other models in it are left alone).
 * @param name the model's folder and Triton name.
 * @param onnx the `.onnx` bytes ({@link exportOnnx}).
 * @throws Error as {@link tritonConfig}, or when a file cannot be written.
 */
export async function writeTritonRepository(dir: string, name: string, onnx: Uint8Array, options: TritonOptions = {}): Promise<TritonRepositoryFiles> {
  const config = tritonConfig(name, onnx, options);
  const version = options.version ?? 1;
  positiveInteger('writeTritonRepository', 'version', version);
  const { mkdir } = await fs();
  const { join } = await path();
  const writeAtomic = await writeFileAtomic();
  const modelDir = join(dir, name, String(version));
  await mkdir(modelDir, { recursive: true });
  const files = { config: join(dir, name, 'config.pbtxt'), model: join(modelDir, 'model.onnx') };
  await writeAtomic(files.model, Buffer.from(onnx.buffer, onnx.byteOffset, onnx.byteLength));
  await writeAtomic(files.config, config);
  return files;
}
