// Parity of @ldl/algorithms' label enhancement with PyLDL 0.1.2 on SJAFFE (../shared/datasets/ldl, never
// committed; skipped where absent), from tools/reference/ldl_le_parity.py's fixture.
import { LDL_MEASURE_HIGHER_IS_BETTER, ldlMeasures, type LdlMeasureName } from '@ldl/core';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  binarize,
  FuzzyCMeans,
  Glle,
  KernelMembership,
  type LabelEnhancer,
  LabelPropagation,
  type LdlDataset,
  ManifoldLearning,
  readLdlDataset,
} from '../src';
import { takeRows, toRows } from '../src/matrix';

type Six = Record<LdlMeasureName, number>;
const fixture = JSON.parse(readFileSync(new URL('./fixtures/le-parity.json', import.meta.url), 'utf8')) as {
  logical: string[];
  fcm: { maxIterations: number };
  subset: { n: number; methods: Record<string, { measures: Six; rows: number[][] }> };
  full: { n: number; methods: Record<string, { measures: Six; seconds: number } & { mean: Six; std: Six }> };
};
const file = fileURLToPath(new URL('../../../../shared/datasets/ldl/SJAFFE.mat', import.meta.url));
const present = existsSync(file);
if (!present) console.warn(`le-parity: ${file} absent (../shared/datasets); skipping the PyLDL LE parity tests.`);

function fcmInit(c: number, n: number): number[][] {
  const u = Array.from({ length: c }, (_, k) => Array.from({ length: n }, (_, i) => ((7 * k + 13 * i) % 17) + 1));
  for (let i = 0; i < n; i++) {
    const s = u.reduce((a, row) => a + row[i], 0);
    for (const row of u) row[i] /= s;
  }
  return u;
}

const make = (name: string, n: number): LabelEnhancer =>
  name === 'LP' ? new LabelPropagation() : name === 'KM' ? new KernelMembership() : name === 'ML' ? new ManifoldLearning() : new FuzzyCMeans({ init: fcmInit(50, n), maxIterations: fixture.fcm.maxIterations });

/** PyLDL's binarised labels (the LE methods run on these on both sides; see the fixture's generator). */
const logical = fixture.logical.map((r) => Array.from(r, Number));

/** The six measures of an enhancer's output against the true distributions. */
async function score(enhancer: LabelEnhancer, data: LdlDataset, L: number[][]): Promise<{ measures: Six; D: number[][] }> {
  const D = (await enhancer.fit(data.features, L)).transform();
  return { measures: ldlMeasures(toRows(data.labels), D), D };
}

const close = (got: number, want: number) => Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want));

describe.skipIf(!present)('label enhancement matches PyLDL on SJAFFE', () => {
  let data: LdlDataset;
  let subset: LdlDataset;
  it('binarize equals PyLDL binaryzation (threshold .5) on every row without tied degrees', async () => {
    const all = await readLdlDataset(file);
    // Without repeated feature rows (first kept), as the fixture.
    const seen = new Set<string>();
    const keep = toRows(all.features).flatMap((r, i) => (seen.has(r.join()) ? [] : (seen.add(r.join()), [i])));
    data = { features: takeRows(all.features, keep), labels: takeRows(all.labels, keep) };
    expect(data.features.rows).toBe(fixture.full.n);
    const idx = Array.from({ length: fixture.subset.n }, (_, i) => i);
    subset = { features: takeRows(data.features, idx), labels: takeRows(data.labels, idx) };
    const ours = binarize(data.labels);
    let compared = 0;
    toRows(data.labels).forEach((row, i) => {
      if (new Set(row).size < row.length) return; // a tie: NumPy's unstable argsort decides
      compared++;
      expect(ours[i].join(''), `row ${i}`).toBe(fixture.logical[i]);
    });
    expect(compared).toBeGreaterThan(150);
  });

  it.each(['LP', 'KM', 'ML', 'FCM'])('%s on the first 60 samples: measures and rows within 1e-6', async (name) => {
    const want = fixture.subset.methods[name];
    const got = await score(make(name, subset.features.rows), subset, logical.slice(0, fixture.subset.n));
    for (const [m, v] of Object.entries(want.measures) as [LdlMeasureName, number][]) {
      expect(close(got.measures[m], v), `${name} ${m}: got ${got.measures[m]}, PyLDL ${v}`).toBe(true);
    }
    want.rows.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(got.D[i][j] - v), `${name} [${i}][${j}]`).toBeLessThan(1e-6)));
  });

  it.each(['LP', 'KM'])('%s, LE protocol on all 212 distinct samples: the six measures within 1e-6', async (name) => {
    const got = await score(make(name, data.features.rows), data, logical);
    for (const [m, v] of Object.entries(fixture.full.methods[name].measures) as [LdlMeasureName, number][]) {
      expect(close(got.measures[m], v), `${name} ${m}: got ${got.measures[m]}, PyLDL ${v}`).toBe(true);
    }
  });

  it("GLLE, LE protocol on all 212 distinct samples: within PyLDL's mean ± std over 5 seeds, or better", async () => {
    const ref = fixture.full.methods.GLLE;
    const runs = [await score(new Glle({ seed: 0 }), data, logical), await score(new Glle({ seed: 1 }), data, logical)];
    const got = { mean: {} as Six };
    for (const m of Object.keys(ref.mean) as LdlMeasureName[]) got.mean[m] = (runs[0].measures[m] + runs[1].measures[m]) / 2;
    for (const m of Object.keys(ref.mean) as LdlMeasureName[]) {
      const bound = LDL_MEASURE_HIGHER_IS_BETTER[m] ? ref.mean[m] - ref.std[m] : ref.mean[m] + ref.std[m];
      const ok = LDL_MEASURE_HIGHER_IS_BETTER[m] ? got.mean[m] >= bound : got.mean[m] <= bound;
      expect(ok, `GLLE ${m}: got ${got.mean[m]}, PyLDL ${ref.mean[m]} ± ${ref.std[m]}`).toBe(true);
    }
  });
});
