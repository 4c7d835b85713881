// The README's @ldl-vs-PyLDL table: 10-fold CV (seed 0) of every registered algorithm that PyLDL 0.1.2 has,
// on the LDL benchmark sets, @ldl and PyLDL on exactly the same folds.
//
//   pnpm exec tsx packages/algorithms/bench/pyldl-table.ts [--sets SJAFFE,SBU_3DFE,Movie,Yeast_alpha,Yeast_spo5]
//        [--algorithms sa-bfgs,aa-knn,…] [--folds 10] [--out runs/pyldl-table]      (from the repository root)
//
// Needs ../shared/datasets/ldl and tools/reference/.venv with python-ldl 0.1.2 (tools/reference/setup_pyldl.sh;
// Keras runs on torch). For each set and algorithm it runs @ldl in this process, then
// tools/reference/ldl_cv_reference.py on the same folds, and appends both rows to OUT/table.md at once (a
// long run keeps every row that finished), algorithm by algorithm, each on every set. Wall = fit + predict over the folds, each side on this machine.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createAlgorithm, LDL_ALGORITHMS, crossValidate, formatMeasure, kFoldIndices, type LdlDataset, readLdlDataset } from '../src/index';

const { values } = parseArgs({
  options: {
    sets: { type: 'string', default: 'SJAFFE,SBU_3DFE,Movie,Yeast_alpha,Yeast_spo5' },
    algorithms: { type: 'string' },
    folds: { type: 'string', default: '10' },
    out: { type: 'string', default: 'runs/pyldl-table' },
  },
});
const root = resolve(import.meta.dirname, '../../..');
const dataDir = resolve(root, '../shared/datasets/ldl');
const python = resolve(root, 'tools/reference/.venv/bin/python');
if (!existsSync(dataDir)) throw new Error(`pyldl-table: ${dataDir} is absent (the LDL benchmark sets).`);
if (!existsSync(python)) throw new Error(`pyldl-table: ${python} is absent; run tools/reference/setup_pyldl.sh first.`);
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
const folds = Number(values.folds);
const names = (values.algorithms?.split(',') ?? Object.keys(LDL_ALGORITHMS)).filter((n) => LDL_ALGORITHMS[n]?.pyldl);
const MEASURES = ['chebyshev', 'clark', 'canberra', 'kullbackLeibler', 'cosine', 'intersection'] as const;
const PY = ['chebyshev', 'clark', 'canberra', 'kl_divergence', 'cosine', 'intersection'];
const table = resolve(out, 'table.md');
const cell = (m: number, s: number) => `${formatMeasure(m)} ± ${formatMeasure(s)}`;

// Algorithm-major (small sets first), so that a run cut short has every set of the first algorithms.
appendFileSync(table, `\n| set | algorithm | Chebyshev ↓ | Clark ↓ | Canberra ↓ | KL ↓ | Cosine ↑ | Intersection ↑ | fit + predict |\n|---|---|---|---|---|---|---|---|---|\n`);
const sets = new Map<string, { data: LdlDataset; foldsFile: string }>();
for (const set of values.sets.split(',')) {
  const file = resolve(dataDir, `${set}.mat`);
  const data = await readLdlDataset(file);
  const foldsFile = resolve(out, `${set}-folds.json`);
  const test = kFoldIndices(data.features.rows, folds, 0);
  writeFileSync(foldsFile, JSON.stringify({ data: file, folds: test.map((t, fold) => ({ repeat: 0, fold, test: t })), seed: 0 }) + '\n');
  sets.set(set, { data, foldsFile });
}
for (const name of names) {
  const entry = LDL_ALGORITHMS[name];
  for (const [set, { data, foldsFile }] of sets) {
    const c0 = process.cpuUsage();
    const cv = await crossValidate(data, (_, fold) => createAlgorithm(name, {}, fold), { folds, seed: 0 });
    const fit = cv.folds.reduce((s, f) => s + f.seconds, 0);
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    appendFileSync(table, `| ${set} | ${entry.label} (@ldl) | ${MEASURES.map((m) => cell(cv.mean[m], cv.std[m])).join(' | ')} | ${fit.toFixed(1)} s (CPU ${cpu.toFixed(1)} s) |\n`);
    const json = resolve(out, `${set}-${entry.pyldl}.json`);
    const r = spawnSync(python, [resolve(root, 'tools/reference/ldl_cv_reference.py'), '--folds', foldsFile, '--algorithms', entry.pyldl as string, '--json', json], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, KERAS_BACKEND: 'torch' },
    });
    if (r.status !== 0 || !existsSync(json)) {
      appendFileSync(table, `| ${set} | ${entry.label} (PyLDL) | failed (exit ${r.status}) | | | | | | |\n`);
      continue;
    }
    const py = JSON.parse(readFileSync(json, 'utf8'))[entry.pyldl as string] as { mean: Record<string, number>; std: Record<string, number>; seconds: number; cpu_seconds: number };
    appendFileSync(table, `| ${set} | ${entry.label} (PyLDL) | ${PY.map((m) => cell(py.mean[m], py.std[m])).join(' | ')} | ${py.seconds.toFixed(1)} s (CPU ${py.cpu_seconds.toFixed(1)} s) |\n`);
    console.log(`${set} ${name}: done`);
  }
}
