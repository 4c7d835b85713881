import '@tensorflow/tfjs-backend-cpu';
import { tensor1d, tensor3d } from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { rotatedSize } from './geometry';
import { type RgbImage, rotateExpand } from './image';
import { cropResizeTensor, rotateExpandTensor } from './tensor';

/** A smooth test image: two Gaussian blobs of different colours. */
function smooth(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const g1 = Math.exp(-((x - width / 3) ** 2 + (y - height / 3) ** 2) / 40);
      const g2 = Math.exp(-((x - (2 * width) / 3) ** 2 + (y - (2 * height) / 3) ** 2) / 60);
      const i = (y * width + x) * 3;
      data[i] = Math.round(250 * g1);
      data[i + 1] = Math.round(250 * g2);
      data[i + 2] = Math.round(120 * (g1 + g2));
    }
  }
  return { data, width, height };
}

describe('rotateExpandTensor', () => {
  it('matches rotateExpand (sharp) in size and pixels', async () => {
    const img = smooth(31, 24);
    for (const deg of [17, -33, 90]) {
      const ref = await rotateExpand(img, deg);
      const t = rotateExpandTensor(tensor3d(img.data, [img.height, img.width, 3], 'int32'), deg);
      const { width, height } = rotatedSize(img, deg);
      expect(t.shape).toEqual([height, width, 3]);
      const got = t.dataSync();
      t.dispose();
      let diff = 0;
      for (let i = 0; i < got.length; i++) diff += Math.abs(got[i] - ref.data[i]);
      expect(diff / got.length).toBeLessThan(1.5);
    }
  });

  it('rejects other ranks', () => {
    expect(() => rotateExpandTensor(tensor1d([1]) as never, 3)).toThrow('Error in rotateExpandTensor: image must be rank 3 or 4, but got rank 1.');
  });
});

describe('cropResizeTensor', () => {
  // 8x6 image whose value at (x, y) is 10x + y
  const ramp = tensor3d(Array.from({ length: 6 * 8 }, (_, i) => 10 * (i % 8) + Math.floor(i / 8)), [6, 8, 1]);

  it('crops exactly at scale 1', () => {
    const out = cropResizeTensor(ramp, [2, 1, 5, 4], [3, 3]);
    const v = Array.from(out.dataSync());
    [21, 31, 41, 22, 32, 42, 23, 33, 43].forEach((e, i) => expect(v[i]).toBeCloseTo(e, 4));
  });

  it('samples pixel centres when shrinking', () => {
    // 2x shrink of columns 0..3, rows 0..1: centres at x = 0.5, 2.5 and y = 0.5
    const out = cropResizeTensor(ramp, [0, 0, 4, 2], [1, 2]);
    const v = Array.from(out.dataSync());
    expect(v[0]).toBeCloseTo(5.5, 5);
    expect(v[1]).toBeCloseTo(25.5, 5);
  });

  it('names a bad box', () => {
    expect(() => cropResizeTensor(ramp, [3, 0, 1, 2], 2)).toThrow('Error in cropResizeTensor: box must be finite with x1 < x2');
  });
});
