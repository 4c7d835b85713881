/**
 * @ldl/core — label distribution learning for facial age estimation on TensorFlow.js:
 * Gaussian label encoding, the DLDL-v2 / paper losses, decoding (expected age, flip TTA) and metrics.
 * Backend-agnostic: depends on `@tensorflow/tfjs-core` only.
 *
 * @module @ldl/core
 */
export type { AgesLike, SigmaLike } from './validate';
export { gaussianLabels, type GaussianLabelsOptions } from './labels';
export {
  crossEntropyLoss,
  expectationL1Loss,
  klDivergenceLoss,
  ldlLoss,
  meanVarianceLoss,
  multiTaskLoss,
  type AgeClassOptions,
  type KlDivergenceOptions,
  type KlReduction,
  type LdlLossOptions,
  type MeanVarianceLossOptions,
  type MultiTaskLossOptions,
  type MultiTaskOutputs,
  type MultiTaskTargets,
} from './losses';
export { argmaxAge, expectedAge, flipTTA, type ArgmaxAgeOptions, type ExpectedAgeOptions } from './decode';
export {
  AgeMetrics,
  cumulativeAccuracy,
  mae,
  type AgeMetricsOptions,
  type AgeMetricsResult,
  type CumulativeAccuracyOptions,
  type DecadeMae,
} from './metrics';
export {
  canberra,
  chebyshev,
  clark,
  cosine,
  euclidean,
  fidelity,
  intersection,
  jensenShannon,
  kullbackLeibler,
  ldlMeasures,
  sorensen,
  squaredChi2,
  LDL_EPSILON,
  LDL_MEASURE_HIGHER_IS_BETTER,
  STANDARD_LDL_MEASURES,
  type DistributionsLike,
  type LdlMeasureName,
  type LdlMeasures,
} from './measures';
export {
  averageRanks,
  divisivenessError,
  dpa,
  errorProbability,
  kendall,
  matchM,
  maxRocAuc,
  meanAbsoluteError,
  meanSquaredError,
  mu,
  nu1,
  nu2,
  nu3,
  spearman,
  topK,
  waveHedges,
  zeroOneLoss,
  LDL_MEASURE_REGISTRY,
  type ExpectationMode,
  type LdlMeasureInfo,
  type LdlMeasureKey,
  type TopKMode,
} from './measures';
export {
  argmaxLabel,
  expectedLabel,
  gaussianDistribution,
  normalizeDistribution,
  smoothLabels,
  type DistributionInput,
  type GaussianDistributionOptions,
  type LabelDecodeOptions,
  type NormalizeDistributionOptions,
} from './distributions';
export { Rng, type RngState } from './prng';
export { damagedCopies, type DamagedCopy } from './fuzz';
