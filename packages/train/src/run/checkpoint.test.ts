import '@tensorflow/tfjs-backend-cpu';
import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers';
import { loadTensors, replaceDirAtomic, saveTensors } from './checkpoint';

describe('checkpoint files', () => {
  it('round-trips named tensors bit-exactly in their order', async () => {
    const dir = tempDir();
    const a = tf.tensor1d([1.5, -2.25, Math.PI]);
    const b = tf.scalar(7, 'int32');
    await saveTensors(dir, 'opt', [{ name: 'iter', tensor: b }, { name: 'w/m', tensor: a }]);
    const back = await loadTensors(dir, 'opt');
    expect(back.map((t) => t.name)).toEqual(['iter', 'w/m']);
    expect(Array.from(await back[1].tensor.data())).toEqual(Array.from(await a.data()));
    expect(back[0].tensor.dtype).toBe('int32');
  });

  it('replaces a directory atomically and leaves no temp files', async () => {
    const root = tempDir();
    const dir = path.join(root, 'best');
    await replaceDirAtomic(dir, (tmp) => fsp.writeFile(path.join(tmp, 'v'), '1'));
    await replaceDirAtomic(dir, (tmp) => fsp.writeFile(path.join(tmp, 'v'), '2'));
    expect(await fsp.readFile(path.join(dir, 'v'), 'utf8')).toBe('2');
    expect(readdirSync(root)).toEqual(['best']);
    await expect(replaceDirAtomic(dir, async () => { throw new Error('disk full'); })).rejects.toThrow('disk full');
    expect(await fsp.readFile(path.join(dir, 'v'), 'utf8')).toBe('2');
    expect(existsSync(dir)).toBe(true);
  });
});
