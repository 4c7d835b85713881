import { createRequire } from 'node:module';

import { installDawnWebgpu } from '@ldl/kernels';

/** Backends the benchmarks know how to load. */
export const BACKENDS = ['cpu', 'wasm', 'webgpu', 'tensorflow'] as const;
/** One of {@link BACKENDS}. */
export type BackendName = (typeof BACKENDS)[number];

/**
 * Loads (registers) backend `name`; returns why it is unavailable, or null.
 * webgpu goes through Dawn (`installDawnWebgpu`, toggles from `LDL_DAWN_FLAGS`,
 * comma-separated; a software adapter such as lavapipe is taken); tensorflow is
 * `@tensorflow/tfjs-node`, from `LDL_TFJS_NODE` (a built package directory,
 * see tools/tfjs-node/README.md) or the normal resolution.
 */
export async function loadBackend(name: BackendName): Promise<string | null> {
  try {
    switch (name) {
      case 'cpu':
        await import('@tensorflow/tfjs-backend-cpu');
        break;
      case 'wasm':
        await import('@tensorflow/tfjs-backend-wasm');
        break;
      case 'webgpu':
        // Dawn toggles, e.g. LDL_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis for timestamp queries (profiling).
        await installDawnWebgpu({ flags: process.env.LDL_DAWN_FLAGS?.split(',') ?? [], allowFallbackAdapter: true });
        break;
      case 'tensorflow':
        createRequire(import.meta.url)(process.env.LDL_TFJS_NODE ?? '@tensorflow/tfjs-node');
        break;
    }
  } catch (e) {
    return `cannot load (${(e as Error).message.split('\n')[0]})`;
  }
  return null;
}
