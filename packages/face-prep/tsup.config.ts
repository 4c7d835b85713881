import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The Node entries (ESM + CJS): `.` (sharp I/O, geometry, alignment), `./detector` (face detector,
    // batch tools, the CLI behind `ldl prep`) and the align worker that `alignImages` starts (next to them in dist/).
    entry: { index: 'src/index.ts', detector: 'src/detector-entry.ts', 'align-worker': 'src/align-worker.ts' },
    format: ['esm', 'cjs'],
    dts: { entry: { index: 'src/index.ts', detector: 'src/detector-entry.ts' } },
    sourcemap: true,
    shims: true,
    target: 'es2022',
  },
  {
    // `./browser`: ESM only (it loads face-api's ESM build), no Node API.
    entry: { browser: 'src/browser.ts' },
    format: ['esm'],
    dts: true,
    sourcemap: true,
    platform: 'browser',
    target: 'es2022',
  },
]);
