import type { MatrixLike } from '../matrix';
import { type LabelEnhancer, meanPairDistance, notFitted, readLeArgs, softmaxToRows, squaredDistances } from './enhancer';

/**
 * KM, kernel-based label enhancement (Xu et al., 2018, as PyLDL's `KM`): for each label j, the squared
 * kernel distance `s²_ij` of sample i to the centre of the samples that have label j (RBF kernel,
 * `γ = 1 / (2 mean‖x_i − x_k‖²)` over pairs), `D_ij = (1 − sqrt(s²_ij / (max_i s²_ij + 1e−7))) · L_ij`, then a
 * row softmax. No hyper-parameters.
 */
export class KernelMembership implements LabelEnhancer {
  static readonly className = 'KM';
  private result: number[][] | undefined;

  getConfig(): Record<string, never> {
    return {};
  }

  fit(X: MatrixLike, L: MatrixLike): this {
    const [x, l] = readLeArgs('KernelMembership.fit', X, L);
    const n = x.rows;
    const c = l.cols;
    const sq = squaredDistances(x, x);
    const gamma = 1 / (2 * meanPairDistance(sq, n) ** 2);
    const K = sq.map((s) => Math.exp(-gamma * s));
    const s2 = new Float64Array(n * c);
    for (let j = 0; j < c; j++) {
      const members: number[] = [];
      for (let i = 0; i < n; i++) if (l.data[i * c + j] > 0) members.push(i);
      const m = members.length;
      let inner = 0;
      for (const a of members) for (const b of members) inner += K[a * n + b];
      inner /= m * m;
      for (let i = 0; i < n; i++) {
        let cross = 0;
        for (const b of members) cross += K[i * n + b];
        s2[i * c + j] = inner - (2 * cross) / m + 1;
      }
    }
    const D = new Float64Array(n * c);
    for (let j = 0; j < c; j++) {
      let r2 = -Infinity;
      for (let i = 0; i < n; i++) r2 = Math.max(r2, s2[i * c + j]);
      for (let i = 0; i < n; i++) D[i * c + j] = (1 - Math.sqrt(s2[i * c + j] / (r2 + 1e-7))) * l.data[i * c + j];
    }
    this.result = softmaxToRows(D, n, c);
    return this;
  }

  transform(): number[][] {
    return this.result ?? notFitted('KernelMembership.transform');
  }
}
