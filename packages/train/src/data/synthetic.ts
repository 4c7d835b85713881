/**
 * A procedurally generated, obviously synthetic "face" data set in the MegaAge-Asian layout, so a
 * fresh clone can run the training example end to end without any real face data (none may be
 * shipped). The age label drives visible cues: face proportions (rounder when young), eye height,
 * hair grey level, and the number and contrast of wrinkle lines; pose, skin tone, background and
 * hair shape vary at random. It exercises the whole pipeline; it says nothing about real faces.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { Rng } from '@ldl/core';

/** Options of {@link generateSyntheticMegaAge}. */
export interface SyntheticOptions {
  /** Training images. @default 800 */
  trainCount?: number;
  /** Test images. @default 200 */
  testCount?: number;
  /** Image side in pixels. @default 96 */
  size?: number;
  /** Seed of the generator. @default 0 */
  seed?: number;
  /** Smallest age. @default 1 */
  minAge?: number;
  /** Largest age. @default 80 */
  maxAge?: number;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** SVG of one synthetic face of the given age (deterministic given the RNG state). */
export function syntheticFaceSvg(age: number, size: number, rng: Rng): string {
  const S = size;
  const young = clamp(age / 20, 0, 1); // 0 child … 1 adult proportions
  const old = clamp((age - 25) / 50, 0, 1); // 0 young adult … 1 elderly
  const cx = S / 2 + rng.uniform(-0.05, 0.05) * S;
  const cy = S * 0.55 + rng.uniform(-0.04, 0.04) * S;
  const rx = S * (0.3 + rng.uniform(-0.02, 0.02));
  const ry = rx * (1.0 + 0.3 * young + rng.uniform(-0.04, 0.04));
  const tilt = rng.uniform(-8, 8);
  const skins = [[236, 200, 170], [222, 180, 140], [190, 140, 100], [150, 105, 75], [245, 215, 190]];
  const skin = skins[rng.int(skins.length)].map((c) => Math.round(clamp(c + rng.uniform(-12, 12), 0, 255)));
  const bg = [rng.int(256), rng.int(256), rng.int(256)];
  const grey = Math.round(clamp(35 + 190 * old + rng.uniform(-20, 20), 20, 240));
  const hairTint = [grey + rng.uniform(0, 25) * (1 - old), grey, grey].map((c) => Math.round(clamp(c, 0, 255)));
  const eyeY = cy - ry * (0.05 + 0.2 * young);
  const eyeDx = rx * 0.42;
  const eyeR = S * (0.045 - 0.012 * young);
  const wrinkles = Math.round(7 * old + rng.uniform(-0.5, 0.5));
  const wrinkleAlpha = (0.25 + 0.6 * old).toFixed(2);
  const rgb = (c: number[]) => `rgb(${c.join(',')})`;
  const parts: string[] = [
    `<rect width="${S}" height="${S}" fill="${rgb(bg)}"/>`,
    `<g transform="rotate(${tilt.toFixed(2)} ${cx.toFixed(1)} ${cy.toFixed(1)})">`,
    `<ellipse cx="${cx.toFixed(1)}" cy="${(cy - ry * 0.35).toFixed(1)}" rx="${(rx * 1.08).toFixed(1)}" ry="${(ry * (0.75 + rng.uniform(0, 0.15))).toFixed(1)}" fill="${rgb(hairTint)}"/>`,
    `<ellipse cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" rx="${rx.toFixed(1)}" ry="${ry.toFixed(1)}" fill="${rgb(skin)}"/>`,
    `<rect x="${(cx - rx).toFixed(1)}" y="${(cy - ry * 1.05).toFixed(1)}" width="${(2 * rx).toFixed(1)}" height="${(ry * (0.35 + rng.uniform(0, 0.1))).toFixed(1)}" fill="${rgb(hairTint)}" rx="${(rx * 0.5).toFixed(1)}"/>`,
  ];
  for (const side of [-1, 1]) {
    parts.push(`<circle cx="${(cx + side * eyeDx).toFixed(1)}" cy="${eyeY.toFixed(1)}" r="${eyeR.toFixed(2)}" fill="rgb(30,30,40)"/>`);
  }
  const mouthY = cy + ry * 0.55;
  parts.push(`<path d="M ${(cx - rx * 0.3).toFixed(1)} ${mouthY.toFixed(1)} Q ${cx.toFixed(1)} ${(mouthY + rng.uniform(-2, 4)).toFixed(1)} ${(cx + rx * 0.3).toFixed(1)} ${mouthY.toFixed(1)}" stroke="rgb(120,40,40)" stroke-width="${(S / 60).toFixed(2)}" fill="none"/>`);
  for (let k = 0; k < wrinkles; k++) {
    const stroke = `stroke="rgba(70,40,30,${wrinkleAlpha})" stroke-width="${(S / 90).toFixed(2)}" fill="none"`;
    if (k % 2 === 0) {
      const y = eyeY - ry * (0.22 + 0.07 * (k / 2));
      parts.push(`<path d="M ${(cx - rx * 0.5).toFixed(1)} ${y.toFixed(1)} Q ${cx.toFixed(1)} ${(y - 2).toFixed(1)} ${(cx + rx * 0.5).toFixed(1)} ${y.toFixed(1)}" ${stroke}/>`);
    } else {
      const dy = (k - 2) * S * 0.012;
      for (const side of [-1, 1]) {
        const x0 = cx + side * (eyeDx + eyeR * 1.6);
        parts.push(`<line x1="${x0.toFixed(1)}" y1="${(eyeY + dy).toFixed(1)}" x2="${(x0 + side * rx * 0.18).toFixed(1)}" y2="${(eyeY + dy * 1.6).toFixed(1)}" ${stroke}/>`);
      }
    }
  }
  parts.push('</g>');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${S}" height="${S}">${parts.join('')}</svg>`;
}

/** What {@link generateSyntheticMegaAge} wrote. */
export interface SyntheticDataset {
  /** Root in the MegaAge-Asian layout (`list/`, `train/`, `test/`). */
  root: string;
  /** Whether the images were generated now (false: an identical set was already there). */
  generated: boolean;
}

/**
 * Writes the synthetic data set to `root` in the MegaAge-Asian layout (`list/{train,test}_{name,age}.txt`,
 * `train/`, `test/`), with a `SYNTHETIC.md` that says what it is. Reuses `root` when it already holds
 * a set generated with the same options.
 */
export async function generateSyntheticMegaAge(root: string, options: SyntheticOptions = {}): Promise<SyntheticDataset> {
  const opts = { trainCount: 800, testCount: 200, size: 96, seed: 0, minAge: 1, maxAge: 80, ...options };
  const marker = path.join(root, 'synthetic.json');
  const fingerprint = JSON.stringify({ generator: 1, ...opts });
  try {
    if ((await fsp.readFile(marker, 'utf8')) === fingerprint) return { root, generated: false };
  } catch {
    // not generated yet
  }
  await fsp.rm(root, { recursive: true, force: true });
  await fsp.mkdir(path.join(root, 'list'), { recursive: true });
  const rng = new Rng(opts.seed);
  for (const [split, count] of [['train', opts.trainCount], ['test', opts.testCount]] as const) {
    await fsp.mkdir(path.join(root, split), { recursive: true });
    const names: string[] = [];
    const ages: number[] = [];
    for (let i = 0; i < count; i++) {
      const age = opts.minAge + rng.int(opts.maxAge - opts.minAge + 1);
      const name = `${split}_${String(i).padStart(5, '0')}.jpg`;
      const svg = syntheticFaceSvg(age, opts.size, rng);
      await sharp(Buffer.from(svg)).jpeg({ quality: 92 }).toFile(path.join(root, split, name));
      names.push(name);
      ages.push(age);
    }
    await fsp.writeFile(path.join(root, 'list', `${split}_name.txt`), names.join('\n') + '\n');
    await fsp.writeFile(path.join(root, 'list', `${split}_age.txt`), ages.join('\n') + '\n');
  }
  await fsp.writeFile(
    path.join(root, 'SYNTHETIC.md'),
    '# Synthetic data — not real faces\n\nGenerated by `generateSyntheticMegaAge` in @ldl/train: drawn cartoon faces whose ' +
      'proportions, eye height, hair grey level and wrinkle lines depend on the age label. Useful to run the pipeline ' +
      'end to end; metrics on it say nothing about real age estimation.\n',
  );
  await fsp.writeFile(marker, fingerprint);
  return { root, generated: true };
}
