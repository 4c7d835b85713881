/**
 * Inference speed of one model exported with `exportOnnx`, in onnxruntime-node (CPU) against tfjs on the same
 * batch: tfjs-backend-wasm (multi-threaded SIMD build, @ldl/kernels' fast kernels) and, where `LDL_TFJS_NODE`
 * names a built @tensorflow/tfjs-node (or it resolves), tfjs-node. Both runtimes get the same thread count.
 * One `RESULT …` line per runtime (median of `--repeats` forwards after one warm-up), then the ratios
 * against wasm, and each runtime's max |Δ| against onnxruntime's outputs.
 *
 *   pnpm --filter @ldl/backbones exec tsx bench/onnx-inference.ts [--model seresnext50_32x4d --size 112 --batch 16 --repeats 3 --threads 2]
 *
 * Random weights (the arithmetic is that of trained ones): `--model` is any backbone name (`backbones`).
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { enableFastKernels, enableWasmThreads } from '@ldl/kernels';
import { backbones, type BackboneName } from '../src/index';
import { exportOnnx } from '../src/export/onnx/index';
import { loadBackend } from './backends';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'seresnext50_32x4d' },
    size: { type: 'string', default: '112' },
    batch: { type: 'string', default: '16' },
    repeats: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
  },
});
const fail = (msg: string): never => {
  throw new Error(`Error in bench/onnx-inference: ${msg}`);
};
const name = values.model as BackboneName;
if (!(name in backbones)) fail(`--model must be one of ${Object.keys(backbones).join(', ')}, but got '${name}'.`);
const [size, batch, repeats, threads] = [values.size, values.batch, values.repeats, values.threads].map(Number) as [number, number, number, number];
for (const [flag, v] of [['size', size], ['batch', batch], ['repeats', repeats], ['threads', threads]] as const) {
  if (!Number.isInteger(v) || v < 1) fail(`--${flag} must be a positive integer, but got ${v}.`);
}

/** Median milliseconds of `repeats` calls after one warm-up. */
async function time(run: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i <= repeats; i++) {
    const t0 = performance.now();
    await run();
    if (i > 0) times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

const tag = `model=${name} input=${size}x${size}x3 batch=${batch} threads=${threads} repeats=${repeats}`;
const result = (runtime: string, ms: number, extra = '') =>
  console.log(`RESULT bench=onnx-inference runtime=${runtime} ${tag} img_per_s=${((batch * 1000) / ms).toFixed(2)} ms_per_batch=${ms.toFixed(1)}${extra}`);

await tf.setBackend('cpu');
const model = backbones[name]({ inputShape: [size, size, 3], numClasses: 101 });
const onnx = exportOnnx(model);
const x = tf.randomUniform([batch, size, size, 3], -1, 1, 'float32', 1);
const pixels = x.dataSync() as Float32Array;

const session = await ort.InferenceSession.create(onnx, { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
const feed = { [session.inputNames[0]!]: new ort.Tensor('float32', pixels, [batch, size, size, 3]) };
let reference: Float32Array = new Float32Array();
const ortMs = await time(async () => {
  const out = await session.run(feed);
  reference = out[session.outputNames[0]!]!.data as Float32Array;
});
result('onnxruntime-node', ortMs, ` ort=${ort.env.versions.common} onnx_mb=${(onnx.byteLength / 2 ** 20).toFixed(1)}`);

const runtimes: [string, string][] = [['wasm', 'tfjs-wasm']];
if (process.env.LDL_TFJS_NODE) {
  const why = await loadBackend('tensorflow');
  if (why) console.error(`bench/onnx-inference: LDL_TFJS_NODE is set but tfjs-node ${why}; skipping it.`);
  else runtimes.push(['tensorflow', 'tfjs-node']);
}
if (threads > 1) enableWasmThreads({ threads });
for (const [backend, runtime] of runtimes) {
  if (!(await tf.setBackend(backend))) fail(`tf.setBackend('${backend}') failed (its error is logged above).`);
  enableFastKernels({ backends: backend === 'wasm' ? ['wasm'] : ['tensorflow'] });
  const xb = tf.tensor(pixels, x.shape);
  let y: Float32Array = new Float32Array();
  const ms = await time(async () => {
    const out = model.predict(xb) as tf.Tensor;
    y = (await out.data()) as Float32Array;
    out.dispose();
  });
  let diff = 0;
  for (let i = 0; i < y.length; i++) diff = Math.max(diff, Math.abs(y[i]! - reference[i]!));
  result(runtime, ms, ` max_abs_diff_vs_ort=${diff.toExponential(2)}`);
  console.log(`RESULT bench=onnx-inference ratio=onnxruntime-node/${runtime} ${tag} speedup=${(ms / ortMs).toFixed(2)}`);
  xb.dispose();
}
// The wasm thread pool's pthreads keep Node's event loop alive.
process.exit(0);
