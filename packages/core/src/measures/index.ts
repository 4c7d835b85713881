// Every measure of PyLDL's `pyldl/metrics.py` (python-ldl 0.1.2) that is defined on label distributions,
// with PyLDL's names and definitions, and a registry to look them up by name.
import {
  canberra,
  chebyshev,
  clark,
  cosine,
  euclidean,
  fidelity,
  intersection,
  jensenShannon,
  kullbackLeibler,
  sorensen,
  squaredChi2,
} from './distances';
import { nu1, nu2 } from './dirichlet';
import { meanAbsoluteError, meanSquaredError } from './expectation';
import type { DistributionsLike } from './read';
import { dpa, kendall, spearman } from './ranking';
import { mu, nu3, waveHedges } from './relative';
import { errorProbability, matchM, maxRocAuc, topK, zeroOneLoss } from './top-labels';

export * from './distances';
export { nu1, nu2 } from './dirichlet';
export * from './expectation';
export { averageRanks, dpa, kendall, spearman } from './ranking';
export * from './relative';
export * from './top-labels';

/** One entry of {@link LDL_MEASURE_REGISTRY}. */
export interface LdlMeasureInfo {
  /** `(yTrue [N, L], yPred [N, L]) → number`, the mean over samples. */
  fn: (yTrue: DistributionsLike, yPred: DistributionsLike) => number;
  /** `true` for a similarity (↑), `false` for a distance or error (↓). */
  higherIsBetter: boolean;
  /** The PyLDL function (`pyldl.metrics.<name>`) with the arguments used. */
  pyldl: string;
}

/**
 * Every measure on label distributions that takes no parameter beyond `(yTrue, yPred)`, by @ldl name, with
 * its direction and the PyLDL function it equals (`pyldl.metrics`, python-ldl 0.1.2; checked to 1e-6 by
 * `packages/core/test/measures-parity.test.ts`). Match-m and top-k appear with m = k = 1 … 4, the values
 * PyLDL's defaults evaluate. Not here: `divisivenessError` (needs the label groups).
 */
export const LDL_MEASURE_REGISTRY = {
  chebyshev: { fn: chebyshev, higherIsBetter: false, pyldl: 'chebyshev' },
  clark: { fn: clark, higherIsBetter: false, pyldl: 'clark' },
  canberra: { fn: canberra, higherIsBetter: false, pyldl: 'canberra' },
  kullbackLeibler: { fn: kullbackLeibler, higherIsBetter: false, pyldl: 'kl_divergence' },
  cosine: { fn: cosine, higherIsBetter: true, pyldl: 'cosine' },
  intersection: { fn: intersection, higherIsBetter: true, pyldl: 'intersection' },
  euclidean: { fn: euclidean, higherIsBetter: false, pyldl: 'euclidean' },
  sorensen: { fn: sorensen, higherIsBetter: false, pyldl: 'sorensen' },
  squaredChi2: { fn: squaredChi2, higherIsBetter: false, pyldl: 'chi2' },
  fidelity: { fn: fidelity, higherIsBetter: true, pyldl: 'fidelity' },
  jensenShannon: { fn: jensenShannon, higherIsBetter: false, pyldl: 'js_divergence' },
  waveHedges: { fn: waveHedges, higherIsBetter: false, pyldl: 'wave_hedges' },
  spearman: { fn: spearman, higherIsBetter: true, pyldl: 'spearman' },
  kendall: { fn: kendall, higherIsBetter: true, pyldl: 'kendall' },
  dpa: { fn: dpa, higherIsBetter: true, pyldl: 'dpa' },
  mu: { fn: mu, higherIsBetter: true, pyldl: 'mu' },
  nu1: { fn: nu1, higherIsBetter: true, pyldl: 'nu1' },
  nu2: { fn: nu2, higherIsBetter: true, pyldl: 'nu2' },
  nu3: { fn: nu3, higherIsBetter: true, pyldl: 'nu3' },
  meanAbsoluteError: { fn: (t, p) => meanAbsoluteError(t, p), higherIsBetter: false, pyldl: "mean_absolute_error(mode='macro')" },
  meanAbsoluteErrorMicro: { fn: (t, p) => meanAbsoluteError(t, p, 'micro'), higherIsBetter: false, pyldl: "mean_absolute_error(mode='micro')" },
  meanSquaredError: { fn: (t, p) => meanSquaredError(t, p), higherIsBetter: false, pyldl: "mean_squared_error(mode='macro')" },
  meanSquaredErrorMicro: { fn: (t, p) => meanSquaredError(t, p, 'micro'), higherIsBetter: false, pyldl: "mean_squared_error(mode='micro')" },
  zeroOneLoss: { fn: zeroOneLoss, higherIsBetter: false, pyldl: 'zero_one_loss' },
  errorProbability: { fn: errorProbability, higherIsBetter: false, pyldl: 'error_probability' },
  maxRocAuc: { fn: maxRocAuc, higherIsBetter: true, pyldl: 'max_roc_auc' },
  match1: { fn: (t, p) => matchM(t, p, 1), higherIsBetter: true, pyldl: 'match_m(m=1)' },
  match2: { fn: (t, p) => matchM(t, p, 2), higherIsBetter: true, pyldl: 'match_m(m=2)' },
  match3: { fn: (t, p) => matchM(t, p, 3), higherIsBetter: true, pyldl: 'match_m(m=3)' },
  match4: { fn: (t, p) => matchM(t, p, 4), higherIsBetter: true, pyldl: 'match_m(m=4)' },
  top1: { fn: (t, p) => topK(t, p, 1), higherIsBetter: true, pyldl: "top_k(k=1, mode='f1_score')" },
  top2: { fn: (t, p) => topK(t, p, 2), higherIsBetter: true, pyldl: "top_k(k=2, mode='f1_score')" },
  top3: { fn: (t, p) => topK(t, p, 3), higherIsBetter: true, pyldl: "top_k(k=3, mode='f1_score')" },
  top4: { fn: (t, p) => topK(t, p, 4), higherIsBetter: true, pyldl: "top_k(k=4, mode='f1_score')" },
} satisfies Record<string, LdlMeasureInfo>;

/** A name of {@link LDL_MEASURE_REGISTRY}. */
export type LdlMeasureKey = keyof typeof LDL_MEASURE_REGISTRY;
