// Reads the real LDL benchmark files in ../shared/datasets/ldl (never committed); skipped where absent.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AaKnn, crossValidate, readLdlDataset } from '../src/index';

const dir = fileURLToPath(new URL('../../../../shared/datasets/ldl', import.meta.url));
const present = existsSync(dir);
if (!present) console.warn(`[@ldl/algorithms] skipping the benchmark-set tests: ${dir} is absent`);

describe.skipIf(!present)('LDL benchmark sets (../shared/datasets/ldl)', () => {
  it.each([
    ['SJAFFE', 213, 243, 6],
    ['SBU_3DFE', 2500, 243, 6],
    ['Movie', 7755, 1869, 5],
    ['Yeast_alpha', 2465, 24, 18],
    ['Yeast_spo5', 2465, 24, 3],
  ])('reads %s.mat as [%i, %i] features and L = %i distributions', async (name, n, d, l) => {
    const data = await readLdlDataset(`${dir}/${name}.mat`);
    expect([data.features.rows, data.features.cols, data.labels.rows, data.labels.cols]).toEqual([n, d, n, l]);
  });

  it('AA-kNN 10-fold CV on s-JAFFE lands near the published PyLDL row (KL .053 ± .010)', async () => {
    const cv = await crossValidate(await readLdlDataset(`${dir}/SJAFFE.mat`), () => new AaKnn());
    expect(Math.abs(cv.mean.kullbackLeibler - 0.053)).toBeLessThan(0.01);
    expect(Math.abs(cv.mean.chebyshev - 0.098)).toBeLessThan(0.011);
  });
});
