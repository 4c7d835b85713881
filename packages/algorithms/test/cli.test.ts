import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatMeasure, runLdlCv } from '../src/cli';
import { syntheticLdl } from './synthetic';

function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  return runLdlCv(args, (l) => out.push(l), (l) => err.push(l)).then((code) => ({ code, out: out.join('\n'), err: err.join('\n') }));
}

describe('ldl cv (runLdlCv)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ldl-cv-'));
  const { X, D } = syntheticLdl(40, 3, 3);
  const csv = join(dir, 'toy.csv');
  writeFileSync(csv, ['f1,f2,f3,label_a,label_b,label_c', ...X.map((x, i) => [...x, ...D[i]].join(','))].join('\n'));

  it('prints the PyLDL-style table and writes the folds', async () => {
    const folds = join(dir, 'folds.json');
    const r = await run(['--data', csv, '--algorithm', 'aa-knn,sa-bfgs', '--folds', '4', '--no-progress', '--save-folds', folds, '--max-iterations', '30']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('toy.csv: n=40, d=3, L=3; 4-fold CV');
    expect(r.out).toContain('| algorithm | Chebyshev ↓ | Clark ↓ | Canberra ↓ | KL ↓ | Cosine ↑ | Intersection ↑ | mean rank | wall |');
    expect(r.out).toMatch(/\| AA-kNN \| \.\d{3} ± \.\d{3} \([12](\.5)?\) \|/);
    expect(r.out).toMatch(/\| SA-BFGS \| /);
    const saved = JSON.parse(readFileSync(folds, 'utf8')) as { folds: { test: number[] }[] };
    expect(saved.folds.flatMap((f) => f.test).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('exits 2 with the usage on a bad option', async () => {
    expect((await run([])).err).toContain('--data is required');
    const r = await run(['--data', csv, '--folds', '1']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--folds must be an integer >= 2, but got '1'");
  });

  it('--repeats, --format csv/json with --out, per-measure ranks, the same folds for every algorithm', async () => {
    const out = join(dir, 'r.csv');
    const r = await run(['--data', csv, '--algorithm', 'aa-knn,sa-bfgs', '--folds', '3', '--repeats', '2', '--no-progress', '--format', 'csv', '--out', out, '--param', 'maxIterations=20']);
    expect(r.code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^algorithm,label,chebyshev_mean,chebyshev_std,chebyshev_rank,/);
    expect(lines).toHaveLength(3);
    const cols = lines[0].split(',');
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.map((c) => c[cols.indexOf('runs')])).toEqual(['6', '6']);
    const ranks = rows.map((c) => Number(c[cols.indexOf('kullbackLeibler_rank')]));
    const kl = rows.map((c) => Number(c[cols.indexOf('kullbackLeibler_mean')]));
    expect([...ranks].sort()).toEqual(kl[0] === kl[1] ? [1.5, 1.5] : [1, 2]);
    expect(ranks[kl.indexOf(Math.min(...kl))]).toBe(1);
    const j = await run(['--data', csv, '--algorithm', 'aa-knn', '--folds', '3', '--no-progress', '--format', 'json', '--param', 'aa-knn.k=3']);
    const parsed = JSON.parse(j.out) as { results: { params: object; runs: unknown[]; ranks: object }[]; folds: number };
    expect(parsed.folds).toBe(3);
    expect(parsed.results[0].params).toEqual({ k: 3 });
    expect(parsed.results[0].runs).toHaveLength(3);
  });

  it('--jobs 2 runs the folds in worker threads with the same results as one thread', async () => {
    const args = ['--data', csv, '--algorithm', 'sa-bfgs', '--folds', '4', '--no-progress', '--format', 'json', '--param', 'maxIterations=15'];
    const one = JSON.parse((await run(args)).out) as { results: { mean: Record<string, number> }[] };
    const two = await run([...args, '--jobs', '2']);
    expect(two.code, two.err).toBe(0);
    expect((JSON.parse(two.out) as typeof one).results[0].mean).toEqual(one.results[0].mean);
  }, 60_000);

  it('--mode le runs the label enhancement protocol (--algorithm all)', async () => {
    const r = await run(['--data', csv, '--mode', 'le', '--no-progress', '--param', 'fcm.nClusters=4', '--param', 'levi.epochs=30', '--format', 'json']);
    expect(r.code, r.err).toBe(0);
    const parsed = JSON.parse(r.out) as { results: { algorithm: string; mean: { kullbackLeibler: number } }[] };
    expect(parsed.results.map((x) => x.algorithm)).toEqual(['glle', 'lp', 'ml', 'fcm', 'km', 'levi']);
    for (const x of parsed.results) expect(x.mean.kullbackLeibler).toBeGreaterThan(0);
  }, 60_000);

  it('names the problem: more folds than samples, a hyper-parameter out of range or unknown', async () => {
    const f = await run(['--data', csv, '--folds', '41', '--no-progress']);
    expect(f.code).toBe(2);
    expect(f.err).toContain(`--folds 41 is more than the 40 samples of ${csv}`);
    const k = await run(['--data', csv, '--algorithm', 'aa-knn', '--param', 'k=0', '--no-progress']);
    expect(k.code).toBe(2);
    expect(k.err).toContain('a hyper-parameter of aa-knn is out of range (k=0): Error in AaKnn: k must be an integer >= 1, but got 0.');
    const u = await run(['--data', csv, '--algorithm', 'aa-knn', '--param', 'alpha=1', '--no-progress']);
    expect(u.err).toContain("--param alpha=1: no selected algorithm has a parameter 'alpha' (aa-knn: k)");
    const s = await run(['--data', csv, '--mode', 'le', '--algorithm', 'lp', '--param', 'lp.alpha=1.5', '--no-progress']);
    expect(s.err).toContain('Error in LabelPropagation: alpha must be a number in (0, 1), but got 1.5');
  });

  it('loads labels off 1 by float32 rounding with a note, and names the file, row and column of bad values', async () => {
    const rounded = join(dir, 'rounded.csv');
    const rows = X.map((x, i) => [...x, ...D[i]]);
    rows[2] = [...X[2], 0.5, 0.2999989, 0.2]; // sums to 0.9999989 (PyLDL's emotion6.mat has such a row)
    writeFileSync(rounded, ['f1,f2,f3,label_a,label_b,label_c', ...rows.map((r) => r.join(','))].join('\n'));
    const r = await run(['--data', rounded, '--algorithm', 'aa-knn', '--folds', '2', '--no-progress']);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`${rounded}: 1 label row(s) sum to 1 only within float32 rounding (rows 2; the farthest, row 2, sums to 0.9999989`);
    const bad = join(dir, 'bad.json');
    const features = X.map((x) => [...x]);
    features[5][1] = Number.NaN;
    writeFileSync(bad, JSON.stringify({ features: features.map((x) => x.map((v) => (Number.isNaN(v) ? 'NaN' : v))), labels: D }));
    await expect(run(['--data', bad, '--no-progress'])).rejects.toThrow(`Error in ${bad}: features[5][1] must be a finite number`);
    const off = join(dir, 'off.csv');
    rows[3] = [...X[3], 0.5, 0.3, 0.1];
    writeFileSync(off, ['f1,f2,f3,label_a,label_b,label_c', ...rows.map((r) => r.join(','))].join('\n'));
    await expect(run(['--data', off, '--no-progress'])).rejects.toThrow(`Error in ${off}: labels row 3 (line 5) sums to 0.9`);
  });

  it('runs any registered algorithm by name or alias (case-insensitive), --param on a scope or alias', async () => {
    const r = await run(['--data', csv, '--algorithm', 'BFGS-LLD,ldllc,bd-ldl', '--folds', '3', '--no-progress', '--max-iterations', '20', '--param', 'alpha=0.01']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\| SA-BFGS \| /);
    expect(r.out).toMatch(/\| LDLLC \| /);
    expect(r.out).toMatch(/\| BD-LDL \| /);
    const b = await run(['--data', csv, '--algorithm', 'adaboost-ldl', '--folds', '3', '--no-progress', '--param', 'adaboost-ldl.nEstimators=2', '--format', 'json']);
    expect(b.code).toBe(0);
    expect(JSON.parse(b.out).results[0]).toMatchObject({ algorithm: 'bfgs-adaboost', params: { nEstimators: 2 } });
  });

  it('--jobs 2 builds the PyLDL-parity algorithms in the worker threads by registry name', async () => {
    const args = ['--data', csv, '--algorithm', 'ldl-lrr,pt-bayes,cpnn', '--folds', '3', '--no-progress', '--format', 'json', '--param', 'cpnn.epochs=20'];
    const one = JSON.parse((await run(args)).out);
    const two = await run([...args, '--jobs', '2']);
    expect(two.code).toBe(0);
    const mean = (j: { results: { mean: Record<string, number> }[] }) => j.results.map((r) => r.mean);
    expect(mean(JSON.parse(two.out))).toEqual(mean(one));
  });

  it('--help lists each algorithm with its defaults; a rule broken names the class, before the data is read', async () => {
    const h = await run(['--help']);
    expect(h.out).toContain('    sa-bfgs: maxIterations=');
    expect(h.out).toContain('    deep-ldl: hiddenSizes=[64], weightDecay=0.001');
    expect(h.out).toContain('bfgs-lld = sa-bfgs');
    const r = await run(['--data', join(dir, 'absent.csv'), '--algorithm', 'ldllc', '--param', 'alpha=-1']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('Error in Ldllc: alpha must be a finite number >= 0, but got -1.');
    const u = await run(['--data', csv, '--algorithm', 'no-such']);
    expect(u.err).toContain("--algorithm must be 'all' or a comma-separated list of sa-bfgs, sa-iis, aa-knn");
  });

  it('formats like the PyLDL README', () => {
    expect(formatMeasure(0.0921)).toBe('.092');
    expect(formatMeasure(1.2345)).toBe('1.234');
  });
});
