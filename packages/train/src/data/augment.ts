/**
 * The paper's training augmentation on 8-bit RGB images, seeded and reproducible: horizontal flip;
 * HSV shift (±20 hue, ±30 saturation, ±20 value); gamma in [0.8, 1.2]; brightness and contrast ±0.2;
 * each applied with probability 0.3, in that order (albumentations `HorizontalFlip`,
 * `HueSaturationValue`, `RandomGamma`, `RandomBrightnessContrast`).
 *
 * Conventions (OpenCV/albumentations 8-bit): hue is on the 0–180 scale (2° per unit) and wraps;
 * saturation and value are on 0–255 and are clipped; gamma maps `x → 255·(x/255)^γ`; brightness and
 * contrast map `x → α·x + β·255` with `α = 1 + U(−c, c)`, `β = U(−b, b)`. Every op rounds and clips to
 * 0..255, as the 8-bit pipeline does.
 */
import type { RgbImage } from '@ldl/face-prep';
import type { Rng } from '@ldl/core';

/** An 8-bit RGB image, row-major `[height, width, 3]` (the type of @ldl/face-prep). */
export type { RgbImage };

/** Augmentation settings; the defaults are the paper's. */
export interface AugmentConfig {
  /** Probability of a horizontal flip. @default 0.3 */
  pFlip?: number;
  /** Probability of the HSV shift. @default 0.3 */
  pHsv?: number;
  /** Largest hue shift, OpenCV units (0–180 scale). @default 20 */
  hueShift?: number;
  /** Largest saturation shift (0–255 scale). @default 30 */
  saturationShift?: number;
  /** Largest value shift (0–255 scale). @default 20 */
  valueShift?: number;
  /** Probability of the gamma change. @default 0.3 */
  pGamma?: number;
  /** Gamma range. @default [0.8, 1.2] */
  gammaRange?: [number, number];
  /** Probability of the brightness/contrast change. @default 0.3 */
  pBrightnessContrast?: number;
  /** Largest brightness change (fraction of 255). @default 0.2 */
  brightness?: number;
  /** Largest contrast change (fraction). @default 0.2 */
  contrast?: number;
}

/** The random draws for one image; `null` means the op is not applied. */
export interface AugmentParams {
  /** Mirror left–right. */
  flip: boolean;
  /** `[hue, saturation, value]` shifts. */
  hsv: [number, number, number] | null;
  /** Gamma exponent. */
  gamma: number | null;
  /** `[alpha, beta]`: contrast factor and brightness offset (fraction of 255). */
  brightnessContrast: [number, number] | null;
}

const DEFAULTS: Required<AugmentConfig> = {
  pFlip: 0.3,
  pHsv: 0.3,
  hueShift: 20,
  saturationShift: 30,
  valueShift: 20,
  pGamma: 0.3,
  gammaRange: [0.8, 1.2],
  pBrightnessContrast: 0.3,
  brightness: 0.2,
  contrast: 0.2,
};

/** The paper's settings with `overrides` applied. */
export function resolveAugmentConfig(overrides: AugmentConfig = {}): Required<AugmentConfig> {
  return { ...DEFAULTS, ...overrides };
}

/**
 * Draws the parameters for one image. Always consumes exactly 10 numbers from `rng`, whether or not
 * an op fires, so the stream stays aligned across images.
 */
export function sampleAugmentParams(rng: Rng, config: AugmentConfig = {}): AugmentParams {
  const c = resolveAugmentConfig(config);
  const u = Array.from({ length: 10 }, () => rng.next());
  const sym = (x: number, limit: number) => (2 * x - 1) * limit;
  return {
    flip: u[0] < c.pFlip,
    hsv: u[1] < c.pHsv ? [sym(u[2], c.hueShift), sym(u[3], c.saturationShift), sym(u[4], c.valueShift)] : null,
    gamma: u[5] < c.pGamma ? c.gammaRange[0] + (c.gammaRange[1] - c.gammaRange[0]) * u[6] : null,
    brightnessContrast: u[7] < c.pBrightnessContrast ? [1 + sym(u[8], c.contrast), sym(u[9], c.brightness)] : null,
  };
}

const clip255 = (x: number) => (x < 0 ? 0 : x > 255 ? 255 : Math.round(x));

/** Mirrors an image left–right (returns a new image). */
export function flipHorizontal(image: RgbImage): RgbImage {
  const { data, width, height } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = (y * width + x) * 3;
      const dst = (y * width + (width - 1 - x)) * 3;
      out[dst] = data[src];
      out[dst + 1] = data[src + 1];
      out[dst + 2] = data[src + 2];
    }
  }
  return { data: out, width, height };
}

function applyLut(image: RgbImage, f: (x: number) => number): RgbImage {
  const lut = new Uint8Array(256);
  for (let i = 0; i < 256; i++) lut[i] = clip255(f(i));
  const out = new Uint8Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = lut[image.data[i]];
  return { ...image, data: out };
}

/** `x → 255·(x/255)^gamma` (returns a new image). */
export function adjustGamma(image: RgbImage, gamma: number): RgbImage {
  return applyLut(image, (x) => 255 * Math.pow(x / 255, gamma));
}

/** `x → alpha·x + beta·255` (returns a new image). */
export function adjustBrightnessContrast(image: RgbImage, alpha: number, beta: number): RgbImage {
  return applyLut(image, (x) => alpha * x + beta * 255);
}

/**
 * Shifts hue (OpenCV 0–180 units, wrapping), saturation and value (0–255, clipped), through the
 * OpenCV 8-bit RGB↔HSV conversion (returns a new image).
 */
export function shiftHsv(image: RgbImage, hue: number, saturation: number, value: number): RgbImage {
  const src = image.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i += 3) {
    const r = src[i];
    const g = src[i + 1];
    const b = src[i + 2];
    const v = Math.max(r, g, b);
    const d = v - Math.min(r, g, b);
    const s = v === 0 ? 0 : (255 * d) / v;
    let h = 0;
    if (d > 0) {
      if (v === r) h = (60 * (g - b)) / d;
      else if (v === g) h = 120 + (60 * (b - r)) / d;
      else h = 240 + (60 * (r - g)) / d;
      if (h < 0) h += 360;
    }
    // to OpenCV 8-bit units, shift, back
    const h8 = (((Math.round(h / 2) + Math.round(hue)) % 180) + 180) % 180;
    const s8 = clip255(Math.round(s) + saturation);
    const v8 = clip255(v + value);
    const hh = (h8 * 2) / 60;
    const c = (v8 * s8) / 255;
    const x = c * (1 - Math.abs((hh % 2) - 1));
    const m = v8 - c;
    let rgb: [number, number, number];
    if (hh < 1) rgb = [c, x, 0];
    else if (hh < 2) rgb = [x, c, 0];
    else if (hh < 3) rgb = [0, c, x];
    else if (hh < 4) rgb = [0, x, c];
    else if (hh < 5) rgb = [x, 0, c];
    else rgb = [c, 0, x];
    out[i] = clip255(rgb[0] + m);
    out[i + 1] = clip255(rgb[1] + m);
    out[i + 2] = clip255(rgb[2] + m);
  }
  return { ...image, data: out };
}

/** Applies drawn parameters in the paper's order (flip, HSV, gamma, brightness/contrast). */
export function applyAugment(image: RgbImage, params: AugmentParams): RgbImage {
  let out = image;
  if (params.flip) out = flipHorizontal(out);
  if (params.hsv) out = shiftHsv(out, ...params.hsv);
  if (params.gamma !== null) out = adjustGamma(out, params.gamma);
  if (params.brightnessContrast) out = adjustBrightnessContrast(out, ...params.brightnessContrast);
  return out;
}
