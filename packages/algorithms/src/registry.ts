// The algorithms `ldl cv` knows, by command-line name: one entry each. A new algorithm plugs in by adding an
// entry here (and nothing else: the command line, `--algorithm all`, `--param` and the worker threads of
// `--jobs` all read this table).
import { AaKnn, type AaKnnArgs } from './aa-knn';
import { DeepLdl, type DeepLdlArgs } from './deep-ldl';
import type { LdlEstimator } from './estimator';
import { FuzzyCMeans, type FuzzyCMeansArgs } from './le/fcm';
import { Glle, type GlleArgs } from './le/glle';
import { KernelMembership } from './le/km';
import { Levi, type LeviArgs } from './le/levi';
import { LabelPropagation, type LabelPropagationArgs } from './le/lp';
import { ManifoldLearning, type ManifoldLearningArgs } from './le/ml';
import type { LabelEnhancer } from './le/enhancer';
import { SaBfgs, type SaBfgsArgs } from './sa-bfgs';

/** A hyper-parameter value from the command line: a number, or a list of numbers (`--param hiddenSizes=64,32`). */
export type ParamValue = number | number[];

/** Hyper-parameters by their `Args` name (`--param NAME=VALUE`), as parsed from the command line. */
export type ParamValues = Readonly<Record<string, ParamValue>>;

/**
 * One algorithm of `ldl cv`. `params` names the constructor options (`XxxArgs` keys, the one spelling from
 * code to flag) that `--param NAME=VALUE` may set, and whether each takes a number or a comma-separated
 * list; ranges are checked by the constructor itself (its `Error in Xxx: …` becomes the usage error).
 * Unset options keep the class defaults (PyLDL's).
 */
export interface AlgorithmEntry<E> {
  /** The table label: the class's `className` (PyLDL's name). */
  label: string;
  /** Settable hyper-parameters: `'number'` or `'numbers'` (comma-separated). */
  params: Readonly<Record<string, 'number' | 'numbers'>>;
  /** A new, unfitted estimator with these hyper-parameters and this seed (for the randomised ones). */
  create(params: ParamValues, seed: number): E;
  /** Runs on tfjs: `ldl cv` sets up tfjs' cpu backend first (in each worker too). */
  tfjs?: boolean;
}

/** The `Args` of a constructor from parsed `--param` values (typed by the entry's `params`). */
const args = <A>(params: ParamValues): A => params as unknown as A;

/**
 * LDL algorithms (features → label distributions), by `ldl cv --algorithm` name.
 * To add one: `'sa-iis': { label: SaIis.className, params: { maxIterations: 'number' }, create: (p, seed) =>
 * new SaIis({ ...args<SaIisArgs>(p), seed }) }`.
 */
export const LDL_ALGORITHMS: Readonly<Record<string, AlgorithmEntry<LdlEstimator>>> = {
  'sa-bfgs': {
    label: SaBfgs.className,
    params: { maxIterations: 'number', gradientTolerance: 'number', l2: 'number' },
    create: (p, seed) => new SaBfgs({ ...args<SaBfgsArgs>(p), seed }),
  },
  'aa-knn': {
    label: AaKnn.className,
    params: { k: 'number' },
    create: (p) => new AaKnn(args<AaKnnArgs>(p)),
  },
  'deep-ldl': {
    label: DeepLdl.className,
    params: {
      hiddenSizes: 'numbers',
      weightDecay: 'number',
      dropout: 'number',
      learningRate: 'number',
      epochs: 'number',
      batchSize: 'number',
      validationSplit: 'number',
      patience: 'number',
    },
    create: (p, seed) => new DeepLdl({ ...args<DeepLdlArgs>(p), seed }),
    tfjs: true,
  },
};

/** Label enhancement algorithms (features + logical labels → label distributions), for `ldl cv --mode le`. */
export const LE_ALGORITHMS: Readonly<Record<string, AlgorithmEntry<LabelEnhancer>>> = {
  glle: {
    label: Glle.className,
    params: { alpha: 'number', sigma: 'number', maxIterations: 'number' },
    create: (p, seed) => new Glle({ ...args<GlleArgs>(p), seed }),
  },
  lp: {
    label: LabelPropagation.className,
    params: { epochs: 'number', alpha: 'number' },
    create: (p) => new LabelPropagation(args<LabelPropagationArgs>(p)),
  },
  ml: {
    label: ManifoldLearning.className,
    params: { beta: 'number' },
    create: (p) => new ManifoldLearning(args<ManifoldLearningArgs>(p)),
  },
  fcm: {
    label: FuzzyCMeans.className,
    params: { nClusters: 'number', beta: 'number', error: 'number', maxIterations: 'number' },
    create: (p, seed) => new FuzzyCMeans({ ...args<FuzzyCMeansArgs>(p), seed }),
  },
  km: {
    label: KernelMembership.className,
    params: {},
    create: () => new KernelMembership(),
  },
  levi: {
    label: Levi.className,
    params: { alpha: 'number', hidden: 'number', epochs: 'number', learningRate: 'number' },
    create: (p, seed) => new Levi({ ...args<LeviArgs>(p), seed }),
    tfjs: true,
  },
};

/** `ldl cv --mode`: LDL cross validation, or the label enhancement protocol. */
export type CvMode = 'ldl' | 'le';

/** The registry of a mode. */
export function algorithmsOf(mode: CvMode): Readonly<Record<string, AlgorithmEntry<LdlEstimator | LabelEnhancer>>> {
  return mode === 'le' ? LE_ALGORITHMS : LDL_ALGORITHMS;
}
