/**
 * Input pipeline: decode with sharp, optional rotation by the sample's `deg` and margin-expanded
 * crop of its `box`, resize, augmentation, ImageNet normalisation, seeded shuffling, and batching
 * with prefetch (sharp decodes on libuv worker threads while the model trains on the main thread).
 */
import type { Preprocessing } from '@ldl/backbones';
import { type Box, cropResize, decodeImage, expandBox, type RgbImage, rotateExpand, type WholeImageCrop, wholeImageBox } from '@ldl/face-prep';
import sharp from 'sharp';
import type { Rng } from '@ldl/core';
import { type AugmentConfig, type AugmentParams, applyAugment, sampleAugmentParams } from './augment';
import type { AgeSample } from './readers';

/** ImageNet channel means (RGB, on the 0..1 scale). */
export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
/** ImageNet channel standard deviations (RGB, on the 0..1 scale). */
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/** Channel order and `(pixel / 255 − mean) / std` of a network input (a weight set's, see `PretrainedCfg`). */
export type Normalization = Pick<Preprocessing, 'colorOrder' | 'mean' | 'std'>;

/** ImageNet normalisation (timm's default): RGB, {@link IMAGENET_MEAN}, {@link IMAGENET_STD}. */
export const IMAGENET_NORMALIZATION: Normalization = { colorOrder: 'rgb', mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] };

/** How a sample becomes a network input. */
export interface ImageOptions {
  /** Output side length in pixels (square). @default 224 */
  size?: number;
  /** Margin ratio for samples with a face `box` (paper: 0, 0.2 or 0.4). @default 0 */
  margin?: number;
  /** Rotate by the sample's `deg` (aligned CSV) before cropping. @default true */
  rotate?: boolean;
  /** Fitting of images without a face box (face-prep's `WholeImageCrop`). @default 'stretch' */
  crop?: WholeImageCrop;
}

/**
 * Decodes a sample with face-prep's `decodeImage` (the EXIF Orientation tag applied: a photo stored
 * sideways comes out upright, as every viewer shows it, and `deg`/`box` of `ldl prep align` refer to
 * that upright frame), rotates it by its `deg` in PIL's
 * `rotate(deg, expand=True)` frame when it has a box, crops the box grown by `margin`
 * (`expandBox`), and resizes to `size × size` (stretching, as the paper's pipeline does). A sample
 * without a box is resized whole. Errors name the image and the list/CSV line it came from.
 */
export async function loadImage(sample: AgeSample, options: ImageOptions = {}): Promise<RgbImage> {
  const { size = 224, margin = 0, rotate = true, crop = 'stretch' } = options;
  try {
    let image = await decodeImage(sample.path);
    let box: Box = wholeImageBox(image.width, image.height, crop);
    if (sample.box) {
      if (rotate && sample.deg) image = await rotateExpand(image, sample.deg);
      box = expandBox(sample.box, margin, image);
    }
    return await cropResize(image, box, size);
  } catch (e) {
    const where = sample.source.line > 0 ? `${sample.source.file} line ${sample.source.line}` : sample.source.file;
    throw new Error(`Error in loadImage: cannot load ${sample.path} (${where}): ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * Writes `(pixel/255 − mean)/std` of an RGB image into `out` at `offset` (NHWC float layout), channels in
 * `normalization.colorOrder` (BGR for Caffe/Keras weights).
 */
export function normalizeInto(image: RgbImage, out: Float32Array, offset: number, normalization: Normalization = IMAGENET_NORMALIZATION): void {
  const { data } = image;
  const { mean, std } = normalization;
  const [r, g, b] = normalization.colorOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  for (let i = 0; i < data.length; i += 3) {
    out[offset + i + r] = (data[i] / 255 - mean[r]) / std[r];
    out[offset + i + g] = (data[i + 1] / 255 - mean[g]) / std[g];
    out[offset + i + b] = (data[i + 2] / 255 - mean[b]) / std[b];
  }
}

/** One batch, ready for `tf.tensor(images, shape)`. */
export interface Batch {
  /** Normalised pixels, NHWC (or cached features of them, see `FeatureCache`). */
  images: Float32Array;
  /** `[n, size, size, 3]` (or `[n, …feature shape]`). */
  shape: number[];
  /** Cached features of the mirrored images, same layout (for flip test-time augmentation). */
  flipped?: Float32Array;
  /** Age labels. */
  ages: number[];
  /** Gender labels (0 male, 1 female) when every sample has one. */
  genders?: number[];
  /** Ethnicity labels when every sample has one. */
  ethnicities?: number[];
  /** The samples, in batch order. */
  samples: AgeSample[];
}

/** The labels of a batch of samples: ages, and genders / ethnicities when every sample has one. */
export function batchLabels(samples: AgeSample[]): Pick<Batch, 'ages' | 'genders' | 'ethnicities' | 'samples'> {
  const labels: Pick<Batch, 'ages' | 'genders' | 'ethnicities' | 'samples'> = { ages: samples.map((x) => x.age), samples };
  if (samples.every((x) => x.gender !== undefined)) labels.genders = samples.map((x) => x.gender ?? 0);
  if (samples.every((x) => x.ethnicity !== undefined)) labels.ethnicities = samples.map((x) => x.ethnicity ?? 0);
  return labels;
}

/** What the trainer reads batches from: a {@link DataLoader} of images, or cached features (`FeatureCache`). */
export interface BatchSource {
  /** The samples, in their original order. */
  readonly samples: readonly AgeSample[];
  /** Batches per epoch. */
  readonly numBatches: number;
  /** The batches of one epoch (shuffling and augmentation drawn from `rng`). */
  epoch(rng?: Rng): AsyncGenerator<Batch>;
}

/** Options of {@link DataLoader}. */
export interface DataLoaderOptions extends ImageOptions {
  /** Samples per batch. @default 128 */
  batchSize?: number;
  /** Reshuffle every epoch (needs an `Rng` in {@link DataLoader.epoch}). @default false */
  shuffle?: boolean;
  /** Training augmentation (the paper's by default when given `{}`); `false` for none. @default false */
  augment?: AugmentConfig | false;
  /** Batches decoded ahead of the one being consumed. @default 2 */
  prefetch?: number;
  /** Keep decoded, resized images in memory (before augmentation): faster epochs, `n·size²·3` bytes. @default false */
  cache?: boolean;
  /** Drop a last, smaller batch. @default false */
  dropLast?: boolean;
  /** Input normalisation (the backbone's weights'). @default IMAGENET_NORMALIZATION */
  normalization?: Normalization;
  /**
   * `skipBad` for images that fail to load late (a file cut inside its image data passes a header
   * check): when given, such an image is left out of its batch and of every later epoch, and reported
   * here with its decoder's own message; a batch left empty is not yielded. When absent, the error
   * stops the epoch. @default undefined
   */
  onBadImage?: (sample: AgeSample, reason: string) => void;
}

interface PlannedItem {
  index: number;
  aug: AugmentParams | null;
}

/**
 * Batches samples for training or evaluation.
 *
 * Reproducibility: {@link DataLoader.epoch} draws the whole epoch's permutation and augmentation
 * parameters from the RNG synchronously when called, so the RNG state before the call fully
 * determines the epoch no matter how decoding interleaves.
 */
export class DataLoader implements BatchSource {
  /** The samples, in their original order. */
  readonly samples: readonly AgeSample[];
  private readonly opts: Required<Omit<DataLoaderOptions, 'augment' | 'onBadImage'>> & Pick<DataLoaderOptions, 'onBadImage'> & { augment: AugmentConfig | false };
  private readonly cached = new Map<number, RgbImage>();
  /** Samples whose image failed to load (with `onBadImage`): left out of later epochs. */
  private readonly bad = new Set<number>();

  constructor(samples: readonly AgeSample[], options: DataLoaderOptions = {}) {
    if (samples.length === 0) throw new Error('Error in DataLoader: samples must not be empty, but got 0 samples.');
    const batchSize = options.batchSize ?? 128;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new Error(`Error in DataLoader: batchSize must be a positive integer, but got ${batchSize}.`);
    }
    this.samples = samples;
    this.opts = {
      size: 224,
      margin: 0,
      rotate: true,
      crop: 'stretch',
      normalization: IMAGENET_NORMALIZATION,
      shuffle: false,
      augment: false,
      prefetch: 2,
      cache: false,
      dropLast: false,
      ...options,
      batchSize,
    };
  }

  /** Number of batches per epoch (images skipped by `onBadImage` left out). */
  get numBatches(): number {
    const n = (this.samples.length - this.bad.size) / this.opts.batchSize;
    return this.opts.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** Image side length. */
  get size(): number {
    return this.opts.size;
  }

  private plan(rng?: Rng): PlannedItem[] {
    const { shuffle, augment } = this.opts;
    if ((shuffle || augment) && !rng) {
      throw new Error('Error in DataLoader.epoch: rng must be given when shuffle or augment is on, but got undefined.');
    }
    let order = this.samples.map((_, i) => i);
    if (shuffle && rng) order = rng.shuffle(order);
    // The draws are taken for every sample (bad ones too), so that a skipped image changes no other draw.
    return order.map((index) => ({ index, aug: augment && rng ? sampleAugmentParams(rng, augment) : null })).filter((it) => !this.bad.has(it.index));
  }

  private async decode(index: number): Promise<RgbImage> {
    const hit = this.cached.get(index);
    if (hit) return hit;
    const image = await loadImage(this.samples[index], this.opts);
    if (this.opts.cache) this.cached.set(index, image);
    return image;
  }

  private async load(items: PlannedItem[]): Promise<{ images: RgbImage[]; items: PlannedItem[] }> {
    const settled = await Promise.allSettled(items.map(async (it) => {
      const img = await this.decode(it.index);
      return it.aug ? applyAugment(img, it.aug) : img;
    }));
    const images: RgbImage[] = [];
    const kept: PlannedItem[] = [];
    settled.forEach((r, k) => {
      if (r.status === 'fulfilled') {
        images.push(r.value);
        kept.push(items[k]);
        return;
      }
      const { onBadImage } = this.opts;
      if (!onBadImage) throw r.reason;
      const index = items[k].index;
      if (!this.bad.has(index)) {
        this.bad.add(index);
        onBadImage(this.samples[index], (r.reason as Error).message);
      }
    });
    return { images, items: kept };
  }

  private assemble({ images, items }: { images: RgbImage[]; items: PlannedItem[] }): Batch {
    const s = this.opts.size;
    const per = s * s * 3;
    const out = new Float32Array(items.length * per);
    images.forEach((img, k) => normalizeInto(img, out, k * per, this.opts.normalization));
    const samples = items.map((it) => this.samples[it.index]);
    return { images: out, shape: [items.length, s, s, 3], ...batchLabels(samples) };
  }

  /**
   * The batches of one epoch. The permutation and augmentation draws are taken from `rng` now
   * (synchronously); decoding runs `prefetch` batches ahead.
   */
  epoch(rng?: Rng): AsyncGenerator<Batch> {
    const planned = this.plan(rng);
    const { batchSize, prefetch } = this.opts;
    const chunks: PlannedItem[][] = [];
    for (let i = 0; i < planned.length; i += batchSize) chunks.push(planned.slice(i, i + batchSize));
    if (this.opts.dropLast && chunks.length > 0 && chunks[chunks.length - 1].length < batchSize) chunks.pop();
    return this.iterate(chunks, prefetch);
  }

  private async *iterate(chunks: PlannedItem[][], prefetch: number): AsyncGenerator<Batch> {
    const pending: Promise<{ images: RgbImage[]; items: PlannedItem[] }>[] = [];
    let next = 0;
    const fill = () => {
      while (next < chunks.length && pending.length <= prefetch) {
        const p = this.load(chunks[next++]);
        p.catch(() => undefined); // surfaced when awaited below
        pending.push(p);
      }
    };
    fill();
    while (pending.length > 0) {
      const loaded = await (pending.shift() as Promise<{ images: RgbImage[]; items: PlannedItem[] }>);
      fill();
      if (loaded.items.length > 0) yield this.assemble(loaded);
    }
  }

  /** The first `count` images of an epoch planned from `rng`, augmented but not normalised (for sample grids). */
  async preview(count: number, rng?: Rng): Promise<{ images: RgbImage[]; samples: AgeSample[] }> {
    const items = this.plan(rng).slice(0, count);
    const { images } = await this.load(items);
    return { images, samples: items.map((it) => this.samples[it.index]) };
  }
}

/** Tiles RGB images (all the same size) into a grid and writes it as a PNG. */
export async function writeImageGrid(images: readonly RgbImage[], file: string, columns = 8): Promise<void> {
  if (images.length === 0) throw new Error('Error in writeImageGrid: images must not be empty, but got 0 images.');
  const { width: w, height: h } = images[0];
  const cols = Math.min(columns, images.length);
  const rows = Math.ceil(images.length / cols);
  const pad = 2;
  const W = cols * (w + pad) + pad;
  const H = rows * (h + pad) + pad;
  const canvas = new Uint8Array(W * H * 3).fill(255);
  images.forEach((img, k) => {
    const ox = pad + (k % cols) * (w + pad);
    const oy = pad + Math.floor(k / cols) * (h + pad);
    for (let y = 0; y < h; y++) {
      canvas.set(img.data.subarray(y * w * 3, (y + 1) * w * 3), ((oy + y) * W + ox) * 3);
    }
  });
  await sharp(canvas, { raw: { width: W, height: H, channels: 3 } }).png().toFile(file);
}
