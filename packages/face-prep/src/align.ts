/**
 * The paper's two-pass alignment: landmarks on the original photo give the eye angle; the photo is
 * rotated by it with canvas expansion (PIL's `rotate(deg, expand=True)`) and the face is detected
 * again to get its box in the rotated frame.
 */
import type { DetectedFace, FaceDetector } from './detector';
import { type Box, type Point, type Size, eyeAngle, rotatePoint, rotatedSize } from './geometry';
import { type RgbImage, type RotateExpandOptions, UnreadableImageError, decodeImage, rotateExpand } from './image';

/** Outcome of {@link alignFace}: `ok`, `no_face` (readable, but no face in one of the passes), or `unreadable`. */
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

/** Result of {@link alignFace}. */
export type AlignResult = AlignedFace | AlignFailure;

/** Options of {@link alignFace}. */
export interface AlignOptions extends RotateExpandOptions {
  /**
   * Images narrower or shorter than this many pixels are reported as `no_face` without running the
   * detector.
   * @default 16
   */
  minImageSize?: number;
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
}

/** The face with the highest score, the larger one on a tie. */
function mostConfident(faces: DetectedFace[]): DetectedFace {
  const area = (f: DetectedFace) => (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]);
  return faces.reduce((best, f) => (f.score > best.score || (f.score === best.score && area(f) > area(best)) ? f : best));
}

/** The face whose box centre is closest to `target`. */
function closestTo(faces: DetectedFace[], target: Point): DetectedFace {
  const dist = (f: DetectedFace) => Math.hypot((f.box[0] + f.box[2]) / 2 - target.x, (f.box[1] + f.box[3]) / 2 - target.y);
  return faces.reduce((best, f) => (dist(f) < dist(best) ? f : best));
}

/**
 * Two-pass alignment of one photo.
 *
 * 1. Detect faces with eye landmarks on the original; keep the most confident face.
 * 2. `deg = eyeAngle(leftEye, rightEye)`; rotate with canvas expansion by `deg`.
 * 3. Detect again on the rotated image; keep the face closest to where the pass-1 face landed.
 * 4. (`refine`) Add the eye angle still left on the rotated image to `deg`, rotate and detect again.
 *
 * Never throws for a bad file: unreadable input gives `status: 'unreadable'`. Errors of the detector
 * itself are not caught.
 */
export async function alignFace(
  detector: FaceDetector,
  input: string | Uint8Array | RgbImage,
  options: AlignOptions = {},
): Promise<AlignResult> {
  const { minImageSize = 16, refine = 1, refineTolerance = 0.25, ...rotateOptions } = options;
  if (!Number.isInteger(refine) || refine < 0) {
    throw new Error(`Error in alignFace: refine must be an integer >= 0, but got ${refine}.`);
  }
  let image: RgbImage;
  try {
    image = typeof input === 'string' || input instanceof Uint8Array ? await decodeImage(input) : input;
  } catch (err) {
    if (err instanceof UnreadableImageError) return { status: 'unreadable', reason: err.message };
    throw err;
  }
  if (image.width < minImageSize || image.height < minImageSize) {
    return { status: 'no_face', reason: `image is ${image.width}x${image.height}, smaller than ${minImageSize} px` };
  }
  const first = await detector.detect(image);
  if (first.length === 0) return { status: 'no_face', reason: 'no face found in the original image' };
  const face = mostConfident(first);
  const centre = { x: (face.box[0] + face.box[2]) / 2, y: (face.box[1] + face.box[3]) / 2 };
  /** Rotates by `d` and detects; the face closest to where the pass-1 face landed. */
  const detectRotated = async (d: number): Promise<DetectedFace | undefined> => {
    const found = await detector.detect(await rotateExpand(image, d, rotateOptions));
    return found.length === 0 ? undefined : closestTo(found, rotatePoint(centre, d, image));
  };
  let deg = eyeAngle(face.leftEye, face.rightEye);
  let match = await detectRotated(deg);
  if (!match) return { status: 'no_face', reason: `no face found after rotating by ${deg.toFixed(2)}°` };
  for (let i = 0; i < refine; i++) {
    const residual = eyeAngle(match.leftEye, match.rightEye);
    if (Math.abs(residual) < refineTolerance) break;
    const next = await detectRotated(deg + residual);
    if (!next) break; // keep the previous pass, whose rotation is the one reported
    deg += residual;
    match = next;
  }
  return {
    status: 'ok',
    deg,
    box: match.box,
    leftEye: face.leftEye,
    rightEye: face.rightEye,
    residualDeg: eyeAngle(match.leftEye, match.rightEye),
    score: face.score,
    size: { width: image.width, height: image.height },
    rotatedSize: rotatedSize(image, deg),
  };
}
