// Issue 20 kind 15: a damaged config file (JSON or YAML) gets `Error in readConfigFile: <file>…` saying what is
// wrong, never a raw error: seeded mutants of a valid file of each kind.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { damagedCopies } from '@ldl/core';
import { describe, expect, it } from 'vitest';
import { readConfigFile } from '../src/config';

const settings = { preset: 'small', data: 'faces', epochs: 3, lr: 0.001, imageSize: 32, raceClasses: ['B', 'W'], presets: { small: { margin: 0.4 } } };
const texts: Record<string, string> = {
  'run.json': JSON.stringify(settings, null, 2),
  'run.yaml': 'preset: small\ndata: faces\nepochs: 3\nlr: 0.001\nimageSize: 32\nraceClasses: [B, W]\npresets:\n  small:\n    margin: 0.4\n',
};

describe('readConfigFile on damaged files', () => {
  for (const [name, text] of Object.entries(texts)) {
    it(`200 seeded mutants of ${name}: read, or its own error naming the file`, () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'ldl-config-fuzz-'));
      const file = path.join(dir, name);
      writeFileSync(file, text);
      expect(readConfigFile(file, 'train').settings.epochs).toBe(3);
      const escaped = file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      let errors = 0;
      for (const m of damagedCopies(new TextEncoder().encode(text), 200, 7)) {
        writeFileSync(file, m.bytes);
        try {
          readConfigFile(file, 'train');
        } catch (e) {
          errors++;
          expect((e as Error).message, `${m.kind}: ${m.detail}`).toMatch(new RegExp(`^Error in readConfigFile: ${escaped}:? \\S`));
        }
      }
      expect(errors).toBeGreaterThan(50);
    });
  }
});
