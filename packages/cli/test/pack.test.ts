/** `ldl prep pack` (issue 19 item 4): WebDataset tar files + shards.json, in one run or in shards merged, read back by Python. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSyntheticMegaAge } from '@ldl/train';
import { beforeAll, describe, expect, it } from 'vitest';
import { ldl } from './helpers';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ldl-pack-'));
const syn = path.join(dir, 'syn');
const PYTHON = fileURLToPath(new URL('../../../tools/reference/.venv/bin/python', import.meta.url));


/** Reads a pack as a Python user would (tarfile; webdataset where installed): per photo its label and the SHA-256 of its image. */
const READ_PACK = `
import hashlib, json, sys, tarfile, os
root = sys.argv[1]
index = json.load(open(os.path.join(root, 'shards.json')))
assert index['format'] == 'ldl-shards' and index['version'] == 1, index
out = {}
for split, tars in index['splits'].items():
    n = 0
    for t in tars:
        f = os.path.join(root, t['file'])
        assert hashlib.sha256(open(f, 'rb').read()).hexdigest() == t['sha256'], f
        members = tarfile.open(f).getmembers()
        assert len(members) == 2 * t['samples'], f
        tf = tarfile.open(f)
        for img, js in zip(members[0::2], members[1::2]):
            key = img.name.rsplit('.', 1)[0]
            assert js.name == key + '.json', (img.name, js.name)
            label = json.loads(tf.extractfile(js).read())
            out[label['photo']] = [split, label['age'], label['gender'], label['ethnicity'], hashlib.sha256(tf.extractfile(img).read()).hexdigest()]
            n += 1
    assert n == index['counts'][split], (split, n)
try:
    import webdataset as wds
    urls = [os.path.join(root, t['file']) for tars in index['splits'].values() for t in tars]
    wd = {json.loads(s['json'])['photo'] for s in wds.WebDataset(urls, shardshuffle=False)}
    assert wd == set(out), 'webdataset reads other samples'
except ImportError:
    pass
print(json.dumps(out, sort_keys=True))
`;
const readPack = (root: string) => JSON.parse(execFileSync(PYTHON, ['-c', READ_PACK, root], { encoding: 'utf8' })) as Record<string, [string, number, string | null, string | null, string]>;

beforeAll(async () => {
  await generateSyntheticMegaAge(syn, { trainCount: 14, testCount: 5, size: 32 });
});

const common = ['--data', syn, '--image-size', '24', '--margin', '0.2', '--samples-per-tar', '4'];

describe('ldl prep pack', () => {
  it('writes tar files and shards.json; shards 1/2 and 2/2 merged hold the same samples byte for byte; a killed shard resumes', { timeout: 120_000 }, async () => {
    const single = path.join(dir, 'single');
    const one = await ldl('prep', 'pack', ...common, '--out', single);
    expect(one.code, one.out).toBe(0);
    expect(one.out).toContain('pack: 19 samples: 19 packed now, 0 already in finished tar files, 0 failed; train 14, test 5');
    const index = JSON.parse(readFileSync(path.join(single, 'shards.json'), 'utf8'));
    expect(index).toMatchObject({ format: 'ldl-shards', version: 1, imageSize: 24, margin: 0.2, crop: 'stretch', imageFormat: 'png', classes: { gender: null, ethnicity: null }, counts: { train: 14, test: 5 } });
    expect(index.splits.train.map((t: { file: string; samples: number }) => [t.file, t.samples])).toEqual([['train-00000.tar', 4], ['train-00001.tar', 4], ['train-00002.tar', 4], ['train-00003.tar', 2]]);

    const sharded = path.join(dir, 'sharded');
    for (const s of ['1/2', '2/2']) {
      const r = await ldl('prep', 'pack', ...common, '--out', sharded, '--shard', s);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain(`ldl prep merge --out ${path.join(sharded, 'shards.json')}`);
    }
    // shard 2/2 killed while writing its last tar file: the manifest lacks it, a cut temporary file is left
    const partFile = path.join(sharded, 'shards.shard-0002-of-0002.json');
    const part = JSON.parse(readFileSync(partFile, 'utf8'));
    const lastSplit = part.splits.test.length > 0 ? 'test' : 'train';
    const cut = part.splits[lastSplit].pop();
    writeFileSync(partFile, JSON.stringify({ ...part, complete: false }));
    writeFileSync(path.join(sharded, `${cut.file}.tmp-99999`), 'cut');
    const early = await ldl('prep', 'merge', '--out', path.join(sharded, 'shards.json'));
    expect(early.code).toBe(1);
    expect(early.out).toContain(`${partFile} is not complete (the shard was interrupted): run shard 2/2 of ldl prep pack again to finish it.`);
    const again = await ldl('prep', 'pack', ...common, '--out', sharded, '--shard', '2/2');
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain(`${cut.samples} packed now`);
    expect(JSON.parse(readFileSync(partFile, 'utf8')).splits[lastSplit].at(-1)).toEqual(cut); // the same file, the same bytes
    const merged = await ldl('prep', 'merge', '--out', path.join(sharded, 'shards.json'));
    expect(merged.code, merged.out).toBe(0);
    expect(merged.out).toMatch(/merge: 2 shard manifests \(\d+ \+ \d+ samples\) → .*: (train 14, test 5|test 5, train 14)/);

    // other settings in the same folder are refused, naming them
    const other = await ldl('prep', 'pack', ...common, '--out', sharded, '--shard', '1/2', '--image-size', '32');
    expect(other.code).toBe(1);
    expect(other.out).toContain('was packed with other settings: imageSize (24 vs 32)');

    if (!existsSync(PYTHON)) {
      console.log(`pack test: ${PYTHON} not found (tools/reference/setup.sh makes it): the Python read-back is skipped.`);
      return;
    }
    const a = readPack(single);
    expect(Object.keys(a)).toHaveLength(19);
    expect(readPack(sharded)).toEqual(a);
    expect(readdirSync(sharded).filter((f) => f.endsWith('.tar')).every((f) => /^(train|test)-s000[12]of0002-\d{5}\.tar$/.test(f))).toBe(true);
  });

  it('--split-col: a split per CSV column value', { timeout: 60_000 }, async () => {
    const ages = readFileSync(path.join(syn, 'list/train_age.txt'), 'utf8').trim().split('\n');
    const rows = ages.map((a, i) => `train/train_${String(i).padStart(5, '0')}.jpg,${a},${['train', 'val', 'test'][i % 3]},${i % 2 ? 'F' : 'M'}`);
    const csv = path.join(syn, 'labels.csv');
    writeFileSync(csv, ['photo,age,part,gender', ...rows].join('\n'));
    const out = path.join(dir, 'by-column');
    const r = await ldl('prep', 'pack', '--data', csv, '--split-col', 'part', '--image-size', '16', '--out', out);
    expect(r.code, r.out).toBe(0);
    const index = JSON.parse(readFileSync(path.join(out, 'shards.json'), 'utf8'));
    expect(index.counts).toEqual({ train: 5, val: 5, test: 4 });
    expect(index.classes).toEqual({ gender: ['male', 'female'], ethnicity: null });
    // an image that cannot be decoded is reported, the rest are packed, exit 1
    writeFileSync(path.join(syn, 'train', 'broken.jpg'), 'not an image');
    writeFileSync(csv, ['photo,age,part,gender', ...rows, 'train/broken.jpg,30,test,F'].join('\n'));
    const broken = await ldl('prep', 'pack', '--data', csv, '--split-col', 'part', '--image-size', '16', '--out', path.join(dir, 'with-broken'));
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/error: train\/broken\.jpg: Error in loadImage: cannot load .*broken\.jpg/);
    expect(broken.out).toContain('pack: 15 samples: 14 packed now, 0 already in finished tar files, 1 failed');
    const bad = await ldl('prep', 'pack', '--data', csv, '--split-col', 'fold', '--out', path.join(dir, 'nope'));
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(`${csv} line 1 must have the column "fold" (--split-col), but got photo,age,part,gender.`);
  });
});
