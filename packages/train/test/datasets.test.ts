import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addExtraTrain, loadEvalData, loadTrainTestData } from '../src/data/datasets';
import { jpeg, tempDir, writeMegaAge } from './helpers';

/** A folder of 10 UTKFace-named photos, ages 10..55 (byte-distinct, so none is a duplicate). */
async function utkFolder(): Promise<string> {
  const root = tempDir();
  for (let i = 0; i < 10; i++) writeFileSync(path.join(root, `${10 + 5 * i}_${i % 2}_${i % 5}_2017011617452${i}.jpg.chip.jpg`), await jpeg(8, 8, [i, 2 * i, 3 * i]));
  return root;
}

describe('loadTrainTestData (the formats of ldl train --data-format)', () => {
  it('utkface-dir: detected from the folder, split 80/20 with the seed; eval reads the same test split', async () => {
    const root = await utkFolder();
    const a = await loadTrainTestData({ path: root, splitSeed: 3 });
    expect([a.train.length, a.test.length]).toEqual([8, 2]);
    expect(a.title).toBe(`${path.basename(root)} (utkface-dir)`);
    expect(a.notes[0]).toBe(`data: ${root} (utkface-dir); 10 rows, 80/20 split with --split-seed 3`);
    const ev = await loadEvalData({ path: root, splitSeed: 3 }, 'test');
    expect(ev.samples.map((s) => s.path)).toEqual(a.test.map((s) => s.path));
    expect(ev.notes.at(-1)).toBe('split: test');
  });

  it('megaage: its own lists; a missing path names itself', async () => {
    const root = tempDir();
    await writeMegaAge(root, 'train', ['a.jpg', 'b.jpg'], ['3', '45']);
    await writeMegaAge(root, 'test', ['c.jpg'], ['20']);
    const d = await loadTrainTestData({ path: root });
    expect([d.train.length, d.test.length, d.title]).toEqual([2, 1, `${path.basename(root)} (megaage)`]);
    await expect(loadTrainTestData({ path: path.join(root, 'nope') })).rejects.toThrow(`Error in loadTrainTestData: data ${path.join(root, 'nope')} must exist`);
  });

  it('addExtraTrain: validation from the own data first, a missing optional (preset) dataset skipped with a note, any other missing one an error; the input left as it is', async () => {
    const root = tempDir();
    await writeMegaAge(root, 'train', Array.from({ length: 10 }, (_, i) => `t${i}.jpg`), Array.from({ length: 10 }, (_, i) => String(20 + i)), { images: [] });
    for (let i = 0; i < 10; i++) writeFileSync(path.join(root, 'train', `t${i}.jpg`), await jpeg(8, 8, [200 - i, 0, 0]));
    await writeMegaAge(root, 'test', ['x.jpg'], ['30'], { images: [] });
    writeFileSync(path.join(root, 'test', 'x.jpg'), await jpeg(8, 8, [0, 99, 0]));
    const data = await loadTrainTestData({ path: root });
    const before = structuredClone(data);
    const extra = await utkFolder();
    const r = await addExtraTrain(data, [{ spec: extra, optional: false }, { spec: '/nowhere/utk.csv', optional: true }], { valFraction: 0.2, splitSeed: 0, reader: {} });
    expect(r.val).toHaveLength(2);
    expect(r.data.train).toHaveLength(8 + 10);
    expect(r.data.notes).toContain('extra training data /nowhere/utk.csv (preset) not found: skipped');
    expect(r.used).toEqual([extra]);
    expect(data).toEqual(before);
    await expect(addExtraTrain(data, [{ spec: '/nowhere/utk.csv', optional: false }], { valFraction: 0.2, splitSeed: 0, reader: {} })).rejects.toThrow('Error in readDataset: /nowhere/utk.csv must be');
    await expect(addExtraTrain(data, [{ spec: { path: '/nowhere/utk.csv', trainPartOf: { seed: 0, testFraction: 0.2 } }, optional: false }], { valFraction: 0.2, splitSeed: 0, reader: {} })).rejects.toThrow(
      'Error in readDataset: /nowhere/utk.csv must be',
    );
  });
});
