import { loadBackend } from '../bench/backends';

let loaded: Promise<string | null> | undefined;

/**
 * `['webgpu']` where Dawn (npm `webgpu`) finds an adapter — a GPU, or Mesa's lavapipe, a Vulkan
 * driver that runs on the CPU (see the package README) — else `[]`, printing why once per file, so
 * that the webgpu cases of a test run wherever WebGPU exists and are visibly skipped elsewhere.
 */
export async function webgpuBackends(): Promise<'webgpu'[]> {
  loaded ??= loadBackend('webgpu');
  const why = await loaded;
  if (why == null) return ['webgpu'];
  console.warn(`@ldl/kernels tests: webgpu cases skipped: ${why}.`);
  return [];
}
