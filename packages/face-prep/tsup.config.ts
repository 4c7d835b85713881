import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The library (ESM + CJS) and the align worker it starts (next to it in dist/).
    entry: ['src/index.ts', 'src/align-worker.ts'],
    format: ['esm', 'cjs'],
    dts: { entry: 'src/index.ts' },
    sourcemap: true,
    clean: true,
    shims: true,
    target: 'es2022',
  },
  {
    // The ldl-face-prep executable.
    entry: { 'ldl-face-prep': 'src/bin.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'es2022',
    banner: { js: '#!/usr/bin/env node' },
  },
]);
