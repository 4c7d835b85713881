import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // cv-worker: the worker thread of `ldl cv --jobs N`, started by cv-pool as ./cv-worker.js beside the bundle.
    entry: ['src/index.ts', 'src/cv-worker.ts'],
    format: ['esm', 'cjs'],
    dts: { entry: 'src/index.ts' },
    sourcemap: true,
    clean: true,
    target: 'es2022',
    // import.meta.url in the CommonJS build (cv-pool finds the worker file by it).
    shims: true,
  },
]);
