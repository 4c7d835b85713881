#!/usr/bin/env node
// The `ldl` executable inside this repository: runs src/bin.ts through tsx, so the examples' scripts and
// `pnpm start` need no build. The published package's `ldl` is dist/ldl.js (publishConfig.bin).
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('../src/bin.ts');
