import '@tensorflow/tfjs-backend-cpu';
import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers';
import { loadTensors, replaceDirAtomic, saveTensors } from './checkpoint';
import { DiskError, explainDiskError } from './disk';

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

  it('a full disk or a read-only folder inside the swap: the temp folder is removed, the old version kept, the folder and cause named', async () => {
    const root = tempDir();
    const dir = path.join(root, 'epoch-0002');
    await replaceDirAtomic(dir, (tmp) => fsp.writeFile(path.join(tmp, 'v'), '1'));
    const fault = (code: string) => async (tmp: string) => {
      await fsp.writeFile(path.join(tmp, 'half'), 'x');
      throw Object.assign(new Error(`${code}: injected, write`), { code, syscall: 'write' }); // no path, as write() reports it
    };
    await expect(replaceDirAtomic(dir, fault('ENOSPC'))).rejects.toThrow(
      `Error in replaceDirAtomic: cannot write ${dir}: the folder ${root} is on a full disk (ENOSPC: no space left on device). The previous version is kept; free space (or make the folder writable) and resume the run with --resume.`,
    );
    await expect(replaceDirAtomic(dir, fault('EROFS'))).rejects.toThrow(`the folder ${root} is on a read-only file system (EROFS).`);
    await expect(replaceDirAtomic(dir, fault('EACCES'))).rejects.toBeInstanceOf(DiskError);
    expect(readdirSync(root)).toEqual(['epoch-0002']);
    expect(await fsp.readFile(path.join(dir, 'v'), 'utf8')).toBe('1');
    const other = new Error('other');
    expect(explainDiskError(other, 'f', root)).toBe(other);
  });
});
