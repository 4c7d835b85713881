/**
 * Evaluation of the alignment on `../shared/datasets/aaf-raw` (600 AAF photos with hand-labelled eye
 * centres), shared by the integration test and `bench/align.ts`. Never copies the data.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Rng } from '@ldl/core';
import { parseCsv } from '@ldl/core/node';
import sharp from 'sharp';
import type { FaceRow } from '../src/csv';
import { type Point, eyeAngle, rotatePoint } from '../src/geometry';

/** `../shared/datasets/aaf-raw` from the repository root. */
export const AAF_RAW = fileURLToPath(new URL('../../../../shared/datasets/aaf-raw', import.meta.url));
/** Whether the data set is present (it is not on a user's machine). */
export const AAF_PRESENT = existsSync(`${AAF_RAW}/landmarks.csv`);

/** Hand labels of one photo. */
export interface HandLabel {
  file: string;
  leftEye: Point;
  rightEye: Point;
}

/** Reads `landmarks.csv` (file, age, left_eye_x/y, right_eye_x/y, points49) with @ldl/core's CSV reader. */
export function readHandLabels(dir = AAF_RAW): HandLabel[] {
  const file = `${dir}/landmarks.csv`;
  const { header, rows } = parseCsv(readFileSync(file, 'utf8'), file);
  const at = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${file}: missing column ${name}`);
    return i;
  };
  const [f, lx, ly, rx, ry] = ['file', 'left_eye_x', 'left_eye_y', 'right_eye_x', 'right_eye_y'].map(at);
  return rows.map(({ fields: v }) => ({ file: v[f]!, leftEye: { x: Number(v[lx]), y: Number(v[ly]) }, rightEye: { x: Number(v[rx]), y: Number(v[ry]) } }));
}

/** `n` items picked by @ldl/core's seeded shuffle (`Rng(seed).shuffle`), in their original order. */
export function seededSubset<T>(items: readonly T[], n: number, seed: number): T[] {
  return new Rng(seed)
    .shuffle(items.map((_, i) => i))
    .slice(0, n)
    .sort((a, b) => a - b)
    .map((i) => items[i]!);
}

/** Nearest-rank percentile (`p` in [0, 1]) of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(p * s.length) - 1)];
}

/** Acceptance figures of the alignment. */
export interface AafMetrics {
  /** Photos evaluated. */
  n: number;
  /** Fraction with status ok. */
  detectionRate: number;
  /** Pass-1 eye-centre error (mean of both eyes) / hand inter-ocular distance, over detected photos. */
  eyeErrorMedian: number;
  eyeErrorP95: number;
  /** |deg − hand eye angle| in degrees, over detected photos. */
  angleErrorMedian: number;
  angleErrorP95: number;
  /** Fraction of ALL photos (failures count as not level) whose hand eyes, mapped through the rotation, are level within 2°. */
  levelWithin2: number;
}

/** Compares `faces.csv` rows with the hand labels. Every label must have a row. */
export async function evaluate(labels: readonly HandLabel[], rows: readonly FaceRow[], dir = AAF_RAW): Promise<AafMetrics> {
  const byPhoto = new Map(rows.map((r) => [r.photo, r]));
  const eye: number[] = [];
  const angle: number[] = [];
  let level = 0;
  for (const label of labels) {
    const row = byPhoto.get(label.file);
    if (!row) throw new Error(`no faces.csv row for ${label.file}`);
    if (row.status !== 'ok' || row.deg === null || !row.leftEye || !row.rightEye) continue;
    const iod = Math.hypot(label.rightEye.x - label.leftEye.x, label.rightEye.y - label.leftEye.y);
    const dl = Math.hypot(row.leftEye.x - label.leftEye.x, row.leftEye.y - label.leftEye.y);
    const dr = Math.hypot(row.rightEye.x - label.rightEye.x, row.rightEye.y - label.rightEye.y);
    eye.push((dl + dr) / 2 / iod);
    const hand = eyeAngle(label.leftEye, label.rightEye);
    angle.push(Math.abs(((row.deg - hand + 540) % 360) - 180));
    const { width, height } = await sharp(`${dir}/images/${label.file}`).metadata();
    if (width === undefined || height === undefined) throw new Error(`cannot read the size of ${label.file}`);
    const size = { width, height };
    const residual = eyeAngle(rotatePoint(label.leftEye, row.deg, size), rotatePoint(label.rightEye, row.deg, size));
    if (Math.abs(residual) <= 2) level++;
  }
  return {
    n: labels.length,
    detectionRate: eye.length / labels.length,
    eyeErrorMedian: percentile(eye, 0.5),
    eyeErrorP95: percentile(eye, 0.95),
    angleErrorMedian: percentile(angle, 0.5),
    angleErrorP95: percentile(angle, 0.95),
    levelWithin2: level / labels.length,
  };
}
