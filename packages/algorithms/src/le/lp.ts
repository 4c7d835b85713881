import { Matrix as MlMatrix, solve } from 'ml-matrix';
import { fail, type MatrixLike } from '../matrix';
import { type LabelEnhancer, notFitted, readLeArgs, softmaxToRows, squaredDistances } from './enhancer';

/** Options of {@link LabelPropagation}. */
export interface LabelPropagationArgs {
  /** Propagation steps. @default 500 (PyLDL `LP.fit(epochs=500)`) */
  epochs?: number;
  /** Weight of the propagated part, in `(0, 1)`. @default 0.5 (PyLDL `alpha=.5`) */
  alpha?: number;
}

/**
 * LP, label propagation for label enhancement (Xu et al., 2018, as PyLDL's `LP`): with the affinity
 * `A_ik = exp(−‖x_i − x_k‖² / 2)` (diagonal included) and `P = Δ^{−½} A Δ^{−½}` (`Δ` its row sums),
 * `D ← α P D + (1 − α) L` for `epochs` steps from `D = L`, then a row softmax. When `α^epochs < 1e−17` (the
 * defaults: 0.5⁵⁰⁰) the steps have converged to machine precision and the fixed point is solved for directly.
 *
 * @example
 * ```ts
 * const D = new LabelPropagation().fit(X, binarize(labels)).transform();
 * ```
 */
export class LabelPropagation implements LabelEnhancer {
  static readonly className = 'LP';
  private readonly args: Required<LabelPropagationArgs>;
  private result: number[][] | undefined;

  /** @throws `Error in LabelPropagation: …` for `epochs` not an integer >= 1 or `alpha` outside `(0, 1)`. */
  constructor(args: LabelPropagationArgs = {}) {
    const { epochs = 500, alpha = 0.5 } = args;
    if (!Number.isInteger(epochs) || epochs < 1) fail('LabelPropagation', 'epochs', 'an integer >= 1', epochs);
    if (!(alpha > 0 && alpha < 1)) fail('LabelPropagation', 'alpha', 'a number in (0, 1)', alpha);
    this.args = { epochs, alpha };
  }

  getConfig(): Required<LabelPropagationArgs> {
    return { ...this.args };
  }

  fit(X: MatrixLike, L: MatrixLike): this {
    const [x, l] = readLeArgs('LabelPropagation.fit', X, L);
    const n = x.rows;
    const c = l.cols;
    const P = squaredDistances(x, x).map((s) => Math.exp(-s / 2));
    const scale = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += P[i * n + k];
      scale[i] = 1 / Math.sqrt(s);
    }
    for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) P[i * n + k] *= scale[i] * scale[k];
    const { epochs, alpha } = this.args;
    let D = Float64Array.from(l.data);
    if (alpha ** epochs < 1e-17) {
      // The eigenvalues of P lie in [−1, 1], so the iteration has converged to machine precision: take its
      // fixed point D = (1 − α)(I − αP)⁻¹ L by one LU solve (ml-matrix) instead of `epochs` n×n products.
      const A = new MlMatrix(n, n);
      for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) A.set(i, k, (i === k ? 1 : 0) - alpha * P[i * n + k]);
      const B = new MlMatrix(n, c);
      for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) B.set(i, j, (1 - alpha) * l.data[i * c + j]);
      const X = solve(A, B);
      for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) D[i * c + j] = X.get(i, j);
      this.result = softmaxToRows(D, n, c);
      return this;
    }
    for (let e = 0; e < epochs; e++) {
      const next = new Float64Array(n * c);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < n; k++) {
          const p = alpha * P[i * n + k];
          for (let j = 0; j < c; j++) next[i * c + j] += p * D[k * c + j];
        }
        for (let j = 0; j < c; j++) next[i * c + j] += (1 - alpha) * l.data[i * c + j];
      }
      D = next;
    }
    this.result = softmaxToRows(D, n, c);
    return this;
  }

  transform(): number[][] {
    return this.result ?? notFitted('LabelPropagation.transform');
  }
}

