/**
 * @ldl/algorithms — label distribution learning on feature vectors: Geng's classic methods, the methods
 * recent LDL papers compare (each following PyLDL 0.1.2, registered for `ldl cv --algorithm`) and a deep
 * LDL MLP (tfjs), label enhancement (GLLE, LP, ML, FCM, KM, LEVI), readers for the LDL benchmark files (MATLAB 5 `.mat`, CSV, JSON), seeded
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
export { SaBfgs, type SaBfgsArgs } from './algorithms/sa-bfgs';
export { SaIis } from './algorithms/sa-iis';
export { AaKnn, type AaKnnArgs } from './algorithms/aa-knn';
export { AaBp } from './algorithms/aa-bp';
export { PtBayes } from './algorithms/pt-bayes';
export { PtSvm } from './algorithms/pt-svm';
export { Ldsvr } from './algorithms/ldsvr';
export { Acpnn, Bcpnn, Cpnn, type CpnnMode } from './algorithms/cpnn';
export { Ldllc } from './algorithms/ldllc';
export { LdlLrr } from './algorithms/ldl-lrr';
export { LdlDpa } from './algorithms/ldl-dpa';
export { LdlScl } from './algorithms/ldl-scl';
export { BdLdl } from './algorithms/bd-ldl';
export { AdaBoostLdl, DfLdl, sortLoss } from './algorithms/ensembles';
export { DuoLdl } from './algorithms/duo-ldl';
export { Lalot } from './algorithms/lalot';
export { IncomLdl, randomMissing, repairIncomplete, WInLdl } from './algorithms/incomplete';
export { DeepLdl, type DeepLdlArgs } from './algorithms/deep-ldl';
export { type ParamSpec, type ParamSpecs } from './params';
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
  createAlgorithm,
  LDL_ALGORITHMS,
  LE_ALGORITHMS,
  resolveAlgorithm,
  type AlgorithmEntry,
  type CvMode,
  type ParamInfo,
  type ParamValue,
  type ParamValues,
} from './registry';
