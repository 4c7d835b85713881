import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alignImages } from '../src/batch';
import { listImages } from '../src/files';
import { main } from '../src/cli';
import { facesCsvHeader } from '../src/csv';
import type { FaceDetector } from '../src/detector-core';
import { AAF_PRESENT, AAF_RAW } from './aaf';
import { type Shard, ShardSpecError, parseShard, parseShardPath, selectShard, shardOf, shardPath } from '../src/shard';
import { mergeShardCsv } from '../src/shard-csv';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'face-prep-shard-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const photos = Array.from({ length: 60 }, (_, i) => `${i % 2 ? 'train' : 'test'}/${i}.jpg`);

describe('--shard i/N and the assignment', () => {
  it('parses 1-based i/N and refuses malformed specs, naming them', () => {
    expect(parseShard('2/3')).toEqual({ index: 1, count: 3, source: '--shard 2/3' });
    expect(parseShard(undefined)).toBeNull();
    for (const [spec, text] of [
      ['0/3', "--shard must be i/N with i in 1..N (1-based), but got '0/3'."],
      ['4/3', '--shard: the shard must be one of 1..3, but got 4 (--shard 4/3).'],
      ['2-3', "--shard must be i/N (1-based, e.g. 2/3) or auto, but got '2-3'."],
      ['1/0', '--shard: the shard count must be an integer >= 1, but got 0 (--shard 1/0).'],
    ]) {
      expect(() => parseShard(spec)).toThrow(text);
    }
    expect(() => parseShard('1/3', '3')).toThrow('--shard-count goes with --shard auto only');
    expect(() => parseShard(undefined, '3')).toThrow(ShardSpecError);
  });

  it('assigns by SHA-256 of the relative path (first 48 bits, big-endian, mod N): stable and a partition', () => {
    const expected = (p: string, n: number) => Number(BigInt(`0x${createHash('sha256').update(p).digest('hex').slice(0, 12)}`) % BigInt(n));
    for (const p of photos) expect(shardOf(p, 7)).toBe(expected(p, 7));
    const shards = [0, 1, 2].map((index) => selectShard(photos, { index, count: 3, source: '' }, (p) => p));
    expect(shards.flat().sort()).toEqual([...photos].sort());
    expect(Math.min(...shards.map((s) => s.length))).toBeGreaterThan(10); // 60 photos: none near empty
    // the order of the list and the other photos do not matter
    expect(selectShard([...photos].reverse().slice(0, 30), { index: 1, count: 3, source: '' }, (p) => p).sort()).toEqual(shards[1]!.filter((p) => [...photos].reverse().slice(0, 30).includes(p)).sort());
  });

  it('names the outputs of a shard and reads the name back', () => {
    const s: Shard = { index: 1, count: 3, source: '' };
    expect(shardPath('out/faces.csv', s)).toBe('out/faces.shard-0002-of-0003.csv');
    expect(shardPath('out/faces.csv', null)).toBe('out/faces.csv');
    expect(parseShardPath('out/faces.shard-0002-of-0003.csv')).toEqual({ base: 'out/faces.csv', index: 2, count: 3 });
    expect(parseShardPath('out/faces.csv')).toBeNull();
  });
});

describe('--shard auto: every array-job convention maps to the same shard', () => {
  // shard 2 of 3 in each convention's own numbering
  const conventions: [string, NodeJS.ProcessEnv, string?][] = [
    ['Kubernetes Indexed Job', { JOB_COMPLETION_INDEX: '1' }, '3'],
    ['Slurm array 0-2', { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '2', SLURM_ARRAY_TASK_COUNT: '3' }],
    ['Slurm array 1-3', { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '3', SLURM_ARRAY_TASK_COUNT: '3' }],
    ['AWS Batch array job', { AWS_BATCH_JOB_ARRAY_INDEX: '1', AWS_BATCH_JOB_ARRAY_SIZE: '3' }],
    ['AWS Batch with --shard-count', { AWS_BATCH_JOB_ARRAY_INDEX: '1', AWS_BATCH_JOB_ARRAY_SIZE: '3' }, '3'],
  ];
  const manual = parseShard('2/3')!;
  it.each(conventions)('%s', (_name, env, count) => {
    const s = parseShard('auto', count, env)!;
    expect({ index: s.index, count: s.count }).toEqual({ index: manual.index, count: manual.count });
    expect(selectShard(photos, s, (p) => p)).toEqual(selectShard(photos, manual, (p) => p));
  });

  it('refuses no variables, a missing count, conflicts and a gapped Slurm array, clearly', () => {
    expect(() => parseShard('auto', undefined, {})).toThrow('none of JOB_COMPLETION_INDEX (Kubernetes Indexed Job), SLURM_ARRAY_TASK_ID (Slurm array) or AWS_BATCH_JOB_ARRAY_INDEX');
    expect(() => parseShard('auto', undefined, { JOB_COMPLETION_INDEX: '1' })).toThrow('JOB_COMPLETION_INDEX=1 gives the index but not the count: give --shard-count N');
    expect(() => parseShard('auto', undefined, { JOB_COMPLETION_INDEX: '1', AWS_BATCH_JOB_ARRAY_INDEX: '2', AWS_BATCH_JOB_ARRAY_SIZE: '3' })).toThrow(
      'the environment names conflicting shards: JOB_COMPLETION_INDEX=1; AWS_BATCH_JOB_ARRAY_INDEX=2, AWS_BATCH_JOB_ARRAY_SIZE=3.',
    );
    expect(() => parseShard('auto', '4', { AWS_BATCH_JOB_ARRAY_INDEX: '1', AWS_BATCH_JOB_ARRAY_SIZE: '3' })).toThrow('conflicting shards');
    expect(() => parseShard('auto', '3', { JOB_COMPLETION_INDEX: '3' })).toThrow('the shard must be one of 1..3, but got 4');
    expect(() => parseShard('auto', undefined, { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '4', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_STEP: '2' })).toThrow(
      'the Slurm array must be one contiguous range',
    );
    expect(() => parseShard('auto', undefined, { SLURM_ARRAY_TASK_ID: 'x' })).toThrow("SLURM_ARRAY_TASK_ID must be a non-negative integer, but got 'x'.");
  });
});

/** A detector that finds one face with level eyes in every image (no weights needed). */
const fakeDetector: FaceDetector = {
  async detect({ width: w, height: h }) {
    return [{ box: [w * 0.25, h * 0.25, w * 0.75, h * 0.75], score: 0.99, leftEye: { x: w * 0.35, y: h * 0.4 }, rightEye: { x: w * 0.65, y: h * 0.4 } }];
  },
};

describe('align in shards: 1/3, 2/3, 3/3 then merge equals the single run', () => {
  it('gives exactly the single run\'s rows, resumes a cut shard, and merge refuses gaps and doubles', async () => {
    const images = join(dir, 'images');
    const names = Array.from({ length: 9 }, (_, i) => `${i < 5 ? 'a' : 'b'}/p${i}.png`);
    for (const n of names) {
      mkdirSync(join(images, n, '..'), { recursive: true });
      await sharp({ create: { width: 40, height: 40, channels: 3, background: { r: 20 * names.indexOf(n), g: 90, b: 120 } } }).png().toFile(join(images, n));
    }
    writeFileSync(join(images, 'b', 'notes.png'), 'not an image');
    const all = listImages(images);
    const single = join(dir, 'single.csv');
    await alignImages({ imagesDir: images, out: single, workers: 0, detector: fakeDetector, progress: false });
    const out = join(dir, 'sharded', 'faces.csv');
    const counts: number[] = [];
    for (let index = 0; index < 3; index++) {
      const shard = { index, count: 3, source: '' };
      const s = await alignImages({ imagesDir: images, out: shardPath(out, shard), shard, workers: 0, detector: fakeDetector, progress: false });
      counts.push(s.total);
    }
    expect(counts.reduce((a, b) => a + b)).toBe(all.length);
    // a shard cut by a kill: its last row half-written; merge refuses it, a rerun redoes that row only
    const cut = shardPath(out, { index: 1, count: 3, source: '' });
    const whole = readFileSync(cut, 'utf8');
    writeFileSync(cut, whole.slice(0, whole.length - 12));
    expect(() => mergeShardCsv({ out, count: 3 })).toThrow(`${cut} ends in a cut row (the shard was interrupted): run shard 2/3 again to finish it.`);
    const again = await alignImages({ imagesDir: images, out: cut, shard: { index: 1, count: 3, source: '' }, workers: 0, detector: fakeDetector, progress: false });
    expect(again.skipped).toBe(again.total - 1);
    expect(readFileSync(cut, 'utf8').split('\n').sort()).toEqual(whole.split('\n').sort());

    const merged = mergeShardCsv({ out, photos: all });
    expect(merged.rowsPerShard).toEqual(counts);
    const sortedSingle = readFileSync(single, 'utf8').split('\n').filter(Boolean);
    const header = sortedSingle.shift();
    expect(readFileSync(out, 'utf8')).toBe(`${[header, ...sortedSingle.sort()].join('\n')}\n`); // row-identical: the single run's rows, sorted by photo
    expect(readFileSync(out, 'utf8')).toContain('b/notes.png,,,,,,,,,,unreadable');

    // refusals, each naming what is wrong
    const third = shardPath(out, { index: 2, count: 3, source: '' });
    const thirdText = readFileSync(third, 'utf8');
    rmSync(third);
    expect(() => mergeShardCsv({ out })).toThrow(`all 3 shard outputs must be present, but 1 is missing: ${third}.`);
    const first = readFileSync(shardPath(out, { index: 0, count: 3, source: '' }), 'utf8');
    writeFileSync(third, `${thirdText}${first.split('\n')[1]}\n`);
    expect(() => mergeShardCsv({ out })).toThrow(`${first.split('\n')[1]!.split(',')[0]} (faces.shard-0001-of-0003.csv, faces.shard-0003-of-0003.csv)`);
    writeFileSync(third, thirdText.split('\n').slice(0, -2).join('\n') + '\n');
    expect(() => mergeShardCsv({ out, photos: all })).toThrow('every photo of the list must have a row, but 1 has none: ');
    writeFileSync(shardPath(out, { index: 0, count: 2, source: '' }), facesCsvHeader());
    expect(() => mergeShardCsv({ out })).toThrow('come from runs of different shard counts: ');
  });
});

describe('ldl prep merge and --shard on the command line', () => {
  const run = async (...argv: string[]) => {
    const lines: string[] = [];
    const code = await main(argv, (l) => lines.push(l));
    return { code, text: lines.join('\n') };
  };
  it('refuses a bad --shard with the usage (exit 2)', async () => {
    expect(await run('crop', '--csv', 'x.csv', '--images', dir, '--out', dir, '--shard', '4/3')).toMatchObject({ code: 2, text: expect.stringContaining('the shard must be one of 1..3, but got 4') });
    expect(await run('align', '--images', dir, '--out', 'x.csv', '--shard', 'auto')).toMatchObject({ code: 2, text: expect.stringContaining('--shard auto must run in an array job') });
  });
  it('crops only the shard\'s rows', async () => {
    const images = join(dir, 'crop-images');
    mkdirSync(images, { recursive: true });
    const rows: string[] = [];
    for (let i = 0; i < 6; i++) {
      await sharp({ create: { width: 50, height: 50, channels: 3, background: '#808080' } }).jpeg().toFile(join(images, `${i}.jpg`));
      rows.push(`${i}.jpg,0,10,10,40,40,20,20,30,20,ok`);
    }
    writeFileSync(join(dir, 'crop.csv'), `${facesCsvHeader()}${rows.join('\n')}\n`);
    let written = 0;
    for (const s of ['1/2', '2/2']) {
      const r = await run('crop', '--csv', join(dir, 'crop.csv'), '--images', images, '--out', join(dir, 'crops'), '--size', '16', '--shard', s);
      expect(r.code, r.text).toBe(0);
      written += Number(/(\d+) written/.exec(r.text)![1]);
    }
    expect(written).toBe(6);
    expect(listImages(join(dir, 'crops'))).toHaveLength(6);
  });
});

describe('listImages follows symbolic links (issue 20 kind 10)', () => {
  it('lists linked files and folders and stops at a loop', async () => {
    const real = join(dir, 'real');
    mkdirSync(join(real, 'sub'), { recursive: true });
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).png().toFile(join(real, 'a.png'));
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).png().toFile(join(real, 'sub', 'b.png'));
    const links = join(dir, 'links');
    mkdirSync(links);
    symlinkSync(join(real, 'a.png'), join(links, 'one.png'));
    symlinkSync(join(real, 'sub'), join(links, 'folder'));
    symlinkSync(links, join(links, 'folder-loop')); // links/folder-loop -> links
    symlinkSync(join(real, 'sub'), join(real, 'sub', 'self')); // real/sub/self -> real/sub
    const loops: string[] = [];
    expect(listImages(links, { onLoop: (p) => loops.push(p) })).toEqual(['folder/b.png', 'one.png']);
    expect(loops.sort()).toEqual(['folder-loop', 'folder/self']);
  });
});

describe.skipIf(!AAF_PRESENT)('ldl prep align on real photos: a folder of links, and shards 1/3..3/3 merged', () => {
  it('follows the links (issue 20 kind 10) and the merged shards equal the single run', { timeout: 180_000 }, async () => {
    const links = join(dir, 'aaf-links');
    mkdirSync(join(links, 'deeper'), { recursive: true });
    const names = ['00004A02.jpg', '00020A02.jpg', '00034A02.jpg', '00068A02.jpg'];
    names.forEach((n, i) => symlinkSync(join(AAF_RAW, 'images', n), join(links, i < 2 ? n : join('deeper', n))));
    symlinkSync(links, join(links, 'deeper', 'loop'));
    const lines: string[] = [];
    const single = join(dir, 'aaf-single.csv');
    expect(await main(['align', '--images', links, '--out', single, '--workers', '0'], (l) => lines.push(l))).toBe(0);
    expect(lines.join('\n')).toContain(`align: deeper/loop is a link back to ${realpathSync(links)} (a loop): not followed again`);
    expect(lines.join('\n')).toMatch(/align: 4 photos \(0 already in .*\): 4 ok, 0 no_face, 0 unreadable, 0 errors/);
    const out = join(dir, 'aaf', 'faces.csv');
    for (const s of ['1/3', '2/3', '3/3']) expect(await main(['align', '--images', links, '--out', out, '--workers', '0', '--shard', s], () => undefined)).toBe(0);
    expect(await main(['merge', '--out', out, '--images', links], (l) => lines.push(l))).toBe(0);
    const [header, ...rows] = readFileSync(single, 'utf8').trim().split('\n');
    expect(readFileSync(out, 'utf8')).toBe(`${[header, ...rows.sort()].join('\n')}\n`);
  });
});
