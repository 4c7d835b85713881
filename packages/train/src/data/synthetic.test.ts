import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '@ldl/core';
import { tempDir } from '../../test/helpers';
import { loadImage } from './pipeline';
import { readMegaAge } from './readers';
import { generateSyntheticMegaAge, syntheticFaceSvg } from './synthetic';

describe('generateSyntheticMegaAge', () => {
  it('writes a readable MegaAge-layout data set, reused when the options match', async () => {
    const root = path.join(tempDir(), 'syn');
    expect((await generateSyntheticMegaAge(root, { trainCount: 6, testCount: 2, size: 32 })).generated).toBe(true);
    expect((await generateSyntheticMegaAge(root, { trainCount: 6, testCount: 2, size: 32 })).generated).toBe(false);
    const train = await readMegaAge(root, 'train', { verifyImages: 'decode' });
    const test = await readMegaAge(root, 'test');
    expect(train.samples).toHaveLength(6);
    expect(test.samples).toHaveLength(2);
    expect(train.samples.every((s) => s.age >= 1 && s.age <= 80)).toBe(true);
    expect((await loadImage(train.samples[0], { size: 32 })).data.length).toBe(32 * 32 * 3);
  });

  it('draws age cues: grey hair and wrinkle lines only for the old', () => {
    const young = syntheticFaceSvg(8, 64, new Rng(1));
    const old = syntheticFaceSvg(75, 64, new Rng(1));
    const hair = (svg: string) => Number(/<ellipse[^>]*fill="rgb\((\d+)/.exec(svg)?.[1]);
    expect(hair(old)).toBeGreaterThan(hair(young) + 100);
    expect((young.match(/stroke="rgba\(70,40,30/g) ?? []).length).toBe(0);
    expect((old.match(/stroke="rgba\(70,40,30/g) ?? []).length).toBeGreaterThan(5);
  });
});
