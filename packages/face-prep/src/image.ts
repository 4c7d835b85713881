/**
 * Image I/O and the two image transforms of the pipeline (PIL-compatible rotate with canvas
 * expansion, crop + resize), on `sharp` (libvips).
 */
import sharp from 'sharp';
import { type Box, rotationFrame } from './geometry';
import { type RgbImage, UnreadableImageError } from './rgb';

export { type RgbImage, UnreadableImageError } from './rgb';

/** Resampling used by {@link rotateExpand}. */
export type Interpolator = 'nearest' | 'bilinear' | 'bicubic';

/** Options of {@link rotateExpand}. */
export interface RotateExpandOptions {
  /**
   * Resampling. PIL's `rotate` defaults to nearest; bilinear gives smoother faces.
   * @default 'bilinear'
   */
  interpolator?: Interpolator;
  /**
   * Fill of the corners the rotation uncovers, RGB 0..255.
   * @default [0, 0, 0]
   */
  background?: [number, number, number];
}

/**
 * How strictly {@link decodeImage} decodes: libvips' `failOn: 'error'`. A file that libvips can only
 * partly decode (truncated, corrupt scan) is an error; a file that decodes completely but makes libjpeg
 * warn (e.g. "3 extraneous bytes before marker", which PIL also accepts) is usable. Every path that
 * reads photos — the readers' up-front check, the training loader, eval, predict, `ldl prep`
 * align and crop — decodes through {@link decodeImage}, so a file is usable everywhere or nowhere.
 */
export const DECODE_FAIL_ON = 'error' as const;

/**
 * The largest image {@link decodeImage} and {@link readImageSize} accept: 100 megapixels (width × height,
 * e.g. 10000 × 10000; a 108-MP phone photo of 12000 × 9000 is over it). Passed to sharp as
 * `limitInputPixels`; a larger image is refused with its size before any pixel is decoded (decoded, a
 * 12000 × 12000 photo needs 432 MB as RGB and more in the resampling steps). Shrink such photos first
 * (e.g. `vips resize` or ImageMagick's `-resize`): faces are cropped to a few hundred pixels anyway.
 */
export const MAX_INPUT_PIXELS = 100_000_000;

/**
 * Decodes an image file or buffer to 8-bit RGB: grey and alpha images are converted, and the EXIF
 * Orientation tag is applied (auto-orient: a photo stored sideways with Orientation 6 comes out
 * upright, as every viewer shows it). Truncated or corrupt files are errors ({@link DECODE_FAIL_ON}).
 *
 * @throws {UnreadableImageError} when the input cannot be decoded completely, or has more than {@link MAX_INPUT_PIXELS} pixels.
 */
export async function decodeImage(input: string | Uint8Array): Promise<RgbImage> {
  return withOwnError(input, async () => {
    const { data, info } = await sharp(input, { failOn: DECODE_FAIL_ON, autoOrient: true, limitInputPixels: MAX_INPUT_PIXELS })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
    }
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  });
}

/**
 * Width and height of an image as {@link decodeImage} returns it (EXIF orientation applied), read from
 * the header only: fast, but a file whose header is fine and whose data is corrupt passes.
 *
 * @throws {UnreadableImageError} when the header cannot be read or has no size.
 */
export async function readImageSize(input: string | Uint8Array): Promise<{ width: number; height: number }> {
  return withOwnError(input, async () => {
    const meta = await sharp(input, { failOn: DECODE_FAIL_ON, limitInputPixels: MAX_INPUT_PIXELS }).metadata();
    const { width, height } = meta.autoOrient ?? meta;
    if (!width || !height) throw new Error('the header has no width and height');
    return { width, height };
  });
}

// libvips keeps one error buffer for all threads, so the message of a read that fails while other
// reads run may be another file's (seen: a truncated file reported with a neighbour's "extraneous
// bytes" warning), or none at all ("Unknown error": a concurrent resize cleared the buffer). A failed
// read is therefore repeated alone, once the reads and the rotations/resizes of this module in flight
// have finished (they all run through `shared`), and its own error is reported (or, if it succeeds
// alone, its result returned).
let inFlight = 0;
const idle: (() => void)[] = [];
let exclusive: Promise<void> | null = null;

async function shared<T>(read: () => Promise<T>): Promise<T> {
  while (exclusive) await exclusive;
  inFlight++;
  try {
    return await read();
  } finally {
    inFlight--;
    if (inFlight === 0) for (const wake of idle.splice(0)) wake();
  }
}

async function alone<T>(read: () => Promise<T>): Promise<T> {
  while (exclusive) await exclusive;
  let release = () => undefined as void;
  exclusive = new Promise<void>((r) => {
    release = r;
  });
  try {
    if (inFlight > 0) await new Promise<void>((r) => idle.push(r));
    return await read();
  } finally {
    exclusive = null;
    release();
  }
}

async function withOwnError<T>(input: string | Uint8Array, read: () => Promise<T>): Promise<T> {
  const source = typeof input === 'string' ? input : '<buffer>';
  try {
    return await shared(read);
  } catch {
    try {
      return await alone(read);
    } catch (err) {
      throw new UnreadableImageError(source, await explainPixelLimit(input, err));
    }
  }
}

/** sharp's "Input image exceeds pixel limit", with the image's size and the limit. */
async function explainPixelLimit(input: string | Uint8Array, err: unknown): Promise<unknown> {
  if (!(err instanceof Error) || !err.message.includes('exceeds pixel limit')) return err;
  const { width = 0, height = 0 } = await sharp(input, { limitInputPixels: false }).metadata().catch(() => ({ width: 0, height: 0 }));
  const mp = (n: number) => `${Number((n / 1e6).toFixed(1))} megapixels`;
  return new Error(`${width}x${height} = ${mp(width * height)} is over the limit of ${mp(MAX_INPUT_PIXELS)} (MAX_INPUT_PIXELS of @ldl/face-prep); shrink the image first`);
}

/** A sharp pipeline reading an {@link RgbImage}. */
export function toSharp(image: RgbImage): sharp.Sharp {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
}

/** Copies the window `[left, left + width) × [top, top + height)` of an image, filling outside with `fill`. */
function window(
  src: RgbImage,
  left: number,
  top: number,
  width: number,
  height: number,
  fill: [number, number, number],
): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(fill, i * 3);
  const x0 = Math.max(0, left);
  const x1 = Math.min(src.width, left + width);
  for (let y = Math.max(0, top); y < Math.min(src.height, top + height); y++) {
    if (x1 <= x0) break;
    const from = (y * src.width + x0) * 3;
    data.set(src.data.subarray(from, from + (x1 - x0) * 3), ((y - top) * width + (x0 - left)) * 3);
  }
  return { data, width, height };
}

/**
 * Rotates an image counter-clockwise by `deg` degrees about its centre with canvas expansion, in
 * exactly the frame of PIL's `Image.rotate(deg, expand=True)` (size from
 * {@link rotationFrame}; a point `p` of the input lands on `rotatePoint(p, deg, size)`).
 * The resampling itself is libvips' affine transform.
 */
export async function rotateExpand(image: RgbImage, deg: number, options: RotateExpandOptions = {}): Promise<RgbImage> {
  const { interpolator = 'bilinear', background = [0, 0, 0] } = options;
  const frame = rotationFrame(image, deg);
  const [a, b, c, d, e, f] = frame.forward;
  // Pad by one background pixel so that libvips keeps the partly covered edge pixels.
  const padded = window(image, -1, -1, image.width + 2, image.height + 2, background);
  // Pixel index i of `padded` has its centre at i - 0.5 in the input's continuous coordinates, and
  // output index j has its centre at j + 0.5: j = A·i + offset with
  const ox = -0.5 * a - 0.5 * b + c - 0.5;
  const oy = -0.5 * d - 0.5 * e + f - 0.5;
  // libvips places its output window at the rounded bounding box of the linear part alone and
  // shifts the content by odx/ody inside it, so only the fractional offset goes to libvips.
  const kx = Math.round(ox);
  const ky = Math.round(oy);
  const { data, info } = await shared(() =>
    toSharp(padded)
      .affine([a, b, d, e], {
        odx: ox - kx,
        ody: oy - ky,
        background: { r: background[0], g: background[1], b: background[2] },
        interpolator: sharp.interpolators[interpolator],
      })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true }),
  );
  const corners = [0, padded.width].flatMap((x) => [0, padded.height].map((y) => ({ x, y })));
  const left = Math.floor(Math.min(...corners.map((p) => a * p.x + b * p.y)) + 0.5) + kx;
  const top = Math.floor(Math.min(...corners.map((p) => d * p.x + e * p.y)) + 0.5) + ky;
  const vips: RgbImage = {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
  };
  return window(vips, -left, -top, frame.width, frame.height, background);
}

/** Options of {@link cropResize}. */
export interface CropResizeOptions {
  /**
   * sharp resampling kernel.
   * @default 'lanczos3'
   */
  kernel?: keyof sharp.KernelEnum;
}

/**
 * Crops the integer box `[x1, y1, x2, y2]` (as returned by `expandBox`) and resizes it to
 * `size × size` (or `[width, height]`), stretching a non-square box as the paper's pipeline does.
 * Shrinking is pixel-centre aligned; when enlarging, libvips shifts the result by up to half an
 * output pixel toward the bottom-right (a quarter input pixel at 2x), which is negligible for crops.
 */
export async function cropResize(
  image: RgbImage,
  box: Box,
  size: number | [number, number],
  options: CropResizeOptions = {},
): Promise<RgbImage> {
  const [x1, y1, x2, y2] = box;
  if (!box.every(Number.isInteger) || x1 < 0 || y1 < 0 || x2 > image.width || y2 > image.height || x2 <= x1 || y2 <= y1) {
    throw new Error(
      `Error in cropResize: box must be a non-empty integer box inside the ${image.width}x${image.height} image, but got [${box.join(', ')}].`,
    );
  }
  const [width, height] = typeof size === 'number' ? [size, size] : size;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`Error in cropResize: size must be positive integers, but got ${String(size)}.`);
  }
  const { data, info } = await shared(() =>
    toSharp(image)
      .extract({ left: x1, top: y1, width: x2 - x1, height: y2 - y1 })
      .resize(width, height, { fit: 'fill', kernel: options.kernel ?? 'lanczos3' })
      .raw()
      .toBuffer({ resolveWithObject: true }),
  );
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}
