import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', ops: 'src/ops/index.ts' },
  format: ['esm', 'cjs'],
  // One copy of the ops shared by both entries (in CJS too), so their gradients register once.
  splitting: true,
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
