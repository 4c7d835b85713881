import { installDawnWebgpu } from '../src/dawn';

let loaded: Promise<string | null> | undefined;

async function load(): Promise<string | null> {
  try {
    await installDawnWebgpu({ allowFallbackAdapter: true });
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * `['webgpu']` where Dawn (npm `webgpu`) finds an adapter — a GPU, or Mesa's lavapipe, a Vulkan
 * driver that runs on the CPU (see the package README) — else `[]`, printing why once per file, so
 * that the webgpu cases of a test run wherever WebGPU exists and are visibly skipped elsewhere.
 */
export async function webgpuBackends(): Promise<'webgpu'[]> {
  loaded ??= load();
  const why = await loaded;
  if (why == null) return ['webgpu'];
  console.warn(`@ldl/kernels tests: webgpu cases skipped: ${why}`);
  return [];
}
