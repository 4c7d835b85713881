import { describe, expect, it } from 'vitest';
import type { DetectedFace, FaceDetector } from './detector-core';
import type { Box } from './geometry';
import type { RgbImage } from './rgb';
import { alignFaces } from './two-pass';

const image: RgbImage = { data: new Uint8Array(100 * 80 * 3), width: 100, height: 80 };
const face = (box: Box, score: number): DetectedFace => ({ box, score, leftEye: { x: box[0] + 3, y: box[1] + 4 }, rightEye: { x: box[2] - 3, y: box[1] + 4 } });

/** A detector that finds the same faces in every image (eyes level, so one rotation by 0°). */
function fixed(faces: DetectedFace[]): FaceDetector & { calls: number } {
  return {
    calls: 0,
    async detect() {
      this.calls++;
      return faces;
    },
  };
}

const keep = async (img: RgbImage) => img;

describe('alignFaces', () => {
  it('aligns every face, most confident first, and drops a weaker second box on the same face', async () => {
    const a = face([10, 10, 30, 30], 0.6);
    const b = face([60, 20, 90, 50], 0.9);
    const duplicateOfB = face([58, 18, 80, 40], 0.3); // centre (69, 29) lies inside b
    const r = await alignFaces(fixed([a, duplicateOfB, b]), image, keep, { refine: 0 });
    expect(r.map((x) => (x.status === 'ok' ? x.score : x.status))).toEqual([0.9, 0.6]);
    expect(r[0]).toMatchObject({ status: 'ok', deg: 0, box: b.box, rotatedSize: { width: 100, height: 80 } });
  });

  it('drops a pass-1 box that pass 2 finds to be a face already aligned', async () => {
    const a = face([10, 10, 40, 40], 0.9);
    const beside = face([36, 12, 60, 44], 0.3); // centre (48, 28) outside a's box: a separate face for pass 1
    let calls = 0;
    const detector: FaceDetector = {
      async detect() {
        return calls++ === 0 ? [a, beside] : [a]; // on the rotated photo, only a
      },
    };
    const r = await alignFaces(detector, image, keep, { refine: 0 });
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ status: 'ok', score: 0.9, box: a.box });
  });

  it('keeps at most maxFaces, and returns [] when pass 1 finds none', async () => {
    const d = fixed([face([10, 10, 30, 30], 0.6), face([60, 20, 90, 50], 0.9)]);
    expect((await alignFaces(d, image, keep, { maxFaces: 1, refine: 0 })).map((x) => x.status === 'ok' && x.score)).toEqual([0.9]);
    expect(d.calls).toBe(2); // pass 1, and pass 2 of the one face
    expect(await alignFaces(fixed([]), image, keep)).toEqual([]);
  });

  it('names a bad maxFaces or refine', async () => {
    await expect(alignFaces(fixed([]), image, keep, { maxFaces: 0 })).rejects.toThrow('Error in alignFaces: maxFaces must be an integer >= 1 or Infinity, but got 0.');
    await expect(alignFaces(fixed([]), image, keep, { refine: -1 })).rejects.toThrow('Error in alignFaces: refine must be an integer >= 0, but got -1.');
  });
});
