import { describe, expect, it } from 'vitest';
import {
  adjustBrightnessContrast,
  adjustGamma,
  applyAugment,
  flipHorizontal,
  type RgbImage,
  sampleAugmentParams,
  shiftHsv,
} from './augment';
import { Rng } from '@ldl/core';

const img = (pixels: number[][], width: number): RgbImage => ({
  data: Uint8Array.from(pixels.flat()),
  width,
  height: pixels.length / width,
});

describe('augmentation ops', () => {
  it('flips rows left-right without touching the input', () => {
    const a = img([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]], 2);
    expect(Array.from(flipHorizontal(a).data)).toEqual([4, 5, 6, 1, 2, 3, 10, 11, 12, 7, 8, 9]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('round-trips HSV with zero shift and moves hue in OpenCV units', () => {
    const a = img([[200, 40, 40], [10, 120, 250], [128, 128, 128]], 3);
    const same = shiftHsv(a, 0, 0, 0);
    Array.from(same.data).forEach((v, i) => expect(Math.abs(v - a.data[i])).toBeLessThanOrEqual(2));
    // red (hue 0) shifted by +60 units = 120 degrees -> green
    const red = img([[255, 0, 0]], 1);
    expect(Array.from(shiftHsv(red, 60, 0, 0).data)).toEqual([0, 255, 0]);
    // wraps: -30 units = -60 degrees -> magenta
    expect(Array.from(shiftHsv(red, -30, 0, 0).data)).toEqual([255, 0, 255]);
    // value is clipped, saturation reduced towards grey
    expect(Array.from(shiftHsv(img([[250, 250, 250]], 1), 0, 0, 20).data)).toEqual([255, 255, 255]);
    const desat = shiftHsv(red, 0, -255, 0).data;
    expect(desat[0]).toBe(desat[1]);
  });

  it('applies gamma and brightness/contrast as 8-bit look-up tables', () => {
    const a = img([[0, 64, 255]], 1);
    expect(Array.from(adjustGamma(a, 2).data)).toEqual([0, Math.round(255 * (64 / 255) ** 2), 255]);
    expect(Array.from(adjustBrightnessContrast(a, 1.2, 0.1).data)).toEqual([26, Math.round(64 * 1.2 + 25.5), 255]);
  });
});

describe('sampleAugmentParams', () => {
  it('is reproducible from the RNG state and fires each op at about p = 0.3', () => {
    const a = new Rng(5);
    const b = Rng.fromState(a.state);
    const pa = Array.from({ length: 2000 }, () => sampleAugmentParams(a));
    const pb = Array.from({ length: 2000 }, () => sampleAugmentParams(b));
    expect(pb).toEqual(pa);
    const rate = (f: (p: (typeof pa)[number]) => boolean) => pa.filter(f).length / pa.length;
    for (const r of [rate((p) => p.flip), rate((p) => p.hsv !== null), rate((p) => p.gamma !== null), rate((p) => p.brightnessContrast !== null)]) {
      expect(r).toBeGreaterThan(0.25);
      expect(r).toBeLessThan(0.35);
    }
    for (const p of pa) {
      if (p.hsv) {
        expect(Math.abs(p.hsv[0])).toBeLessThanOrEqual(20);
        expect(Math.abs(p.hsv[1])).toBeLessThanOrEqual(30);
        expect(Math.abs(p.hsv[2])).toBeLessThanOrEqual(20);
      }
      if (p.gamma !== null) expect(p.gamma >= 0.8 && p.gamma <= 1.2).toBe(true);
      if (p.brightnessContrast) {
        expect(Math.abs(p.brightnessContrast[0] - 1)).toBeLessThanOrEqual(0.2);
        expect(Math.abs(p.brightnessContrast[1])).toBeLessThanOrEqual(0.2);
      }
    }
  });

  it('applies nothing when every op is off', () => {
    const a = img([[1, 2, 3], [4, 5, 6]], 2);
    const p = sampleAugmentParams(new Rng(1), { pFlip: 0, pHsv: 0, pGamma: 0, pBrightnessContrast: 0 });
    expect(p).toEqual({ flip: false, hsv: null, gamma: null, brightnessContrast: null });
    expect(applyAugment(a, p)).toBe(a);
  });
});
