/**
 * Run-time backend choice: `tensorflow` (tfjs-node-gpu, else tfjs-node) > `webgpu` (Dawn via npm
 * `webgpu`) > `wasm` > `cpu`. The Node bindings are never dependencies: they are loaded with
 * `require` only where a user installed them (`LDL_TFJS_NODE` may name another module to load).
 */
import { createRequire } from 'node:module';
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

async function tryWebgpu(): Promise<string> {
  let webgpu: { create: (args: string[]) => unknown; globals: Record<string, unknown> };
  try {
    webgpu = (await import('webgpu')) as unknown as typeof webgpu;
  } catch (e) {
    throw new Error(`npm webgpu (Dawn) failed to load (${message(e)})`);
  }
  const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
  Object.assign(globalThis, webgpu.globals);
  if (!g.navigator?.gpu) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: webgpu.create([]) }, configurable: true, writable: true });
  }
  const gpu = g.navigator?.gpu as { requestAdapter: () => Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null> };
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('Dawn found no WebGPU adapter (no GPU or driver)');
  await import('@tensorflow/tfjs-backend-webgpu');
  await activate('webgpu');
  const info = adapter.info;
  return `adapter ${[info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || '(no info)'}`;
}

async function tryWasm(): Promise<string> {
  await import('@tensorflow/tfjs-backend-wasm');
  await activate('wasm');
  return 'WebAssembly backend';
}

async function tryCpu(): Promise<string> {
  await import('@tensorflow/tfjs-backend-cpu');
  await activate('cpu');
  return 'pure-JavaScript backend';
}

const LOADERS: Record<BackendName, () => Promise<string>> = {
  tensorflow: tryTensorflow,
  webgpu: tryWebgpu,
  wasm: tryWasm,
  cpu: tryCpu,
};

/**
 * Activates a tfjs backend. Without `name`, tries {@link BACKEND_ORDER} and keeps the first that
 * loads; with `name`, loads exactly that one and throws (with the reason) if it cannot.
 *
 * @param name `'tensorflow' | 'webgpu' | 'wasm' | 'cpu'`, or undefined for automatic choice.
 * @param options.skip backends not to try in automatic mode (e.g. `['webgpu']`).
 */
export async function selectBackend(name?: string, options: { skip?: readonly BackendName[] } = {}): Promise<BackendSelection> {
  if (name !== undefined && !(BACKEND_ORDER as readonly string[]).includes(name)) {
    throw new Error(`Error in selectBackend: name must be one of ${BACKEND_ORDER.join(', ')}, but got ${JSON.stringify(name)}.`);
  }
  const candidates: BackendName[] = name ? [name as BackendName] : BACKEND_ORDER.filter((b) => !options.skip?.includes(b));
  const attempts: BackendAttempt[] = [];
  for (const candidate of candidates) {
    try {
      const reason = await LOADERS[candidate]();
      attempts.push({ name: candidate, ok: true, reason });
      const summary = [
        `backend: ${candidate} (${reason})`,
        ...attempts.filter((a) => !a.ok).map((a) => `  not ${a.name}: ${a.reason}`),
      ].join('\n');
      return { name: candidate, attempts, summary };
    } catch (e) {
      attempts.push({ name: candidate, ok: false, reason: message(e) });
    }
  }
  const detail = attempts.map((a) => `${a.name}: ${a.reason}`).join('; ');
  throw new Error(name ? `Error in selectBackend: backend ${name} cannot be used: ${detail}.` : `Error in selectBackend: no backend could be loaded (${detail}).`);
}
