/**
 * The fastest tfjs backend this browser has: WebGPU, then WebGL, then WebAssembly (the wasm binaries are
 * bundled by Vite). `?backend=webgl` (or `webgpu`, `wasm`) in the page URL asks for one, and fails
 * loudly when it cannot start: no silent fallback.
 */
import '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { getBackend, ready, setBackend } from '@tensorflow/tfjs-core';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/** The backends in the order they are tried. */
export const BACKEND_ORDER = ['webgpu', 'webgl', 'wasm'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
});

/** Why each faster backend was skipped, for the page. */
export interface BackendChoice {
  name: BackendName;
  skipped: string[];
}

/**
 * Starts the first backend of {@link BACKEND_ORDER} that initialises (or `wanted` only).
 * @throws Error when none (or not `wanted`) starts.
 */
export async function pickBackend(wanted?: string | null): Promise<BackendChoice> {
  if (wanted != null && !(BACKEND_ORDER as readonly string[]).includes(wanted)) {
    throw new Error(`Error in pickBackend: backend must be one of ${BACKEND_ORDER.join(', ')}, but got '${wanted}'.`);
  }
  const skipped: string[] = [];
  for (const name of wanted ? [wanted as BackendName] : BACKEND_ORDER) {
    if (name === 'webgpu' && !('gpu' in navigator)) {
      skipped.push('webgpu (navigator.gpu is absent)');
      continue;
    }
    if (await setBackend(name).catch(() => false)) {
      await ready();
      return { name: getBackend() as BackendName, skipped };
    }
    skipped.push(`${name} (failed to initialise)`);
  }
  throw new Error(`Error in pickBackend: one of ${wanted ?? BACKEND_ORDER.join(', ')} must start in this browser, but none did: ${skipped.join('; ')}.`);
}
