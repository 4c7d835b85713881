import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // import.meta.url (backend.ts loads tfjs-node with createRequire) also in the CJS build
  shims: true,
  // optional native dependency, loaded at run time only
  external: ['webgpu'],
});
