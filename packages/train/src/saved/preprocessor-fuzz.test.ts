// Issue 20 kind 15: a damaged preprocessor.json gets `Error in readPreprocessorConfig/parsePreprocessorConfig:
// <file>…` naming what is wrong, never a raw error: seeded mutants of a valid file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { damagedCopies } from '@ldl/core';
import { describe, expect, it } from 'vitest';
import { readPreprocessorConfig } from './load';
import { PREPROCESSOR_FORMAT, PREPROCESSOR_VERSION } from './preprocessor';

const valid = {
  format: PREPROCESSOR_FORMAT, version: PREPROCESSOR_VERSION, inputSize: 32, colorOrder: 'rgb', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], crop: 'stretch', margin: 0,
  heads: ['age'], minAge: 0, numClasses: 101, sigma: 2, genderClasses: null, ethnicityClasses: null, backbone: 'resnet50', weights: null,
};

describe('readPreprocessorConfig on damaged files', () => {
  it('300 seeded mutants: read, or an error of the reader naming the file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ldl-pre-fuzz-'));
    const file = path.join(dir, 'preprocessor.json');
    writeFileSync(file, JSON.stringify(valid, null, 2));
    expect((await readPreprocessorConfig(dir)).inputSize).toBe(32);
    const escaped = file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    let errors = 0;
    for (const m of damagedCopies(new TextEncoder().encode(JSON.stringify(valid, null, 2)), 300, 6)) {
      writeFileSync(file, m.bytes);
      try {
        await readPreprocessorConfig(dir);
      } catch (e) {
        errors++;
        expect((e as Error).message, `${m.kind}: ${m.detail}`).toMatch(new RegExp(`^Error in (readPreprocessorConfig|parsePreprocessorConfig): ${escaped}:? \\S`));
      }
    }
    expect(errors).toBeGreaterThan(100);
  });
});
