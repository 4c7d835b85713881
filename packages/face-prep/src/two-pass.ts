/**
 * The paper's two-pass alignment on a decoded image, independent of the image library: the caller
 * gives the rotation (`rotateExpand` on sharp in Node, `rotateExpandTensor` in a page), so the same
 * steps run in Node (`alignFace`) and in the browser.
 */
import type { DetectedFace, FaceDetector } from './detector-core';
import { type Box, type Point, type Size, eyeAngle, rotatePoint, rotatedSize, unrotatePoint } from './geometry';
import type { RgbImage } from './rgb';

/** Outcome of an alignment: `ok`, `no_face` (readable, but no face in one of the passes), or `unreadable`. */
export type AlignStatus = 'ok' | 'no_face' | 'unreadable';

/** A successfully aligned face. */
export interface AlignedFace {
  status: 'ok';
  /** Rotation in degrees (PIL's counter-clockwise sign) that levels the eyes. */
  deg: number;
  /** Face box `[x1, y1, x2, y2]` found by pass 2 in the rotated, expanded frame. */
  box: Box;
  /** Left eye (smaller x) found by pass 1, in the original image. */
  leftEye: Point;
  /** Right eye found by pass 1, in the original image. */
  rightEye: Point;
  /** Residual eye angle measured on the final rotated photo, in degrees. */
  residualDeg: number;
  /** Detection score of pass 1. */
  score: number;
  /** Size of the original image. */
  size: Size;
  /** Size of the rotated, expanded image the box refers to. */
  rotatedSize: Size;
}

/** A photo that could not be aligned. */
export interface AlignFailure {
  status: 'no_face' | 'unreadable';
  /** Why, for logs. */
  reason: string;
}

/** Result of aligning one face. */
export type AlignResult = AlignedFace | AlignFailure;

/**
 * Rotates an image counter-clockwise by `deg` degrees with canvas expansion, in the frame of PIL's
 * `rotate(deg, expand=True)` (`rotateExpand` of the sharp path, or the tensor path's `rotateExpandTensor`).
 */
export type RotateExpandFn = (image: RgbImage, deg: number) => Promise<RgbImage>;

/** Options of {@link alignFaces}. */
export interface TwoPassOptions {
  /**
   * Angle refinements after pass 2: the eye angle still measured on the rotated photo (where the
   * landmark net, trained on upright faces, is most accurate) is added to `deg` and the photo is
   * rotated and detected once more. `0` is the paper's plain two passes. Skipped when the residual
   * is below `refineTolerance`.
   * @default 1
   */
  refine?: number;
  /**
   * Residual angle in degrees below which no refinement is done.
   * @default 0.25
   */
  refineTolerance?: number;
  /**
   * Most faces to align, the most confident first.
   * @default Infinity (every face pass 1 finds)
   */
  maxFaces?: number;
}

/** Faces by descending score, the larger first on a tie (a stable sort: equal faces keep their order). */
function byConfidence(faces: DetectedFace[]): DetectedFace[] {
  const area = (f: DetectedFace) => (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]);
  return [...faces].sort((a, b) => b.score - a.score || area(b) - area(a));
}

/** Centre of a box. */
const centreOf = (b: Box): Point => ({ x: (b[0] + b[2]) / 2, y: (b[1] + b[3]) / 2 });

/** Whether `p` lies in the box `b` (edges included). */
const inside = (p: Point, b: Box): boolean => p.x >= b[0] && p.x <= b[2] && p.y >= b[1] && p.y <= b[3];

/** The face whose box centre is closest to `target`. */
function closestTo(faces: DetectedFace[], target: Point): DetectedFace {
  const dist = (f: DetectedFace) => {
    const c = centreOf(f.box);
    return Math.hypot(c.x - target.x, c.y - target.y);
  };
  return faces.reduce((best, f) => (dist(f) < dist(best) ? f : best));
}

/**
 * Two-pass alignment of every face in a decoded photo (`maxFaces` at most, most confident first; a
 * tie in score goes to the larger face). A weaker detection whose box centre lies inside the box of a
 * face already taken, or that pass 2 finds at the place of a face already aligned, is the same face
 * detected twice, and is dropped.
 *
 * 1. Detect faces with eye landmarks on the original.
 * 2. For each face: `deg = eyeAngle(leftEye, rightEye)`; rotate with canvas expansion by `deg`.
 * 3. Detect again on the rotated image; keep the face closest to where the pass-1 face landed.
 * 4. (`refine`) Add the eye angle still left on the rotated image to `deg`, rotate and detect again.
 *
 * Returns `[]` when pass 1 finds no face, else one result per face (`no_face` when pass 2 loses it).
 *
 * @throws Error when `refine` or `maxFaces` is invalid; errors of the detector and of `rotate` are not caught.
 */
export async function alignFaces(detector: FaceDetector, image: RgbImage, rotate: RotateExpandFn, options: TwoPassOptions = {}): Promise<AlignResult[]> {
  const { refine = 1, refineTolerance = 0.25, maxFaces = Infinity } = options;
  if (!Number.isInteger(refine) || refine < 0) {
    throw new Error(`Error in alignFaces: refine must be an integer >= 0, but got ${refine}.`);
  }
  if (!(maxFaces >= 1) || (maxFaces !== Infinity && !Number.isInteger(maxFaces))) {
    throw new Error(`Error in alignFaces: maxFaces must be an integer >= 1 or Infinity, but got ${maxFaces}.`);
  }
  const faces: DetectedFace[] = [];
  for (const face of byConfidence(await detector.detect(image))) {
    // A second, weaker box on the same face (its centre inside a kept face's box) is the same person.
    if (faces.some((k) => inside(centreOf(face.box), k.box))) continue;
    if (faces.length === maxFaces) break;
    faces.push(face);
  }
  const results: AlignResult[] = [];
  for (const face of faces) {
    const centre = centreOf(face.box);
    /** Rotates by `d` and detects; the face closest to where the pass-1 face landed. */
    const detectRotated = async (d: number): Promise<DetectedFace | undefined> => {
      const found = await detector.detect(await rotate(image, d));
      return found.length === 0 ? undefined : closestTo(found, rotatePoint(centre, d, image));
    };
    let deg = eyeAngle(face.leftEye, face.rightEye);
    let match = await detectRotated(deg);
    if (!match) {
      results.push({ status: 'no_face', reason: `no face found after rotating by ${deg.toFixed(2)}°` });
      continue;
    }
    for (let i = 0; i < refine; i++) {
      const residual = eyeAngle(match.leftEye, match.rightEye);
      if (Math.abs(residual) < refineTolerance) break;
      const next = await detectRotated(deg + residual);
      if (!next) break; // keep the previous pass, whose rotation is the one reported
      deg += residual;
      match = next;
    }
    // Two pass-1 boxes that pass 2 finds to be one face (its centre, mapped into the frame of a face
    // already aligned, lies inside that face's box) are one face.
    const here = unrotatePoint(centreOf(match.box), deg, image);
    if (results.some((r) => r.status === 'ok' && inside(rotatePoint(here, r.deg, image), r.box))) continue;
    results.push({
      status: 'ok',
      deg,
      box: match.box,
      leftEye: face.leftEye,
      rightEye: face.rightEye,
      residualDeg: eyeAngle(match.leftEye, match.rightEye),
      score: face.score,
      size: { width: image.width, height: image.height },
      rotatedSize: rotatedSize(image, deg),
    });
  }
  return results;
}
