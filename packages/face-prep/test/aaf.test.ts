import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alignImages } from '../src/batch';
import { parseFacesCsv } from '../src/csv';
import { AAF_PRESENT, AAF_RAW, evaluate, percentile, readHandLabels, seededSubset } from './aaf';


if (!AAF_PRESENT) console.log(`face-prep: ${AAF_RAW} not found, skipping the AAF alignment evaluation.`);

describe('evaluation helpers', () => {
  it('percentile is nearest-rank and the subset is seeded', () => {
    expect(percentile([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 0.95)).toBe(5);
    const items = Array.from({ length: 50 }, (_, i) => i);
    expect(seededSubset(items, 10, 3)).toEqual(seededSubset(items, 10, 3));
    expect(seededSubset(items, 10, 3)).not.toEqual(seededSubset(items, 10, 4));
  });
});

// All 600 photos, not a sample: the acceptance figures are defined on the whole set, and a 150-photo subset's
// share of level eyes has a standard error of about 1.5 points around the full set's 96.67 %, so a 95 % bound on
// a subset fails or passes by the draw (one draw gave 94.67 %). About 6 minutes on 2 cores; CI has the data.
describe.skipIf(!AAF_PRESENT)('two-pass alignment on aaf-raw (all 600 hand-labelled photos)', () => {
  it('meets the acceptance figures', { timeout: 1_200_000 }, async () => {
    const labels = readHandLabels();
    const dir = mkdtempSync(join(tmpdir(), 'face-prep-aaf-'));
    try {
      const out = join(dir, 'faces.csv');
      await alignImages({ imagesDir: `${AAF_RAW}/images`, photos: labels.map((l) => l.file), out, progress: false });
      const m = await evaluate(labels, parseFacesCsv(readFileSync(out, 'utf8'), out));
      console.log(`face-prep aaf, all ${labels.length}: ${JSON.stringify(m)}`);
      expect(m.detectionRate).toBeGreaterThanOrEqual(0.98);
      expect(m.eyeErrorMedian).toBeLessThanOrEqual(0.05);
      expect(m.eyeErrorP95).toBeLessThanOrEqual(0.1);
      expect(m.angleErrorMedian).toBeLessThanOrEqual(2);
      // The 95 % (bench/align.ts measured 96.67 % with the default Face Mesh eyes).
      expect(m.levelWithin2).toBeGreaterThanOrEqual(0.95);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the 68-point eye model selectable', { timeout: 300_000 }, async () => {
    const labels = seededSubset(readHandLabels(), 20, 7);
    const dir = mkdtempSync(join(tmpdir(), 'face-prep-aaf68-'));
    try {
      const out = join(dir, 'faces.csv');
      await alignImages({ imagesDir: `${AAF_RAW}/images`, photos: labels.map((l) => l.file), out, progress: false, detectorOptions: { eyeModel: 'landmark68' } });
      const m = await evaluate(labels, parseFacesCsv(readFileSync(out, 'utf8'), out));
      console.log(`face-prep aaf subset, landmark68 eyes: ${JSON.stringify(m)}`);
      expect(m.detectionRate).toBeGreaterThanOrEqual(0.95);
      expect(m.eyeErrorMedian).toBeLessThanOrEqual(0.05);
      expect(m.angleErrorMedian).toBeLessThanOrEqual(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
