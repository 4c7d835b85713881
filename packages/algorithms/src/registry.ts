// Every algorithm `ldl cv --algorithm <name>` runs: one entry each, with its table label, the PyLDL 0.1.2
// class it follows (run on the same folds by tools/reference/ldl_cv_reference.py), its hyper-parameters
// (PyLDL's defaults) and how to build it.
import type { LdlEstimator } from './estimator';
import { AaBp } from './algorithms/aa-bp';
import { AaKnn } from './algorithms/aa-knn';
import { BdLdl } from './algorithms/bd-ldl';
import { Acpnn, Bcpnn, Cpnn } from './algorithms/cpnn';
import { DeepLdl } from './algorithms/deep-ldl';
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
import { integer, nonNegative, positive, SEED, type ParamSpecs, unitRate } from './params';

/** One algorithm of the registry. */
export interface AlgorithmEntry {
  /** Row label of the results table (the method's name in the literature). */
  label: string;
  /** Other names of the same method accepted by `--algorithm` (IIS-LLD for SA-IIS, …). */
  aliases?: string[];
  /** The PyLDL 0.1.2 class this implementation follows, if PyLDL has the method. */
  pyldl?: string;
  /** Numeric hyper-parameters with their defaults (PyLDL's); `seed` where the method is randomised. */
  params: ParamSpecs;
  /** Comma-separated list hyper-parameters (DeepLDL's hidden widths). */
  lists?: Record<string, { default: number[]; doc: string }>;
  /** Builds an unfitted estimator; unset hyper-parameters take their defaults; bad ones throw `Error in <Class>: …`. */
  create(params: Record<string, number | number[] | undefined>): LdlEstimator;
}

type Args = Record<string, number | number[] | undefined>;
// The entries pass the parsed values through; each constructor checks them against its ParamSpecs.
const pass = <T>(a: Args) => a as unknown as T;

const DEEP_LDL_PARAMS = {
  weightDecay: nonNegative(1e-3, 'L2 weight decay λ/2 Σ‖W‖²'),
  dropout: unitRate(0, 'dropout rate on the hidden activations'),
  learningRate: positive(1e-3, 'Adam learning rate'),
  epochs: integer(500, 1, 'most epochs'),
  batchSize: integer(32, 0, 'mini-batch size; 0 = full batch'),
  validationSplit: unitRate(0.1, 'share of the training set held out for early stopping (0: none)'),
  patience: integer(50, 1, 'epochs without a better validation KL before stopping'),
  seed: SEED,
};

/** The algorithms of `ldl cv --algorithm`, by name (kebab-case). */
export const ALGORITHM_REGISTRY = {
  'sa-bfgs': { label: SaBfgs.className, aliases: ['bfgs-lld'], pyldl: 'SA_BFGS', params: SaBfgs.params, create: (a) => new SaBfgs(pass(a)) },
  'sa-iis': { label: SaIis.className, aliases: ['iis-lld'], pyldl: 'SA_IIS', params: SaIis.params, create: (a) => new SaIis(pass(a)) },
  'aa-knn': { label: AaKnn.className, pyldl: 'AA_KNN', params: AaKnn.params, create: (a) => new AaKnn(pass(a)) },
  'aa-bp': { label: AaBp.className, pyldl: 'AA_BP', params: AaBp.params, create: (a) => new AaBp(pass(a)) },
  'pt-bayes': { label: PtBayes.className, pyldl: 'PT_Bayes', params: PtBayes.params, create: (a) => new PtBayes(pass(a)) },
  'pt-svm': { label: PtSvm.className, pyldl: 'PT_SVM', params: PtSvm.params, create: (a) => new PtSvm(pass(a)) },
  ldsvr: { label: Ldsvr.className, pyldl: 'LDSVR', params: Ldsvr.params, create: (a) => new Ldsvr(pass(a)) },
  cpnn: { label: Cpnn.className, pyldl: 'CPNN', params: Cpnn.params, create: (a) => new Cpnn(pass(a)) },
  bcpnn: { label: Bcpnn.className, pyldl: 'BCPNN', params: Cpnn.params, create: (a) => new Bcpnn(pass(a)) },
  acpnn: { label: Acpnn.className, pyldl: 'ACPNN', params: Cpnn.params, create: (a) => new Acpnn(pass(a)) },
  ldllc: { label: Ldllc.className, pyldl: 'LDLLC', params: Ldllc.params, create: (a) => new Ldllc(pass(a)) },
  'ldl-lrr': { label: LdlLrr.className, pyldl: 'LDL_LRR', params: LdlLrr.params, create: (a) => new LdlLrr(pass(a)) },
  'ldl-dpa': { label: LdlDpa.className, pyldl: 'LDL_DPA', params: LdlDpa.params, create: (a) => new LdlDpa(pass(a)) },
  'ldl-scl': { label: LdlScl.className, pyldl: 'LDL_SCL', params: LdlScl.params, create: (a) => new LdlScl(pass(a)) },
  'bd-ldl': { label: BdLdl.className, pyldl: 'BD_LDL', params: BdLdl.params, create: (a) => new BdLdl(pass(a)) },
  'df-ldl': { label: DfLdl.className, aliases: ['df-bfgs'], pyldl: 'DF_LDL', params: DfLdl.params, create: (a) => new DfLdl(pass(a)) },
  'bfgs-adaboost': { label: AdaBoostLdl.className, aliases: ['adaboost-ldl'], pyldl: 'AdaBoostLDL', params: AdaBoostLdl.params, create: (a) => new AdaBoostLdl(pass(a)) },
  lalot: { label: Lalot.className, pyldl: 'LALOT', params: Lalot.params, create: (a) => new Lalot(pass(a)) },
  'duo-ldl': { label: DuoLdl.className, pyldl: 'Duo_LDL', params: DuoLdl.params, create: (a) => new DuoLdl(pass(a)) },
  winldl: { label: WInLdl.className, pyldl: 'WInLDL', params: WInLdl.params, create: (a) => new WInLdl(pass(a)) },
  incomldl: { label: IncomLdl.className, pyldl: 'IncomLDL', params: IncomLdl.params, create: (a) => new IncomLdl(pass(a)) },
  'deep-ldl': {
    label: DeepLdl.className,
    params: DEEP_LDL_PARAMS,
    lists: { hidden: { default: [64], doc: 'widths of the ReLU hidden layers (comma-separated; empty for none)' } },
    create: ({ hidden, ...a }) => new DeepLdl({ ...pass<Record<string, number>>(a), hiddenSizes: hidden as number[] | undefined }),
  },
} satisfies Record<string, AlgorithmEntry>;

/** A name of {@link ALGORITHM_REGISTRY}. */
export type AlgorithmName = keyof typeof ALGORITHM_REGISTRY;

/** The registry name for `name` or one of its aliases (case-insensitive), or undefined. */
export function resolveAlgorithm(name: string): AlgorithmName | undefined {
  const key = name.trim().toLowerCase();
  for (const [n, entry] of Object.entries(ALGORITHM_REGISTRY) as [AlgorithmName, AlgorithmEntry][]) {
    if (n === key || entry.aliases?.includes(key)) return n;
  }
  return undefined;
}

/**
 * Builds algorithm `name` with the given hyper-parameters (those it does not declare are ignored, so one
 * set of command-line values can serve several algorithms) and, where it is randomised, `seed`.
 */
export function createAlgorithm(name: AlgorithmName, values: Record<string, number | number[] | undefined>, seed?: number): LdlEstimator {
  const entry: AlgorithmEntry = ALGORITHM_REGISTRY[name];
  const args: Args = {};
  for (const k of [...Object.keys(entry.params), ...Object.keys(entry.lists ?? {})]) if (values[k] !== undefined) args[k] = values[k];
  if ('seed' in entry.params && seed !== undefined) args.seed = seed;
  return entry.create(args);
}
