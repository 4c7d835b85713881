import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', onnx: 'src/export/onnx/index.ts' },
  // One copy of the layer classes shared by both entries, so each registers once.
  splitting: true,
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  shims: true,
  target: 'es2022',
});
