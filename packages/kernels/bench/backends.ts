import { createRequire } from 'node:module';

/** Backends the benchmarks know how to load. */
export const BACKENDS = ['cpu', 'wasm', 'webgpu', 'tensorflow'] as const;
/** One of {@link BACKENDS}. */
export type BackendName = (typeof BACKENDS)[number];

/**
 * Loads (registers) backend `name`; returns why it is unavailable, or null.
 * webgpu goes through Dawn (npm `webgpu`, toggles from `LDL_DAWN_FLAGS`,
 * comma-separated) and needs a GPU adapter; tensorflow is
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
      case 'webgpu': {
        const { create, globals } = await import('webgpu');
        Object.assign(globalThis, globals);
        // Dawn toggles, e.g. LDL_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis for timestamp queries (profiling).
        const gpu = create(process.env.LDL_DAWN_FLAGS?.split(',') ?? []);
        Object.assign(globalThis, { navigator: { gpu } });
        const adapter = await gpu.requestAdapter();
        if (adapter == null) return 'no WebGPU adapter (no GPU or no Vulkan driver)';
        await import('@tensorflow/tfjs-backend-webgpu');
        break;
      }
      case 'tensorflow':
        createRequire(import.meta.url)(process.env.LDL_TFJS_NODE ?? '@tensorflow/tfjs-node');
        break;
    }
  } catch (e) {
    return `cannot load (${(e as Error).message.split('\n')[0]})`;
  }
  return null;
}
