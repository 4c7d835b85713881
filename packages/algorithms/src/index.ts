/**
 * @ldl/algorithms — classic label distribution learning on feature vectors: SA-BFGS, AA-kNN and a
 * deep LDL MLP (tfjs), label enhancement (GLLE, LP, ML, FCM, KM, LEVI), readers for the LDL benchmark files (MATLAB 5 `.mat`, CSV, JSON), seeded
 * k-fold cross validation and the command line behind `ldl cv` (@ldl/cli).
 *
 * @module @ldl/algorithms
 */
export { toMatrix, toRows, type Matrix, type MatrixLike } from './matrix';
export { readMat, type MatMatrix } from './mat';
export {
  checkLdlDataset,
  parseLdlCsv,
  parseLdlJson,
  parseLdlMat,
  readLdlDataset,
  type LdlCsvOptions,
  type LdlDataset,
  type LdlDatasetOptions,
} from './dataset';
export type { LdlEstimator } from './estimator';
export { minimizeLbfgs, type Evaluation, type LbfgsOptions, type LbfgsResult } from './lbfgs';
export { SaBfgs, type SaBfgsArgs } from './sa-bfgs';
export { AaKnn, type AaKnnArgs } from './aa-knn';
export { DeepLdl, type DeepLdlArgs } from './deep-ldl';
export {
  crossValidate,
  kFoldIndices,
  summarizeMeasures,
  type CrossValidationOptions,
  type CrossValidationResult,
  type FoldResult,
} from './cv';
export * from './le';
export {
  ALGORITHMS,
  formatCsv,
  formatJson,
  formatMeasure,
  formatTable,
  rankRows,
  runLdlCv,
  UsageError,
  USAGE,
  type CvRow,
} from './cli';
export {
  algorithmsOf,
  LDL_ALGORITHMS,
  LE_ALGORITHMS,
  type AlgorithmEntry,
  type CvMode,
  type ParamValue,
  type ParamValues,
} from './registry';
