/**
 * Run-time backend choice: `tensorflow` (tfjs-node-gpu, else tfjs-node) > `webgpu` (Dawn via npm
 * `webgpu`) > `wasm` > `cpu`. The Node bindings are never dependencies: they are loaded with
 * `require` only where a user installed them (`LDL_TFJS_NODE` may name another module to load).
 * wasm runs tfjs-backend-wasm's multi-threaded build (`enableWasmThreads` of @ldl/kernels) on
 * {@link defaultWasmThreads} threads unless told otherwise.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { enableWasmThreads, installDawnWebgpu } from '@ldl/kernels';
import * as tf from '@tensorflow/tfjs-core';

/** Backends {@link selectBackend} knows, in its preference order. */
export const BACKEND_ORDER = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;

/** A backend name for {@link selectBackend}. */
export type BackendName = (typeof BACKEND_ORDER)[number];

/** One candidate that was tried. */
export interface BackendAttempt {
  /** Backend name. */
  name: BackendName;
  /** Whether it became the active backend. */
  ok: boolean;
  /** Why it was (not) used; e.g. "module @tensorflow/tfjs-node is not installed". */
  reason: string;
}

/** Result of {@link selectBackend}. */
export interface BackendSelection {
  /** The active backend. */
  name: BackendName;
  /** Every candidate tried, in order, with the reason it was or was not used. */
  attempts: BackendAttempt[];
  /** A one-paragraph summary for the run log. */
  summary: string;
}

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /** Backends not to try in automatic mode (e.g. `['webgpu']`). */
  skip?: readonly BackendName[];
  /**
   * Threads of the wasm backend, 1–{@link MAX_WASM_THREADS}. Above 1, tfjs-backend-wasm's multi-threaded
   * SIMD build runs XNNPACK on that many threads (`enableWasmThreads` of @ldl/kernels), whose pool keeps
   * Node's event loop alive: end the process with `process.exit()`. 1: the single-threaded SIMD build.
   * Used only where wasm is tried.
   * @default defaultWasmThreads() — the logical CPUs, at most 8
   */
  wasmThreads?: number;
}

/** Most threads the wasm backend can run on (tfjs-backend-wasm pre-creates 8 pthread workers). */
export const MAX_WASM_THREADS = 8;

/** Default thread count of the wasm backend: `os.availableParallelism()`, at most {@link MAX_WASM_THREADS}. */
export function defaultWasmThreads(): number {
  return Math.min(os.availableParallelism(), MAX_WASM_THREADS);
}

/**
 * A failure that must stop automatic selection instead of falling through to the next backend: the
 * user's thread setting, not the machine, is what does not work.
 */
class FatalBackendError extends Error {}

const require = createRequire(import.meta.url);

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) {
    throw new Error(`tf.setBackend('${name}') did not activate it (active: ${tf.getBackend()})`);
  }
  await tf.ready();
}

async function tryTensorflow(): Promise<string> {
  const modules = ['@tensorflow/tfjs-node-gpu', process.env.LDL_TFJS_NODE ?? '@tensorflow/tfjs-node'];
  const failures: string[] = [];
  for (const mod of modules) {
    try {
      require(mod);
    } catch (e) {
      const code = (e as { code?: string }).code;
      failures.push(code === 'MODULE_NOT_FOUND' ? `${mod} is not installed` : `${mod} failed to load (${message(e)})`);
      continue;
    }
    if (!tf.findBackendFactory('tensorflow')) {
      failures.push(`${mod} loaded but registered its backend with another copy of @tensorflow/tfjs-core`);
      continue;
    }
    await activate('tensorflow');
    return `loaded ${mod}`;
  }
  throw new Error(failures.join('; '));
}

/**
 * webgpu through Dawn (`installDawnWebgpu` of @ldl/kernels). In automatic mode a software adapter
 * (`isFallbackAdapter`: e.g. Mesa's lavapipe, which runs the shaders on the CPU — installed by
 * tools/webgpu-cpu/setup.sh for the tests) is refused, so that wasm trains instead; `--backend webgpu` takes it.
 */
async function tryWebgpu(explicit: boolean): Promise<string> {
  const info = await installDawnWebgpu({ allowFallbackAdapter: explicit });
  await activate('webgpu');
  return `adapter ${[info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || '(no info)'}`;
}

const WASM_SINGLE_THREADED_HINT = 'run single-threaded with --wasm-threads 1 (wasmThreads: 1)';

/**
 * How long the multi-threaded wasm build may take to initialise before {@link selectBackend} gives up
 * (it takes 0.1–0.3 s on 2 cores, a few seconds on a loaded one). It used to stall now and then (about 1
 * start in 20 on a loaded 2-core machine): the pthread worker script was rewritten for each of the 8 workers
 * while the first ones were reading it, and a worker that read it empty exited, so the pool waited forever.
 * `enableWasmThreads` writes it once now; this limit only turns an unknown hang into an error.
 */
export const WASM_THREADS_INIT_TIMEOUT_MS = 30_000;

async function tryWasm(threads: number): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const engine = tf.engine();
  if (engine.registry.wasm == null && threads > 1) {
    // The threaded build must be chosen before the backend initialises (once per process).
    // tfjs only logs why an initialisation failed; the factory is wrapped meanwhile to keep the reason.
    const entry = engine.registryFactory.wasm;
    let threaded: (typeof entry)['factory'] | null = null;
    let failure: unknown = null;
    try {
      enableWasmThreads({ threads });
      const factory = entry.factory;
      threaded = factory;
      entry.factory = async () => {
        try {
          return await factory();
        } catch (e) {
          failure = e;
          throw e;
        }
      };
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no result within ${WASM_THREADS_INIT_TIMEOUT_MS / 1000} s (the initialisation stalled)`)), WASM_THREADS_INIT_TIMEOUT_MS);
      });
      try {
        await Promise.race([activate('wasm'), stalled]);
      } finally {
        clearTimeout(timer);
      }
    } catch (e) {
      throw new FatalBackendError(
        `the multi-threaded wasm backend (${threads} threads) must initialise, but got: ${message(failure ?? e).replace(/\.$/, '')}; ${WASM_SINGLE_THREADED_HINT}`,
      );
    } finally {
      if (threaded != null) entry.factory = threaded;
    }
  } else {
    await activate('wasm');
  }
  const actual = wasm.getThreadsCount();
  if (actual !== threads) {
    throw new FatalBackendError(
      `the wasm backend must run on ${threads} thread${threads === 1 ? '' : 's'}, but it already runs on ${actual} in this process ` +
        '(it initialises once per process: choose the thread count before the first use of wasm)',
    );
  }
  return `WebAssembly backend, ${actual} thread${actual === 1 ? '' : 's'}`;
}

async function tryCpu(): Promise<string> {
  await import('@tensorflow/tfjs-backend-cpu');
  await activate('cpu');
  return 'pure-JavaScript backend';
}

const LOADERS: Record<BackendName, (o: { wasmThreads: number; explicit: boolean }) => Promise<string>> = {
  tensorflow: tryTensorflow,
  webgpu: (o) => tryWebgpu(o.explicit),
  wasm: (o) => tryWasm(o.wasmThreads),
  cpu: tryCpu,
};

/**
 * Activates a tfjs backend. Without `name`, tries {@link BACKEND_ORDER} and keeps the first that
 * loads; with `name`, loads exactly that one and throws (with the reason) if it cannot.
 *
 * wasm runs on `options.wasmThreads` threads (default {@link defaultWasmThreads}); if its multi-threaded
 * build fails to initialise, or the wasm backend already runs on another thread count in this process,
 * it throws — in automatic mode too — instead of falling back.
 *
 * @param name `'tensorflow' | 'webgpu' | 'wasm' | 'cpu'`, or undefined for automatic choice.
 * @param options See {@link SelectBackendOptions}.
 */
export async function selectBackend(name?: string, options: SelectBackendOptions = {}): Promise<BackendSelection> {
  if (name !== undefined && !(BACKEND_ORDER as readonly string[]).includes(name)) {
    throw new Error(`Error in selectBackend: name must be one of ${BACKEND_ORDER.join(', ')}, but got ${JSON.stringify(name)}.`);
  }
  const wasmThreads = options.wasmThreads ?? defaultWasmThreads();
  if (!Number.isInteger(wasmThreads) || wasmThreads < 1 || wasmThreads > MAX_WASM_THREADS) {
    throw new Error(`Error in selectBackend: wasmThreads must be an integer in 1..${MAX_WASM_THREADS}, but got ${wasmThreads}.`);
  }
  const candidates: BackendName[] = name ? [name as BackendName] : BACKEND_ORDER.filter((b) => !options.skip?.includes(b));
  const attempts: BackendAttempt[] = [];
  for (const candidate of candidates) {
    try {
      const reason = await LOADERS[candidate]({ wasmThreads, explicit: name !== undefined });
      attempts.push({ name: candidate, ok: true, reason });
      const summary = [
        `backend: ${candidate} (${reason})`,
        ...attempts.filter((a) => !a.ok).map((a) => `  not ${a.name}: ${a.reason}`),
      ].join('\n');
      return { name: candidate, attempts, summary };
    } catch (e) {
      if (e instanceof FatalBackendError) throw new Error(`Error in selectBackend: backend ${candidate} cannot be used: ${e.message}.`);
      attempts.push({ name: candidate, ok: false, reason: message(e) });
    }
  }
  const detail = attempts.map((a) => `${a.name}: ${a.reason}`).join('; ');
  throw new Error(name ? `Error in selectBackend: backend ${name} cannot be used: ${detail}.` : `Error in selectBackend: no backend could be loaded (${detail}).`);
}
