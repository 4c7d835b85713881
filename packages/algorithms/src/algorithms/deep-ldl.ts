import { klDivergenceLoss, Rng } from '@ldl/core';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers registers every gradient of tfjs-core; `@tensorflow/tfjs-core/dist/register_all_gradients`
// itself is ESM with directory imports that Node refuses outside a bundler.
import '@tensorflow/tfjs-layers';
import { type LdlEstimator, readFitArgs, readPredictArg } from '../estimator';
import { type Matrix, type MatrixLike, fail, takeRows } from '../matrix';

/** Options of {@link DeepLdl}. */
export interface DeepLdlArgs {
  /** Widths of the hidden layers (ReLU); `[]` gives the maximum-entropy model `softmax(xW + b)`. @default [64] */
  hiddenSizes?: number[];
  /** L2 weight decay λ: `λ/2 Σ‖W‖²` over the weight matrices (not the biases) is added to the loss. @default 1e-3 */
  weightDecay?: number;
  /** Dropout rate on the hidden activations while training. @default 0 */
  dropout?: number;
  /** Adam learning rate. @default 1e-3 */
  learningRate?: number;
  /** Most epochs. @default 500 */
  epochs?: number;
  /** Mini-batch size; 0 means full batch. @default 32 */
  batchSize?: number;
  /**
   * Fraction of the training samples held out to pick the epoch (early stopping on their KL); 0
   * trains on everything for `epochs`. @default 0.1
   */
  validationSplit?: number;
  /** Epochs without a better validation KL before stopping. @default 50 */
  patience?: number;
  /** Standardise each feature with the training mean and std (kept for `predict`). @default true */
  standardize?: boolean;
  /** Seed of the initial weights, the shuffles, the dropout masks and the validation split. @default 0 */
  seed?: number;
}

interface Layer {
  kernel: tf.Variable;
  bias: tf.Variable;
}

/**
 * A deep LDL model: a multilayer perceptron `x → [dense + ReLU]* → dense → softmax` trained with
 * the Kullback-Leibler loss `KL(D ‖ softmax(logits))` (batch mean, {@link klDivergenceLoss} of
 * `@ldl/core`) by Adam, with L2 weight decay, dropout, feature standardisation and early stopping
 * on a held-out part of the training set. With `hiddenSizes: []` it is the maximum-entropy model of
 * SA-BFGS (plus a bias) trained by Adam; with one hidden layer, Geng's AA-BP (TKDE 2016) with the KL
 * loss. Runs on the active tfjs backend; seeded (same seed, same backend → same result).
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-cpu';
 * const model = await new DeepLdl({ hiddenSizes: [64], weightDecay: 1e-3 }).fit(Xtrain, Dtrain);
 * const Dpred = model.predict(Xtest);
 * ```
 */
export class DeepLdl implements LdlEstimator {
  static readonly className = 'DeepLDL';
  /** Epoch whose weights were kept (the best validation epoch, or the last one). */
  bestEpoch = 0;
  private readonly args: Required<DeepLdlArgs>;
  private layers: Layer[] = [];
  private mean: Float64Array | undefined;
  private scale: Float64Array | undefined;
  private features: number | undefined;

  constructor(args: DeepLdlArgs = {}) {
    const fn = 'DeepLdl';
    const a: Required<DeepLdlArgs> = {
      hiddenSizes: args.hiddenSizes ?? [64],
      weightDecay: args.weightDecay ?? 1e-3,
      dropout: args.dropout ?? 0,
      learningRate: args.learningRate ?? 1e-3,
      epochs: args.epochs ?? 500,
      batchSize: args.batchSize ?? 32,
      validationSplit: args.validationSplit ?? 0.1,
      patience: args.patience ?? 50,
      standardize: args.standardize ?? true,
      seed: args.seed ?? 0,
    };
    if (!Array.isArray(a.hiddenSizes) || a.hiddenSizes.some((h) => !Number.isInteger(h) || h < 1)) {
      fail(fn, 'hiddenSizes', 'an array of integers >= 1', JSON.stringify(a.hiddenSizes));
    }
    if (!(a.weightDecay >= 0)) fail(fn, 'weightDecay', '>= 0', a.weightDecay);
    if (!(a.dropout >= 0 && a.dropout < 1)) fail(fn, 'dropout', 'within [0, 1)', a.dropout);
    if (!(a.learningRate > 0)) fail(fn, 'learningRate', '> 0', a.learningRate);
    if (!Number.isInteger(a.epochs) || a.epochs < 1) fail(fn, 'epochs', 'an integer >= 1', a.epochs);
    if (!Number.isInteger(a.batchSize) || a.batchSize < 0) fail(fn, 'batchSize', 'an integer >= 0', a.batchSize);
    if (!(a.validationSplit >= 0 && a.validationSplit < 1)) fail(fn, 'validationSplit', 'within [0, 1)', a.validationSplit);
    if (!Number.isInteger(a.patience) || a.patience < 1) fail(fn, 'patience', 'an integer >= 1', a.patience);
    this.args = a;
  }

  /** The constructor arguments with defaults filled in. */
  getConfig(): Required<DeepLdlArgs> {
    return { ...this.args, hiddenSizes: [...this.args.hiddenSizes] };
  }

  /** Frees the weights (tfjs variables). */
  dispose(): void {
    for (const l of this.layers) {
      l.kernel.dispose();
      l.bias.dispose();
    }
    this.layers = [];
  }

  private standardized(x: Matrix): tf.Tensor2D {
    const { rows, cols, data } = x;
    const out = new Float32Array(rows * cols);
    const mean = this.mean as Float64Array;
    const scale = this.scale as Float64Array;
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = (data[i * cols + j] - mean[j]) / scale[j];
    return tf.tensor2d(out, [rows, cols]);
  }

  private forward(x: tf.Tensor2D, training: boolean, seed: number): tf.Tensor2D {
    let h = x;
    this.layers.forEach((l, i) => {
      h = tf.add(tf.matMul(h, l.kernel), l.bias);
      if (i < this.layers.length - 1) {
        h = tf.relu(h);
        if (training && this.args.dropout > 0) h = tf.dropout(h, this.args.dropout, undefined, seed + i) as tf.Tensor2D;
      }
    });
    return h;
  }

  async fit(X: MatrixLike, D: MatrixLike): Promise<this> {
    const [x, d] = readFitArgs('DeepLdl.fit', X, D);
    const a = this.args;
    const rng = new Rng(a.seed);
    this.dispose();
    this.features = x.cols;
    // Feature standardisation (training statistics).
    this.mean = new Float64Array(x.cols);
    this.scale = new Float64Array(x.cols).fill(1);
    if (a.standardize) {
      for (let j = 0; j < x.cols; j++) {
        let s = 0;
        for (let i = 0; i < x.rows; i++) s += x.data[i * x.cols + j];
        const m = s / x.rows;
        let v = 0;
        for (let i = 0; i < x.rows; i++) v += (x.data[i * x.cols + j] - m) ** 2;
        this.mean[j] = m;
        this.scale[j] = Math.sqrt(v / x.rows) || 1;
      }
    }
    // Validation split.
    const order = rng.shuffle(Array.from({ length: x.rows }, (_, i) => i));
    const nVal = a.validationSplit > 0 ? Math.max(1, Math.round(x.rows * a.validationSplit)) : 0;
    if (x.rows - nVal < 1) fail('DeepLdl.fit', 'X.rows', `large enough to hold out validationSplit = ${a.validationSplit}`, x.rows);
    const trainIdx = order.slice(nVal);
    const valIdx = order.slice(0, nVal);
    const xTrain = this.standardized(takeRows(x, trainIdx));
    const dTrain = tf.tensor2d(Float32Array.from(takeRows(d, trainIdx).data), [trainIdx.length, d.cols]);
    const xVal = nVal > 0 ? this.standardized(takeRows(x, valIdx)) : undefined;
    const dVal = nVal > 0 ? tf.tensor2d(Float32Array.from(takeRows(d, valIdx).data), [nVal, d.cols]) : undefined;
    // Weights: He-normal kernels (Glorot for the output layer), zero biases.
    const sizes = [x.cols, ...a.hiddenSizes, d.cols];
    for (let i = 0; i + 1 < sizes.length; i++) {
      const last = i + 2 === sizes.length;
      const std = Math.sqrt((last ? 1 : 2) / sizes[i]);
      this.layers.push({
        kernel: tf.variable(tf.randomNormal([sizes[i], sizes[i + 1]], 0, std, 'float32', rng.int(2 ** 31))),
        bias: tf.variable(tf.zeros([sizes[i + 1]])),
      });
    }
    const optimizer = tf.train.adam(a.learningRate);
    const n = trainIdx.length;
    const batch = a.batchSize === 0 ? n : Math.min(a.batchSize, n);
    let best = Infinity;
    let bestWeights: tf.Tensor[] | undefined;
    let sinceBest = 0;
    let step = 0;
    let perm = Array.from({ length: n }, (_, i) => i);
    for (let epoch = 1; epoch <= a.epochs; epoch++) {
      perm = rng.shuffle(perm);
      for (let s = 0; s < n; s += batch) {
        const idx = tf.tensor1d(perm.slice(s, s + batch), 'int32');
        step++;
        optimizer.minimize(() => {
          const xb = tf.gather(xTrain, idx);
          const db = tf.gather(dTrain, idx) as tf.Tensor2D;
          let loss = klDivergenceLoss(this.forward(xb as tf.Tensor2D, true, step * 31), db);
          if (a.weightDecay > 0) {
            for (const l of this.layers) loss = tf.add(loss, tf.mul(0.5 * a.weightDecay, tf.sum(tf.square(l.kernel))));
          }
          return loss as tf.Scalar;
        });
        idx.dispose();
      }
      if (xVal && dVal) {
        const v = tf.tidy(() => klDivergenceLoss(this.forward(xVal, false, 0), dVal).dataSync()[0]);
        if (v < best - 1e-7) {
          best = v;
          sinceBest = 0;
          this.bestEpoch = epoch;
          bestWeights?.forEach((t) => t.dispose());
          bestWeights = this.layers.flatMap((l) => [tf.clone(l.kernel), tf.clone(l.bias)]);
        } else if (++sinceBest >= a.patience) {
          break;
        }
      } else {
        this.bestEpoch = epoch;
      }
      if (epoch % 25 === 0) await tf.nextFrame();
    }
    if (bestWeights) {
      this.layers.forEach((l, i) => {
        l.kernel.assign(bestWeights![2 * i]);
        l.bias.assign(bestWeights![2 * i + 1]);
      });
      bestWeights.forEach((t) => t.dispose());
    }
    optimizer.dispose();
    tf.dispose([xTrain, dTrain, ...(xVal ? [xVal] : []), ...(dVal ? [dVal] : [])]);
    return this;
  }

  predict(X: MatrixLike): number[][] {
    const x = readPredictArg('DeepLdl.predict', X, this.features);
    return tf.tidy(() => {
      const p = tf.softmax(this.forward(this.standardized(x), false, 0));
      return p.arraySync() as number[][];
    });
  }
}
