// Shared vitest settings. Tests import workspace packages as users do, by name: each resolves through the
// importing package's node_modules link and its package.json "exports", which point at the TypeScript
// sources in the workspace (./dist only in the packed tarball, through publishConfig). So `pnpm test` needs
// no build step, never runs a stale dist/, and an undeclared @ldl import fails.
import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

// Until @ldl/face-prep's package.json exports its sources the same way (and declares @ldl/core, which it
// imports), these two are mapped by hand.
export const alias = {
  '@ldl/core/node': fileURLToPath(new URL('./packages/core/src/node.ts', import.meta.url)),
  '@ldl/face-prep': fileURLToPath(new URL('./packages/face-prep/src/index.ts', import.meta.url)),
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
