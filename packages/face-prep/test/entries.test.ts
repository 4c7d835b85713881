// The package's entry boundaries, read from the sources: what each entry loads at run time (type-only
// imports are erased). `@ldl/face-prep` must not load the detector stack (so @ldl/train, which imports it,
// does not need face-api/Human), and `@ldl/face-prep/browser` must load neither sharp nor a Node API.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** Every bare module specifier loaded at run time by `entry` and the local modules it loads, transitively. */
function runtimeImports(entry: string): Set<string> {
  const bare = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(join(src, file), 'utf8');
    // `import … from 'x'`, `export … from 'x'`, `import 'x'`, `import('x')`, `require('x')`; not `import type` / `export type`.
    const pattern = /(?:^|\n)\s*(?:import|export)\s+(?!type\s)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g;
    for (const m of code.matchAll(pattern)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('./')) visit(`${spec.slice(2)}.ts`);
      else bare.add(spec);
    }
  };
  visit(entry);
  return bare;
}

const DETECTOR_STACK = /^(@vladmandic\/|@tensorflow\/tfjs$|@tensorflow\/tfjs-converter|@tensorflow\/tfjs-backend-wasm)/;

describe('entry boundaries', () => {
  it('@ldl/face-prep loads sharp and tfjs-core, not the face detector stack', () => {
    const loaded = [...runtimeImports('index.ts')];
    expect(loaded).toContain('sharp');
    expect(loaded.filter((s) => DETECTOR_STACK.test(s))).toEqual([]);
  });

  it('@ldl/face-prep/detector loads the detector stack (optional peers)', () => {
    const loaded = [...runtimeImports('detector-entry.ts')];
    expect(loaded).toEqual(expect.arrayContaining(['@tensorflow/tfjs-converter', 'node:fs/promises']));
  });

  it('@ldl/face-prep/browser loads neither sharp nor a Node API', () => {
    const loaded = [...runtimeImports('browser.ts')];
    expect(loaded).toEqual(expect.arrayContaining(['@tensorflow/tfjs-core', '@tensorflow/tfjs-converter', '@vladmandic/face-api/dist/face-api.esm-nobundle.js']));
    expect(loaded.filter((s) => s === 'sharp' || s.startsWith('node:') || s === 'cli-progress')).toEqual([]);
  });
});
