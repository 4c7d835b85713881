/**
 * Outputs of a frozen network prefix, computed once and kept in memory, so that only the layers above it
 * run in each training step — on a CPU the frozen bottom of a pretrained backbone is most of a step's
 * cost. With `flips`, the prefix also runs on every mirrored image: training then draws one of the two
 * per sample and epoch (the flip augmentation), and evaluation can average both (flip TTA).
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@ldl/core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import writeFileAtomic from 'write-file-atomic';
import { type Batch, type BatchSource, batchLabels, type DataLoader } from './pipeline';
import type { AgeSample } from './readers';
import { createProgress, type ProgressReporter } from '../run/progress';

/** Reads features stored by {@link writeStored} when the key matches; `null` otherwise (missing, stale or short file). */
async function readStored(file: string, key: string, length: number, flips: boolean): Promise<{ features: Float32Array; mirrored: Float32Array | null } | null> {
  const meta = await fsp.readFile(`${file}.json`, 'utf8').then((t) => JSON.parse(t) as { key: string; floats: number; flips: boolean }, () => null);
  if (!meta || meta.key !== key || meta.floats !== length || meta.flips !== flips) return null;
  const bytes = await fsp.readFile(`${file}.bin`);
  if (bytes.byteLength !== length * 4 * (flips ? 2 : 1)) return null;
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { features: all.subarray(0, length), mirrored: flips ? all.subarray(length) : null };
}

/** Writes features (and mirrors) as `file.bin`, then `file.json` with their key (each atomically; the key last). */
async function writeStored(file: string, key: string, features: Float32Array, mirrored: Float32Array | null): Promise<void> {
  const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  await writeFileAtomic(`${file}.bin`, mirrored ? Buffer.concat([bytes(features), bytes(mirrored)]) : bytes(features));
  await writeFileAtomic(`${file}.json`, JSON.stringify({ key, floats: features.length, flips: mirrored !== null }));
}

/** Options of {@link FeatureCache.build}. */
export interface FeatureCacheOptions {
  /** Also cache the outputs for the mirrored images. @default true */
  flips?: boolean;
  /** Training use: reshuffle every epoch and draw the original or the mirror per sample (p = 0.5). @default false */
  train?: boolean;
  /** Samples per batch yielded by {@link FeatureCache.epoch}. @default the loader's batch size */
  batchSize?: number;
  /** Progress display while the prefix runs; `false` for none. @default createProgress() */
  progress?: ProgressReporter | false;
  /** Label of the progress display. @default 'caching features' */
  label?: string;
  /**
   * Keep the features in this file (`.bin` + `.json` beside it): reused when its key matches, written after
   * a build, so a resumed or repeated run does not run the prefix again. @default none (memory only)
   */
  file?: string;
  /** What the features depend on besides the sample paths and the prefix's shapes (weights, preprocessing…), hashed into the key. */
  key?: unknown;
}

/**
 * Features `prefix(image)` (and `prefix(mirror(image))`) of every sample of a loader, as a
 * {@link BatchSource} the `Trainer` reads like images: `shape` is `[n, …prefix output shape]`.
 *
 * ```ts
 * const { prefix, suffix } = splitModel(model, 'layer3');
 * const train = await FeatureCache.build(prefix, new DataLoader(samples, { size: 150 }), { train: true });
 * await new Trainer(suffix, { runDir, exportModel: model }).fit(train, val);
 * ```
 */
export class FeatureCache implements BatchSource {
  /** The samples, in the loader's order. */
  readonly samples: readonly AgeSample[];
  /** Shape of one sample's features. */
  readonly featureShape: number[];
  /** Wall time of running the prefix in {@link FeatureCache.build}, seconds (0 when read from its file). */
  readonly seconds: number;
  /** Whether the features were read from `options.file` instead of computed. */
  readonly fromFile: boolean;
  private readonly features: Float32Array;
  private readonly mirrored: Float32Array | null;
  private readonly batchSize: number;
  private readonly train: boolean;

  private constructor(
    samples: readonly AgeSample[],
    featureShape: number[],
    features: Float32Array,
    mirrored: Float32Array | null,
    batchSize: number,
    train: boolean,
    seconds: number,
    fromFile: boolean,
  ) {
    this.fromFile = fromFile;
    this.samples = samples;
    this.featureShape = featureShape;
    this.features = features;
    this.mirrored = mirrored;
    this.batchSize = batchSize;
    this.train = train;
    this.seconds = seconds;
  }

  /**
   * Runs `prefix` (inference mode) over every batch of `loader` in order; the loader must not shuffle
   * or augment (its order is the cache's).
   * @throws Error when the prefix has more than one output or the cache would exceed 2³¹ floats.
   */
  static async build(prefix: LayersModel, loader: DataLoader, options: FeatureCacheOptions = {}): Promise<FeatureCache> {
    const { flips = true, train = false, progress = createProgress(), label = 'caching features' } = options;
    if (prefix.outputs.length !== 1) throw new Error(`Error in FeatureCache.build: prefix must have one output, but got ${prefix.outputs.length}.`);
    const featureShape = prefix.outputs[0]!.shape.slice(1) as number[];
    const per = featureShape.reduce((a, b) => a * b, 1);
    const n = loader.samples.length;
    if (n * per >= 2 ** 31) throw new Error(`Error in FeatureCache.build: the cache must hold fewer than 2^31 floats, but ${n} samples × ${per} would not fit; cut later or use fewer samples.`);
    const batchSize = options.batchSize ?? Math.max(1, Math.ceil(n / Math.max(1, loader.numBatches)));
    const key = createHash('sha256')
      .update(JSON.stringify({ prefix: prefix.name, layers: prefix.layers.length, featureShape, flips, key: options.key ?? null, paths: loader.samples.map((x) => [x.path, x.box ?? null, x.deg ?? 0]) }))
      .digest('hex');
    if (options.file) {
      const stored = await readStored(options.file, key, n * per, flips);
      if (stored) return new FeatureCache(loader.samples, featureShape, stored.features, stored.mirrored, batchSize, train, 0, true);
    }
    const features = new Float32Array(n * per);
    const mirrored = flips ? new Float32Array(n * per) : null;
    const t0 = Date.now();
    let done = 0;
    let batches = 0;
    if (progress) progress.start(loader.numBatches, { epoch: 0, epochs: 0, ips: 0, loss: 0, label });
    try {
      for await (const batch of loader.epoch()) {
        const outs = tf.tidy(() => {
          const x = tf.tensor<tf.Rank>(batch.images, batch.shape) as tf.Tensor4D;
          const run = (input: tf.Tensor4D) => prefix.predict(input) as tf.Tensor;
          return flips ? [run(x), run(tf.reverse(x, 2))] : [run(x)];
        });
        const [plain, mirror] = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
        tf.dispose(outs);
        features.set(plain!, done * per);
        if (mirrored && mirror) mirrored.set(mirror, done * per);
        done += batch.ages.length;
        batches += 1;
        if (progress) progress.update(batches, { epoch: 0, epochs: 0, ips: done / Math.max(1e-3, (Date.now() - t0) / 1000), loss: 0, label });
      }
    } finally {
      if (progress) progress.stop();
    }
    if (done !== n) throw new Error(`Error in FeatureCache.build: the loader must yield every sample once, but yielded ${done} of ${n}.`);
    if (options.file) await writeStored(options.file, key, features, mirrored);
    return new FeatureCache(loader.samples, featureShape, features, mirrored, batchSize, train, (Date.now() - t0) / 1000, false);
  }

  /** Batches per epoch. */
  get numBatches(): number {
    return Math.ceil(this.samples.length / this.batchSize);
  }

  /** Bytes held. */
  get bytes(): number {
    return (this.features.byteLength + (this.mirrored?.byteLength ?? 0));
  }

  /**
   * One epoch of batches. Training caches reshuffle from `rng` and take the mirrored features of each
   * sample with probability 0.5 (both drawn now, synchronously); otherwise samples come in order, with the
   * mirrored features in `Batch.flipped` when cached.
   * @throws Error when a training cache gets no `rng`.
   */
  epoch(rng?: Rng): AsyncGenerator<Batch> {
    if (this.train && !rng) throw new Error('Error in FeatureCache.epoch: rng must be given for a training cache, but got undefined.');
    const order = this.train && rng ? rng.shuffle(this.samples.map((_, i) => i)) : this.samples.map((_, i) => i);
    const useMirror = order.map(() => (this.train && rng && this.mirrored ? rng.next() < 0.5 : false));
    return this.iterate(order, useMirror);
  }

  private async *iterate(order: number[], useMirror: boolean[]): AsyncGenerator<Batch> {
    const per = this.features.length / Math.max(1, this.samples.length);
    for (let start = 0; start < order.length; start += this.batchSize) {
      const idx = order.slice(start, start + this.batchSize);
      const images = new Float32Array(idx.length * per);
      const flipped = !this.train && this.mirrored ? new Float32Array(idx.length * per) : undefined;
      idx.forEach((i, k) => {
        const source = useMirror[start + k] ? this.mirrored! : this.features;
        images.set(source.subarray(i * per, (i + 1) * per), k * per);
        flipped?.set(this.mirrored!.subarray(i * per, (i + 1) * per), k * per);
      });
      const batch: Batch = { images, shape: [idx.length, ...this.featureShape], ...batchLabels(idx.map((i) => this.samples[i]!)) };
      if (flipped) batch.flipped = flipped;
      yield batch;
    }
  }
}
