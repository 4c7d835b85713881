/**
 * `pnpm bench:train [flags]`: runs `train_main.ts` (the benchmark; its header lists the flags) in a
 * child Node.js with tsx and this package's tsconfig, so that `@ldl/core` and `@ldl/kernels`
 * resolve to the workspace sources without a build.
 */
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const child = spawnSync(process.execPath, [...process.execArgv, resolve(here, 'train_main.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, TSX_TSCONFIG_PATH: resolve(here, '../tsconfig.json') },
});
process.exit(child.status ?? 1);
