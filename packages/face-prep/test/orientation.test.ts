// EXIF orientation: a photo stored sideways with Orientation 6 is read upright by the one decoder, so
// align measures the eyes of an upright face and crop cuts it upright (issue 12, item 5).
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alignFace } from '../src/align';
import { cropImages } from '../src/batch';
import { facesCsvHeader, formatFaceRow } from '../src/csv';
import { type FaceDetector, createDefaultDetector } from '../src/detector';
import { decodeImage, readImageSize } from '../src/image';
import { AAF_PRESENT, AAF_RAW } from './aaf';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'face-prep-orient-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Stores `upright` sideways: pixels turned 90° counter-clockwise, EXIF Orientation 6 ("turn 90° clockwise to show"). */
async function sideways(upright: string | Buffer, out: string): Promise<void> {
  await sharp(upright).rotate(270).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toFile(out);
}

describe('EXIF orientation', () => {
  it('decodeImage and readImageSize apply Orientation 6', async () => {
    // left half red, right half blue, 60 wide and 40 high when upright
    const raw = Buffer.alloc(60 * 40 * 3);
    for (let i = 0; i < 60 * 40; i++) raw.set(i % 60 < 30 ? [220, 20, 20] : [20, 20, 220], i * 3);
    const upright = await sharp(raw, { raw: { width: 60, height: 40, channels: 3 } }).png().toBuffer();
    const file = join(dir, 'sideways.jpg');
    await sideways(upright, file);
    expect(await sharp(file).metadata()).toMatchObject({ width: 40, height: 60, orientation: 6 });
    expect(await readImageSize(file)).toEqual({ width: 60, height: 40 });
    const img = await decodeImage(file);
    expect([img.width, img.height]).toEqual([60, 40]);
    const px = (x: number, y: number) => Array.from(img.data.subarray((y * 60 + x) * 3, (y * 60 + x) * 3 + 3));
    expect(px(5, 20)[0]).toBeGreaterThan(150); // red on the left, as the photo is shown
    expect(px(55, 20)[2]).toBeGreaterThan(150);
  });
});

describe.skipIf(!AAF_PRESENT)('EXIF orientation in align and crop (a real photo, copied sideways to a temp folder)', () => {
  let detector: FaceDetector;
  beforeAll(async () => {
    detector = await createDefaultDetector();
  }, 120_000);
  afterAll(() => detector?.dispose?.());

  it('aligns a sideways-stored photo like the upright one and crops it upright', async () => {
    const upright = join(AAF_RAW, 'images', '00004A02.jpg');
    const file = join(dir, 'photo.jpg');
    await sideways(upright, file);
    const a = await alignFace(detector, upright);
    const b = await alignFace(detector, file);
    expect(a.status).toBe('ok');
    expect(b.status).toBe('ok');
    if (a.status !== 'ok' || b.status !== 'ok') return;
    expect(Math.abs(b.deg - a.deg)).toBeLessThan(1.5);
    expect(Math.abs(b.deg)).toBeLessThan(20);
    b.box.forEach((v, i) => expect(Math.abs(v - a.box[i])).toBeLessThan(6));
    // the crops of both agree, and differ from the same crop lying on its side
    copyFileSync(upright, join(dir, 'upright.jpg'));
    writeFileSync(join(dir, 'faces.csv'), facesCsvHeader() + formatFaceRow('photo.jpg', b) + formatFaceRow('upright.jpg', a));
    const out = join(dir, 'crops');
    const summary = await cropImages({ csv: join(dir, 'faces.csv'), imagesDir: dir, outDir: out, size: 64, progress: false });
    expect(summary.written).toBe(2);
    const [x, y] = await Promise.all([decodeImage(join(out, 'photo.jpg')), decodeImage(join(out, 'upright.jpg'))]);
    const lying = await decodeImage(await sharp(join(out, 'upright.jpg')).rotate(90).toBuffer());
    const meanDiff = (p: Uint8Array, q: Uint8Array) => p.reduce((s, v, i) => s + Math.abs(v - q[i]), 0) / p.length;
    expect(meanDiff(x.data, y.data)).toBeLessThan(12);
    expect(meanDiff(lying.data, y.data)).toBeGreaterThan(2 * meanDiff(x.data, y.data));
  }, 120_000);
});
if (!AAF_PRESENT) console.log(`face-prep: ${AAF_RAW} not found, skipping the sideways real-photo test.`);
