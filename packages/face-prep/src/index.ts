/**
 * @ldl/face-prep: two-pass eye alignment (PIL-compatible rotate with canvas expansion), margin
 * expansion and crop for age estimation datasets, on sharp (Node). Three entries:
 *
 * - `@ldl/face-prep` (this one): geometry, sharp image I/O (`decodeImage`, `rotateExpand`,
 *   `cropResize`), the tensor path, the two-pass alignment with any {@link FaceDetector}. No face
 *   detector stack: installing it does not install face-api or Human.
 * - `@ldl/face-prep/detector`: the default face detector (face-api + Face Mesh, optional peer
 *   dependencies), the batch tools and the CLI behind `ldl prep` as functions.
 * - `@ldl/face-prep/browser`: the same alignment in a web page (no sharp, no Node API), with the
 *   detector loading its weights from URLs.
 *
 * @packageDocumentation
 */
export * from './geometry';
export {
  type CropResizeOptions,
  type Interpolator,
  type RgbImage,
  type RotateExpandOptions,
  DECODE_FAIL_ON,
  MAX_INPUT_PIXELS,
  UnreadableImageError,
  cropResize,
  decodeImage,
  readImageSize,
  rotateExpand,
  toSharp,
} from './image';
export { type RotateExpandTensorOptions, cropResizeTensor, rotateExpandTensor } from './tensor';
export type { DetectedFace, DetectorOptions, FaceDetector, ModelFileReader } from './detector-core';
export { type RotateExpandFn, type TwoPassOptions, alignFaces } from './two-pass';
export { type AlignFailure, type AlignOptions, type AlignResult, type AlignStatus, type AlignedFace, alignFace } from './align';
export { FACES_CSV_COLUMNS, type FaceRow, facesCsvHeader, formatFaceRow, parseFacesCsv } from './csv';
export { type Shard, SHARD_ENV_CONVENTIONS, ShardSpecError, parseShard, parseShardPath, selectShard, shardLabel, shardOf, shardPath } from './shard';
export { type MergeOptions, type MergeSummary, type ResumableCsv, csvField, csvLine, findShardOutputs, mergeShardCsv, openResumableCsv } from './shard-csv';
export {
  type MergePackOptions,
  type PackOptions,
  type PackSample,
  type PackSettings,
  type PackSummary,
  type TarEntry,
  mergePackManifests,
  packShards,
  partPath,
  sampleKey,
} from './pack';
export { IMAGE_EXTENSIONS, type ListImagesOptions, listImages, readImageList } from './files';
