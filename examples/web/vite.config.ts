// Vite config of the browser demo. The workspace packages resolve through their package.json exports, which
// point at their TypeScript sources, so `pnpm --filter @ldl/example-web build` needs no build of the packages first.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Plugin, defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/**
 * The detector's pretrained weights, straight from the installed npm packages: face-api's SSD MobileNet v1
 * and `@vladmandic/human`'s Face Mesh. Served under `models/` by the dev server, copied there by the build.
 */
const MODEL_FILES: Record<string, { dir: string; files: string[] }> = {
  'models/face-api/': {
    dir: path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model'),
    files: ['ssd_mobilenetv1_model-weights_manifest.json', 'ssd_mobilenetv1_model.bin'],
  },
  'models/human/': {
    // `@vladmandic/human`'s exports map has no `./package.json`: its main file is in `dist/`.
    dir: path.join(path.dirname(require.resolve('@vladmandic/human')), '..', 'models'),
    files: ['facemesh.json', 'facemesh.bin'],
  },
};

function detectorModels(): Plugin {
  const lookup = new Map(Object.entries(MODEL_FILES).flatMap(([prefix, { dir, files }]) => files.map((f) => [`${prefix}${f}`, path.join(dir, f)] as const)));
  return {
    name: 'ldl-detector-models',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const file = lookup.get((req.url ?? '').split('?')[0].replace(/^\//, ''));
        if (!file) return next();
        res.setHeader('Content-Type', file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
        res.end(readFileSync(file));
      });
    },
    generateBundle() {
      for (const [fileName, file] of lookup) this.emitFile({ type: 'asset', fileName, source: readFileSync(file) });
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  plugins: [detectorModels()],
  resolve: {
    dedupe: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-converter'],
  },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
