import { getBackend, getKernel } from '@tensorflow/tfjs-core';

/**
 * Whether the active backend registers every kernel in `names`: an op then runs them, elsewhere its
 * composite fallback. The kernel registry is the only place an implementation is chosen.
 */
export function kernelsRegistered(names: readonly string[]): boolean {
  const backend = getBackend();
  return names.every((name) => getKernel(name, backend) !== undefined);
}
