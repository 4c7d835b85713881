import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { describe as describeValue, fail, isTensor, readAges, readSigma } from './validate';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('validate', () => {
  it('formats errors as "Error in <fn>: <arg> must be …, but got <value>."', () => {
    expect(() => fail('f', 'x', '> 0', -1)).toThrow(new Error('Error in f: x must be > 0, but got -1.'));
  });

  it('describes values', () => {
    expect(describeValue(NaN)).toBe('NaN');
    expect(describeValue('none')).toBe('"none"');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue([1, 2])).toBe('an array of length 2');
    expect(describeValue(new Float32Array(3))).toBe('a Float32Array of length 3');
    expect(describeValue(tf.zeros([2, 3], 'int32'))).toBe('a rank-2 Tensor of shape [2,3] and dtype int32');
  });

  it('recognises tensors by shape', () => {
    expect(isTensor(tf.scalar(1))).toBe(true);
    expect(isTensor({ shape: [1] })).toBe(false);
    expect(isTensor(null)).toBe(false);
  });

  it('reads ages from arrays, typed arrays and tensors without mutating them', () => {
    const ages = [1, 2.5];
    const out = readAges('f', 'ages', ages, { n: 2, minAge: 0, numClasses: 4 });
    expect(out).toEqual([1, 2.5]);
    expect(out).not.toBe(ages);
    expect(readAges('f', 'ages', new Int32Array([0, 2]), { minAge: 0, numClasses: 3 })).toEqual([0, 2]);
    expect(readAges('f', 'ages', tf.tensor1d([0, 2], 'int32'), { minAge: 0, numClasses: 3 })).toEqual([0, 2]);
  });

  it('broadcasts a scalar sigma', () => {
    expect(readSigma('f', 1.5, 3)).toEqual([1.5, 1.5, 1.5]);
    expect(readSigma('f', [1, 2], 2)).toEqual([1, 2]);
  });
});
