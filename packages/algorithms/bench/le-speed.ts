// The @ldl half of bench/le-speed.sh: times each label enhancer once on the samples and logical labels of the
// LE parity fixture (s-JAFFE without its repeated feature row) and prints RESULT lines against PyLDL's times.
import '@tensorflow/tfjs-backend-cpu';
import { setBackend } from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FuzzyCMeans, Glle, KernelMembership, type LabelEnhancer, LabelPropagation, Levi, ManifoldLearning, readLdlDataset, toRows } from '../src';
import { takeRows } from '../src/matrix';

const pyldl = JSON.parse(readFileSync(process.argv[2], 'utf8')) as { seconds: Record<string, number> };
const fixture = JSON.parse(readFileSync(new URL('../test/fixtures/le-parity.json', import.meta.url), 'utf8')) as { logical: string[] };
await setBackend('cpu');
const all = await readLdlDataset(fileURLToPath(new URL('../../../../shared/datasets/ldl/SJAFFE.mat', import.meta.url)));
const seen = new Set<string>();
const keep = toRows(all.features).flatMap((r, i) => (seen.has(r.join()) ? [] : (seen.add(r.join()), [i])));
const X = takeRows(all.features, keep);
const L = fixture.logical.map((r) => Array.from(r, Number));
const methods: Record<string, () => LabelEnhancer> = {
  LP: () => new LabelPropagation(),
  KM: () => new KernelMembership(),
  ML: () => new ManifoldLearning(),
  GLLE: () => new Glle({ seed: 0 }),
  LEVI: () => new Levi({ seed: 0 }),
  FCM: () => new FuzzyCMeans({ seed: 0 }),
};
for (const name of (process.argv[3] ?? Object.keys(methods).join(',')).split(',')) {
  const make = methods[name];
  const t0 = performance.now();
  await make().fit(X, L);
  const ours = (performance.now() - t0) / 1000;
  const ref = pyldl.seconds[name];
  console.log(`RESULT le-speed ${name} ldl_s=${ours.toFixed(2)} pyldl_s=${ref.toFixed(2)} ratio=${(ours / ref).toFixed(2)}`);
}
