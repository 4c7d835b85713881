import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { engine, env, type KernelBackend } from '@tensorflow/tfjs-core';

/** Options of {@link enableWasmThreads}. */
export interface EnableWasmThreadsOptions {
  /**
   * Threads of the XNNPACK thread pool (the calling thread included), 1–8
   * (tfjs-backend-wasm pre-creates 8 workers).
   * @default 2
   */
  threads?: number;
}

/** The part of tfjs-backend-wasm's `BackendWasm` read after initialisation. */
interface WasmBackendLike {
  wasm?: { tfjs?: { getThreadsCount?: () => number } };
}

/**
 * Start of the main-script Blob tfjs-backend-wasm 4.x builds from its threaded
 * Emscripten factory (`factory.toString()`), which its pthread workers load.
 */
const MAIN_SCRIPT_PREFIX = 'var WasmBackendModuleThreadedSimd = ';
/** A string only in the pthread worker script of the threaded build. */
const WORKER_SCRIPT_MARK = 'WasmBackendModuleThreadedSimd(Module)';
/**
 * What the threaded factory's source refers to from the scope of tfjs-backend-wasm's
 * Node bundle (tslib helpers, bundled `require`s), declared for the worker.
 */
const MAIN_SCRIPT_PRELUDE =
  'var __values=o=>o[Symbol.iterator](),__read=(o,n)=>n===undefined?Array.from(o):Array.from(o).slice(0,n),' +
  '__spreadArray=(t,f)=>t.concat(Array.from(f));' +
  'var require$$0=require("fs"),require$$1=require("path"),require$$3=require("perf_hooks"),' +
  'require$$4=require("os"),commonjsGlobal=globalThis;\n';

/** The wasm backend factory as registered before {@link enableWasmThreads} wrapped it. */
let stockFactory: (() => KernelBackend | Promise<KernelBackend>) | null = null;

/**
 * Makes tfjs-backend-wasm use its **multi-threaded** SIMD build in Node.js
 * (XNNPACK convolutions and matMuls on `threads` threads through Emscripten
 * pthreads on `worker_threads`). tfjs 4.x turns threads off in Node
 * (`WASM_HAS_MULTITHREAD_SUPPORT` is false there) and its loader only works
 * in browsers; this sets the flag and, while the backend initialises only,
 * (1) writes the two scripts the loader passes to its workers as Blob URLs
 * (which Node's `Worker` cannot open) to a temporary directory, and (2)
 * reports `2 × threads` logical CPUs to the module, which caps its pool at
 * half the logical CPUs (`emscripten_num_logical_cores() / 2`: 1 on a 2-CPU
 * machine). Results are identical to the single-threaded build up to
 * float summation order.
 *
 * The pool's threads keep Node's event loop alive: end the program with
 * `process.exit()` (or `tf.removeBackend('wasm')`).
 *
 * Call it after `import '@tensorflow/tfjs-backend-wasm'` and **before** the
 * wasm backend initialises (`tf.setBackend('wasm')`, `tf.ready()`).
 * Initialisation fails (tfjs logs the error and `setBackend` resolves false)
 * if the pool does not get `threads` threads (`setWasmPaths` with a single
 * file, or a tfjs-backend-wasm version whose loader differs).
 *
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * enableWasmThreads({ threads: 2 });
 * await tf.setBackend('wasm');
 * ```
 *
 * @param options See {@link EnableWasmThreadsOptions}.
 */
export function enableWasmThreads(options: EnableWasmThreadsOptions = {}): void {
  const threads = options.threads ?? 2;
  if (!Number.isInteger(threads) || threads < 1 || threads > 8) {
    throw new Error(`Error in enableWasmThreads: threads must be an integer in 1..8, but got ${threads}.`);
  }
  if (!env().getBool('IS_NODE')) {
    throw new Error(
      'Error in enableWasmThreads: the environment must be Node.js (browsers pick the threaded build ' +
        'themselves when cross-origin isolated), but got IS_NODE=false.',
    );
  }
  const registered = engine().registryFactory.wasm;
  if (registered == null) {
    throw new Error(
      "Error in enableWasmThreads: the wasm backend must be registered (import '@tensorflow/tfjs-backend-wasm' first), but got none.",
    );
  }
  if (engine().registry.wasm != null) {
    throw new Error(
      "Error in enableWasmThreads: the wasm backend must not be initialised yet (call it before tf.setBackend('wasm') or tf.ready()), but got an initialised one.",
    );
  }
  const stock = stockFactory ?? registered.factory;
  stockFactory = stock;
  env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  registered.factory = async () => {
    const restore = patchForThreadedInit(threads);
    let backend: KernelBackend;
    try {
      backend = await stock();
    } finally {
      restore();
    }
    const actual = (backend as WasmBackendLike).wasm?.tfjs?.getThreadsCount?.();
    if (actual !== threads) {
      backend.dispose();
      throw new Error(
        `Error in enableWasmThreads: the wasm thread pool must have ${threads} threads, but got ${actual ?? 'a backend without one'}.`,
      );
    }
    return backend;
  };
}

/**
 * Writes `text` to `file` unless it exists, through a temporary name and a rename, so that a reader
 * (a worker thread starting meanwhile) sees either no file or the whole of it, never a partial one.
 * Returns `file`.
 */
export function writeOnce(file: string, text: string): string {
  if (existsSync(file)) return file;
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  return file;
}

/**
 * Installs what the threaded build's loader needs in Node for the duration of
 * one initialisation; returns the function that undoes it.
 */
/** @internal Exported for its test. */
export function patchForThreadedInit(threads: number): () => void {
  const dir = mkdtempSync(join(os.tmpdir(), 'ldl-wasm-threads-'));
  const mainPath = join(dir, 'main.js');
  const scripts = new WeakMap<Blob, string>();
  const { Blob: StockBlob } = globalThis;
  const stockCreateObjectURL = URL.createObjectURL;
  const stockCpus = os.cpus;

  globalThis.Blob = class extends StockBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      const text = parts?.length === 1 && typeof parts[0] === 'string' ? parts[0] : null;
      if (text?.startsWith(MAIN_SCRIPT_PREFIX) === true) {
        // Workers receive this Blob itself (not a URL): written now, loaded by path in the worker.
        writeOnce(mainPath, MAIN_SCRIPT_PRELUDE + text);
      } else if (text?.includes(WORKER_SCRIPT_MARK) === true) {
        scripts.set(this, text);
      }
    }
  };
  let workerPath: string | null = null;
  URL.createObjectURL = (blob: Blob): string => {
    const text = scripts.get(blob);
    if (text == null) return stockCreateObjectURL(blob);
    // Emscripten asks for this URL once per pthread worker (8 times, in one synchronous loop) and starts
    // each worker right after. The file is written once, complete, under its final name: rewriting it
    // for every worker truncated it while the workers started before were reading it, and a worker that
    // read an empty script exited at once (code 0), so the pool waited forever for it to load — the
    // "initialisation stalled" of a busy machine, where the earlier workers start late enough to meet a
    // later rewrite.
    if (workerPath == null) {
      // The worker turns the main-script Blob it is sent into a URL and reads it with fs: point it at the file.
      const prelude = `URL.createObjectURL=()=>${JSON.stringify(mainPath)};URL.revokeObjectURL=()=>{};\n`;
      workerPath = writeOnce(join(dir, 'worker.js'), prelude + text);
    }
    return workerPath;
  };
  os.cpus = () => {
    const cpus = stockCpus();
    return Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length]);
  };
  return () => {
    globalThis.Blob = StockBlob;
    URL.createObjectURL = stockCreateObjectURL;
    os.cpus = stockCpus;
    rmSync(dir, { recursive: true, force: true });
  };
}
