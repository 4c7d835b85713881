import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { randomValues, relativeError, runOn } from '../test/helpers';
import { disableFastKernels, enableFastKernels } from './enable';

const cases: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
  { a: [5, 7], b: [7, 3], ta: false, tb: false },
  { a: [7, 5], b: [3, 7], ta: true, tb: true },
  { a: [2, 3, 4, 5], b: [5, 6], ta: false, tb: false },
  { a: [3, 5, 4], b: [3, 6, 5], ta: true, tb: true },
  { a: [4, 70, 64], b: [4, 64, 40], ta: false, tb: false },
  { a: [4, 64, 70], b: [4, 40, 64], ta: true, tb: true },
  { a: [2, 6], b: [3, 6, 4], ta: false, tb: false },
];

describe('BatchMatMul on wasm', () => {
  afterAll(() => disableFastKernels());

  for (const c of cases) {
    it(`equals the stock cpu kernel: [${c.a}]${c.ta ? 'ᵀ' : ''} × [${c.b}]${c.tb ? 'ᵀ' : ''}`, async () => {
      const av = randomValues(tf.util.sizeFromShape(c.a), 31);
      const bv = randomValues(tf.util.sizeFromShape(c.b), 32);
      const f = () => [tf.matMul(tf.tensor(av, c.a), tf.tensor(bv, c.b), c.ta, c.tb)];
      disableFastKernels();
      const [ref] = await runOn('cpu', f);
      enableFastKernels({ backends: ['wasm'] });
      const [got] = await runOn('wasm', f);
      expect(relativeError(got as Float32Array, ref as Float32Array)).toBeLessThan(1e-5);
    });
  }
});
