/**
 * Grouped-convolution benchmark: forward and forward+backward time of `groupedConv2d` (@ldl/kernels) at
 * ResNeXt-50 32x4d shapes, per backend, with its `LdlGroupedConv2D` kernels (`enableFastKernels()`,
 * `impl=kernel`) and with its composite fallback (no kernel registered, `impl=composite`; stock
 * kernels otherwise), same process, median of `--repeats` runs after one warm-up. Prints one
 * `RESULT …` line per figure.
 *
 *   pnpm --filter @ldl/backbones bench [-- --backends cpu,wasm,webgpu,tensorflow --repeats 3 --quick --batch 32]
 *
 * `webgpu` runs through Dawn and needs an adapter; `tensorflow` is tfjs-node (`LDL_TFJS_NODE`);
 * `--batch` replaces every shape's N. A run over 20 s is not repeated.
 */
import '@tensorflow/tfjs-layers'; // registers every gradient (tfjs-core alone registers none in Node)
import * as tf from '@tensorflow/tfjs-core';
import { disableFastKernels, enableFastKernels, groupedConv2d, type FastKernelBackend } from '@ldl/kernels';
import { BACKENDS, loadBackend, type BackendName } from './backends';

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
const backends = arg('backends', 'cpu,wasm').split(',') as BackendName[];
const batch = process.argv.includes('--batch') ? Number(arg('batch', '0')) : null;
const repeats = Number(arg('repeats', quick ? '1' : '3'));
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

async function main(): Promise<void> {
  for (const backend of backends) {
    if (!BACKENDS.includes(backend)) throw new Error(`Error in bench: backends must be among ${BACKENDS.join(', ')}, but got '${backend}'.`);
    const why = await loadBackend(backend);
    if (why != null) throw new Error(`Error in bench: backend '${backend}' must load, but got: ${why}.`);
    // setBackend resolves false (and tfjs would fall back silently) when the backend failed to initialise.
    if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend) throw new Error(`Error in bench: backend must be registered, but got '${backend}'.`);
    await tf.ready();
    for (const s0 of shapes) {
      const s = batch ? { ...s0, n: batch } : s0;
      const x = tf.randomNormal([s.n, s.hw, s.hw, s.c]) as tf.Tensor4D;
      const f = tf.randomNormal([3, 3, s.c / s.groups, s.c], 0, 0.1) as tf.Tensor4D;
      const shape = `N${s.n}xH${s.hw}xW${s.hw}xC${s.c}->${s.c},k3,g${s.groups},s${s.stride}`;
      const opts = { groups: s.groups, strides: s.stride, pad: 1 };
      for (const impl of ['composite', 'kernel'] as const) {
        if (impl === 'kernel') enableFastKernels({ backends: [backend as FastKernelBackend] });
        else disableFastKernels();
        const fwd = await time(() => [groupedConv2d(x, f, opts)]);
        let fwdBwd: number | null = null;
        let error: string | undefined;
        try {
          const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(groupedConv2d(a as tf.Tensor4D, b as tf.Tensor4D, opts)));
          fwdBwd = await time(() => g([x, f]));
        } catch (e) {
          error = (e as Error).message.split('\n')[0]!.replace(/"/g, "'");
        }
        const fmt = (v: number | null) => (v === null ? 'NA' : v.toFixed(1));
        console.log(
          `RESULT bench=grouped-conv backend=${backend} impl=${impl} shape=${shape} fwd_ms=${fmt(fwd)} fwd_bwd_ms=${fmt(fwdBwd)} repeats=${repeats}` +
            (error ? ` fwd_bwd_note="${error}"` : ''),
        );
      }
      disableFastKernels();
      tf.dispose([x, f]);
    }
  }
}

await main();
