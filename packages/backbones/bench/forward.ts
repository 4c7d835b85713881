/**
 * Inference time of a model {@link createModel} builds, at its pretrained input size: median of
 * `--repeats` forwards (after one warm-up) of a random batch. Prints one `RESULT …` line per backend.
 *
 *   pnpm --filter @ldl/backbones exec tsx bench/forward.ts [--model agegender_tinyxception --backends cpu,wasm --batch 8 --repeats 5 --profile]
 *
 * `--profile` adds one `PROFILE …` line per backend: kernel time by kernel name (`tf.profile`, one more forward).
 *
 * Random weights: the arithmetic is that of the pretrained ones, and no weights package is needed.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { createModel, getPretrainedCfg, type ModelName } from '../src/index';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'agegender_tinyxception' },
    backends: { type: 'string', default: 'cpu' },
    batch: { type: 'string', default: '8' },
    repeats: { type: 'string', default: '5' },
    profile: { type: 'boolean', default: false },
  },
});
const name = values.model as ModelName;
const batch = Number(values.batch);
const repeats = Number(values.repeats);
for (const [flag, v] of [['batch', batch], ['repeats', repeats]] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`Error in bench/forward: --${flag} must be a positive integer, but got ${v}.`);
}
const inputSize = getPretrainedCfg(name).inputSize;

for (const backend of values.backends.split(',')) {
  if (!(await tf.setBackend(backend))) throw new Error(`Error in bench/forward: --backends must name registered backends (cpu, wasm), but got '${backend}'.`);
  await tf.ready();
  const model = await createModel(name, { inputShape: inputSize });
  const x = tf.randomUniform([batch, ...inputSize], -0.5, 0.5, 'float32', 1);
  const times: number[] = [];
  for (let i = 0; i <= repeats; i++) {
    const t0 = performance.now();
    const outs = [model.predict(x)].flat();
    await Promise.all(outs.map((o) => o.data()));
    if (i > 0) times.push(performance.now() - t0);
    tf.dispose(outs);
  }
  const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  console.log(
    `RESULT bench=forward model=${name} backend=${backend} input=${inputSize.join('x')} batch=${batch} ms_per_batch=${median.toFixed(1)} ms_per_image=${(median / batch).toFixed(2)} repeats=${repeats}`,
  );
  if (values.profile) {
    const info = await tf.profile(() => [model.predict(x)].flat());
    const byKernel = new Map<string, number>();
    for (const k of info.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + Number(k.kernelTimeMs));
    const top = [...byKernel].sort((a, b) => b[1] - a[1]).map(([k, ms]) => `${k}=${ms.toFixed(1)}`);
    console.log(`PROFILE bench=forward model=${name} backend=${backend} batch=${batch} kernel_ms ${top.join(' ')}`);
    tf.dispose(info.result);
  }
  x.dispose();
  model.dispose();
}
