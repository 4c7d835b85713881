// Label enhancement: logical labels → label distributions (PyLDL's LE algorithms), `binarize` to build LE
// benchmarks from LDL sets, and the LE protocol.
export { binarize, type BinarizeOptions } from './binarize';
export { readLeArgs, type LabelEnhancer } from './enhancer';
export { FuzzyCMeans, type FuzzyCMeansArgs } from './fcm';
export { Glle, type GlleArgs } from './glle';
export { KernelMembership } from './km';
export { Levi, type LeviArgs } from './levi';
export { LabelPropagation, type LabelPropagationArgs } from './lp';
export { ManifoldLearning, type ManifoldLearningArgs } from './ml';
export { evaluateEnhancer, type EnhancementOptions, type EnhancementResult, type EnhancementRun } from './protocol';
