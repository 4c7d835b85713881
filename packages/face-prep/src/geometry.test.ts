import { describe, expect, it } from 'vitest';
import { pil } from '../test/pil-fixture';
import {
  applyAffine,
  expandBox,
  eyeAngle,
  invertAffine,
  rotateBox,
  rotatedSize,
  rotatePoint,
  rotationFrame,
  unrotatePoint,
  wholeImageBox,
} from './geometry';


describe('eyeAngle', () => {
  it('is 0 for level eyes, positive when the right eye is lower (y down)', () => {
    expect(eyeAngle({ x: 10, y: 50 }, { x: 60, y: 50 })).toBe(0);
    expect(eyeAngle({ x: 0, y: 0 }, { x: 10, y: 10 })).toBeCloseTo(45, 12);
    expect(eyeAngle({ x: 0, y: 0 }, { x: 10, y: -10 })).toBeCloseTo(-45, 12);
  });

  it('levels the eyes when used as the PIL rotation angle', () => {
    const size = { width: 300, height: 340 };
    const l = { x: 100, y: 180 };
    const r = { x: 175, y: 196 };
    const deg = eyeAngle(l, r);
    const a = rotatePoint(l, deg, size);
    const b = rotatePoint(r, deg, size);
    expect(b.y - a.y).toBeCloseTo(0, 9);
    expect(b.x - a.x).toBeCloseTo(Math.hypot(75, 16), 9);
  });
});

describe('rotationFrame (PIL parity)', () => {
  it.each(pil.cases.map((c) => [`${c.width}x${c.height} @ ${c.deg}°`, c] as const))(
    '%s matches Pillow rotate(expand=True)',
    (_name, c) => {
      const size = { width: c.width, height: c.height };
      expect(rotatedSize(size, c.deg)).toEqual({ width: c.rotated[0], height: c.rotated[1] });
      for (const { src, dst } of c.points) {
        const p = rotatePoint({ x: src[0], y: src[1] }, c.deg, size);
        expect(Math.abs(p.x - dst[0])).toBeLessThan(0.02);
        expect(Math.abs(p.y - dst[1])).toBeLessThan(0.02);
      }
    },
  );

  it('round-trips points through forward and inverse', () => {
    const size = { width: 37, height: 23 };
    const p = { x: 3.25, y: 17.5 };
    const q = unrotatePoint(rotatePoint(p, 123.4, size), 123.4, size);
    expect(q.x).toBeCloseTo(p.x, 9);
    expect(q.y).toBeCloseTo(p.y, 9);
    const f = rotationFrame(size, 123.4);
    const id = applyAffine(f.forward, applyAffine(f.inverse, { x: 1, y: 2 }));
    expect(id.x).toBeCloseTo(1, 9);
    expect(id.y).toBeCloseTo(2, 9);
  });

  it('rejects bad sizes and angles with the argument named', () => {
    expect(() => rotationFrame({ width: 0, height: 3 }, 1)).toThrow(
      'Error in rotationFrame: size must be positive integers, but got 0x3.',
    );
    expect(() => rotationFrame({ width: 3, height: 3 }, Number.NaN)).toThrow(
      'Error in rotationFrame: deg must be a finite number, but got NaN.',
    );
    expect(() => invertAffine([1, 2, 0, 2, 4, 0])).toThrow('Error in invertAffine: m must be invertible');
  });
});

describe('rotateBox', () => {
  it('is the identity for 0° and the bounding box of the rotated corners otherwise', () => {
    const size = { width: 100, height: 80 };
    expect(rotateBox([10, 20, 30, 40], 0, size)).toEqual([10, 20, 30, 40]);
    // 90° ccw of a 100x80 image: (x, y) -> (y, 100 - x)
    const b = rotateBox([10, 20, 30, 40], 90, size);
    [20, 70, 40, 90].forEach((v, i) => expect(b[i]).toBeCloseTo(v, 9));
  });
});

describe('expandBox', () => {
  it('grows by ratio·w/2 and ratio·h/2 on each side and truncates', () => {
    // w = 100, h = 50, ratio 0.4 -> 20 and 10 on each side
    expect(expandBox([100, 100, 200, 150], 0.4, { width: 1000, height: 1000 })).toEqual([80, 90, 220, 160]);
    expect(expandBox([10.9, 10.9, 20.9, 20.9], 0, { width: 100, height: 100 })).toEqual([10, 10, 20, 20]);
    // 0.2 margin of a 33-wide box: 3.3 each side
    expect(expandBox([10, 10, 43, 43], 0.2, { width: 100, height: 100 })).toEqual([6, 6, 46, 46]);
  });

  it('clamps to the image', () => {
    expect(expandBox([5, 5, 95, 95], 0.4, { width: 100, height: 90 })).toEqual([0, 0, 100, 90]);
  });

  it('does not mutate its input and rejects bad arguments', () => {
    const box: [number, number, number, number] = [1, 2, 3, 4];
    expandBox(box, 0.2, { width: 10, height: 10 });
    expect(box).toEqual([1, 2, 3, 4]);
    expect(() => expandBox([3, 0, 1, 1], 0.2, { width: 10, height: 10 })).toThrow(
      'Error in expandBox: box must be finite',
    );
    expect(() => expandBox([0, 0, 1, 1], -1, { width: 10, height: 10 })).toThrow(
      'Error in expandBox: ratio must be a finite number >= 0, but got -1.',
    );
  });
});

describe('wholeImageBox', () => {
  it('takes the whole image, the centred square or the bottom square', () => {
    expect(wholeImageBox(309, 395, 'square-bottom')).toEqual([0, 86, 309, 395]);
    expect(wholeImageBox(400, 300, 'square-center')).toEqual([50, 0, 350, 300]);
    expect(wholeImageBox(30, 40, 'stretch')).toEqual([0, 0, 30, 40]);
  });

  it('names a bad crop or size', () => {
    expect(() => wholeImageBox(30, 40, 'fill' as 'stretch')).toThrow("Error in wholeImageBox: crop must be 'stretch', 'square-center' or 'square-bottom', but got 'fill'.");
    expect(() => wholeImageBox(0, 40, 'stretch')).toThrow('Error in wholeImageBox: size must be positive integers, but got 0x40.');
  });
});
