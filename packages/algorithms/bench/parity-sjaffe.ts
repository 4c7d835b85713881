// @ldl's side of the s-JAFFE parity table (3 folds, seed 0; the lighter settings of
// tools/reference/make_parity_fixture.sh for the slow iterative methods), one row per algorithm as it finishes.
//   pnpm exec tsx packages/algorithms/bench/parity-sjaffe.ts [algorithm,…]      (from the repository root)
import { resolve } from 'node:path';
import { createAlgorithm, LDL_ALGORITHMS, crossValidate, formatMeasure, readLdlDataset } from '../src/index';

const LIGHT: Record<string, Record<string, number>> = {
  'aa-bp': { epochs: 200 },
  cpnn: { epochs: 100 },
  bcpnn: { epochs: 100 },
  acpnn: { epochs: 100 },
  'duo-ldl': { epochs: 200 },
  'ldl-scl': { epochs: 300 },
  'sa-iis': { maxIterations: 20 },
  lalot: { maxIterations: 20 },
};
const root = resolve(import.meta.dirname, '../../..');
const data = await readLdlDataset(resolve(root, '../shared/datasets/ldl/SJAFFE.mat'));
const names = (process.argv[2]?.split(',') ?? Object.keys(LDL_ALGORITHMS));
console.log('| algorithm | Chebyshev ↓ | Clark ↓ | Canberra ↓ | KL ↓ | Cosine ↑ | Intersection ↑ | fit + predict |\n|---|---|---|---|---|---|---|---|');
for (const name of names) {
  const entry = LDL_ALGORITHMS[name];
  if (!entry.pyldl) continue;
  const c0 = process.cpuUsage();
    const cv = await crossValidate(data, (_, fold) => createAlgorithm(name, LIGHT[name] ?? {}, fold), { folds: 3, seed: 0 });
  const m = ['chebyshev', 'clark', 'canberra', 'kullbackLeibler', 'cosine', 'intersection'] as const;
  const wall = cv.folds.reduce((s, f) => s + f.seconds, 0);
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  console.log(`| ${entry.label} (@ldl) | ${m.map((k) => `${formatMeasure(cv.mean[k])} ± ${formatMeasure(cv.std[k])}`).join(' | ')} | ${wall.toFixed(1)} s (CPU ${cpu.toFixed(1)} s) |`);
}
