import { Rng } from '@ldl/core';
import { type LdlEstimator, readFitArgs, readPredictArg } from '../estimator';
import { type Matrix, type MatrixLike, toRows } from '../matrix';
import { integer, resolveParams, SEED, type ParamValues } from '../params';
import { linearInto, softmaxInPlace, transposeMulInto } from './maxent';
import { type Dense, dense, rprop } from './mlp';

const PARAMS = {
  hiddenSize: integer(64, 1, 'sigmoid hidden units (PyLDL `n_hidden`)'),
  epochs: integer(1000, 1, 'full-batch RProp steps (PyLDL `epochs`)'),
  v: integer(5, 1, 'ACPNN only: copies of each sample, the k-th with its top label raised by D_top / k (PyLDL `v`)'),
  seed: SEED,
};

/** How the label enters the network: its index 1..L (CPNN), one-hot (BCPNN), one-hot plus augmented samples (ACPNN). */
export type CpnnMode = 'none' | 'binary' | 'augment';

const CLIP = 1e-7;

/**
 * CPNN (Geng, Yin & Zhou, "Facial Age Estimation by Learning from Label Distributions", TPAMI 2013) and
 * its variants BCPNN / ACPNN (Yang, Geng & Zhou, 2017), as PyLDL's `CPNN(mode)`: one network
 * `f(x, y)` — Dense(64, sigmoid) → Dense(1) — scores each label y (given as its index 1..L for CPNN,
 * one-hot for BCPNN and ACPNN); `p(y | x) = softmax_y f(x, y)`; trained full-batch by RProp for 1000 epochs
 * on the mean KL (Keras' `kl_divergence`, targets clipped to [1e-7, 1]). ACPNN repeats each sample `v`
 * times, the k-th copy with its highest label's degree raised by `D_top / k`, and (as PyLDL, whose batch
 * size stays the number of samples) takes `v` consecutive mini-batches per epoch.
 */
export class Cpnn implements LdlEstimator {
  static readonly className: string = 'CPNN';
  static readonly params = PARAMS;
  private readonly args: ParamValues<typeof PARAMS>;
  private hidden: Dense | undefined;
  private output: Dense | undefined;
  private labels = 0;

  constructor(
    args: Partial<ParamValues<typeof PARAMS>> = {},
    readonly mode: CpnnMode = 'none',
  ) {
    this.args = resolveParams('Cpnn', PARAMS, args);
    if (!['none', 'binary', 'augment'].includes(mode)) throw new Error(`Error in Cpnn: mode must be 'none', 'binary' or 'augment', but got ${String(mode)}.`);
  }

  getConfig(): ParamValues<typeof PARAMS> & { mode: CpnnMode } {
    return { ...this.args, mode: this.mode };
  }

  /** Logits `[n, L]` and the hidden activations `[n, L, h]`. */
  private forward(x: Matrix): { z: Float64Array; h: Float64Array } {
    const hidden = this.hidden as Dense;
    const output = this.output as Dense;
    const { rows: n, cols: d } = x;
    const L = this.labels;
    const H = hidden.outputs;
    const w = hidden.params;
    const xw = linearInto(x, w.subarray(0, d * H), H, new Float64Array(n * H));
    const bias = hidden.inputs * H;
    const h = new Float64Array(n * L * H);
    const z = new Float64Array(n * L);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < L; j++) {
        const o = (i * L + j) * H;
        // label input: (j + 1) · W[d] for CPNN, W[d + j] for the one-hot variants
        const row = this.mode === 'none' ? d : d + j;
        const scale = this.mode === 'none' ? j + 1 : 1;
        let s = output.params[H];
        for (let k = 0; k < H; k++) {
          const a = xw[i * H + k] + scale * w[row * H + k] + w[bias + k];
          const v = 1 / (1 + Math.exp(-a));
          h[o + k] = v;
          s += v * output.params[k];
        }
        z[i * L + j] = s;
      }
    }
    return { z, h };
  }

  fit(X: MatrixLike, D: MatrixLike): this {
    let [x, d] = readFitArgs('Cpnn.fit', X, D);
    const L = d.cols;
    // PyLDL's batch size is the number of training samples; ACPNN's augmented set is v times larger, so
    // it takes v consecutive mini-batches per epoch (no shuffling), the others one full batch.
    const batch = x.rows;
    if (this.mode === 'augment') [x, d] = augment(x, d, this.args.v);
    const { rows: n, cols: dim } = x;
    const rng = new Rng(this.args.seed);
    const H = this.args.hiddenSize;
    this.labels = L;
    this.hidden = dense(dim + (this.mode === 'none' ? 1 : L), H, rng);
    this.output = dense(H, 1, rng);
    const hidden = this.hidden;
    const output = this.output;
    const optHidden = rprop()(hidden.params.length);
    const optOutput = rprop()(output.params.length);
    const target = d.data.map((v) => Math.min(Math.max(v, CLIP), 1));
    const targetSum = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < L; j++) targetSum[i] += target[i * L + j];
    const bias = hidden.inputs * H;
    for (let e = 0; e < this.args.epochs; e++) {
      for (let start = 0; start < n; start += batch) {
        const m = Math.min(batch, n - start);
        const xb = { rows: m, cols: dim, data: x.data.subarray(start * dim, (start + m) * dim) };
        const { z, h } = this.forward(xb);
        softmaxInPlace(z, m, L);
        // ∂ mean_i KL / ∂z_ij = (p_ij Σ_k t_ik − t_ij) / m
        const gOut = new Float64Array(H + 1);
        const gx = new Float64Array(m * H);
        const gHidden = new Float64Array(hidden.params.length);
        for (let i = 0; i < m; i++) {
          const t = start + i;
          for (let j = 0; j < L; j++) {
            const gz = (z[i * L + j] * targetSum[t] - target[t * L + j]) / m;
            if (gz === 0) continue;
            const o = (i * L + j) * H;
            const row = this.mode === 'none' ? dim : dim + j;
            const scale = this.mode === 'none' ? j + 1 : 1;
            gOut[H] += gz;
            for (let k = 0; k < H; k++) {
              const v = h[o + k];
              gOut[k] += gz * v;
              const ga = gz * output.params[k] * v * (1 - v);
              gx[i * H + k] += ga;
              gHidden[row * H + k] += scale * ga;
              gHidden[bias + k] += ga;
            }
          }
        }
        transposeMulInto(xb, gx, H, gHidden.subarray(0, dim * H));
        optOutput.step(output.params, gOut);
        optHidden.step(hidden.params, gHidden);
      }
    }
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const x = readPredictArg('Cpnn.predict', X, this.hidden && this.hidden.inputs - (this.mode === 'none' ? 1 : this.labels));
    const { z } = this.forward(x);
    softmaxInPlace(z, x.rows, this.labels);
    return toRows({ rows: x.rows, cols: this.labels, data: z });
  }
}

/** ACPNN's augmentation (PyLDL `CPNN._before_train` with mode 'augment'). */
function augment(x: Matrix, d: Matrix, v: number): [Matrix, Matrix] {
  const { rows: n, cols: dim } = x;
  const L = d.cols;
  const xa = new Float64Array(n * v * dim);
  const da = new Float64Array(n * v * L);
  for (let i = 0; i < n; i++) {
    let top = 0;
    for (let j = 1; j < L; j++) if (d.data[i * L + j] > d.data[i * L + top]) top = j;
    for (let k = 0; k < v; k++) {
      const r = i * v + k;
      xa.set(x.data.subarray(i * dim, (i + 1) * dim), r * dim);
      da.set(d.data.subarray(i * L, (i + 1) * L), r * L);
      da[r * L + top] += d.data[i * L + top] / (k + 1);
    }
  }
  return [
    { rows: n * v, cols: dim, data: xa },
    { rows: n * v, cols: L, data: da },
  ];
}

/** BCPNN: {@link Cpnn} with the label one-hot encoded. */
export class Bcpnn extends Cpnn {
  static override readonly className = 'BCPNN';
  constructor(args: Partial<ParamValues<typeof PARAMS>> = {}) {
    super(args, 'binary');
  }
}

/** ACPNN: {@link Cpnn} with the label one-hot encoded and the training set augmented `v` times. */
export class Acpnn extends Cpnn {
  static override readonly className = 'ACPNN';
  constructor(args: Partial<ParamValues<typeof PARAMS>> = {}) {
    super(args, 'augment');
  }
}
