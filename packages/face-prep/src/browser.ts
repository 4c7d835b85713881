/**
 * `@ldl/face-prep/browser`: the alignment pipeline for a web page, with no Node API and no sharp.
 * Geometry, the tensor path (rotate with PIL's expanded frame, crop + resize), the two-pass alignment,
 * the default detector loading face-api / Face Mesh weights from URLs, and decoding a `Blob` (a file
 * from a picker or a drop) to an {@link RgbImage}. Runs on whichever tfjs backend the page set up.
 *
 * @packageDocumentation
 */
import { cast, clipByValue, round, tensor3d, tidy } from '@tensorflow/tfjs-core';
import { type DetectorOptions, type FaceApiModule, type FaceDetector, createDetector, resolveDetectorOptions } from './detector-core';
import { type RgbImage, UnreadableImageError } from './rgb';
import { rotateExpandTensor } from './tensor';

export * from './geometry';
export { type RotateExpandTensorOptions, cropResizeTensor, rotateExpandTensor } from './tensor';
export { type RgbImage, UnreadableImageError } from './rgb';
export type { DetectedFace, DetectorOptions, FaceDetector, ModelFileReader } from './detector-core';
export { type AlignFailure, type AlignResult, type AlignStatus, type AlignedFace, type RotateExpandFn, type TwoPassOptions, alignFaces } from './two-pass';

/** Options of {@link createBrowserDetector}: the model options plus the URLs of the weight folders. */
export interface BrowserDetectorOptions extends DetectorOptions {
  /** URL of a folder holding face-api's `model/` files (`ssd_mobilenetv1_model-weights_manifest.json`, …), ending in `/`. */
  faceApiModelUrl: string | URL;
  /** URL of a folder holding `@vladmandic/human`'s `models/facemesh.json` + `facemesh.bin`, ending in `/` (unused with `eyeModel: 'landmark68'`). */
  humanModelUrl: string | URL;
}

/** Reads files by name from the folder at `base` with `fetch`. */
function urlFolder(base: string | URL) {
  return async (name: string): Promise<Uint8Array> => {
    const url = new URL(name, new URL(base, globalThis.location?.href));
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url.href} answered ${res.status} ${res.statusText}`);
    return new Uint8Array(await res.arrayBuffer());
  };
}

/**
 * The default detector ({@link DetectorOptions}: face-api's SSD boxes + Face Mesh eyes) in a page:
 * face-api's ESM build without its own tfjs copy (it shares the page's `@tensorflow/tfjs`), weights
 * fetched from `faceApiModelUrl` / `humanModelUrl`. Uses the active tfjs backend (set it first).
 *
 * @throws Error when an option is out of range or a model file cannot be fetched or parsed.
 */
export async function createBrowserDetector(options: BrowserDetectorOptions): Promise<FaceDetector> {
  const fn = 'createBrowserDetector';
  const { faceApiModelUrl, humanModelUrl, ...modelOptions } = options;
  const resolved = resolveDetectorOptions(fn, modelOptions);
  const faceApi: FaceApiModule = await import('@vladmandic/face-api/dist/face-api.esm-nobundle.js');
  return createDetector(fn, { faceApi, readFaceApiFile: urlFolder(faceApiModelUrl), readHumanFile: urlFolder(humanModelUrl) }, resolved);
}

/**
 * Decodes an image file (a `File` from a picker or a drop, or any `Blob`) to 8-bit RGB with the
 * browser's decoder, EXIF orientation applied (as `decodeImage` does in Node) and alpha dropped.
 *
 * @throws {UnreadableImageError} when the browser cannot decode it.
 */
export async function decodeImageBlob(blob: Blob, name = blob instanceof File ? blob.name : '<blob>'): Promise<RgbImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image', colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (err) {
    throw new UnreadableImageError(name, err);
  }
  try {
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('Error in decodeImageBlob: a 2d canvas context must be available, but got none.');
    ctx.drawImage(bitmap, 0, 0);
    const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
    const data = new Uint8Array(bitmap.width * bitmap.height * 3);
    for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
      data[j] = rgba[i];
      data[j + 1] = rgba[i + 1];
      data[j + 2] = rgba[i + 2];
    }
    return { data, width: bitmap.width, height: bitmap.height };
  } finally {
    bitmap.close();
  }
}

/**
 * {@link rotateExpandTensor} on an {@link RgbImage} (bilinear, black corners), rounded back to 8 bits:
 * the rotation {@link alignFaces} needs, on the page's tfjs backend.
 */
export async function rotateExpandImage(image: RgbImage, deg: number): Promise<RgbImage> {
  const out = tidy(() => cast(clipByValue(round(rotateExpandTensor(tensor3d(image.data, [image.height, image.width, 3], 'int32'), deg)), 0, 255), 'int32'));
  try {
    const [height, width] = out.shape;
    return { data: Uint8Array.from(await out.data()), width, height };
  } finally {
    out.dispose();
  }
}
