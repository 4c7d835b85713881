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
    expect(r.out).toContain('| algorithm | Chebyshev ↓ | Clark ↓ | Canberra ↓ | KL ↓ | Cosine ↑ | Intersection ↑ | wall |');
    expect(r.out).toMatch(/\| AA-kNN \| \.\d{3} ± \.\d{3} \|/);
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

  it('runs any registered algorithm by name or alias, hyper-parameters from flags', async () => {
    const r = await run(['--data', csv, '--algorithm', 'bfgs-lld,ldllc,bd-ldl', '--folds', '3', '--no-progress', '--max-iterations', '20', '--alpha', '0.01']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\| SA-BFGS \| /);
    expect(r.out).toMatch(/\| LDLLC \| /);
    expect(r.out).toMatch(/\| BD-LDL \| /);
  });

  it('names a hyper-parameter out of range before reading the data', async () => {
    const r = await run(['--data', join(dir, 'absent.csv'), '--algorithm', 'ldllc', '--alpha=-1']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('Error in Ldllc: alpha must be a finite number >= 0, but got -1.');
    const u = await run(['--data', csv, '--algorithm', 'no-such']);
    expect(u.err).toContain("--algorithm must be a comma-separated list of sa-bfgs, sa-iis, aa-knn");
  });

  it('formats like the PyLDL README', () => {
    expect(formatMeasure(0.0921)).toBe('.092');
    expect(formatMeasure(1.2345)).toBe('1.234');
  });
});
