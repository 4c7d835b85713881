// Per-algorithm parity with PyLDL 0.1.2 on s-JAFFE (../shared/datasets/ldl; skipped where absent), 3 folds,
// seed 0: @ldl's mean of each of the six measures must lie within PyLDL's mean ± std on the same folds, or
// be better. The fixture (test/fixtures/pyldl-parity-sjaffe.json) holds the folds and PyLDL's results;
// how it was made is in its `made` field (tools/reference/make_parity_fixture.sh).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LDL_MEASURE_HIGHER_IS_BETTER, type LdlMeasureName } from '@ldl/core';
import { describe, expect, it } from 'vitest';
import { createAlgorithm, LDL_ALGORITHMS, crossValidate, kFoldIndices, readLdlDataset } from '../src/index';

interface Fixture {
  made: string;
  data: string;
  folds: number;
  seed: number;
  testIndices: number[][];
  /** A few slow methods run with lighter settings on both sides (same values in PyLDL). */
  params: Record<string, { ldl: Record<string, number>; pyldlFit: Record<string, number> }>;
  results: Record<string, { mean: Record<string, number>; std: Record<string, number>; seconds: number }>;
  /** Methods whose parity is not met, with why (run as skipped tests, so that they show). */
  known?: Record<string, string>;
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/pyldl-parity-sjaffe.json', import.meta.url), 'utf8')) as Fixture;
const file = fileURLToPath(new URL(`../../../../shared/datasets/ldl/${fixture.data}`, import.meta.url));
const present = existsSync(file);
if (!present) console.warn(`[@ldl/algorithms] skipping the PyLDL parity tests: ${file} is absent`);

/** PyLDL's metric names → @ldl's. */
const MEASURES: Record<string, LdlMeasureName> = {
  chebyshev: 'chebyshev',
  clark: 'clark',
  canberra: 'canberra',
  kl_divergence: 'kullbackLeibler',
  cosine: 'cosine',
  intersection: 'intersection',
};
/** The fixture's means are rounded to nothing, but a deterministic method with std 0 needs some slack. */
const SLACK = 5e-4;

const entries = Object.entries(LDL_ALGORITHMS).filter(([, e]) => e.pyldl && fixture.results[e.pyldl]);

describe.skipIf(!present)(`parity with PyLDL 0.1.2 on ${fixture.data}, ${fixture.folds} folds`, () => {
  it('uses the folds of the fixture', () => {
    expect(kFoldIndices(fixture.testIndices.flat().length, fixture.folds, fixture.seed)).toEqual(fixture.testIndices);
  });

  const known = fixture.known ?? {};
  for (const [, e] of entries.filter(([, e]) => known[e.pyldl as string])) it.skip(`${e.label}: ${known[e.pyldl as string]}`, () => {});

  it.each(entries.filter(([, e]) => !known[e.pyldl as string]))('%s: each measure within PyLDL mean ± std, or better', async (name, entry) => {
    const data = await readLdlDataset(file);
    const reference = fixture.results[entry.pyldl as string];
    const params = fixture.params[entry.pyldl as string]?.ldl ?? {};
    const cv = await crossValidate(data, (_, fold) => createAlgorithm(name, params, fold), { folds: fixture.folds, seed: fixture.seed });
    const row = (mean: (k: string) => number, std: (k: string) => number) => Object.keys(MEASURES).map((k) => `${mean(k).toFixed(3)} ± ${std(k).toFixed(3)}`).join(' | ');
    console.log(`| ${entry.label} (@ldl) | ${row((k) => cv.mean[MEASURES[k]], (k) => cv.std[MEASURES[k]])} |\n| ${entry.label} (PyLDL) | ${row((k) => reference.mean[k], (k) => reference.std[k])} |`);
    for (const [py, m] of Object.entries(MEASURES)) {
      const ours = cv.mean[m];
      const { [py]: mean } = reference.mean;
      const { [py]: std } = reference.std;
      const better = LDL_MEASURE_HIGHER_IS_BETTER[m] ? ours >= mean : ours <= mean;
      expect(better || Math.abs(ours - mean) <= std + SLACK, `${entry.label} ${m}: @ldl ${ours.toFixed(4)}, PyLDL ${mean.toFixed(4)} ± ${std.toFixed(4)}`).toBe(true);
    }
  }, 300_000);
});
