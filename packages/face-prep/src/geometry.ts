/**
 * Pure geometry of the two-pass alignment: eye angle, PIL-compatible rotation with canvas
 * expansion (`Image.rotate(deg, expand=True)`), and the paper's margin expansion of a box.
 *
 * Coordinates are continuous pixel coordinates: the top-left corner of the image is `(0, 0)` and
 * pixel `(i, j)` covers `[i, i + 1) × [j, j + 1)`, so its centre is `(i + 0.5, j + 0.5)`. This is
 * the convention of PIL's affine transforms.
 */

/** A point in continuous pixel coordinates (x to the right, y down). */
export interface Point {
  x: number;
  y: number;
}

/** Image size in pixels. */
export interface Size {
  width: number;
  height: number;
}

/** An axis-aligned box `[x1, y1, x2, y2]` (top-left and bottom-right corners). */
export type Box = [x1: number, y1: number, x2: number, y2: number];

/**
 * A 2-D affine map `[a, b, c, d, e, f]`: `x' = a·x + b·y + c`, `y' = d·x + e·y + f`
 * (the coefficient order of PIL's `Image.transform(..., AFFINE, data)`).
 */
export type Affine = [a: number, b: number, c: number, d: number, e: number, f: number];

/**
 * The frame of an image rotated by PIL's `rotate(deg, expand=True)`.
 */
export interface RotationFrame extends Size {
  /** The rotation in degrees, counter-clockwise as seen on the screen (PIL's sign). */
  deg: number;
  /** Maps a point of the original image to the rotated, expanded image. */
  forward: Affine;
  /** Maps a point of the rotated, expanded image back to the original image (PIL's matrix). */
  inverse: Affine;
}

const DEG = 180 / Math.PI;

/**
 * Angle of the line from the left eye to the right eye, in degrees, with the eyes as they appear on
 * the image (left = smaller x) and y pointing down: `atan2(right.y − left.y, right.x − left.x)`.
 * Rotating the image by this angle with {@link rotationFrame} (PIL's counter-clockwise sign) makes
 * the eyes level.
 */
export function eyeAngle(leftEye: Point, rightEye: Point): number {
  return Math.atan2(rightEye.y - leftEye.y, rightEye.x - leftEye.x) * DEG;
}

/** Python's `round(v, 15)` for the values PIL rounds its rotation matrix to. */
function round15(v: number): number {
  return Math.round(v * 1e15) / 1e15;
}

/** Applies an affine map to a point. */
export function applyAffine(m: Affine, p: Point): Point {
  return { x: m[0] * p.x + m[1] * p.y + m[2], y: m[3] * p.x + m[4] * p.y + m[5] };
}

/** Inverts an affine map. */
export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (det === 0) {
    throw new Error(`Error in invertAffine: m must be invertible, but got [${m.join(', ')}].`);
  }
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

function checkSize(fn: string, size: Size): void {
  const ok = (v: number) => Number.isInteger(v) && v > 0;
  if (!ok(size.width) || !ok(size.height)) {
    throw new Error(
      `Error in ${fn}: size must be positive integers, but got ${size.width}x${size.height}.`,
    );
  }
}

/**
 * The frame of `Image.rotate(deg, expand=True)` in Pillow: the image is rotated counter-clockwise by
 * `deg` about its centre `(w/2, h/2)`, the canvas grows to
 * `ceil(max x) − floor(min x)` × `ceil(max y) − floor(min y)` of the rotated corners, and the rotated
 * image is centred on it. Reproduces Pillow's arithmetic, including its `round(cos, 15)`.
 * (Pillow's fast paths for 0/90/180/270° give the same frame.)
 */
export function rotationFrame(size: Size, deg: number): RotationFrame {
  checkSize('rotationFrame', size);
  if (!Number.isFinite(deg)) {
    throw new Error(`Error in rotationFrame: deg must be a finite number, but got ${deg}.`);
  }
  const { width: w, height: h } = size;
  const angle = -(((deg % 360) + 360) % 360) / DEG;
  const cos = round15(Math.cos(angle));
  const sin = round15(Math.sin(angle));
  const m: Affine = [cos, sin, 0, -sin, cos, 0];
  const cx = w / 2;
  const cy = h / 2;
  const t = applyAffine(m, { x: -cx, y: -cy });
  m[2] = t.x + cx;
  m[5] = t.y + cy;
  const corners = [
    applyAffine(m, { x: 0, y: 0 }),
    applyAffine(m, { x: w, y: 0 }),
    applyAffine(m, { x: w, y: h }),
    applyAffine(m, { x: 0, y: h }),
  ];
  const xs = corners.map((p) => p.x);
  const ys = corners.map((p) => p.y);
  const nw = Math.ceil(Math.max(...xs)) - Math.floor(Math.min(...xs));
  const nh = Math.ceil(Math.max(...ys)) - Math.floor(Math.min(...ys));
  const shift = applyAffine(m, { x: -(nw - w) / 2, y: -(nh - h) / 2 });
  const inverse: Affine = [m[0], m[1], shift.x, m[3], m[4], shift.y];
  return { width: nw, height: nh, deg, forward: invertAffine(inverse), inverse };
}

/** Size of the canvas after PIL's `rotate(deg, expand=True)`. */
export function rotatedSize(size: Size, deg: number): Size {
  const { width, height } = rotationFrame(size, deg);
  return { width, height };
}

/** Maps a point of the original image into the frame of PIL's `rotate(deg, expand=True)`. */
export function rotatePoint(point: Point, deg: number, size: Size): Point {
  return applyAffine(rotationFrame(size, deg).forward, point);
}

/** Maps a point of the rotated, expanded image back into the original image. */
export function unrotatePoint(point: Point, deg: number, size: Size): Point {
  return applyAffine(rotationFrame(size, deg).inverse, point);
}

/**
 * Maps a box of the original image into the rotated, expanded frame: the axis-aligned bounding box
 * of its four rotated corners (not clamped).
 */
export function rotateBox(box: Box, deg: number, size: Size): Box {
  const { forward } = rotationFrame(size, deg);
  const [x1, y1, x2, y2] = box;
  const corners = [
    { x: x1, y: y1 },
    { x: x2, y: y1 },
    { x: x2, y: y2 },
    { x: x1, y: y2 },
  ].map((p) => applyAffine(forward, p));
  const xs = corners.map((p) => p.x);
  const ys = corners.map((p) => p.y);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

/**
 * Grows a box by a margin as in the paper's preprocessing: `ratio·w/2` on the left and right and
 * `ratio·h/2` on the top and bottom (so `ratio = 0.4` makes it 40 % wider and taller), clamps it to
 * `[0, width] × [0, height]` and truncates each coordinate toward zero (Python's `int()`).
 *
 * @param box `[x1, y1, x2, y2]` with `x1 ≤ x2`, `y1 ≤ y2`.
 * @param ratio Margin ratio, `≥ 0` (the paper uses 0, 0.2 and 0.4).
 * @param imageSize Size of the image the box lies in (after rotation).
 * @returns Integer box `[x1, y1, x2, y2]` inside the image.
 */
export function expandBox(box: Box, ratio: number, imageSize: Size): Box {
  const [x1, y1, x2, y2] = box;
  if (!box.every(Number.isFinite) || x2 < x1 || y2 < y1) {
    throw new Error(`Error in expandBox: box must be finite [x1, y1, x2, y2] with x1 <= x2 and y1 <= y2, but got [${box.join(', ')}].`);
  }
  if (!(ratio >= 0) || !Number.isFinite(ratio)) {
    throw new Error(`Error in expandBox: ratio must be a finite number >= 0, but got ${ratio}.`);
  }
  checkSize('expandBox', imageSize);
  const dw = (ratio * (x2 - x1)) / 2;
  const dh = (ratio * (y2 - y1)) / 2;
  const clamp = (v: number, hi: number) => Math.trunc(Math.min(Math.max(v, 0), hi));
  return [
    clamp(x1 - dw, imageSize.width),
    clamp(y1 - dh, imageSize.height),
    clamp(x2 + dw, imageSize.width),
    clamp(y2 + dh, imageSize.height),
  ];
}

/**
 * How a whole image (one without a face box: an already aligned crop) is fitted to a square model
 * input: `'stretch'` takes it whole (the paper's pipeline stretches it to the square); `'square-center'`
 * and `'square-bottom'` take the largest square (side `min(W, H)`), centred, or centred horizontally and
 * touching the bottom edge (on eye-aligned portrait crops such as All-Age-Faces' this keeps the eyes at
 * about a third of the height, close to a dlib face chip). Saved as `crop` in a model's `preprocessor.json`.
 */
export type WholeImageCrop = 'stretch' | 'square-center' | 'square-bottom';

/**
 * The box {@link WholeImageCrop} `crop` takes from a `width × height` image (integers, inside it).
 * @throws Error when the size is not positive integers or `crop` is not one of the three.
 */
export function wholeImageBox(width: number, height: number, crop: WholeImageCrop): Box {
  checkSize('wholeImageBox', { width, height });
  if (crop === 'stretch') return [0, 0, width, height];
  if (crop !== 'square-center' && crop !== 'square-bottom') {
    throw new Error(`Error in wholeImageBox: crop must be 'stretch', 'square-center' or 'square-bottom', but got '${String(crop)}'.`);
  }
  const side = Math.min(width, height);
  const x1 = Math.floor((width - side) / 2);
  const y1 = crop === 'square-bottom' ? height - side : Math.floor((height - side) / 2);
  return [x1, y1, x1 + side, y1 + side];
}
