/**
 * Grouped-convolution benchmark: forward and forward+backward time of every `groupedConv2d` strategy
 * at ResNeXt-50 32x4d shapes, on the cpu and wasm backends (same process, interleaved, median of
 * `--repeats` runs after one warm-up). Prints one `RESULT …` line per figure.
 *
 *   pnpm --filter @ldl/backbones bench [-- --backends cpu,wasm,webgpu --repeats 3 --quick --all --batch 32 --stock]
 *
 * @ldl/kernels' `enableFastKernels()` is on (as in training) unless `--stock`; `native` (the grouped
 * Conv2D kernels) is measured where the backend has them (wasm, cpu with the fast kernels; tensorflow).
 * `webgpu` runs through Dawn (npm `webgpu`) and needs a GPU adapter; `--batch` replaces every shape's N.
 *
 * A strategy whose forward is > 3x split's skips fwd+bwd unless `--all`; a run over 20 s is not repeated.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers'; // registers every gradient (tfjs-core alone registers none in Node)
import * as tf from '@tensorflow/tfjs-core';
import { disableFastKernels, enableFastKernels } from '@ldl/kernels';
import { groupedConv2d, nativeGroupedConvAvailable, type GroupedConvStrategy } from '../src/index';

interface Shape {
  n: number;
  hw: number;
  c: number;
  groups: number;
  stride: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const quick = process.argv.includes('--quick');
const all = process.argv.includes('--all');
const backends = arg('backends', 'cpu,wasm').split(',');
const batch = process.argv.includes('--batch') ? Number(arg('batch', '0')) : null;
const repeats = Number(arg('repeats', quick ? '1' : '3'));
const stock = process.argv.includes('--stock');
const strategies: GroupedConvStrategy[] = ['split', 'blockDiagonal', 'im2col', 'depthwise', 'native'];
// layer1 (128 ch, 56x56), layer2 (256 ch: 28x28 and its stride-2 entry from 56x56), batch 2-8.
const shapes: Shape[] = quick
  ? [{ n: 2, hw: 28, c: 128, groups: 32, stride: 1 }]
  : [
      { n: 2, hw: 56, c: 128, groups: 32, stride: 1 },
      { n: 8, hw: 28, c: 128, groups: 32, stride: 1 },
      { n: 2, hw: 56, c: 256, groups: 32, stride: 2 },
    ];

async function time(fn: () => tf.Tensor[]): Promise<number> {
  const run = async () => {
    const t0 = performance.now();
    const outs = fn();
    await Promise.all(outs.map((o) => o.data()));
    const ms = performance.now() - t0;
    tf.dispose(outs);
    return ms;
  };
  const first = await run(); // warm-up (kernel compilation, buffer allocation)
  if (first > 20_000) return first; // one very slow run says enough
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) times.push(await run());
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

/** Registers the webgpu backend on Dawn for Node (the browser provides `navigator.gpu` itself). */
async function registerWebgpu(): Promise<void> {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create([]);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  if ((await gpu.requestAdapter()) == null) throw new Error(`Error in bench: backend 'webgpu' must find a WebGPU adapter, but got none.`);
  await import('@tensorflow/tfjs-backend-webgpu');
}

async function main(): Promise<void> {
  for (const backend of backends) {
    if (backend === 'webgpu') await registerWebgpu();
    // setBackend resolves false (and tfjs would fall back silently) when the backend failed to initialise.
    if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend) throw new Error(`Error in bench: backend must be registered, but got '${backend}'.`);
    await tf.ready();
    if (stock) disableFastKernels();
    else enableFastKernels();
    for (const s0 of shapes) {
      const s = batch ? { ...s0, n: batch } : s0;
      const x = tf.randomNormal([s.n, s.hw, s.hw, s.c]) as tf.Tensor4D;
      const f = tf.randomNormal([3, 3, s.c / s.groups, s.c], 0, 0.1) as tf.Tensor4D;
      const shape = `N${s.n}xH${s.hw}xW${s.hw}xC${s.c}->${s.c},k3,g${s.groups},s${s.stride}`;
      const results: { strategy: string; fwd: number | null; fwdBwd: number | null; error?: string }[] = [];
      for (const strategy of strategies) {
        if (strategy === 'native' && !nativeGroupedConvAvailable(backend)) {
          results.push({ strategy, fwd: null, fwdBwd: null, error: `no grouped Conv2D kernels on ${backend}${stock ? ' (--stock)' : ''}` });
          continue;
        }
        const opts = { groups: s.groups, strides: s.stride, pad: 1, strategy };
        const fwd = await time(() => [groupedConv2d(x, f, opts)]);
        let fwdBwd: number | null = null;
        let error: string | undefined;
        const splitFwd = results[0]?.fwd;
        if (!all && splitFwd && fwd > 3 * splitFwd) {
          // e.g. blockDiagonal on cpu: 32x the arithmetic; its backward took > 60 s at 28x28 (--all measures it).
          results.push({ strategy, fwd, fwdBwd, error: `skipped: forward ${(fwd / splitFwd).toFixed(1)}x split (use --all)` });
          continue;
        }
        try {
          const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(groupedConv2d(a as tf.Tensor4D, b as tf.Tensor4D, opts)));
          fwdBwd = await time(() => g([x, f]));
        } catch (e) {
          error = (e as Error).message.split('\n')[0]!.replace(/"/g, "'");
        }
        results.push({ strategy, fwd, fwdBwd, ...(error ? { error } : {}) });
      }
      const split = results.find((r) => r.strategy === 'split')!;
      const ratio = (a: number | null, b: number | null) => (a === null || b === null ? 'NA' : (a / b).toFixed(3));
      for (const r of results) {
        const fmt = (v: number | null) => (v === null ? 'NA' : v.toFixed(1));
        console.log(
          `RESULT bench=grouped-conv backend=${backend} kernels=${stock ? 'stock' : 'fast'} strategy=${r.strategy} shape=${shape} fwd_ms=${fmt(r.fwd)} fwd_bwd_ms=${fmt(r.fwdBwd)} ` +
            `fwd_ratio_vs_split=${ratio(r.fwd, split.fwd)} fwd_bwd_ratio_vs_split=${ratio(r.fwdBwd, split.fwdBwd)} repeats=${repeats}` +
            (r.error ? ` fwd_bwd_note="${r.error}"` : ''),
        );
      }
      tf.dispose([x, f]);
    }
  }
}

await main();
