import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-core/dist/register_all_gradients';

/** Backends the fast kernels are checked on in this suite (webgpu needs a GPU: checked by the device script). */
export const BACKENDS = ['cpu', 'wasm'] as const;

export { randomValues, relativeError } from './numeric';

/** Runs `f` on `backend` and returns its outputs' values (tensors are freed). */
export async function runOn(backend: string, f: () => tf.Tensor[]): Promise<Float32Array[]> {
  if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend) throw new Error(`backend ${backend} did not initialise`);
  const outs = tf.tidy(f);
  const values = await Promise.all(outs.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(outs);
  return values;
}
