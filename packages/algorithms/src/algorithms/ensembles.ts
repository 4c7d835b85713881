import { Rng } from '@ldl/core';
import { type LdlEstimator, readFitArgs, readPredictArg } from '../estimator';
import { type Matrix, type MatrixLike, takeRows, toMatrix } from '../matrix';
import { integer, positive, resolveParams, SEED, type ParamValues } from '../params';
import { AaKnn } from './aa-knn';
import { SaBfgs } from './sa-bfgs';

/** A seed for the k-th member drawn from the ensemble's own generator. */
const memberSeed = (rng: Rng) => Math.floor(rng.next() * 2 ** 31);

/**
 * Per-sample sort loss of PyLDL's `sort_loss` (used by AdaBoostLDL): labels ranked by the true
 * distribution; every inverted pair (a lower-ranked label predicted higher) costs its excess, discounted
 * by `1 / log2(rank + 2)` of the higher-ranked label; normalised by `Σ_{r<L−1} 1 / log2(r + 2)`.
 */
export function sortLoss(d: Matrix, p: Matrix): Float64Array {
  const { rows: n, cols: L } = d;
  const out = new Float64Array(n);
  let norm = 0;
  for (let r = 0; r < L - 1; r++) norm += 1 / Math.log2(r + 2);
  const order = Array.from({ length: L }, (_, j) => j);
  for (let i = 0; i < n; i++) {
    const o = i * L;
    // np.argsort(-D): stable ascending sort of −D
    order.sort((a, b) => d.data[o + b] - d.data[o + a] || a - b);
    let s = 0;
    for (let r = 0; r < L - 1; r++) {
      for (let k = r + 1; k < L; k++) s += Math.max(p.data[o + order[k]] - p.data[o + order[r]], 0) / Math.log2(r + 2);
    }
    out[i] = s / norm;
  }
  return out;
}

const DF_PARAMS = {
  k: integer(5, 1, 'neighbours of the AA-kNN that picks each pair\'s model (PyLDL `k`)'),
  maxIterations: integer(500, 1, 'most L-BFGS iterations of each SA-BFGS member'),
  seed: SEED,
};

/**
 * DF-LDL (González, Mejía, Herrera et al., "Decomposition-Fusion for Label Distribution Learning",
 * Information Fusion 2021; the DF-BFGS row of PyLDL's README), as PyLDL's `DF_LDL`: for every label pair
 * (i, j) one SA-BFGS on the samples with `D_i ≥ D_j` and one on those with `D_i < D_j`; a prediction
 * averages, over the pairs, the member chosen by the order of i and j in the AA-kNN prediction.
 * A member whose subset is empty keeps its random initial weights (as in PyLDL).
 */
export class DfLdl implements LdlEstimator {
  static readonly className = 'DF-LDL';
  static readonly params = DF_PARAMS;
  private readonly args: ParamValues<typeof DF_PARAMS>;
  private members: SaBfgs[][] | undefined;
  private knn: AaKnn | undefined;
  private features: number | undefined;

  constructor(args: Partial<ParamValues<typeof DF_PARAMS>> = {}) {
    this.args = resolveParams('DfLdl', DF_PARAMS, args);
  }

  getConfig(): ParamValues<typeof DF_PARAMS> {
    return { ...this.args };
  }

  fit(X: MatrixLike, D: MatrixLike): this {
    const [x, d] = readFitArgs('DfLdl.fit', X, D);
    const { rows: n, cols: L } = d;
    const rng = new Rng(this.args.seed);
    const members: SaBfgs[][] = Array.from({ length: L }, () => new Array<SaBfgs>(L));
    for (let i = 0; i < L; i++) {
      for (let j = i + 1; j < L; j++) {
        const above: number[] = [];
        const below: number[] = [];
        for (let s = 0; s < n; s++) (d.data[s * L + i] >= d.data[s * L + j] ? above : below).push(s);
        for (const [a, b, rows] of [[i, j, above], [j, i, below]] as const) {
          const member = new SaBfgs({ maxIterations: this.args.maxIterations, seed: memberSeed(rng) });
          members[a][b] = member.fit(takeRows(x, rows), takeRows(d, rows));
        }
      }
    }
    this.members = members;
    this.knn = new AaKnn({ k: this.args.k }).fit(x, d);
    this.features = x.cols;
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const x = readPredictArg('DfLdl.predict', X, this.features);
    const members = this.members as SaBfgs[][];
    const L = members.length;
    const knn = (this.knn as AaKnn).predict(x);
    const preds = members.map((row) => row.map((m) => (m ? m.predict(x) : [])));
    const pairs = (L * (L - 1)) / 2;
    return knn.map((p, s) => {
      const out = new Array<number>(L).fill(0);
      for (let i = 0; i < L; i++) {
        for (let j = i + 1; j < L; j++) {
          const pick = p[i] >= p[j] ? preds[i][j][s] : preds[j][i][s];
          for (let c = 0; c < L; c++) out[c] += pick[c] / pairs;
        }
      }
      return out;
    });
  }
}

const ADA_PARAMS = {
  nEstimators: integer(10, 1, 'boosting rounds, one SA-BFGS each (PyLDL `n_estimators`)'),
  alpha: positive(1, 'how strongly a sample\'s sort loss raises its sampling weight (PyLDL `alpha`)'),
  maxIterations: integer(500, 1, 'most L-BFGS iterations of each SA-BFGS member'),
  seed: SEED,
};

/**
 * BFGS-AdaBoost (PyLDL's `AdaBoostLDL` with its default SA-BFGS members): each round fits an SA-BFGS on
 * `n` samples drawn with probabilities `p`, scores every training sample by {@link sortLoss} and adds
 * `α · loss_i / Σ(all losses so far)` to `p_i` (renormalised). A prediction averages the members weighted
 * by their summed training sort loss (normalised), as PyLDL does.
 */
export class AdaBoostLdl implements LdlEstimator {
  static readonly className = 'BFGS-AdaBoost';
  static readonly params = ADA_PARAMS;
  private readonly args: ParamValues<typeof ADA_PARAMS>;
  private members: SaBfgs[] = [];
  private weights: Float64Array | undefined;
  private features: number | undefined;

  constructor(args: Partial<ParamValues<typeof ADA_PARAMS>> = {}) {
    this.args = resolveParams('AdaBoostLdl', ADA_PARAMS, args);
  }

  getConfig(): ParamValues<typeof ADA_PARAMS> {
    return { ...this.args };
  }

  fit(X: MatrixLike, D: MatrixLike): this {
    const [x, d] = readFitArgs('AdaBoostLdl.fit', X, D);
    const n = x.rows;
    const rng = new Rng(this.args.seed);
    const p = new Float64Array(n).fill(1 / n);
    const memberLoss = new Float64Array(this.args.nEstimators);
    let lossTotal = 0;
    this.members = [];
    for (let e = 0; e < this.args.nEstimators; e++) {
      const cum = new Float64Array(n);
      let s = 0;
      for (let i = 0; i < n; i++) cum[i] = s += p[i];
      const rows = Array.from({ length: n }, () => {
        const u = rng.next() * s;
        let lo = 0;
        let hi = n - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (cum[mid] > u) hi = mid;
          else lo = mid + 1;
        }
        return lo;
      });
      const member = new SaBfgs({ maxIterations: this.args.maxIterations, seed: memberSeed(rng) }).fit(takeRows(x, rows), takeRows(d, rows));
      this.members.push(member);
      const loss = sortLoss(d, toMatrix('AdaBoostLdl.fit', 'P', member.predict(x)));
      for (const v of loss) memberLoss[e] += v;
      lossTotal += memberLoss[e];
      let sum = 0;
      for (let i = 0; i < n; i++) sum += p[i] += lossTotal > 0 ? (this.args.alpha * loss[i]) / lossTotal : 0;
      for (let i = 0; i < n; i++) p[i] /= sum;
    }
    const total = memberLoss.reduce((a, b) => a + b, 0);
    this.weights = memberLoss.map((v) => (total > 0 ? v / total : 1 / memberLoss.length));
    this.features = x.cols;
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const x = readPredictArg('AdaBoostLdl.predict', X, this.features);
    const w = this.weights as Float64Array;
    let out: number[][] | undefined;
    this.members.forEach((m, e) => {
      const p = m.predict(x);
      out ??= p.map((r) => r.map(() => 0));
      p.forEach((r, i) => r.forEach((v, j) => ((out as number[][])[i][j] += w[e] * v)));
    });
    return out as number[][];
  }
}
