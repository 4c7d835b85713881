import { readFileSync } from 'node:fs';

/** One case of `fixtures/pil-rotate.json` (made by `fixtures/make_pil_rotate.py` with Pillow). */
export interface PilCase {
  width: number;
  height: number;
  deg: number;
  rotated: [number, number];
  points: { src: [number, number]; dst: [number, number] }[];
}

/** Pillow's `rotate(deg, expand=True)` sizes and point positions, the reference of the geometry and image tests. */
export const pil = JSON.parse(
  readFileSync(new URL('./fixtures/pil-rotate.json', import.meta.url), 'utf8'),
) as { cases: PilCase[] };
