import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alignFace } from '../src/align';
import { alignImages } from '../src/batch';
import { parseFacesCsv } from '../src/csv';
import { type FaceDetector, createDefaultDetector } from '../src/detector';

/** Synthetic bad inputs (never dataset images): what each must be reported as. */
const EXPECTED: Record<string, 'unreadable' | 'no_face'> = {
  'truncated.jpg': 'unreadable',
  'text.jpg': 'unreadable',
  'solid.png': 'no_face',
  'noise.jpg': 'no_face',
  'one-pixel.png': 'no_face',
  'missing.jpg': 'unreadable',
};

let dir: string;
let detector: FaceDetector;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'face-prep-bad-'));
  const noise = Buffer.from(Array.from({ length: 96 * 96 * 3 }, (_, i) => (i * 2654435761) % 251));
  const jpeg = await sharp(noise, { raw: { width: 96, height: 96, channels: 3 } }).jpeg().toBuffer();
  writeFileSync(join(dir, 'truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  writeFileSync(join(dir, 'text.jpg'), 'this is not an image\n');
  await sharp({ create: { width: 120, height: 90, channels: 3, background: '#3a7' } }).png().toFile(join(dir, 'solid.png'));
  writeFileSync(join(dir, 'noise.jpg'), jpeg);
  await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } }).png().toFile(join(dir, 'one-pixel.png'));
  detector = await createDefaultDetector();
});

afterAll(() => {
  detector?.dispose?.();
  rmSync(dir, { recursive: true, force: true });
});

describe('bad files', () => {
  it.each(Object.entries(EXPECTED))('alignFace reports %s as %s', async (name, status) => {
    const result = await alignFace(detector, join(dir, name));
    expect(result.status).toBe(status);
  });

  it('runs the detector on a 1x1 image without crashing when the size guard is off', async () => {
    const result = await alignFace(detector, join(dir, 'one-pixel.png'), { minImageSize: 1 });
    expect(result.status).toBe('no_face');
  });

  it('alignImages writes one row per file with its status, and resumes', async () => {
    const out = join(dir, 'out', 'faces.csv');
    const photos = Object.keys(EXPECTED);
    const first = await alignImages({ imagesDir: dir, photos, out, workers: 0, detector, progress: false });
    expect(first).toMatchObject({ total: 6, skipped: 0, ok: 0, noFace: 3, unreadable: 3, errors: [] });
    const rows = parseFacesCsv(readFileSync(out, 'utf8'));
    expect(Object.fromEntries(rows.map((r) => [r.photo, r.status]))).toEqual(EXPECTED);
    const again = await alignImages({ imagesDir: dir, photos, out, workers: 0, detector, progress: false });
    expect(again).toMatchObject({ total: 6, skipped: 6, noFace: 0, unreadable: 0 });
    expect(parseFacesCsv(readFileSync(out, 'utf8'))).toHaveLength(6);
  });
});
