import '@tensorflow/tfjs-backend-cpu';
import { tensor1d, tensor3d } from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { rotatedSize } from './geometry';
import { type RgbImage, cropResize, rotateExpand } from './image';
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

describe("cropResizeTensor with kernel 'lanczos3'", () => {
  /** A detailed test image (seeded noise over a gradient): resampling differences show. */
  function detailed(width: number, height: number): RgbImage {
    const data = new Uint8Array(width * height * 3);
    let seed = 7;
    for (let i = 0; i < data.length; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      data[i] = Math.round(0.5 * ((i / 3) % width) + (seed % 128));
    }
    return { data, width, height };
  }

  it.each([
    ['shrinks 170 → 32 (×5.3)', [13, 9, 183, 181], 32],
    ['shrinks 150 → 112 (×1.3)', [0, 10, 150, 160], 112],
  ] as const)("%s within 0.3/255 of sharp's cropResize (Lanczos-3) on average, unlike bilinear", async (_name, box, size) => {
    const img = detailed(200, 190);
    const want = (await cropResize(img, [...box], size)).data;
    const input = tensor3d(img.data, [img.height, img.width, 3], 'int32');
    const meanDiff = async (kernel: 'bilinear' | 'lanczos3') => {
      const got = Array.from(await cropResizeTensor(input, [...box], size, { kernel }).data());
      return got.reduce((sum, v, i) => sum + Math.abs(Math.min(255, Math.max(0, Math.round(v))) - want[i]), 0) / got.length;
    };
    const [lanczos, bilinear] = [await meanDiff('lanczos3'), await meanDiff('bilinear')];
    console.log(`${_name}: mean |Δ| vs sharp, lanczos3 ${lanczos.toFixed(3)}, bilinear ${bilinear.toFixed(3)} (0..255)`);
    expect(lanczos).toBeLessThan(0.3);
    expect(bilinear).toBeGreaterThan(5 * lanczos);
  });
});
