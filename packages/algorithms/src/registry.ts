// The algorithms `ldl cv` knows, by command-line name: one entry each. A new algorithm plugs in by adding an
// entry here (and nothing else: the command line, `--algorithm all`, `--param`, `--help` and the worker
// threads of `--jobs` all read this table). An LDL entry names the PyLDL 0.1.2 class it follows (`pyldl`,
// run on the same folds by tools/reference/ldl_cv_reference.py and test/pyldl-parity.test.ts).
import type { LdlEstimator } from './estimator';
import { AaBp } from './algorithms/aa-bp';
import { AaKnn } from './algorithms/aa-knn';
import { BdLdl } from './algorithms/bd-ldl';
import { Acpnn, Bcpnn, Cpnn } from './algorithms/cpnn';
import { DeepLdl, type DeepLdlArgs } from './algorithms/deep-ldl';
import { DuoLdl } from './algorithms/duo-ldl';
import { AdaBoostLdl, DfLdl } from './algorithms/ensembles';
import { IncomLdl, WInLdl } from './algorithms/incomplete';
import { Lalot } from './algorithms/lalot';
import { LdlDpa } from './algorithms/ldl-dpa';
import { LdlLrr } from './algorithms/ldl-lrr';
import { LdlScl } from './algorithms/ldl-scl';
import { Ldllc } from './algorithms/ldllc';
import { Ldsvr } from './algorithms/ldsvr';
import { PtBayes } from './algorithms/pt-bayes';
import { PtSvm } from './algorithms/pt-svm';
import { SaBfgs } from './algorithms/sa-bfgs';
import { SaIis } from './algorithms/sa-iis';
import { FuzzyCMeans, type FuzzyCMeansArgs } from './le/fcm';
import { Glle, type GlleArgs } from './le/glle';
import { KernelMembership } from './le/km';
import { Levi, type LeviArgs } from './le/levi';
import { LabelPropagation, type LabelPropagationArgs } from './le/lp';
import { ManifoldLearning, type ManifoldLearningArgs } from './le/ml';
import type { LabelEnhancer } from './le/enhancer';
import { integer, nonNegative, type ParamSpecs, positive, unitRate } from './params';

/** A hyper-parameter value from the command line: a number, or a list of numbers (`--param hiddenSizes=64,32`). */
export type ParamValue = number | number[];

/** Hyper-parameters by their `Args` name (`--param NAME=VALUE`), as parsed from the command line. */
export type ParamValues = Readonly<Record<string, ParamValue>>;

/** A settable hyper-parameter of an entry: a number or a comma-separated list, with its default and doc where the class declares them. */
export interface ParamInfo {
  type: 'number' | 'numbers';
  /** The class default (PyLDL's), shown by `ldl cv --help`. */
  default?: number | readonly number[];
  /** One line for `--help`. */
  doc?: string;
}

/**
 * One algorithm of `ldl cv`. `params` names the constructor options (`XxxArgs` keys, the one spelling from
 * code to flag) that `--param NAME=VALUE` may set, and whether each takes a number or a comma-separated
 * list; ranges are checked by the constructor itself (its `Error in Xxx: …` becomes the usage error).
 * Unset options keep the class defaults (PyLDL's).
 */
export interface AlgorithmEntry<E> {
  /** The table label: the class's `className` (the method's name in the literature). */
  label: string;
  /** The PyLDL 0.1.2 class this implementation follows, if PyLDL has the method. */
  pyldl?: string;
  /** Other names accepted by `--algorithm` (IIS-LLD for SA-IIS, …). */
  aliases?: readonly string[];
  /** Settable hyper-parameters (not `seed`: `--seed` seeds every fold). */
  params: Readonly<Record<string, ParamInfo>>;
  /** A new, unfitted estimator with these hyper-parameters and this seed (for the randomised ones). */
  create(params: ParamValues, seed: number): E;
  /** Runs on tfjs: `ldl cv` sets up tfjs' cpu backend first (in each worker too). */
  tfjs?: boolean;
}

/** The `Args` of a constructor from parsed `--param` values (typed by the entry's `params`). */
const args = <A>(params: ParamValues): A => params as unknown as A;

/** Numbers without a declared default (the LE classes). */
const numbers = (...names: string[]): Record<string, ParamInfo> => Object.fromEntries(names.map((n) => [n, { type: 'number' }]));

/** The `params` of a class's declared {@link ParamSpecs} (src/params.ts), less `seed`. */
const fromSpecs = (specs: ParamSpecs): Record<string, ParamInfo> =>
  Object.fromEntries(Object.entries(specs).filter(([k]) => k !== 'seed').map(([k, s]) => [k, { type: 'number', default: s.default, doc: s.doc }]));

/** A class that declares its hyper-parameters once (`static params`) and checks them in its constructor. */
interface DeclaredClass {
  readonly className: string;
  readonly params: ParamSpecs;
  new (args: never): LdlEstimator;
}

/** The entry of a {@link DeclaredClass}: its params from `static params`; the seed passed where it declares one. */
function declared(cls: DeclaredClass, more: Pick<AlgorithmEntry<LdlEstimator>, 'pyldl' | 'aliases'>): AlgorithmEntry<LdlEstimator> {
  const seeded = 'seed' in cls.params;
  return {
    label: cls.className,
    ...more,
    params: fromSpecs(cls.params),
    create: (p, seed) => new cls(args<never>(seeded ? { ...p, seed } : p)),
  };
}

/** DeepLDL's options for `--help` (the class checks them itself; no PyLDL counterpart). */
const DEEP_LDL_PARAMS: Record<string, ParamInfo> = {
  hiddenSizes: { type: 'numbers', default: [64], doc: 'widths of the ReLU hidden layers (comma-separated; empty for none)' },
  ...fromSpecs({
    weightDecay: nonNegative(1e-3, 'L2 weight decay λ/2 Σ‖W‖²'),
    dropout: unitRate(0, 'dropout rate on the hidden activations'),
    learningRate: positive(1e-3, 'Adam learning rate'),
    epochs: integer(500, 1, 'most epochs'),
    batchSize: integer(32, 0, 'mini-batch size; 0 = full batch'),
    validationSplit: unitRate(0.1, 'share of the training set held out for early stopping (0: none)'),
    patience: integer(50, 1, 'epochs without a better validation KL before stopping'),
  }),
};

/** LDL algorithms (features → label distributions), by `ldl cv --algorithm` name. */
export const LDL_ALGORITHMS: Readonly<Record<string, AlgorithmEntry<LdlEstimator>>> = {
  'sa-bfgs': declared(SaBfgs, { pyldl: 'SA_BFGS', aliases: ['bfgs-lld'] }),
  'sa-iis': declared(SaIis, { pyldl: 'SA_IIS', aliases: ['iis-lld'] }),
  'aa-knn': declared(AaKnn, { pyldl: 'AA_KNN' }),
  'aa-bp': declared(AaBp, { pyldl: 'AA_BP' }),
  'pt-bayes': declared(PtBayes, { pyldl: 'PT_Bayes' }),
  'pt-svm': declared(PtSvm, { pyldl: 'PT_SVM' }),
  ldsvr: declared(Ldsvr, { pyldl: 'LDSVR' }),
  cpnn: declared(Cpnn, { pyldl: 'CPNN' }),
  bcpnn: declared(Bcpnn, { pyldl: 'BCPNN' }),
  acpnn: declared(Acpnn, { pyldl: 'ACPNN' }),
  ldllc: declared(Ldllc, { pyldl: 'LDLLC' }),
  'ldl-lrr': declared(LdlLrr, { pyldl: 'LDL_LRR' }),
  'ldl-dpa': declared(LdlDpa, { pyldl: 'LDL_DPA' }),
  'ldl-scl': declared(LdlScl, { pyldl: 'LDL_SCL' }),
  'bd-ldl': declared(BdLdl, { pyldl: 'BD_LDL' }),
  'df-ldl': declared(DfLdl, { pyldl: 'DF_LDL', aliases: ['df-bfgs'] }),
  'bfgs-adaboost': declared(AdaBoostLdl, { pyldl: 'AdaBoostLDL', aliases: ['adaboost-ldl'] }),
  lalot: declared(Lalot, { pyldl: 'LALOT' }),
  'duo-ldl': declared(DuoLdl, { pyldl: 'Duo_LDL' }),
  winldl: declared(WInLdl, { pyldl: 'WInLDL' }),
  incomldl: declared(IncomLdl, { pyldl: 'IncomLDL' }),
  'deep-ldl': {
    label: DeepLdl.className,
    params: DEEP_LDL_PARAMS,
    create: (p, seed) => new DeepLdl({ ...args<DeepLdlArgs>(p), seed }),
    tfjs: true,
  },
};

/** Label enhancement algorithms (features + logical labels → label distributions), for `ldl cv --mode le`. */
export const LE_ALGORITHMS: Readonly<Record<string, AlgorithmEntry<LabelEnhancer>>> = {
  glle: {
    label: Glle.className,
    params: numbers('alpha', 'sigma', 'maxIterations'),
    create: (p, seed) => new Glle({ ...args<GlleArgs>(p), seed }),
  },
  lp: {
    label: LabelPropagation.className,
    params: numbers('epochs', 'alpha'),
    create: (p) => new LabelPropagation(args<LabelPropagationArgs>(p)),
  },
  ml: {
    label: ManifoldLearning.className,
    params: numbers('beta'),
    create: (p) => new ManifoldLearning(args<ManifoldLearningArgs>(p)),
  },
  fcm: {
    label: FuzzyCMeans.className,
    params: numbers('nClusters', 'beta', 'error', 'maxIterations'),
    create: (p, seed) => new FuzzyCMeans({ ...args<FuzzyCMeansArgs>(p), seed }),
  },
  km: {
    label: KernelMembership.className,
    params: {},
    create: () => new KernelMembership(),
  },
  levi: {
    label: Levi.className,
    params: numbers('alpha', 'hidden', 'epochs', 'learningRate'),
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

/** The registry name of `name` or one of its aliases in `mode` (case-insensitive: `IIS-LLD` → `sa-iis`), or undefined. */
export function resolveAlgorithm(name: string, mode: CvMode = 'ldl'): string | undefined {
  const key = name.trim().toLowerCase();
  return Object.entries(algorithmsOf(mode)).find(([n, e]) => n === key || e.aliases?.includes(key))?.[0];
}

/**
 * Builds LDL algorithm `name` with those of `values` it declares (the rest are ignored, so one set of values
 * can serve several algorithms) and `seed`.
 * @throws `Error in createAlgorithm: …` for an unknown name; the constructor's `Error in <Class>: …` for a bad value.
 */
export function createAlgorithm(name: string, values: ParamValues = {}, seed = 0): LdlEstimator {
  const entry = LDL_ALGORITHMS[name];
  if (!entry) throw new Error(`Error in createAlgorithm: name must be one of ${Object.keys(LDL_ALGORITHMS).join(', ')}, but got '${name}'.`);
  return entry.create(Object.fromEntries(Object.entries(values).filter(([k]) => k in entry.params)), seed);
}
