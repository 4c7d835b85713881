import type { TensorInfo } from '@tensorflow/tfjs-core';

/**
 * Checks that `inputs` holds every one of `names` as a float32 tensor of the first one's shape (the
 * inputs of an elementwise kernel); returns them.
 */
export function sameShapeFloat32<K extends string>(fn: string, inputs: Partial<Record<K, TensorInfo>>, names: readonly [K, ...K[]]): Record<K, TensorInfo> {
  const shape = inputs[names[0]]?.shape ?? [];
  for (const name of names) {
    const t = inputs[name];
    if (t == null || t.dtype !== 'float32' || t.shape.join() !== shape.join()) {
      throw new Error(
        `Error in ${fn}: ${name} must be a float32 tensor of ${names[0]}'s shape [${shape.join(', ')}], but got ${t == null ? 'none' : `${t.dtype} [${t.shape.join(', ')}]`}.`,
      );
    }
  }
  return inputs as Record<K, TensorInfo>;
}
