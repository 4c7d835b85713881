/**
 * `@ldl/face-prep/detector`: the default face detector in Node (face-api's SSD boxes + MediaPipe Face
 * Mesh eyes, weights read from the installed npm packages), the batch tools built on it, and the
 * CLI behind `ldl prep` as a function. Needs the optional peer dependencies `@vladmandic/face-api`,
 * `@vladmandic/human`, `@tensorflow/tfjs`, `@tensorflow/tfjs-converter` and `@tensorflow/tfjs-backend-wasm`.
 *
 * @packageDocumentation
 */
export { type DefaultDetectorOptions, type DetectedFace, type DetectorOptions, type FaceDetector, createDefaultDetector } from './detector';
export {
  type AlignImagesOptions,
  type AlignSummary,
  type CropImagesOptions,
  type CropSummary,
  type WorkerReply,
  type WorkerRequest,
  alignImages,
  cropImages,
} from './batch';
export { IMAGE_EXTENSIONS, type ListImagesOptions, listImages, readImageList } from './files';
export { USAGE, UsageError, main } from './cli';
