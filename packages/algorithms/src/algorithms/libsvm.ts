// libsvm (Chang & Lin) through `libsvm-js` (BSD-3-Clause, the emscripten build of libsvm 3.22): the
// solver scikit-learn's `SVR` / `SVC` wrap, so LDSVR and PT-SVM run the same SMO as PyLDL's.
import { createRequire } from 'node:module';

/** The part of libsvm-js' `SVM` class used here. */
export interface LibSvm {
  train(samples: number[][], labels: number[]): void;
  predict(samples: number[][]): number[];
  predictProbability(samples: number[][]): { prediction: number; estimates: { label: number; probability: number }[] }[];
  getLabels(): number[];
  free(): void;
}

/** Options of libsvm (`svm-train` flags). */
export interface LibSvmOptions {
  type: number;
  kernel: number;
  gamma?: number;
  cost?: number;
  epsilon?: number;
  tolerance?: number;
  shrinking?: boolean;
  probabilityEstimates?: boolean;
  cacheSize?: number;
  quiet?: boolean;
}

interface LibSvmClass {
  new (options: LibSvmOptions): LibSvm;
  SVM_TYPES: { C_SVC: number; NU_SVC: number; ONE_CLASS: number; EPSILON_SVR: number; NU_SVR: number };
  KERNEL_TYPES: { LINEAR: number; POLYNOMIAL: number; RBF: number; SIGMOID: number; PRECOMPUTED: number };
}

let loaded: Promise<LibSvmClass> | undefined;

/**
 * Loads libsvm-js' WebAssembly build once (its main entry resolves to the `SVM` class). Its emscripten
 * loader tries `fetch` on a file path first when `fetch` exists (Node ≥ 18), fails, prints two lines to
 * stderr and falls back to reading the file; `fetch` is hidden during the synchronous `require` (and put
 * back at once) so that it goes straight to the file.
 */
export function loadLibSvm(): Promise<LibSvmClass> {
  if (!loaded) {
    const g = globalThis as { fetch?: unknown };
    const fetch = g.fetch;
    g.fetch = undefined;
    try {
      loaded = createRequire(import.meta.url)('libsvm-js') as Promise<LibSvmClass>;
    } finally {
      g.fetch = fetch;
    }
  }
  return loaded;
}
