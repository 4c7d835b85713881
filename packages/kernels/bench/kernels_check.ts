/**
 * Fast vs stock kernels on one backend, on random data: the maximum relative
 * error of each fast kernel against the stock one (or against the cpu backend
 * where the backend has no stock kernel, e.g. wasm's filter gradients), and the
 * time of each (median of 5 runs, until one element is read back). One line each:
 *
 *     CHECK backend=<b> kernel=<name> case=<shape> rel_err=<e> stock_ms=<t> fast_ms=<t>
 *
 * Then grouped convolutions (SE-ResNeXt-50's 3×3 32-group stages at 224 px: the grouped kernels vs one
 * stock convolution per group + concat, as `@ldl/backbones`' `'split'`) and training-mode batch norm
 * forward + backward (`LdlBatchNormTraining` vs `tf.moments` + `tf.batchNorm`).
 *
 * `tsx packages/kernels/bench/kernels_check.ts --backend webgpu [--small]` (the GPU script runs its bundle);
 * exits 1 if any relative error exceeds 1e-4 (`1e-3` on webgpu, whose reductions run in a
 * different order).
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers registers tfjs-core's gradients (the deep import of register_all_gradients does not resolve under Node ESM).
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';

import {
  batchNormTraining,
  disableFastKernels,
  enableFastKernels,
  installDawnWebgpu,
  LdlBatchNormTraining,
  LdlGroupedConv2D,
  LdlGroupedConv2DBackpropFilter,
  LdlGroupedConv2DBackpropInput,
  type FastKernelBackend,
} from '../src/index';
import { relativeError } from '../test/numeric';

type Shape4 = [number, number, number, number];
interface ConvCase {
  kind: 'conv' | 'depthwise';
  x: Shape4;
  k: number;
  out: number;
  stride: number;
  pad: 'same' | 'valid';
}

const CASES: ConvCase[] = [
  // The README's op: a 1×1 conv 28×28×256 → 256 at batch 32 (filter gradient 68 ms stock on an H100).
  { kind: 'conv', x: [32, 28, 28, 256], k: 1, out: 256, stride: 1, pad: 'same' },
  { kind: 'conv', x: [32, 56, 56, 64], k: 3, out: 64, stride: 1, pad: 'same' },
  { kind: 'conv', x: [32, 28, 28, 128], k: 3, out: 128, stride: 2, pad: 'same' },
  { kind: 'conv', x: [32, 56, 56, 256], k: 1, out: 512, stride: 2, pad: 'same' },
  { kind: 'conv', x: [32, 14, 14, 1024], k: 1, out: 256, stride: 1, pad: 'same' },
  { kind: 'conv', x: [32, 112, 112, 3], k: 7, out: 64, stride: 2, pad: 'same' },
  { kind: 'conv', x: [3, 9, 7, 5], k: 3, out: 6, stride: 2, pad: 'valid' },
  { kind: 'depthwise', x: [32, 28, 28, 128], k: 3, out: 512, stride: 1, pad: 'same' },
  { kind: 'depthwise', x: [32, 28, 28, 256], k: 3, out: 256, stride: 2, pad: 'same' },
];

/** `--small`: the same cases at batch 1 and a quarter of the size (for the slow cpu reference). */
function shrink(c: ConvCase): ConvCase {
  const [, h, w, ch] = c.x;
  return { ...c, x: [1, Math.max(c.k + 1, Math.ceil(h / 4)), Math.max(c.k + 1, Math.ceil(w / 4)), ch] };
}

function parseBackend(argv: string[]): string {
  const i = argv.indexOf('--backend');
  const b = i >= 0 ? argv[i + 1] : 'webgpu';
  if (b !== 'webgpu' && b !== 'wasm' && b !== 'cpu') {
    console.error(`Error in kernels_check: --backend must be webgpu, wasm or cpu, but got ${b}.`);
    process.exit(2);
  }
  return b;
}

/** Median time of 5 runs (after one that compiles shaders), waiting on a 1-element read-back, and the values. */
async function timed(f: () => tf.Tensor): Promise<{ ms: number; values: Float32Array }> {
  const times: number[] = [];
  for (let r = 0; r < 6; r++) {
    const t0 = performance.now();
    const out = f();
    // Reading back a whole activation-sized gradient would time the GPU→CPU copy, not the kernel.
    const probe = tf.slice(tf.reshape(out, [-1]), 0, 1);
    await probe.data();
    if (r > 0) times.push(performance.now() - t0);
    tf.dispose([out, probe]);
  }
  times.sort((p, q) => p - q);
  const out = f();
  const values = (await out.data()) as Float32Array;
  out.dispose();
  return { ms: times[Math.floor(times.length / 2)] as number, values };
}

function gradients(c: ConvCase, x: tf.Tensor4D, f: tf.Tensor4D, dy: tf.Tensor4D): Record<string, () => tf.Tensor> {
  const attrs = { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1] };
  const run = (name: string, inputs: tf.NamedTensorMap, extra: Record<string, unknown>) => () =>
    tf.engine().runKernel(name, inputs, { ...attrs, ...extra } as unknown as tf.NamedAttrMap) as tf.Tensor;
  return c.kind === 'conv'
    ? {
        Conv2DBackpropFilter: run('Conv2DBackpropFilter', { x, dy }, { filterShape: f.shape }),
        Conv2DBackpropInput: run('Conv2DBackpropInput', { dy, filter: f }, { inputShape: x.shape }),
      }
    : {
        DepthwiseConv2dNativeBackpropFilter: run('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { filterShape: f.shape }),
        DepthwiseConv2dNativeBackpropInput: run('DepthwiseConv2dNativeBackpropInput', { dy, filter: f }, { inputShape: x.shape }),
      };
}

async function main(): Promise<void> {
  const backend = parseBackend(process.argv.slice(2));
  if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  // Dawn toggles, e.g. LDL_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis for timestamp queries (profiling).
  if (backend === 'webgpu') await installDawnWebgpu({ flags: process.env.LDL_DAWN_FLAGS?.split(',') ?? [], allowFallbackAdapter: true });
  await tf.setBackend(backend);
  if (tf.getBackend() !== backend) {
    console.error(`Error in kernels_check: tf.setBackend('${backend}') left the backend at ${tf.getBackend()}.`);
    process.exit(2);
  }
  const tolerance = backend === 'webgpu' ? 1e-3 : 1e-4;
  let failures = 0;
  const small = process.argv.includes('--small');
  for (const c of small ? CASES.map(shrink) : CASES) {
    const ci = c.x[3];
    const fShape: Shape4 = c.kind === 'conv' ? [c.k, c.k, ci, c.out] : [c.k, c.k, ci, c.out / ci];
    const info = tf.backend_util.computeConv2DInfo(c.x, fShape, c.stride, 1, c.pad, undefined, c.kind === 'depthwise');
    const x = tf.randomNormal(c.x) as tf.Tensor4D;
    const f = tf.randomNormal(fShape) as tf.Tensor4D;
    const dy = tf.randomNormal(info.outShape) as tf.Tensor4D;
    const label = `${c.kind}_x${c.x.join('x')}_k${c.k}_s${c.stride}_${c.pad}_out${c.out}`;
    disableFastKernels();
    for (const [name, op] of Object.entries(gradients(c, x, f, dy))) {
      disableFastKernels();
      let stock: { ms: number; values: Float32Array } | null = null;
      if (tf.getKernel(name, backend) != null) {
        stock = await timed(op);
      } else {
        // No stock kernel here (wasm's filter gradients): the reference is the cpu backend's.
        const [xc, fc, dyc] = await Promise.all([x, f, dy].map(async (t) => tf.tensor(await t.data(), t.shape)));
        await tf.setBackend('cpu');
        const values = (await gradients(c, xc as tf.Tensor4D, fc as tf.Tensor4D, dyc as tf.Tensor4D)[name]!().data()) as Float32Array;
        tf.dispose([xc, fc, dyc]);
        await tf.setBackend(backend);
        stock = { ms: NaN, values };
      }
      enableFastKernels({ backends: [backend as FastKernelBackend] });
      const fast = await timed(op);
      const err = relativeError(fast.values, stock.values);
      if (!(err <= tolerance)) failures++;
      console.log(
        `CHECK backend=${backend} kernel=${name} case=${label} rel_err=${err.toExponential(2)} stock_ms=${stock.ms.toFixed(2)} fast_ms=${fast.ms.toFixed(2)}`,
      );
    }
    tf.dispose([x, f, dy]);
  }
  // Batch-norm gradient in training mode (batch statistics from tf.moments), as tfjs-layers computes it.
  const shape: Shape4 = small ? [2, 7, 7, 256] : [32, 28, 28, 256];
  const x = tf.randomNormal(shape);
  const w = tf.randomNormal(shape);
  const gamma = tf.randomUniform([256], 0.5, 1.5);
  const beta = tf.randomNormal([256]);
  const bnGrads = () =>
    tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return tf.sum(tf.mul(w, tf.batchNorm(a, mean, variance, b, g, 1e-5)));
    })([x, gamma, beta])[0] as tf.Tensor;
  disableFastKernels();
  const stock = await timed(bnGrads);
  enableFastKernels({ backends: [backend as FastKernelBackend] });
  const fast = await timed(bnGrads);
  const err = relativeError(fast.values, stock.values);
  if (!(err <= tolerance)) failures++;
  console.log(
    `CHECK backend=${backend} kernel=FusedBatchNorm_grad case=training_x${shape.join('x')} rel_err=${err.toExponential(2)} stock_ms=${stock.ms.toFixed(2)} fast_ms=${fast.ms.toFixed(2)}`,
  );
  failures += await checkGrouped(backend, small, tolerance);
  failures += await checkBatchNormTraining(backend, small, tolerance);
  disableFastKernels();
  if (failures > 0) {
    console.error(`kernels_check: ${failures} kernel(s) above the tolerance ${tolerance}.`);
    process.exit(1);
  }
}

/** Prints one CHECK line; returns 1 if the error is above the tolerance. */
function report(backend: string, kernel: string, label: string, stock: Timed, fast: Timed, tolerance: number): number {
  const err = relativeError(fast.values, stock.values);
  console.log(`CHECK backend=${backend} kernel=${kernel} case=${label} rel_err=${err.toExponential(2)} stock_ms=${stock.ms.toFixed(2)} fast_ms=${fast.ms.toFixed(2)}`);
  return err <= tolerance ? 0 : 1;
}

type Timed = Awaited<ReturnType<typeof timed>>;

/** Grouped Conv2D and both gradients: the fast grouped kernels vs one stock kernel per group, concatenated. */
async function checkGrouped(backend: string, small: boolean, tolerance: number): Promise<number> {
  const groups = 32;
  const shapes: Shape4[] = small
    ? [[1, 14, 14, 128], [1, 7, 7, 256]]
    : [[32, 56, 56, 128], [32, 28, 28, 256], [32, 14, 14, 512], [32, 7, 7, 1024]];
  let failures = 0;
  for (const xs of shapes) {
    const c = xs[3];
    const fShape: Shape4 = [3, 3, c / groups, c];
    const x = tf.randomNormal(xs) as tf.Tensor4D;
    const f = tf.randomNormal(fShape) as tf.Tensor4D;
    const dy = tf.randomNormal(xs) as tf.Tensor4D;
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1] } as unknown as tf.NamedAttrMap;
    const run = (name: string, inputs: tf.NamedTensorMap, extra: object = {}) =>
      tf.engine().runKernel(name, inputs, { ...attrs, ...extra } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
    const perGroup = (f3: (g: number, parts: Record<string, tf.Tensor4D[]>) => tf.Tensor4D) => () =>
      tf.tidy(() => {
        const parts = { x: tf.split(x, groups, 3), f: tf.split(f, groups, 3), dy: tf.split(dy, groups, 3) } as Record<string, tf.Tensor4D[]>;
        return tf.concat(Array.from({ length: groups }, (_, g) => f3(g, parts)), 3);
      });
    const cases: [string, () => tf.Tensor, () => tf.Tensor][] = [
      [LdlGroupedConv2D, () => run(LdlGroupedConv2D, { x, filter: f }), perGroup((g, p) => run('Conv2D', { x: p.x![g]!, filter: p.f![g]! }))],
      [
        LdlGroupedConv2DBackpropInput,
        () => run(LdlGroupedConv2DBackpropInput, { dy, filter: f }, { inputShape: xs }),
        perGroup((g, p) => run('Conv2DBackpropInput', { dy: p.dy![g]!, filter: p.f![g]! }, { inputShape: [...xs.slice(0, 3), c / groups] })),
      ],
      [
        LdlGroupedConv2DBackpropFilter,
        () => run(LdlGroupedConv2DBackpropFilter, { x, dy }, { filterShape: fShape }),
        perGroup((g, p) => run('Conv2DBackpropFilter', { x: p.x![g]!, dy: p.dy![g]! }, { filterShape: [3, 3, c / groups, c / groups] })),
      ],
    ];
    for (const [kernel, fast, stock] of cases) {
      disableFastKernels();
      const s0 = await timed(stock);
      enableFastKernels({ backends: [backend as FastKernelBackend] });
      const f0 = await timed(fast);
      failures += report(backend, kernel, `x${xs.join('x')}_k3_g${groups}`, s0, f0, tolerance);
    }
    tf.dispose([x, f, dy]);
  }
  return failures;
}

/** Training-mode batch norm, forward and input gradient: LdlBatchNormTraining (where registered) vs tf.moments + tf.batchNorm. */
async function checkBatchNormTraining(backend: string, small: boolean, tolerance: number): Promise<number> {
  const shape: Shape4 = small ? [2, 14, 14, 64] : [32, 56, 56, 256];
  const x = tf.randomNormal(shape, 3, 2);
  const w = tf.randomNormal(shape);
  const gamma = tf.randomUniform([shape[3]], 0.5, 1.5);
  const beta = tf.randomNormal([shape[3]]);
  const bn = (fused: boolean) => () =>
    tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      if (fused) {
        const { y } = batchNormTraining(a, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
        return tf.sum(tf.mul(w, y));
      }
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return tf.sum(tf.mul(w, tf.batchNorm(a, mean, variance, b, g, 1e-5)));
    })([x, gamma, beta])[0] as tf.Tensor;
  disableFastKernels();
  const stock = await timed(bn(false));
  enableFastKernels({ backends: [backend as FastKernelBackend] });
  const failures = tf.getKernel(LdlBatchNormTraining, backend) == null ? 0 : report(backend, `${LdlBatchNormTraining}+grad`, `x${shape.join('x')}`, stock, await timed(bn(true)), tolerance);
  tf.dispose([x, w, gamma, beta]);
  return failures;
}

await main();
