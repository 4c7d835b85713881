/**
 * `@ldl/train`: everything between a folder of labelled faces and a trained age estimator —
 * dataset readers, the paper's augmentation, a prefetching input pipeline, a `Trainer` with
 * checkpoints and exact resume, run-time backend selection, reports, and a synthetic data set.
 *
 * @module @ldl/train
 */
export {
  readMegaAge,
  readMorphCsv,
  readAlignedCsv,
  readUtkFaceDir,
  parseAlbum2Name,
  parseUtkFaceName,
  parseGender,
  parseRace,
  splitSamples,
  describeSkipped,
  DatasetError,
  UTKFACE_RACES,
  type AgeSample,
  type Album2Name,
  type BadRow,
  type Box,
  type CsvReaderOptions,
  type MorphColumns,
  type ReadResult,
  type ReaderOptions,
  type SampleSource,
  type UtkFaceName,
  type VerifyImages,
} from './data/readers';
export { SkippedRows, SKIPPED_CSV } from './data/skipped';
export {
  applyAugment,
  sampleAugmentParams,
  resolveAugmentConfig,
  flipHorizontal,
  shiftHsv,
  adjustGamma,
  adjustBrightnessContrast,
  type AugmentConfig,
  type AugmentParams,
  type RgbImage,
} from './data/augment';
export {
  DataLoader,
  loadImage,
  normalizeInto,
  writeImageGrid,
  batchLabels,
  IMAGENET_MEAN,
  IMAGENET_STD,
  IMAGENET_NORMALIZATION,
  type Normalization,
  type BatchSource,
  type Batch,
  type DataLoaderOptions,
  type ImageOptions,
} from './data/pipeline';
export {
  selectBackend,
  defaultWasmThreads,
  BACKEND_ORDER,
  MAX_WASM_THREADS,
  WASM_THREADS_INIT_TIMEOUT_MS,
  type BackendName,
  type BackendAttempt,
  type BackendSelection,
  type SelectBackendOptions,
} from './run/backend';
export {
  saveCheckpoint,
  latestCheckpoint,
  restoreCheckpoint,
  replaceDirAtomic,
  saveTensors,
  loadTensors,
  scanCheckpoints,
  checkCheckpoint,
  writeManifest,
  verifyManifest,
  MANIFEST_JSON,
  type TrainingState,
  type NamedTensor,
  type CheckpointCheck,
  type CheckpointScan,
  type DirManifest,
} from './run/checkpoint';
export { acquireRunLock, RunLockedError, LOCK_FILE, type RunLock, type RunLockInfo } from './run/lock';
export { DiskError, explainDiskError } from './run/disk';
export {
  Trainer,
  ResumeRefusedError,
  RESUME_MAY_CHANGE,
  changedSettings,
  type TrainerOptions,
  type EvalResult,
  type FitResult,
  type LossName,
  type BestBy,
  type ScheduleName,
  type ParameterGroup,
} from './run/trainer';
export { FeatureCache, type FeatureCacheOptions } from './data/feature_cache';
export {
  readDataset,
  loadTrainTestData,
  loadEvalData,
  addExtraTrain,
  noteSkipped,
  noteDuplicates,
  DATASET_FORMATS,
  type DatasetFormat,
  type DataOptions,
  type RunData,
} from './data/datasets';
export { createProgress, type ProgressReporter, type ProgressPayload } from './run/progress';
export {
  metricsCsv,
  curvesSvg,
  lineChartSvg,
  errorByAge,
  errorByAgeSvg,
  writeSvgPng,
  type EpochRecord,
  type AgeBin,
  type Series,
} from './run/report';
export { generateSyntheticMegaAge, syntheticFaceSvg, type SyntheticOptions, type SyntheticDataset } from './data/synthetic';
export {
  buildModel,
  buildAgeModel,
  withSeededRandom,
  type ModelConfig,
  type AgeModel,
} from './model/build';
export {
  runExperiment,
  setupBackend,
  runLogger,
  constantBaseline,
  type ExperimentOptions,
  type ExperimentReport,
} from './run/experiment';
export {
  loadSavedModel,
  readPreprocessorConfig,
  findSavedModel,
  REGENERATE_PREPROCESSOR,
  type SavedModel,
} from './saved/load';
export { evaluateSaved, predictImage, type Prediction } from './saved/inference';
export { upgradePreprocessor } from './saved/upgrade';
export { exportOnnxRun, type ExportOnnxRunOptions, type ExportOnnxRunResult } from './saved/export_onnx';
export { exportPyTorchSafetensors, importPyTorchSafetensors, type PyTorchExport, type PyTorchImport, type PyTorchImportOptions } from './saved/pytorch';
export {
  parsePreprocessorConfig,
  PREPROCESSOR_JSON,
  PREPROCESSOR_FORMAT,
  PREPROCESSOR_VERSION,
  CROP_KINDS,
  HEAD_NAMES,
  GENDER_CLASSES,
  type PreprocessorConfig,
} from './saved/preprocessor';
export { PRESETS, transferPresets, type Preset, type PresetName, type ExtraTrain, type TransferPresetName } from './run/presets';
export { pairParallelLists, splitListLines, isBlankOrComment, type ParallelLine } from './data/lists';
export { boxProblem } from './data/rowchecks';
export {
  TrainingDivergedError,
  NonFinitePredictionError,
  DivergenceGuard,
  DEFAULT_MAX_LOSS_RATIO,
  DIVERGED_FILE,
} from './run/divergence';
export { recordFailure, teeWarnings, appendRunLog, holdRunLog, releaseRunLog, discardRunLog, type FailedReport } from './run/failure';
export {
  findDuplicates,
  applyDuplicatePolicy,
  describeDuplicates,
  duplicateKey,
  sharedImages,
  perceptualHash,
  hashDistance,
  markNearDuplicates,
  NEAR_DUPLICATE_BITS,
  PERCEPTUAL_HASH_SIDE,
  DUPLICATE_POLICIES,
  type DuplicateGroup,
  type DuplicatePolicy,
} from './data/duplicates';
