import { fileURLToPath } from 'node:url';
import { alias, project } from '../../vitest.shared';

const base = project('@ldl/example-web', { testTimeout: 300_000 });
const src = (file: string) => fileURLToPath(new URL(`../../packages/${file}`, import.meta.url));

// The browser test builds the page, trains a tiny model and runs Chromium: minutes, not seconds. It also
// imports @ldl/face-prep's `./detector` entry, which the shared aliases (package roots only) do not map.
const config: typeof base = {
  ...base,
  resolve: {
    alias: [
      { find: /^@ldl\/face-prep\/detector$/, replacement: src('face-prep/src/detector-entry.ts') },
      ...Object.entries(alias).map(([find, replacement]) => ({ find: new RegExp(`^${find}$`), replacement })),
    ],
  },
};

export default config;
