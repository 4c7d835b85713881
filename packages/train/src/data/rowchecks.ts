/**
 * Checks of a sample's geometry that the readers run when rows are read, so that a face box the
 * loader cannot crop stops the run before its first step (or is skipped under `skipBad`) instead of
 * killing it mid-epoch or at the final evaluation.
 */
import { type Box, expandBox, rotatedSize, type Size } from '@ldl/face-prep';

/**
 * Why the loader could not crop `box` from an image of `size` rotated by `deg` (PIL's
 * `rotate(deg, expand=True)` frame, as `loadImage` does), or `null` when it can. As in the paper's
 * pipeline the box is clamped to the rotated image (`expandBox` with margin 0, the smallest crop any
 * margin gives): a box partly outside is fine; one entirely outside, or empty after clamping, is not.
 * A non-finite angle or box is a problem too.
 */
export function boxProblem(box: Box, deg: number, size: Size): string | null {
  if (!Number.isFinite(deg)) return `deg must be a finite number, but got ${deg}`;
  if (!box.every(Number.isFinite) || box[2] <= box[0] || box[3] <= box[1]) {
    return `box must be finite with box3 > box1 and box4 > box2, but got [${box.join(', ')}]`;
  }
  const frame = rotatedSize(size, deg);
  const [x1, y1, x2, y2] = expandBox(box, 0, frame);
  if (x2 > x1 && y2 > y1) return null;
  const turned = deg ? ` (${size.width}x${size.height} rotated by ${deg}°)` : '';
  return `box [${box.join(', ')}] must overlap the ${frame.width}x${frame.height} image${turned}, but it lies entirely outside it (nothing is left to crop after clamping)`;
}
