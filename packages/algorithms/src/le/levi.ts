import { Rng } from '@ldl/core';
import * as tf from '@tensorflow/tfjs-core';
import { fail, type MatrixLike } from '../matrix';
import { type LabelEnhancer, notFitted, readLeArgs, softmaxToRows } from './enhancer';

/** Options of {@link Levi}. */
export interface LeviArgs {
  /** Weight α of the variational terms (KL, feature and label reconstruction). @default 1 (PyLDL) */
  alpha?: number;
  /** Hidden units of the encoder and the two decoders. @default 64 (PyLDL's `n_hidden`) */
  hidden?: number;
  /** Full-batch Adam steps. @default 1000 (PyLDL's `epochs`) */
  epochs?: number;
  /** Adam learning rate. @default 1e-3 (PyLDL's `BaseAdam`) */
  learningRate?: number;
  /** Seed of the initial weights and of the sampling noise. @default 0 */
  seed?: number;
}

interface Dense {
  w: tf.Variable;
  b: tf.Variable;
}

/** A Keras `Dense` layer: Glorot-uniform kernel, zero bias. */
function dense(inputs: number, units: number, seed: number): Dense {
  const limit = Math.sqrt(6 / (inputs + units));
  return { w: tf.variable(tf.randomUniform([inputs, units], -limit, limit, 'float32', seed)), b: tf.variable(tf.zeros([units])) };
}

/** PyLDL's `get_3layer_model(n_in, hidden, n_out, 'softplus', None)`. */
function mlp(inputs: number, hidden: number, outputs: number, rng: Rng): [Dense, Dense] {
  return [dense(inputs, hidden, rng.nextUint32()), dense(hidden, outputs, rng.nextUint32())];
}

function apply([h, o]: [Dense, Dense], x: tf.Tensor2D): tf.Tensor2D {
  return tf.add(tf.matMul(tf.softplus(tf.add(tf.matMul(x, h.w as tf.Tensor2D), h.b)) as tf.Tensor2D, o.w as tf.Tensor2D), o.b) as tf.Tensor2D;
}

/**
 * LEVI, label enhancement by variational inference (Xu, Lv, Geng & Zhang, IJCAI 2019 / TKDE 2023), as PyLDL's
 * `LEVI`: an encoder of `[x, l]` gives the mean and (softplus) spread of a latent distribution `d` with one
 * dimension per label; decoders reconstruct the features (mean squared error) and the logical labels
 * (binary cross-entropy on the raw outputs clipped to `[1e−7, 1 − 1e−7]`, as Keras), and the loss
 * `Σ (l − d)² + α Σ_i (KL_i + rec_x,i + rec_l,i)` is minimised by full-batch Adam. The distributions are
 * `softmax(mean)`. Runs on the active tfjs backend (`@tensorflow/tfjs-backend-cpu` is enough); seeded, so the
 * same seed on the same backend gives the same result (PyLDL draws from Keras' unseeded generator).
 */
export class Levi implements LabelEnhancer {
  static readonly className = 'LEVI';
  private readonly args: Required<LeviArgs>;
  private result: number[][] | undefined;

  /** @throws `Error in Levi: …` for a hyper-parameter out of range. */
  constructor(args: LeviArgs = {}) {
    const { alpha = 1, hidden = 64, epochs = 1000, learningRate = 1e-3, seed = 0 } = args;
    if (!(alpha >= 0 && Number.isFinite(alpha))) fail('Levi', 'alpha', 'a number >= 0', alpha);
    if (!Number.isInteger(hidden) || hidden < 1) fail('Levi', 'hidden', 'an integer >= 1', hidden);
    if (!Number.isInteger(epochs) || epochs < 1) fail('Levi', 'epochs', 'an integer >= 1', epochs);
    if (!(learningRate > 0 && Number.isFinite(learningRate))) fail('Levi', 'learningRate', 'a number > 0', learningRate);
    this.args = { alpha, hidden, epochs, learningRate, seed };
  }

  getConfig(): Required<LeviArgs> {
    return { ...this.args };
  }

  async fit(X: MatrixLike, L: MatrixLike): Promise<this> {
    const [x, l] = readLeArgs('Levi.fit', X, L);
    const { alpha, hidden, epochs, learningRate, seed } = this.args;
    const n = x.rows;
    const c = l.cols;
    const rng = new Rng(seed);
    const encoder = mlp(x.cols + c, hidden, 2 * c, rng);
    const decoderX = mlp(c, hidden, x.cols, rng);
    const decoderL = mlp(c, hidden, c, rng);
    const variables = [encoder, decoderX, decoderL].flatMap((m) => m.flatMap((d) => [d.w, d.b]));
    const xs = tf.tensor2d(Float32Array.from(x.data), [n, x.cols], 'float32');
    const ls = tf.tensor2d(Float32Array.from(l.data), [n, c], 'float32');
    const inputs = tf.concat([xs, ls], 1);
    const optimizer = tf.train.adam(learningRate);
    const eps = 1e-7;
    try {
      for (let e = 0; e < epochs; e++) {
        const noiseSeed = rng.nextUint32();
        tf.tidy(() => {
          optimizer.minimize(() => {
            const latent = apply(encoder, inputs);
            const mean = tf.slice(latent, [0, 0], [n, c]);
            const spread = tf.softplus(tf.slice(latent, [0, c], [n, c]));
            const samples = tf.add(mean, tf.mul(spread, tf.randomNormal([n, c], 0, 1, 'float32', noiseSeed))) as tf.Tensor2D;
            const xHat = apply(decoderX, samples);
            const lHat = tf.clipByValue(apply(decoderL, samples), eps, 1 - eps);
            const kl = tf.mean(tf.mul(0.5, tf.sub(tf.sub(tf.add(tf.square(mean), tf.square(spread)), 1), tf.log(tf.square(spread)))), 1);
            const recX = tf.mean(tf.squaredDifference(xs, xHat), 1);
            const recL = tf.neg(tf.mean(tf.add(tf.mul(ls, tf.log(lHat)), tf.mul(tf.sub(1, ls), tf.log(tf.sub(1, lHat)))), 1));
            return tf.add(tf.sum(tf.squaredDifference(ls, samples)), tf.mul(alpha, tf.sum(tf.add(tf.add(kl, recX), recL)))) as tf.Scalar;
          }, false, variables);
        });
      }
      const mean = tf.tidy(() => tf.slice(apply(encoder, inputs), [0, 0], [n, c]));
      this.result = softmaxToRows(Float64Array.from(mean.dataSync()), n, c); // in float64, so rows sum to 1
      mean.dispose();
    } finally {
      tf.dispose([xs, ls, inputs, ...variables]);
      optimizer.dispose();
    }
    return this;
  }

  transform(): number[][] {
    return this.result ?? notFitted('Levi.transform');
  }
}
