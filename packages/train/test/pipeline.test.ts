import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Rng } from '@ldl/core';
import { DataLoader, IMAGENET_MEAN, IMAGENET_STD, loadImage, writeImageGrid } from '../src/data/pipeline';
import type { AgeSample } from '../src/data/readers';
import { jpeg, tempDir } from './helpers';

async function halves(file: string): Promise<void> {
  // 40x20 PNG: left half red, right half blue
  const data = new Uint8Array(40 * 20 * 3);
  for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) data.set(x < 20 ? [255, 0, 0] : [0, 0, 255], (y * 40 + x) * 3);
  await sharp(data, { raw: { width: 40, height: 20, channels: 3 } }).png().toFile(file);
}

const sample = (p: string, age = 30, extra: Partial<AgeSample> = {}): AgeSample => ({ path: p, age, source: { file: 'list.txt', line: 7 }, ...extra });

describe('loadImage', () => {
  it('resizes the whole image without a box, and crops the margin-expanded box with one', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'h.png');
    await halves(file);
    const whole = await loadImage(sample(file), { size: 8 });
    expect([whole.width, whole.height, whole.data.length]).toEqual([8, 8, 192]);
    expect(Array.from(whole.data.subarray(0, 3))).toEqual([255, 0, 0]);
    // box on the blue half; margin 0.4 grows it by 2 px each side horizontally (still blue)
    const crop = await loadImage(sample(file, 30, { box: [25, 5, 35, 15] }), { size: 4, margin: 0.4 });
    for (let i = 0; i < crop.data.length; i += 3) expect(Array.from(crop.data.subarray(i, i + 3))).toEqual([0, 0, 255]);
    // a margin that reaches the red half mixes the colours
    const wide = await loadImage(sample(file, 30, { box: [21, 5, 39, 15] }), { size: 4, margin: 0.4 });
    expect(wide.data[0]).toBeGreaterThan(100);
  });

  it('rotates by deg in the PIL expand frame before cropping', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'h.png');
    await halves(file);
    // 180 degrees: the red half moves to the right
    const rotated = await loadImage(sample(file, 30, { deg: 180, box: [0, 0, 40, 20] }), { size: 8 });
    expect(Array.from(rotated.data.subarray(0, 3))).toEqual([0, 0, 255]);
    const unrotated = await loadImage(sample(file, 30, { deg: 180, box: [0, 0, 40, 20] }), { size: 8, rotate: false });
    expect(Array.from(unrotated.data.subarray(0, 3))).toEqual([255, 0, 0]);
  });

  it('names the image and its list line when decoding fails (truncated JPEG, missing file)', async () => {
    const dir = tempDir();
    const full = await jpeg(64, 64);
    writeFileSync(path.join(dir, 'cut.jpg'), full.subarray(0, Math.floor(full.length / 2)));
    await expect(loadImage(sample(path.join(dir, 'cut.jpg')), { size: 8 })).rejects.toThrow(
      new RegExp(`Error in loadImage: cannot load .*cut.jpg \\(list.txt line 7\\)`),
    );
    await expect(loadImage(sample(path.join(dir, 'none.jpg')), { size: 8 })).rejects.toThrow(/none.jpg \(list.txt line 7\)/);
  });
});

describe('DataLoader', () => {
  async function samples(n: number): Promise<AgeSample[]> {
    const dir = tempDir();
    const out: AgeSample[] = [];
    for (let i = 0; i < n; i++) {
      const file = path.join(dir, `${i}.jpg`);
      writeFileSync(file, await jpeg(12, 10, [i * 20, 255 - i * 20, 100]));
      out.push({ path: file, age: i, gender: i % 2, ethnicity: i % 5, source: { file: 'l', line: i + 1 } });
    }
    return out;
  }

  it('batches, normalises with ImageNet statistics and keeps order without shuffle', async () => {
    const s = await samples(5);
    const loader = new DataLoader(s, { size: 4, batchSize: 2 });
    expect(loader.numBatches).toBe(3);
    const batches = [];
    for await (const b of loader.epoch()) batches.push(b);
    expect(batches.map((b) => b.shape)).toEqual([[2, 4, 4, 3], [2, 4, 4, 3], [1, 4, 4, 3]]);
    expect(batches.flatMap((b) => b.ages)).toEqual([0, 1, 2, 3, 4]);
    expect(batches[0].genders).toEqual([0, 1]);
    expect(batches[0].ethnicities).toEqual([0, 1]);
    const raw = await loadImage(s[0], { size: 4 });
    expect(batches[0].images[0]).toBeCloseTo((raw.data[0] / 255 - IMAGENET_MEAN[0]) / IMAGENET_STD[0], 5);
    expect(batches[0].images[2]).toBeCloseTo((raw.data[2] / 255 - IMAGENET_MEAN[2]) / IMAGENET_STD[2], 5);
  });

  it('reproduces an epoch exactly from the RNG state (shuffle + augmentation), with or without the cache', async () => {
    const s = await samples(6);
    const collect = async (loader: DataLoader, rng: Rng) => {
      const out: { ages: number[]; images: number[] }[] = [];
      for await (const b of loader.epoch(rng)) out.push({ ages: b.ages, images: Array.from(b.images) });
      return out;
    };
    const opts = { size: 6, batchSize: 4, shuffle: true, augment: { pFlip: 0.5, pHsv: 0.5, pGamma: 0.5, pBrightnessContrast: 0.5 }, prefetch: 1 };
    const rng = new Rng(9);
    const state = rng.state;
    const a = await collect(new DataLoader(s, opts), rng);
    const b = await collect(new DataLoader(s, { ...opts, cache: true }), Rng.fromState(state));
    expect(b).toEqual(a);
    const next = await collect(new DataLoader(s, opts), rng); // the RNG moved on: another epoch
    expect(next.map((x) => x.ages)).not.toEqual(a.map((x) => x.ages));
    expect(a.flatMap((x) => x.ages).sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('surfaces a decoding error of a prefetched batch when it is reached', async () => {
    const s = await samples(4);
    const bad = { ...s[3], path: path.join(tempDir(), 'missing.jpg') };
    const loader = new DataLoader([...s.slice(0, 3), bad], { size: 4, batchSize: 2, prefetch: 2 });
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const b of loader.epoch()) seen.push(...b.ages);
      })(),
    ).rejects.toThrow(/missing.jpg \(l line 4\)/);
    expect(seen).toEqual([0, 1]);
  });

  it('needs an RNG to shuffle, and writes a sample grid', async () => {
    const s = await samples(3);
    expect(() => new DataLoader(s, { shuffle: true }).epoch()).toThrow('Error in DataLoader.epoch: rng must be given when shuffle or augment is on, but got undefined.');
    expect(() => new DataLoader([], {})).toThrow(/samples must not be empty/);
    const { images } = await new DataLoader(s, { size: 8, augment: {} }).preview(3, new Rng(1));
    const file = path.join(tempDir(), 'grid.png');
    await writeImageGrid(images, file, 2);
    expect(existsSync(file)).toBe(true);
    const meta = await sharp(file).metadata();
    expect([meta.width, meta.height]).toEqual([2 * 10 + 2, 2 * 10 + 2]);
  });
});
