// Shared vitest settings. Tests import workspace packages as users do, by name: each resolves through the
// importing package's node_modules link and its package.json "exports", which point at the TypeScript
// sources in the workspace (./dist only in the packed tarball, through publishConfig). So `pnpm test` needs
// no build step, never runs a stale dist/, and an undeclared @ldl import fails.
import { defineProject } from 'vitest/config';

export function project(name: string, overrides: { testTimeout?: number } = {}) {
  return defineProject({
    test: {
      name,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      environment: 'node',
      testTimeout: overrides.testTimeout ?? 60_000,
      hookTimeout: 120_000,
    },
  });
}
