/**
 * @ldl/face-prep: face detection, two-pass eye alignment (PIL-compatible rotate with canvas
 * expansion), margin expansion and crop for age estimation datasets, plus the `ldl-face-prep` CLI.
 *
 * @packageDocumentation
 */
export {
  type Affine,
  type Box,
  type Point,
  type RotationFrame,
  type Size,
  applyAffine,
  expandBox,
  eyeAngle,
  invertAffine,
  rotateBox,
  rotatePoint,
  rotatedSize,
  rotationFrame,
  unrotatePoint,
} from './geometry';
export {
  type CropResizeOptions,
  type Interpolator,
  type RgbImage,
  type RotateExpandOptions,
  DECODE_FAIL_ON,
  UnreadableImageError,
  cropResize,
  decodeImage,
  readImageSize,
  rotateExpand,
  toSharp,
} from './image';
export { type RotateExpandTensorOptions, cropResizeTensor, rotateExpandTensor } from './tensor';
export { type DefaultDetectorOptions, type DetectedFace, type FaceDetector, createDefaultDetector } from './detector';
export { type AlignFailure, type AlignOptions, type AlignResult, type AlignStatus, type AlignedFace, alignFace } from './align';
export { FACES_CSV_COLUMNS, type FaceRow, facesCsvHeader, formatFaceRow, parseFacesCsv } from './csv';
export {
  type AlignImagesOptions,
  type AlignSummary,
  type CropImagesOptions,
  type CropSummary,
  IMAGE_EXTENSIONS,
  type WorkerReply,
  type WorkerRequest,
  alignImages,
  cropImages,
  listImages,
  readImageList,
} from './batch';
export { USAGE, UsageError, main } from './cli';
