import { describe, expect, it } from 'vitest';
import { pil } from '../test/pil-fixture';
import { rotatePoint, rotatedSize } from './geometry';
import { type RgbImage, UnreadableImageError, cropResize, decodeImage, rotateExpand, toSharp } from './image';


/** An image with a Gaussian blob (sigma 1 px) centred on the pixel centre of (px, py). */
function blob(width: number, height: number, px: number, py: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = Math.round(255 * Math.exp(-((x - px) ** 2 + (y - py) ** 2) / 2));
      data.fill(v, (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  }
  return { data, width, height };
}

function centroid(img: RgbImage): { x: number; y: number } {
  let sx = 0;
  let sy = 0;
  let s = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const v = img.data[(y * img.width + x) * 3];
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
      s += v;
    }
  }
  return { x: sx / s, y: sy / s };
}

describe('rotateExpand', () => {
  it.each(pil.cases.map((c) => [`${c.width}x${c.height} @ ${c.deg}°`, c] as const))(
    '%s has the Pillow size and puts pixels where Pillow does',
    async (_name, c) => {
      for (const { src, dst } of c.points) {
        const out = await rotateExpand(blob(c.width, c.height, src[0] - 0.5, src[1] - 0.5), c.deg);
        expect([out.width, out.height]).toEqual(c.rotated);
        const p = centroid(out);
        expect(Math.abs(p.x - dst[0])).toBeLessThan(0.1);
        expect(Math.abs(p.y - dst[1])).toBeLessThan(0.1);
      }
    },
  );

  it('fills the uncovered corners with the background and keeps the input intact', async () => {
    const img: RgbImage = { data: new Uint8Array(20 * 10 * 3).fill(200), width: 20, height: 10 };
    const copy = img.data.slice();
    const out = await rotateExpand(img, 30, { background: [1, 2, 3] });
    expect(out).toMatchObject(rotatedSize(img, 30));
    expect(Array.from(out.data.subarray(0, 3))).toEqual([1, 2, 3]);
    const centre = rotatePoint({ x: 10, y: 5 }, 30, img);
    const i = (Math.floor(centre.y) * out.width + Math.floor(centre.x)) * 3;
    expect(out.data[i]).toBe(200);
    expect(img.data).toEqual(copy);
  });
});

describe('cropResize', () => {
  it('crops the box and resizes it (pixel-centre aligned when shrinking)', async () => {
    const img = blob(40, 30, 25, 12);
    const out = await cropResize(img, [20, 7, 30, 17], [5, 4], { kernel: 'linear' });
    expect([out.width, out.height]).toEqual([5, 4]);
    // the blob centre (25.5, 12.5) is at (5.5, 5.5) of the 10x10 crop
    const p = centroid(out);
    expect(p.x).toBeCloseTo(2.75, 1);
    expect(p.y).toBeCloseTo(2.2, 1);
  });

  it('rejects boxes outside the image', async () => {
    await expect(cropResize(blob(10, 10, 5, 5), [0, 0, 11, 5], 4)).rejects.toThrow(
      'Error in cropResize: box must be a non-empty integer box inside the 10x10 image, but got [0, 0, 11, 5].',
    );
  });
});

describe('decodeImage', () => {
  it('decodes to RGB and reports unreadable input', async () => {
    const png = await toSharp(blob(8, 6, 3, 3)).png().toBuffer();
    const img = await decodeImage(png);
    expect([img.width, img.height, img.data.length]).toEqual([8, 6, 8 * 6 * 3]);
    await expect(decodeImage(new TextEncoder().encode('not an image'))).rejects.toBeInstanceOf(UnreadableImageError);
    const jpeg = await toSharp(blob(64, 64, 30, 30)).jpeg().toBuffer();
    await expect(decodeImage(jpeg.subarray(0, jpeg.length >> 1))).rejects.toBeInstanceOf(UnreadableImageError);
  });
});
