import { defineConfig } from 'tsup';

export default defineConfig({
  // preprocessor: PreprocessorConfig and its validator without Node imports, for browser bundles (@ldl/train/preprocessor).
  entry: { index: 'src/index.ts', preprocessor: 'src/saved/preprocessor.ts' },
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
