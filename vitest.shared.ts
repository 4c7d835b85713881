// Shared vitest settings: tests import workspace packages from their TypeScript sources,
// so `pnpm test` needs no build step first.
import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export const alias = {
  // A subpath before its package: vite matches '@ldl/core' as a prefix of '@ldl/core/node'.
  '@ldl/core/node': fileURLToPath(new URL('./packages/core/src/node.ts', import.meta.url)),
  '@ldl/core': src('core'),
  '@ldl/algorithms': src('algorithms'),
  '@ldl/backbones': src('backbones'),
  '@ldl/face-prep': src('face-prep'),
  '@ldl/kernels': src('kernels'),
  '@ldl/train': src('train'),
};

export function project(name: string, overrides: { testTimeout?: number } = {}) {
  return defineProject({
    resolve: { alias },
    test: {
      name,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      environment: 'node',
      testTimeout: overrides.testTimeout ?? 60_000,
      hookTimeout: 120_000,
    },
  });
}
