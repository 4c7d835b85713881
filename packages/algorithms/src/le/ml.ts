/// <reference path="../quadprog.d.ts" />
import { Matrix as MlMatrix, solve } from 'ml-matrix';
import { solveQP } from 'quadprog';
import { fail, type MatrixLike } from '../matrix';
import { type LabelEnhancer, nearestNeighbours, notFitted, readLeArgs, softmaxToRows, squaredDistances } from './enhancer';

/** Options of {@link ManifoldLearning}. */
export interface ManifoldLearningArgs {
  /** Margin β > 0 of the constraints `l_ij μ_ij >= β` (`l_ij = ±1`). @default 1 (PyLDL `ML.fit(beta=1)`) */
  beta?: number;
}

/**
 * ML, manifold learning for label enhancement (Hou et al., 2016; as PyLDL's `ML`): the locally linear
 * reconstruction weights `W` of each sample from its `L` nearest neighbours (scikit-learn's
 * `barycenter_kneighbors_graph`, regularised by `1e−3 · trace`, stored as float32 as PyLDL does), then per
 * label j the quadratic program `min μᵀ M μ` s.t. `l_ij μ_i >= β` with `M = (I − W)ᵀ(I − W) + 1e−5 I` and
 * `l_ij = ±1`, and a row softmax of μ. The linear solves use `ml-matrix`, the QP `quadprog` (the same dual
 * method as PyLDL's `qpsolvers` 'quadprog' backend). Cost: one dense n×n QP per label.
 */
export class ManifoldLearning implements LabelEnhancer {
  static readonly className = 'ML';
  private readonly beta: number;
  private result: number[][] | undefined;

  /** @throws `Error in ManifoldLearning: beta must be a number > 0, …` */
  constructor(args: ManifoldLearningArgs = {}) {
    const { beta = 1 } = args;
    if (!(beta > 0 && Number.isFinite(beta))) fail('ManifoldLearning', 'beta', 'a number > 0', beta);
    this.beta = beta;
  }

  getConfig(): Required<ManifoldLearningArgs> {
    return { beta: this.beta };
  }

  fit(X: MatrixLike, L: MatrixLike): this {
    const [x, l] = readLeArgs('ManifoldLearning.fit', X, L);
    const n = x.rows;
    const c = l.cols;
    const d = x.cols;
    if (n <= c) fail('ManifoldLearning.fit', 'X.rows', `> the number of labels (${c}), the neighbours of each sample`, n);
    const sq = squaredDistances(x, x);
    // I − W, W the barycenter weights of the c nearest neighbours (self excluded; ties by index).
    const IW = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      IW[i * n + i] = 1;
      const nb = nearestNeighbours(sq, n, i, c);
      const C = nb.map((k) => Array.from({ length: d }, (_, j) => x.data[k * d + j] - x.data[i * d + j]));
      const G = new MlMatrix(C).mmul(new MlMatrix(C).transpose());
      const trace = G.trace();
      const R = trace > 0 ? 1e-3 * trace : 1e-3;
      for (let a = 0; a < c; a++) G.set(a, a, G.get(a, a) + R);
      const w = solve(G, MlMatrix.columnVector(new Array<number>(c).fill(1))).getColumn(0);
      const sum = w.reduce((s, v) => s + v, 0);
      nb.forEach((k, a) => (IW[i * n + k] -= Math.fround(w[a] / sum)));
    }
    // M = (I − W)ᵀ (I − W) + 1e−5 I
    const M = new MlMatrix(n, n);
    for (let a = 0; a < n; a++) {
      for (let b = a; b < n; b++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += IW[i * n + a] * IW[i * n + b];
        if (a === b) s += 1e-5;
        M.set(a, b, s);
        M.set(b, a, s);
      }
    }
    const mu = new Float64Array(n * c);
    for (let j = 0; j < c; j++) {
      // quadprog is 1-based: min ½ μᵀ(2M)μ s.t. diag(l_j)ᵀ μ >= β.
      const Dmat: number[][] = [[]];
      const Amat: number[][] = [[]];
      for (let a = 0; a < n; a++) {
        Dmat.push([0, ...Array.from(M.getRow(a), (v) => 2 * v)]);
        const row = new Array<number>(n + 1).fill(0);
        row[a + 1] = l.data[a * c + j] > 0 ? 1 : -1;
        Amat.push(row);
      }
      const res = solveQP(Dmat, new Array<number>(n + 1).fill(0), Amat, new Array<number>(n + 1).fill(this.beta));
      if (res.message) throw new Error(`Error in ManifoldLearning.fit: the quadratic program of label ${j} failed (quadprog: ${res.message}).`);
      for (let a = 0; a < n; a++) mu[a * c + j] = res.solution[a + 1];
    }
    this.result = softmaxToRows(mu, n, c);
    return this;
  }

  transform(): number[][] {
    return this.result ?? notFitted('ManifoldLearning.transform');
  }
}
