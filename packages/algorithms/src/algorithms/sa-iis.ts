import { type LdlEstimator, readFitArgs, readPredictArg } from '../estimator';
import { type Matrix, type MatrixLike, toRows } from '../matrix';
import { integer, nonNegative, resolveParams, SEED, type ParamValues } from '../params';
import { Rng } from '@ldl/core';
import { linearInto, negativeEntropy, predictSoftmax, softmaxInPlace } from './maxent';

/**
 * Solves `a − Σ_i c_i exp(δ z_i) = 0` for δ, where `c_i z_i ≥ 0` (so the sum increases with δ): Newton
 * steps from 0, halved while they do not reduce |f| (the 1-D root SciPy's `fsolve` finds for PyLDL).
 */
function iisStep(a: number, c: Float64Array, z: Float64Array, count: number): number {
  let delta = 0;
  const f = (t: number) => {
    let g = 0;
    let dg = 0;
    for (let i = 0; i < count; i++) {
      const e = c[i] * Math.exp(t * z[i]);
      g += e;
      dg += e * z[i];
    }
    return [a - g, dg] as const;
  };
  let [fv, dg] = f(delta);
  for (let it = 0; it < 100 && fv !== 0 && dg > 0; it++) {
    let step = fv / dg;
    let next = f(delta + step);
    for (let h = 0; h < 60 && !(Math.abs(next[0]) < Math.abs(fv)); h++) {
      step /= 2;
      next = f(delta + step);
    }
    if (!(Math.abs(next[0]) < Math.abs(fv))) break;
    delta += step;
    [fv, dg] = next;
    if (Math.abs(step) <= 1.49012e-8 * Math.max(1, Math.abs(delta))) break;
  }
  return delta;
}

/**
 * SA-IIS (Geng, "Label Distribution Learning", TKDE 2016; IIS-LLD of Geng, Yin & Zhou, TPAMI 2013): the
 * maximum-entropy model `softmax(x W)` fitted by Improved Iterative Scaling. Each iteration solves, for
 * every weight `W_kj`, `Σ_i D_ij x_ik = Σ_i p_ij x_ik exp(δ_kj sign(x_ik) ‖x_i‖₁)` for δ_kj and adds all δ
 * at once; it stops when the summed KL falls by less than `convergenceCriterion` — as PyLDL's `SA_IIS`
 * (which solves each equation with SciPy's `fsolve`, δ stored in float32; here Newton's method, δ
 * rounded to float32 the same way). Weights start uniform in [0, 1).
 */
export class SaIis implements LdlEstimator {
  static readonly className = 'SA-IIS';
  static readonly params = {
    maxIterations: integer(500, 1, 'most IIS iterations (PyLDL `max_iterations`)'),
    convergenceCriterion: nonNegative(1e-7, 'stop when the summed KL falls by less than this (PyLDL `convergence_criterion`)'),
    seed: SEED,
  };
  weights: Matrix | undefined;
  /** Iterations run by the last `fit`. */
  iterations = 0;
  private readonly args: ParamValues<typeof SaIis.params>;

  constructor(args: Partial<ParamValues<typeof SaIis.params>> = {}) {
    this.args = resolveParams('SaIis', SaIis.params, args);
  }

  getConfig(): ParamValues<typeof SaIis.params> {
    return { ...this.args };
  }

  fit(X: MatrixLike, D: MatrixLike): this {
    const [x, d] = readFitArgs('SaIis.fit', X, D);
    const { rows: n, cols: dim } = x;
    const L = d.cols;
    const rng = new Rng(this.args.seed);
    const w = Float64Array.from({ length: dim * L }, () => rng.next());
    const P = new Float64Array(n * L);
    const constant = negativeEntropy(d.data);
    const loss = () => constant - softmaxInPlace(linearInto(x, w, L, P), n, L, d.data);
    // Σ_i D_ij x_ik, ‖x_i‖₁
    const xd = new Float64Array(dim * L);
    const absX = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < dim; k++) {
        const v = x.data[i * dim + k];
        absX[i] += Math.abs(v);
        if (v !== 0) for (let j = 0; j < L; j++) xd[k * L + j] += v * d.data[i * L + j];
      }
    }
    let current = loss();
    const c = new Float64Array(n);
    const z = new Float64Array(n);
    const delta = new Float64Array(dim * L);
    this.iterations = 0;
    for (let it = 0; it < this.args.maxIterations; it++) {
      this.iterations = it + 1;
      for (let k = 0; k < dim; k++) {
        for (let j = 0; j < L; j++) {
          // only samples with x_ik ≠ 0 contribute
          let count = 0;
          for (let i = 0; i < n; i++) {
            const v = x.data[i * dim + k];
            if (v === 0) continue;
            c[count] = P[i * L + j] * v;
            z[count] = Math.sign(v) * absX[i];
            count++;
          }
          delta[k * L + j] = Math.fround(iisStep(xd[k * L + j], c, z, count));
        }
      }
      for (let q = 0; q < w.length; q++) w[q] += delta[q];
      const previous = current;
      current = loss();
      if (previous - current < this.args.convergenceCriterion) break;
    }
    this.weights = { rows: dim, cols: L, data: w };
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const x = readPredictArg('SaIis.predict', X, this.weights?.rows);
    const w = this.weights as Matrix;
    return toRows(predictSoftmax(x, w.data, w.cols));
  }
}
