/**
 * Two-pass alignment of one photo file on the sharp path: decode ({@link decodeImage}), then the
 * paper's steps ({@link alignFaces}) with sharp's {@link rotateExpand}.
 */
import type { FaceDetector } from './detector-core';
import { type RgbImage, type RotateExpandOptions, UnreadableImageError, decodeImage, rotateExpand } from './image';
import { type AlignResult, type TwoPassOptions, alignFaces } from './two-pass';

export type { AlignFailure, AlignResult, AlignStatus, AlignedFace } from './two-pass';

/** Options of {@link alignFace}. */
export interface AlignOptions extends RotateExpandOptions, Omit<TwoPassOptions, 'maxFaces'> {
  /**
   * Images narrower or shorter than this many pixels are reported as `no_face` without running the
   * detector.
   * @default 16
   */
  minImageSize?: number;
}

/**
 * Two-pass alignment of the most confident face of one photo ({@link alignFaces} with `maxFaces: 1`).
 *
 * Never throws for a bad file: unreadable input gives `status: 'unreadable'`. Errors of the detector
 * itself are not caught.
 *
 * @throws Error when `refine` is not an integer >= 0.
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
  const [result] = await alignFaces(detector, image, (img, deg) => rotateExpand(img, deg, rotateOptions), { refine, refineTolerance, maxFaces: 1 });
  return result ?? { status: 'no_face', reason: 'no face found in the original image' };
}
