/** What Dawn reports about the adapter {@link installDawnWebgpu} found. */
export interface DawnAdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  /** A software adapter (e.g. Mesa's lavapipe, which runs the shaders on the CPU). */
  isFallbackAdapter: boolean;
}

/** Options of {@link installDawnWebgpu}. */
export interface InstallDawnWebgpuOptions {
  /**
   * Dawn toggles passed to npm `webgpu`'s `create`, e.g. `['enable-dawn-features=allow_unsafe_apis']`
   * for timestamp queries (profiling). Used only where `navigator.gpu` does not exist yet.
   * @default []
   */
  flags?: readonly string[];
  /**
   * Accept a software adapter (`isFallbackAdapter`: e.g. Mesa's lavapipe, installed for the tests by
   * tools/webgpu-cpu/setup.sh). Refuse it where webgpu would only be chosen for speed.
   * @default false
   */
  allowFallbackAdapter?: boolean;
}

interface GpuAdapterLike {
  info?: Partial<DawnAdapterInfo>;
}
interface GpuLike {
  requestAdapter(): Promise<GpuAdapterLike | null>;
}
interface WebgpuModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/**
 * Makes WebGPU available to TensorFlow.js in Node through Dawn: installs npm `webgpu`'s globals
 * and `navigator.gpu` (unless a `navigator.gpu` exists, e.g. in a browser or after an earlier call),
 * checks that an adapter exists, and registers tfjs-backend-webgpu (activate it with
 * `tf.setBackend('webgpu')`). `webgpu` and `@tensorflow/tfjs-backend-webgpu` are optional peer
 * dependencies, loaded here only.
 *
 * @returns the adapter's vendor, architecture, description and whether it is a software one.
 * @throws Error naming the cause: `webgpu` (Dawn) cannot be loaded, no adapter (no GPU or Vulkan
 *   driver), a software adapter without `allowFallbackAdapter`, or tfjs-backend-webgpu cannot be loaded.
 */
export async function installDawnWebgpu(options: InstallDawnWebgpuOptions = {}): Promise<DawnAdapterInfo> {
  const fn = 'installDawnWebgpu';
  const g = globalThis as unknown as { navigator?: { gpu?: GpuLike } };
  if (g.navigator?.gpu == null) {
    let webgpu: WebgpuModule;
    try {
      webgpu = (await import('webgpu')) as unknown as WebgpuModule;
    } catch (e) {
      throw new Error(`Error in ${fn}: npm webgpu (Dawn) must load, but got: ${firstLine(e)}.`);
    }
    Object.assign(globalThis, webgpu.globals);
    // Node ≥ 21 has a global `navigator` without `gpu`: replace it (configurable, as Node defines it).
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: webgpu.create([...(options.flags ?? [])]) }, configurable: true, writable: true });
  }
  const adapter = await g.navigator!.gpu!.requestAdapter();
  if (adapter == null) throw new Error(`Error in ${fn}: Dawn must find a WebGPU adapter, but got none (no GPU or no Vulkan driver).`);
  const info: DawnAdapterInfo = {
    vendor: adapter.info?.vendor ?? '',
    architecture: adapter.info?.architecture ?? '',
    description: adapter.info?.description ?? '',
    isFallbackAdapter: adapter.info?.isFallbackAdapter === true,
  };
  if (info.isFallbackAdapter && options.allowFallbackAdapter !== true) {
    throw new Error(
      `Error in ${fn}: the adapter must be a GPU, but got a software one (${info.description || 'no description'}), which runs on the CPU (allowFallbackAdapter: true takes it).`,
    );
  }
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    throw new Error(`Error in ${fn}: @tensorflow/tfjs-backend-webgpu must load, but got: ${firstLine(e)}.`);
  }
  return info;
}
