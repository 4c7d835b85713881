/**
 * Training-speed benchmark of @ldl/backbones' ResNets with @ldl/kernels: `pnpm bench:train [flags]` (root
 * script; `train.ts` runs this file with tsx and the package's tsconfig).
 *
 * For each backend that loads here (cpu, wasm, webgpu where a GPU adapter exists, tensorflow where
 * `@tensorflow/tfjs-node` resolves or `LDL_TFJS_NODE` points to a built package), trains
 * `resnet50` / `seresnext50_32x4d` from @ldl/backbones (101 classes, random init, random images)
 * with @ldl/core `ldlLoss` and Adam, and prints per configuration
 *
 *     RESULT bench=train backend=<b> model=<m> size=<s> batch=<n> img_per_s=<x> kernels=<fast|stock> micro_batch=<m> img_per_cpu_s=<y> step_s=<t> enqueue_s=<e>
 *
 * (`img_per_cpu_s`: images per second of the process's CPU time, all threads — comparable on a
 * machine shared with other jobs, where wall-clock figures are not. `step_s`: seconds a step;
 * `enqueue_s`: of which until its last kernel was issued — on webgpu the rest is waiting for the GPU.)
 *
 * With `--reference`, the same configuration in PyTorch (tools/reference/bench_train.py: timm model of
 * the same name, CPU, 2 threads; the venv is created on first use by tools/reference/setup.sh),
 * `backend=torch`, then `RESULT bench=train ratio=<tfjs/torch> ... ratio_per_cpu_s=<tfjs/torch per CPU-second>`.
 *
 * Flags: --backend cpu|wasm|webgpu|tensorflow[,..] (default: all that load), --model resnet50|seresnext50_32x4d[,..]
 * (default both), --size 64|112|224[,..] (default 64,112,224), --batch n (default: 32 on webgpu; 16/8/4 at
 * 64/112/224 px elsewhere), --micro-batch n (gradient accumulation: batch/n images per forward/backward),
 * --steps n (default 3), --warmup n (default 1), --no-fast (stock kernels), --both (stock, then fast),
 * --kernels fast,stock (order of several), --time-budget <s> (skip configurations once exceeded),
 * --tf-flag NAME=VALUE (a tfjs environment flag, e.g. WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=256; repeatable),
 * --wasm-threads n (wasm threads; default: the reference's thread count, 2 — tfjs-backend-wasm's multi-threaded
 * build via @ldl/kernels enableWasmThreads; 1: its single-threaded SIMD build),
 * --profile (top kernels of one step on stderr), --reference, --reference-python <python> (skip the venv
 * setup, e.g. on a GPU machine), --reference-device cpu|cuda, --reference-threads n (default 2).
 */
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import { ldlLoss } from '@ldl/core';
import { disableFastKernels, enableFastKernels, enableWasmThreads, fusedAdam, type FastKernelBackend } from '@ldl/kernels';

import { resnet50, seresnext50_32x4d } from '../src/index';
import { BACKENDS, loadBackend, type BackendName } from './backends';

/** Repository root (for tools/reference): `LDL_REPO_ROOT` where this file runs bundled elsewhere (the GPU script). */
const REPO = process.env.LDL_REPO_ROOT ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const MODELS = { resnet50, seresnext50_32x4d } as const;
type ModelName = keyof typeof MODELS;
const FAST_BACKENDS: readonly string[] = ['cpu', 'wasm', 'webgpu', 'tensorflow'] satisfies FastKernelBackend[];

interface Options {
  backends: BackendName[] | null;
  models: ModelName[];
  sizes: number[];
  batch: number | null;
  microBatch: number | null;
  steps: number;
  warmup: number;
  kernels: ('fast' | 'stock')[];
  profile: boolean;
  timeBudgetS: number;
  tfFlags: Record<string, number | boolean>;
  wasmThreads: number | null;
  reference: boolean;
  referencePython: string | null;
  referenceDevice: string;
  referenceThreads: number;
}

function fail(message: string): never {
  console.error(`Error in bench:train: ${message}`);
  process.exit(2);
}

function parseList<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  const items = value.split(',');
  for (const item of items) {
    if (!allowed.includes(item as T)) fail(`${flag} must be one of ${allowed.join(', ')}, but got ${item}.`);
  }
  return items as T[];
}

function parseInteger(flag: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`${flag} must be an integer >= ${min}, but got ${value}.`);
  return n;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    backends: null,
    models: ['resnet50', 'seresnext50_32x4d'],
    sizes: [64, 112, 224],
    batch: null,
    microBatch: null,
    steps: 3,
    warmup: 1,
    kernels: ['fast'],
    profile: false,
    timeBudgetS: Infinity,
    tfFlags: {},
    wasmThreads: null,
    reference: false,
    referencePython: null,
    referenceDevice: 'cpu',
    referenceThreads: 2,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = () => {
      const v = argv[++i];
      if (v == null) fail(`${flag} needs a value.`);
      return v;
    };
    switch (flag) {
      case '--':
        break;
      case '--backend':
        o.backends = parseList(flag, value(), BACKENDS);
        break;
      case '--model':
        o.models = parseList(flag, value(), Object.keys(MODELS) as ModelName[]);
        break;
      case '--size':
        o.sizes = value()
          .split(',')
          .map((s) => parseInteger(flag, s, 32));
        break;
      case '--batch':
        o.batch = parseInteger(flag, value(), 1);
        break;
      case '--micro-batch':
        o.microBatch = parseInteger(flag, value(), 1);
        break;
      case '--steps':
        o.steps = parseInteger(flag, value(), 1);
        break;
      case '--warmup':
        o.warmup = parseInteger(flag, value(), 0);
        break;
      case '--no-fast':
        o.kernels = ['stock'];
        break;
      case '--both':
        o.kernels = ['stock', 'fast'];
        break;
      case '--kernels':
        o.kernels = parseList(flag, value(), ['fast', 'stock'] as const);
        break;
      case '--tf-flag': {
        const [name, v] = value().split('=');
        if (name == null || v == null || v === '') fail(`--tf-flag must be NAME=VALUE, but got ${name}.`);
        o.tfFlags[name] = v === 'true' ? true : v === 'false' ? false : Number(v);
        break;
      }
      case '--time-budget':
        o.timeBudgetS = parseInteger(flag, value(), 1);
        break;
      case '--wasm-threads':
        o.wasmThreads = parseInteger(flag, value(), 1);
        break;
      case '--profile':
        o.profile = true;
        break;
      case '--reference':
        o.reference = true;
        break;
      case '--reference-python':
        o.referencePython = value();
        break;
      case '--reference-device':
        o.referenceDevice = value();
        break;
      case '--reference-threads':
        o.referenceThreads = parseInteger(flag, value(), 1);
        break;
      default:
        fail(`unknown flag ${flag} (see the header of packages/backbones/bench/train_main.ts).`);
    }
  }
  return o;
}

function defaultBatch(backend: BackendName, size: number): number {
  if (backend === 'webgpu') return 32;
  return size <= 64 ? 16 : size <= 112 ? 8 : 4;
}

interface Run {
  backend: BackendName;
  model: ModelName;
  size: number;
  batch: number;
  microBatch: number;
  kernels: 'fast' | 'stock';
}

/** Images per second of wall time, and per second of this process's CPU time (robust to a loaded machine). */
interface Speed {
  imgPerS: number;
  imgPerCpuS: number;
  /**
   * Of a timed step, the seconds until its last kernel was issued (JS, tfjs and, on webgpu, Dawn's
   * encoding), the rest waiting for the result: on webgpu `enqueue ≈ step` means CPU-bound dispatch,
   * `wait ≫ enqueue` GPU-bound. Undefined for the PyTorch reference.
   */
  enqueueS?: number;
  stepS?: number;
}

/** Trains `warmup + steps` steps of one configuration; returns its speed over the timed steps. */
async function trainSpeed(run: Run, o: Options): Promise<Speed> {
  const { model: name, size, batch, microBatch } = run;
  const model = MODELS[name]({ numClasses: 101, inputShape: [size, size, 3] });
  // The fused Adam update where the fast kernels are on (LdlAdamUpdate registered); tfjs's own with --no-fast.
  const optimizer = fusedAdam(1e-3);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const micro = batch / microBatch;
  const images = Array.from({ length: microBatch }, () => tf.randomNormal([micro, size, size, 3]) as tf.Tensor4D);
  const ages = Array.from({ length: microBatch }, () => tf.tensor1d(Array.from({ length: micro }, (_, i) => (i * 37) % 101)));
  const lossOf = (k: number) => () => ldlLoss(model.apply(images[k] as tf.Tensor4D, { training: true }) as tf.Tensor2D, ages[k] as tf.Tensor1D);
  let enqueueMs = 0;
  const step = async () => {
    if (microBatch === 1) {
      const issued = performance.now();
      const loss = optimizer.minimize(lossOf(0), true, variables) as tf.Scalar;
      enqueueMs += performance.now() - issued;
      await loss.data();
      loss.dispose();
      return;
    }
    // Gradient accumulation: mean of the micro-batch gradients, one Adam update.
    let sum: tf.NamedTensorMap | null = null;
    for (let k = 0; k < microBatch; k++) {
      const issued = performance.now();
      const { value, grads } = tf.variableGrads(lossOf(k), variables);
      enqueueMs += performance.now() - issued;
      value.dispose();
      if (sum == null) {
        sum = grads;
      } else {
        const prev: tf.NamedTensorMap = sum;
        sum = tf.tidy(() => Object.fromEntries(Object.entries(grads).map(([n, g]) => [n, tf.add(prev[n] as tf.Tensor, g)])));
        tf.dispose([Object.values(prev), Object.values(grads)]);
      }
      await (Object.values(sum)[0] as tf.Tensor).data();
    }
    const total = sum as tf.NamedTensorMap;
    const issued = performance.now();
    const mean = tf.tidy(() => Object.fromEntries(Object.entries(total).map(([n, g]) => [n, tf.div(g, microBatch)])));
    tf.dispose(Object.values(total));
    optimizer.applyGradients(Object.entries(mean).map(([name, tensor]) => ({ name, tensor })));
    tf.dispose(Object.values(mean));
    enqueueMs += performance.now() - issued;
    await (variables[0] as tf.Variable).data();
  };
  try {
    for (let i = 0; i < o.warmup; i++) await step();
    if (o.profile) await printProfile(step);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    enqueueMs = 0;
    for (let i = 0; i < o.steps; i++) {
      await step();
      process.stderr.write(`  ${run.backend} ${name} ${size}px step ${i + 1}/${o.steps} ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    }
    const cpu = process.cpuUsage(cpu0);
    const images = batch * o.steps;
    const wallS = (performance.now() - t0) / 1000;
    return { imgPerS: images / wallS, imgPerCpuS: images / ((cpu.user + cpu.system) / 1e6), enqueueS: enqueueMs / 1000 / o.steps, stepS: wallS / o.steps };
  } finally {
    tf.dispose([...images, ...ages]);
    optimizer.dispose();
    model.dispose();
  }
}

/**
 * On webgpu, counts compute dispatches (WebGPU's own calls: a tfjs kernel may dispatch several shaders
 * or none) and uploads (buffers created for writing from the CPU, e.g. a JS scalar in an op; the
 * profiler's own read-back buffers are not counted) until `restore()`; null on other backends.
 */
function countGpuCalls(): { counts: { dispatches: number; uploads: number }; restore: () => void } | null {
  const g = globalThis as unknown as {
    GPUComputePassEncoder?: { prototype: { dispatchWorkgroups: (...a: unknown[]) => void } };
    GPUDevice?: { prototype: { createBuffer: (...a: unknown[]) => unknown } };
  };
  const pass = g.GPUComputePassEncoder?.prototype;
  const device = g.GPUDevice?.prototype;
  if (tf.getBackend() !== 'webgpu' || pass == null || device == null) return null;
  const counts = { dispatches: 0, uploads: 0 };
  const MAP_WRITE = 2; // GPUBufferUsage.MAP_WRITE
  const { dispatchWorkgroups } = pass;
  const { createBuffer } = device;
  pass.dispatchWorkgroups = function (this: unknown, ...a: unknown[]) {
    counts.dispatches++;
    return dispatchWorkgroups.apply(this, a);
  };
  device.createBuffer = function (this: unknown, ...a: unknown[]) {
    if (((a[0] as { usage?: number } | undefined)?.usage ?? 0) & MAP_WRITE) counts.uploads++;
    return createBuffer.apply(this, a);
  };
  return {
    counts,
    restore: () => {
      pass.dispatchWorkgroups = dispatchWorkgroups;
      device.createBuffer = createBuffer;
    },
  };
}

/** Prints, on stderr, the 20 kernels that took longest in one training step, then the 30 costliest (kernel, shapes) pairs. */
async function printProfile(step: () => Promise<void>): Promise<void> {
  const t0 = performance.now();
  const gpu = countGpuCalls();
  let info: Awaited<ReturnType<typeof tf.profile>>;
  try {
    info = await tf.profile(async () => {
      await step();
      return [];
    });
  } finally {
    gpu?.restore();
  }
  const wallMs = performance.now() - t0;
  const byName = new Map<string, { ms: number; calls: number }>();
  const byShape = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const ms = await k.kernelTimeMs;
    for (const [map, key] of [
      [byName, k.name],
      [byShape, `${k.name} ${k.inputShapes.map((s) => `[${s?.join(",") ?? ""}]`).join(' ')} -> ${k.outputShapes.map((s) => `[${s?.join(",") ?? ""}]`).join(' ')}`],
    ] as const) {
      const entry = map.get(key) ?? { ms: 0, calls: 0 };
      entry.ms += typeof ms === 'number' ? ms : 0;
      entry.calls += 1;
      map.set(key, entry);
    }
  }
  const total = [...byName.values()].reduce((s, e) => s + e.ms, 0);
  const calls = gpu == null ? '' : ` gpu_dispatches=${gpu.counts.dispatches} gpu_uploads=${gpu.counts.uploads}`;
  console.error(
    `PROFILE backend=${tf.getBackend()} wall_ms=${wallMs.toFixed(0)} total_kernel_ms=${total.toFixed(0)} kernels=${info.kernels.length}${calls} peak_bytes=${info.peakBytes}`,
  );
  for (const [name, e] of [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) {
    console.error(`PROFILE   ${name.padEnd(28)} ${e.ms.toFixed(0).padStart(8)} ms ${String(e.calls).padStart(5)} calls`);
  }
  for (const [key, e] of [...byShape.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30)) {
    console.error(`PROFILE-SHAPE ${e.ms.toFixed(0).padStart(7)} ms ${String(e.calls).padStart(4)} calls  ${key}`);
  }
}

/** Runs the PyTorch reference for one configuration; returns its speed (its RESULT line is printed). */
function referenceSpeed(model: ModelName, size: number, batch: number, o: Options): Speed {
  let python = o.referencePython;
  if (python == null) {
    const setup = spawnSync('bash', [resolve(REPO, 'tools/reference/setup.sh')], { stdio: 'inherit' });
    if (setup.status !== 0) fail(`tools/reference/setup.sh exited with ${setup.status}.`);
    python = resolve(REPO, 'tools/reference/.venv/bin/python');
  }
  const args = [
    resolve(REPO, 'tools/reference/bench_train.py'),
    ...['--model', model, '--size', String(size), '--batch', String(batch)],
    ...['--steps', String(o.steps), '--warmup', String(Math.max(1, o.warmup))],
    ...['--threads', String(o.referenceThreads), '--device', o.referenceDevice],
  ];
  const r = spawnSync(python, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('RESULT ')) ?? null;
  if (r.status !== 0 || line == null) fail(`the PyTorch reference (${python} ${args.join(' ')}) exited with ${r.status} and printed no RESULT line.`);
  console.log(line);
  return {
    imgPerS: Number(/img_per_s=([0-9.]+)/.exec(line)?.[1]),
    imgPerCpuS: Number(/img_per_cpu_s=([0-9.]+)/.exec(line)?.[1]),
  };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  // @tensorflow/tfjs-layers (imported by @ldl/backbones) registers tfjs-core's gradients.
  if (tf.getGradient('Conv2D') == null) fail('no gradient registered for Conv2D: @tensorflow/tfjs-layers must register the gradients.');
  const requested = o.backends ?? [...BACKENDS];
  const available: BackendName[] = [];
  for (const b of requested) {
    const why = await loadBackend(b);
    if (why == null) available.push(b);
    else if (o.backends != null) fail(`backend ${b}: ${why}.`);
    else console.error(`bench:train: skipping backend ${b}: ${why}`);
  }
  if (o.wasmThreads != null && !available.includes('wasm')) fail(`--wasm-threads needs the wasm backend, but got --backend ${available.join(',')}.`);
  // wasm gets as many threads as the PyTorch reference (2 unless --reference-threads) unless --wasm-threads says otherwise.
  const wasmThreads = o.wasmThreads ?? o.referenceThreads;
  if (available.includes('wasm') && wasmThreads > 1) enableWasmThreads({ threads: wasmThreads });
  const torch = new Map<string, Speed>();
  const started = performance.now();
  for (const backend of available) {
    if (!(await tf.setBackend(backend))) fail(`tf.setBackend('${backend}') failed (its error is logged above).`);
    for (const [name, v] of Object.entries(o.tfFlags)) tf.env().set(name, v);
    if (tf.getBackend() !== backend) fail(`tf.setBackend('${backend}') left the backend at ${tf.getBackend()}.`);
    for (const kernels of o.kernels) {
      disableFastKernels();
      if (kernels === 'fast') enableFastKernels({ backends: FAST_BACKENDS.includes(backend) ? [backend as FastKernelBackend] : [] });
      for (const model of o.models) {
        for (const size of o.sizes) {
          const batch = o.batch ?? defaultBatch(backend, size);
          const microBatch = o.microBatch ?? 1;
          if (batch % microBatch !== 0) fail(`--batch ${batch} must be divisible by --micro-batch ${microBatch}.`);
          const run: Run = { backend, model, size, batch, microBatch, kernels };
          const tag = `backend=${backend} model=${model} size=${size} batch=${batch}`;
          if ((performance.now() - started) / 1000 > o.timeBudgetS) {
            console.log(`SKIP bench=train ${tag} kernels=${kernels} reason=time-budget`);
            continue;
          }
          let speed: Speed;
          try {
            speed = await trainSpeed(run, o);
          } catch (e) {
            if (process.env.LDL_BENCH_DEBUG) console.error((e as Error).stack);
            console.log(`RESULT bench=train ${tag} img_per_s=NaN kernels=${kernels} micro_batch=${batch / microBatch} error="${(e as Error).message.split('\n')[0]}"`);
            continue;
          }
          const threads = backend === 'wasm' ? ` wasm_threads=${wasmThreads}` : '';
          const flags = threads + Object.entries(o.tfFlags).map(([n, v]) => ` ${n}=${v}`).join('');
          console.log(
            `RESULT bench=train ${tag} img_per_s=${speed.imgPerS.toFixed(3)} kernels=${kernels} micro_batch=${batch / microBatch}` +
              ` img_per_cpu_s=${speed.imgPerCpuS.toFixed(3)} step_s=${speed.stepS?.toFixed(3)} enqueue_s=${speed.enqueueS?.toFixed(3)}${flags}`,
          );
          if (o.reference) {
            const key = `${model}/${size}/${batch}`;
            if (!torch.has(key)) torch.set(key, referenceSpeed(model, size, batch, o));
            const ref = torch.get(key) as Speed;
            console.log(
              `RESULT bench=train ratio=${(speed.imgPerS / ref.imgPerS).toFixed(4)} ${tag} kernels=${kernels} torch_img_per_s=${ref.imgPerS}` +
                ` torch_device=${o.referenceDevice} ratio_per_cpu_s=${(speed.imgPerCpuS / ref.imgPerCpuS).toFixed(4)}`,
            );
          }
        }
      }
    }
  }
}

await main();
// The wasm thread pool's pthreads (--wasm-threads) keep Node's event loop alive.
process.exit(0);
