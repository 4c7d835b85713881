/**
 * End-to-end runs built from the pieces of this package, shared by the examples: pick a backend,
 * build the model, train with checkpoints, evaluate the best model on the test set against the
 * predict-the-training-mean baseline, and write `report.md`, `report.json` and the plots; plus
 * evaluation and single-image prediction from a saved model.
 */
import { appendFileSync, existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import {
  type BackboneName,
  backbones,
  BatchNorm,
  createModel,
  featureLayer,
  importPyTorchWeights,
  loadModel,
  loadWeightMap,
  namedWeights,
  type ModelName,
  multiTaskAgeModel,
  type PretrainedCfg,
  readSafetensors,
  ResizeBilinear,
  RESNET_VARIANTS,
  splitModel,
} from '@ldl/backbones';
import type { WholeImageCrop } from '@ldl/face-prep';
import { AgeMetrics, type AgeMetricsResult, expectedAge } from '@ldl/core';
import { enableFastKernels } from '@ldl/kernels';
import * as tf from '@tensorflow/tfjs-core';
import { layers as tfl, model as functionalModel, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { AugmentConfig } from './augment';
import { type BackendSelection, type SelectBackendOptions, selectBackend } from './backend';
import { FeatureCache } from './feature_cache';
import { recordFailure } from './failure';
import { type BatchSource, DataLoader, IMAGENET_NORMALIZATION, loadImage, type Normalization, normalizeInto, writeImageGrid } from './pipeline';
import { Rng } from '@ldl/core';
import { definedOnly } from './util';
import { type AgeSample, splitSamples } from './readers';
import { errorByAge, errorByAgeSvg, writeSvgPng } from './report';
import writeFileAtomic from 'write-file-atomic';
import { GENDER_CLASSES, parsePreprocessorConfig, PREPROCESSOR_FORMAT, PREPROCESSOR_JSON, PREPROCESSOR_VERSION, type PreprocessorConfig } from './preprocessor';
import { type BestBy, type EvalResult, type LossName, ResumeRefusedError, type ScheduleName, Trainer } from './trainer';

/** Architecture of an age model. */
export interface ModelConfig {
  /** Backbone name (`createModel` of @ldl/backbones). @default 'seresnext50_32x4d' */
  backbone?: ModelName;
  /**
   * Start from a pretrained weight set of the backbone (`createModel`'s registry): `true` for its default,
   * or a tag (`'faceapi'`, `'keras_imagenet'`). The model is then the backbone without its classifier +
   * an age head on `headFeatures`, and the input normalisation is the weights' own. @default false
   */
  pretrained?: boolean | string;
  /**
   * Features the age head reads (pretrained models): `'pool'` (the backbone's pooled output) and stage
   * names (`'layer3'`, globally average-pooled), concatenated. @default ['pool']
   */
  headFeatures?: string[];
  /**
   * More pretrained backbones whose pooled features join the head's (an ensemble of feature extractors, e.g.
   * face-api's age-trained `agegender_tinyxception` beside the face-recognition net): each runs on the input
   * resized to its `imageSize` (bilinear) and must expect the same normalisation as `backbone`'s weights.
   * Freeze the model at `head_concat` to train only the head. @default []
   */
  extraBackbones?: { backbone: ModelName; pretrained: boolean | string; imageSize: number }[];
  /**
   * Batch-normalise the head's input features (`head_norm`). Pooled features of a frozen backbone have a large
   * common offset and little spread (face-recognition net: means ≈ 1, stds ≈ 0.1), which a linear head learns
   * slowly; normalised, it fits in a few epochs. @default false
   */
  headNorm?: boolean;
  /** Units of a hidden ReLU layer (with dropout `headDropout`) before the age layer; 0 for a linear head. @default 0 */
  headHidden?: number;
  /** Dropout rate before the age layer (after the hidden layer, if any). @default 0 */
  headDropout?: number;
  /** Freeze the backbone up to and including this stage or layer (`'layer3'`); `'none'` trains everything. @default 'none' */
  freeze?: string;
  /** Learning-rate multiplier of the unfrozen backbone layers (the head trains at the learning rate). @default 1 */
  backboneLrScale?: number;
  /**
   * Run the frozen part once per image (and its mirror) and train the rest on the cached outputs
   * (`FeatureCache`): much faster on a CPU; the only augmentation is then the flip. Needs `freeze`. @default false
   */
  cacheFeatures?: boolean;
  /** Channel multiplier (small CPU models). @default 1 */
  widthScale?: number;
  /** Depth multiplier (ResNet family). @default 1 */
  depthScale?: number;
  /** Input side in pixels. @default 224 */
  imageSize?: number;
  /** Age classes (ages `minAge … minAge + numClasses − 1`). @default 101 */
  numClasses?: number;
  /** Age + gender + ethnicity heads (`multiTaskAgeModel`). @default false */
  multiTask?: boolean;
  /** Ethnicity classes of the multi-task model. @default 5 */
  numEthnicities?: number;
}

/** Builds the age model of a {@link ModelConfig} (randomly initialised; see {@link buildAgeModel} for pretrained ones). */
export function buildModel(config: ModelConfig = {}): LayersModel {
  const { backbone = 'seresnext50_32x4d', widthScale = 1, depthScale = 1, imageSize = 224, numClasses = 101, multiTask = false, numEthnicities = 5 } = config;
  if (config.pretrained) throw new Error(`Error in buildModel: pretrained backbones load asynchronously: use buildAgeModel, but got pretrained ${JSON.stringify(config.pretrained)}.`);
  if (!(backbone in backbones)) {
    throw new Error(`Error in buildModel: backbone must be one of ${Object.keys(backbones).join(', ')}, but got '${backbone}'.`);
  }
  const inputShape: [number, number, number] = [imageSize, imageSize, 3];
  if (multiTask) {
    if (!(backbone in RESNET_VARIANTS)) {
      throw new Error(`Error in buildModel: the multi-task model needs a ResNet-family backbone, but got '${backbone}'.`);
    }
    return multiTaskAgeModel({ backbone: backbone as keyof typeof RESNET_VARIANTS, numClasses, numEthnicities, inputShape, widthScale, depthScale });
  }
  return backbones[backbone as BackboneName]({ numClasses, inputShape, widthScale, depthScale });
}

/** An age model with what training needs to know about it (see {@link buildAgeModel}). */
export interface AgeModel {
  /** Input → age logits `[N, numClasses]` (or the three multi-task outputs). */
  model: LayersModel;
  /** Input normalisation: the pretrained weights', else ImageNet's. */
  normalization: Normalization;
  /** The weight set loaded, or `null`. */
  pretrainedCfg: PretrainedCfg | null;
  /** Layers of the backbone (the rest is the head). */
  backboneLayers: string[];
  /** Layers frozen by `freeze` (not trained). */
  frozenLayers: string[];
}

/**
 * Builds the age model of a {@link ModelConfig}: randomly initialised ({@link buildModel}), or, with
 * `pretrained`, the backbone from `createModel(backbone, { pretrained, includeTop: false })` plus an age
 * head (`headFeatures` pooled and concatenated → `age`, a dense layer of `numClasses`), with the layers up
 * to `freeze` frozen. The head (and a random backbone) are initialised from `seed`.
 * @throws Error for an unknown backbone, stage or weight set, a missing weights package, or a multi-task
 * model on a pretrained backbone.
 */
export async function buildAgeModel(config: ModelConfig = {}, seed = 0): Promise<AgeModel> {
  const fn = 'buildAgeModel';
  const {
    backbone = 'seresnext50_32x4d', imageSize = 224, numClasses = 101, pretrained = false, headFeatures = ['pool'], headNorm = false, headHidden = 0, headDropout = 0, freeze = 'none',
    extraBackbones = [],
  } = config;
  if (extraBackbones.length > 0 && !pretrained) throw new Error(`Error in ${fn}: extraBackbones need a pretrained backbone, but got pretrained false.`);
  let model: LayersModel;
  let pretrainedCfg: PretrainedCfg | null = null;
  let backboneLayers: string[];
  if (!pretrained) {
    model = withSeededRandom(seed, () => buildModel(config));
    const head = new Set(['fc', 'head.fc', 'age', 'gender', 'ethnicity', 'layer2_pool', 'age_concat']);
    backboneLayers = model.layers.map((l) => l.name).filter((n) => !head.has(n));
  } else {
    if (config.multiTask) throw new Error(`Error in ${fn}: multiTask must be false with a pretrained backbone, but got true.`);
    const trunk = await createModel(backbone, { pretrained, includeTop: false, inputShape: [imageSize, imageSize, 3] });
    pretrainedCfg = trunk.pretrainedCfg;
    backboneLayers = trunk.layers.map((l) => l.name);
    const extras: LayersModel[] = [];
    for (const extra of extraBackbones) {
      const net = await createModel(extra.backbone, { pretrained: extra.pretrained, includeTop: false, inputShape: [extra.imageSize, extra.imageSize, 3] });
      const a = net.pretrainedCfg!;
      const b = pretrainedCfg!;
      if (a.colorOrder !== b.colorOrder || a.mean.some((v, i) => v !== b.mean[i]) || a.std.some((v, i) => v !== b.std[i])) {
        throw new Error(`Error in ${fn}: extraBackbones '${extra.backbone}' must expect the normalisation of '${backbone}' (${b.colorOrder}, mean ${b.mean}, std ${b.std}), but its weights expect ${a.colorOrder}, mean ${a.mean}, std ${a.std}.`);
      }
      extras.push(net);
      backboneLayers.push(net.name);
    }
    model = withSeededRandom(seed, () => {
      const feats = headFeatures.map((f) =>
        f === 'pool'
          ? (trunk.outputs[0] as SymbolicTensor)
          : (tfl.globalAveragePooling2d({ name: `${f}_pool` }).apply(featureLayer(trunk, f).output as SymbolicTensor) as SymbolicTensor),
      );
      extras.forEach((net, i) => {
        const side = extraBackbones[i]!.imageSize;
        const x = trunk.inputs[0] as SymbolicTensor;
        const sized = side === imageSize ? x : (new ResizeBilinear({ height: side, width: side, name: `${net.name}_resize` }).apply(x) as SymbolicTensor);
        feats.push(net.apply(sized) as SymbolicTensor);
      });
      let y = feats.length > 1 ? (tfl.concatenate({ name: 'head_concat' }).apply(feats) as SymbolicTensor) : feats[0]!;
      if (headNorm) y = new BatchNorm({ momentum: 0.9, epsilon: 1e-5, name: 'head_norm' }).apply(y) as SymbolicTensor;
      if (headHidden > 0) y = tfl.dense({ units: headHidden, activation: 'relu', name: 'head_hidden' }).apply(y) as SymbolicTensor;
      if (headDropout > 0) y = tfl.dropout({ rate: headDropout, name: 'head_dropout' }).apply(y) as SymbolicTensor;
      const age = tfl.dense({ units: numClasses, name: 'age' }).apply(y) as SymbolicTensor;
      return functionalModel({ inputs: trunk.inputs, outputs: age, name: `${backbone}_age` });
    });
  }
  const frozenLayers: string[] = [];
  if (freeze !== 'none') {
    const { prefix } = splitModel(model, freeze);
    // The prefix shares the model's layer objects (splitModel).
    for (const layer of prefix.layers.filter((l) => l.weights.length > 0)) {
      layer.trainable = false;
      frozenLayers.push(layer.name);
    }
  }
  const normalization: Normalization = pretrainedCfg ? { colorOrder: pretrainedCfg.colorOrder, mean: pretrainedCfg.mean, std: pretrainedCfg.std } : IMAGENET_NORMALIZATION;
  return { model, normalization, pretrainedCfg, backboneLayers, frozenLayers };
}

/**
 * Runs `fn` with `Math.random` replaced by a seeded {@link Rng} (restored afterwards). tfjs-layers
 * initialisers draw their seeds from `Math.random`, so `withSeededRandom(seed, () => buildModel(c))`
 * gives the same initial weights for the same seed.
 */
export function withSeededRandom<T>(seed: number, fn: () => T): T {
  const original = Math.random;
  const rng = new Rng(seed);
  Math.random = () => rng.next();
  try {
    return fn();
  } finally {
    Math.random = original;
  }
}

/** Everything a training run needs. */
export interface ExperimentOptions {
  /** Human-readable title for logs and the report (e.g. "MegaAge-Asian (aaf-megaage)"). */
  title: string;
  /** Output directory. */
  runDir: string;
  /** Training samples (a validation part is split off unless `val` is given). */
  train: AgeSample[];
  /** Test samples (final report). */
  test: AgeSample[];
  /** Validation samples; default: `valFraction` of `train`, split with `splitSeed`. */
  val?: AgeSample[];
  /** Fraction of `train` held out for per-epoch validation and best-model choice; 0 uses `test` (as the paper's protocol does). @default 0.1 */
  valFraction?: number;
  /** Seed of the validation split. @default 0 */
  splitSeed?: number;
  /** Model architecture. */
  model?: ModelConfig;
  /** PyTorch safetensors state dict (timm names) to initialise the backbone from. */
  pretrained?: string;
  /**
   * Load `pretrained` as PyTorch's `load_state_dict(strict=True)` does: any model weight missing from the state
   * dict, or any state-dict tensor matching no weight, stops the run (both listed). `false` loads the matching
   * tensors and logs the rest. A classifier whose class count differs is skipped either way. @default true
   */
  pretrainedStrict?: boolean;
  /** Multi-task models: the ethnicity classes in output order (their count sets `model.numEthnicities`); written to `preprocessor.json`. */
  ethnicityClasses?: string[];
  /** Margin ratio around the face box (aligned CSV only). @default 0 */
  margin?: number;
  /** Paper augmentation (`{}`), custom settings, or `false`. @default {} */
  augment?: AugmentConfig | false;
  /** Loss of the age head. @default 'ldl' */
  loss?: LossName;
  /** Epochs. @default 80 */
  epochs?: number;
  /** Effective batch size (one optimizer step). @default 128 */
  batchSize?: number;
  /** Split each batch into this many accumulated micro-batches. @default 1 */
  accumulationSteps?: number;
  /** Learning rate. @default 1e-3 */
  learningRate?: number;
  /** StepLR step size. @default 20 */
  stepSize?: number;
  /** StepLR factor. @default 0.2 */
  gamma?: number;
  /** Learning-rate schedule (see `Trainer`). @default 'step' */
  schedule?: ScheduleName;
  /** Linear learning-rate warm-up, epochs. @default 0 */
  warmupEpochs?: number;
  /** Final learning rate of the cosine schedule. @default 0 */
  minLearningRate?: number;
  /** Fitting of images without a face box (eye-aligned whole photos). @default 'stretch' */
  crop?: WholeImageCrop;
  /** Where `model.cacheFeatures` keeps its features (reused when samples, prefix and preprocessing match). @default runDir/feature-cache */
  featureCacheDir?: string;
  /** Label σ. @default 2 */
  sigma?: number;
  /** λ of the expectation term. @default 1 */
  lambda?: number;
  /** Best-epoch metric. @default 'mae' */
  bestBy?: BestBy;
  /** Seed of shuffling, augmentation and weight initialisation. @default 0 */
  seed?: number;
  /** Backend name, or undefined for automatic choice. */
  backend?: string;
  /**
   * Threads of the wasm backend (where wasm runs): above 1 its multi-threaded build, whose threads keep
   * Node's event loop alive — end the process with `process.exit()`; 1 for the single-threaded build.
   * @default defaultWasmThreads() — the logical CPUs, at most 8
   */
  wasmThreads?: number;
  /** Register @ldl/kernels' faster gradients. @default true */
  fastKernels?: boolean;
  /** Keep decoded images in memory. @default true when the decoded train set fits in 1.5 GB */
  cache?: boolean;
  /** Write `samples.png`, a grid of 32 augmented training inputs. @default false */
  saveSamples?: boolean;
  /** Continue from the latest checkpoint. @default false */
  resume?: boolean;
  /** Flip test-time augmentation in evaluation. @default false */
  flipTTA?: boolean;
  /** Extra facts for the report (data source, skipped rows, synthetic or not…). */
  notes?: string[];
}

/** Test metrics with the baseline, as written to `report.json`. */
export interface ExperimentReport {
  /** `'completed'` (a failed run's `report.json` is a `FailedReport` with `status: 'failed'`). */
  status: 'completed';
  /** Run title. */
  title: string;
  /** Backend that ran (`selectBackend`). */
  backend: string;
  /** Why/how it loaded (e.g. the tfjs-node module path). */
  backendDetail: string;
  /** Wall time of the whole run, seconds. */
  wallSeconds: number;
  /** Sample counts. */
  counts: { train: number; val: number; test: number };
  /** Best epoch (chosen on validation). */
  best: { epoch: number; metric: BestBy; value: number };
  /** Epochs in the history. */
  epochsRun: number;
  /** Training speed: mean images/s and seconds per epoch (validation included), and the feature-cache build time. */
  throughput: { imagesPerSecond: number; secondsPerEpoch: number; featureCacheSeconds: number | null };
  /** Test metrics of the best epoch's model. */
  test: { mae: number; ca3: number; ca5: number; ca7: number; loss: number; genderAcc?: number; ethnicityAcc?: number; maeByDecade: AgeMetricsResult['maeByDecade'] };
  /** The same metrics for always predicting the training-set mean age. */
  baseline: { description: string; trainMean: number; mae: number; ca3: number; ca5: number; ca7: number };
  /** Full run configuration. */
  config: Record<string, unknown>;
  /** Data source, skipped rows, validation protocol. */
  notes: string[];
}

/** A logger that prints and appends to `runDir/train.log`. */
export function runLogger(runDir: string): (line: string) => void {
  const file = path.join(runDir, 'train.log');
  return (line: string) => {
    console.log(line);
    appendFileSync(file, `${new Date().toISOString()} ${line}\n`);
  };
}

/**
 * Activates a backend (and the fast kernels) and logs why. `options.wasmThreads`: see
 * {@link SelectBackendOptions} (above 1, the process must end with `process.exit()`).
 */
export async function setupBackend(
  name: string | undefined,
  fastKernels: boolean,
  log: (l: string) => void,
  options: Pick<SelectBackendOptions, 'wasmThreads'> = {},
): Promise<BackendSelection> {
  const selection = await selectBackend(name, options);
  for (const l of selection.summary.split('\n')) log(l);
  if (fastKernels) {
    const { registered } = enableFastKernels();
    log(`fast kernels (@ldl/kernels): ${registered.length ? registered.join(', ') : 'none for this backend'}`);
  } else {
    log('fast kernels: disabled');
  }
  return selection;
}

/** MAE and CA(n) of always predicting `value`. */
export function constantBaseline(value: number, truth: readonly number[]): AgeMetricsResult {
  const m = new AgeMetrics();
  m.update(truth.map(() => value), truth);
  return m.result();
}

const fmt = (x: number | undefined, d = 2) => (x === undefined ? '–' : x.toFixed(d));

function reportMarkdown(r: ExperimentReport): string {
  const rows = [
    `| model (best epoch ${r.best.epoch}) | ${fmt(r.test.mae)} | ${fmt(r.test.ca3, 1)} | ${fmt(r.test.ca5, 1)} | ${fmt(r.test.ca7, 1)} |`,
    `| baseline: always ${fmt(r.baseline.trainMean, 1)} (training mean) | ${fmt(r.baseline.mae)} | ${fmt(r.baseline.ca3, 1)} | ${fmt(r.baseline.ca5, 1)} | ${fmt(r.baseline.ca7, 1)} |`,
  ];
  return [
    `# ${r.title}`,
    '',
    `- backend: **${r.backend}** (${r.backendDetail})`,
    `- wall time: ${(r.wallSeconds / 60).toFixed(1)} min, ${r.epochsRun} epochs; best epoch ${r.best.epoch} by ${r.best.metric} = ${fmt(r.best.value, 3)} (validation)`,
    `- samples: train ${r.counts.train}, validation ${r.counts.val}, test ${r.counts.test}`,
    `- training throughput: ${fmt(r.throughput.imagesPerSecond, 1)} img/s, ${fmt(r.throughput.secondsPerEpoch, 0)} s per epoch (validation included)` +
      (r.throughput.featureCacheSeconds ? `; feature cache ${fmt(r.throughput.featureCacheSeconds / 60, 1)} min` : ''),
    ...r.notes.map((n) => `- ${n}`),
    '',
    '## Test set',
    '',
    '| | MAE (years) | CA(3) % | CA(5) % | CA(7) % |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    ...(r.test.genderAcc !== undefined ? [`Gender accuracy ${fmt(r.test.genderAcc, 1)} %, ethnicity accuracy ${fmt(r.test.ethnicityAcc, 1)} %.`, ''] : []),
    'MAE by decade of the true age:',
    '',
    '| decade | n | MAE |',
    '|---|---|---|',
    ...r.test.maeByDecade.map((d) => `| ${d.decade}–${d.decade + 9} | ${d.count} | ${fmt(d.mae)} |`),
    '',
    'Files: `metrics.csv`, `curves.png` (loss / MAE / CA per epoch), `error-by-age.png`, `best/` (model + meta.json), `checkpoints/`.',
    '',
    '## Configuration',
    '',
    '```json',
    JSON.stringify(r.config, null, 2),
    '```',
    '',
  ].join('\n');
}

/**
 * Trains, evaluates the best model on the test set, and writes the report. A failure at any point is
 * recorded in the run directory (`FATAL …` in `train.log`, `report.json` with `status: 'failed'`)
 * and rethrown — except a refused resume ({@link ResumeRefusedError}), which records nothing (a finished
 * run's report stays `completed`).
 */
export async function runExperiment(options: ExperimentOptions): Promise<ExperimentReport> {
  try {
    return await runExperimentUnrecorded(options);
  } catch (e) {
    if (!(e instanceof ResumeRefusedError)) await recordFailure(options.runDir, e, { title: options.title });
    throw e;
  }
}

async function runExperimentUnrecorded(options: ExperimentOptions): Promise<ExperimentReport> {
  const t0 = Date.now();
  const o = {
    valFraction: 0.1, splitSeed: 0, margin: 0, augment: {}, loss: 'ldl' as LossName, epochs: 80, batchSize: 128, accumulationSteps: 1,
    learningRate: 1e-3, stepSize: 20, gamma: 0.2, schedule: 'step' as ScheduleName, warmupEpochs: 0, minLearningRate: 0, crop: 'stretch' as WholeImageCrop, sigma: 2, lambda: 1, bestBy: 'mae' as BestBy, seed: 0, fastKernels: true,
    saveSamples: false, resume: false, flipTTA: false, pretrainedStrict: true, notes: [], ...definedOnly(options),
  };
  const modelConfig: Required<ModelConfig> = {
    backbone: 'seresnext50_32x4d', widthScale: 1, depthScale: 1, imageSize: 224, numClasses: 101, multiTask: false, numEthnicities: 5,
    pretrained: false, headFeatures: ['pool'], extraBackbones: [], headNorm: false, headHidden: 0, headDropout: 0, freeze: 'none', backboneLrScale: 1, cacheFeatures: false, ...definedOnly(o.model ?? {}),
  };
  if (modelConfig.multiTask) {
    const classes = o.ethnicityClasses;
    if (!classes || classes.length < 2) throw new Error(`Error in runExperiment: ethnicityClasses must name the ethnicity classes of a multi-task model (at least 2), but got ${JSON.stringify(classes)}.`);
    if (options.model?.numEthnicities !== undefined && options.model.numEthnicities !== classes.length) {
      throw new Error(`Error in runExperiment: model.numEthnicities must equal the ${classes.length} ethnicityClasses, but got ${options.model.numEthnicities}.`);
    }
    modelConfig.numEthnicities = classes.length;
  }
  if (modelConfig.cacheFeatures && modelConfig.freeze === 'none') {
    throw new Error(`Error in runExperiment: model.cacheFeatures needs model.freeze (the cached part must be frozen), but got freeze 'none'.`);
  }
  await fsp.mkdir(o.runDir, { recursive: true });
  const log = runLogger(o.runDir);
  log(`== ${o.title} → ${o.runDir}`);
  const backend = await setupBackend(o.backend, o.fastKernels, log, { wasmThreads: o.wasmThreads });
  for (const n of o.notes) log(n);
  let train = o.train;
  let val = o.val;
  const notes = [...o.notes];
  if (!val) {
    if (o.valFraction > 0) {
      const split = splitSamples(o.train, o.splitSeed, o.valFraction);
      train = split.train;
      val = split.test;
      notes.push(`validation: ${(o.valFraction * 100).toFixed(0)} % of the training list (seed ${o.splitSeed}); the test set is used only for the final report`);
    } else {
      val = o.test;
      notes.push('validation = test set (the paper protocol: best epoch chosen on the test set, so test figures are optimistic)');
    }
  }
  const size = modelConfig.imageSize;
  const cache = o.cache ?? (train.length + val.length + o.test.length) * size * size * 3 < 1.5e9;
  const micro = o.batchSize / o.accumulationSteps;
  if (!Number.isInteger(micro)) {
    throw new Error(`Error in runExperiment: batchSize must be divisible by accumulationSteps, but got ${o.batchSize} and ${o.accumulationSteps}.`);
  }
  const built = await buildAgeModel(modelConfig, o.seed);
  const { model } = built;
  const image = { size, margin: o.margin, crop: o.crop, normalization: built.normalization };
  const trainLoader = new DataLoader(train, { ...image, batchSize: micro, shuffle: true, augment: modelConfig.cacheFeatures ? false : o.augment, cache: cache && !modelConfig.cacheFeatures });
  const valLoader = new DataLoader(val, { ...image, batchSize: micro, cache: cache && !modelConfig.cacheFeatures });
  const testLoader = new DataLoader(o.test, { ...image, batchSize: micro, cache: false });
  log(
    `data: train ${train.length}, validation ${val.length}, test ${o.test.length}; ${size}px, crop ${o.crop}, margin ${o.margin}, ` +
      `augmentation ${modelConfig.cacheFeatures ? 'flips only (cached features)' : o.augment ? 'on' : 'off'}, image cache ${cache && !modelConfig.cacheFeatures ? 'on' : 'off'}`,
  );
  if (o.saveSamples) {
    const { images, samples } = await trainLoader.preview(32, new Rng(o.seed));
    await writeImageGrid(images, path.join(o.runDir, 'samples.png'));
    log(`wrote ${path.join(o.runDir, 'samples.png')} (32 augmented training inputs; ages ${samples.map((s) => s.age).join(' ')})`);
  }
  const trainable = model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
  log(
    `model: ${modelConfig.backbone}${modelConfig.multiTask ? ' multi-task' : ''}` +
      (built.pretrainedCfg
        ? ` pretrained ${built.pretrainedCfg.architecture}.${built.pretrainedCfg.tag} (npm ${built.pretrainedCfg.package}), head on ${[...modelConfig.headFeatures, ...modelConfig.extraBackbones.map((e) => `${e.backbone} (${e.imageSize} px)`)].join(' + ')}`
        : `, width ×${modelConfig.widthScale}, depth ×${modelConfig.depthScale}`) +
      `, ${model.countParams().toLocaleString('en-US')} parameters, ${trainable.toLocaleString('en-US')} trainable` +
      (built.frozenLayers.length ? ` (frozen up to ${modelConfig.freeze}: ${built.frozenLayers.length} layers)` : ''),
  );
  if (o.pretrained) {
    const report = importPyTorchWeights(model, readSafetensors(new Uint8Array(await fsp.readFile(o.pretrained))), { source: 'timm', strict: o.pretrainedStrict });
    const list = (xs: string[]) => (xs.length ? `: ${xs.slice(0, 8).join(', ')}${xs.length > 8 ? `, … (${xs.length})` : ''}` : '');
    log(
      `pretrained ${o.pretrained}${o.pretrainedStrict ? '' : ' (not strict)'}: loaded ${report.loaded.length}, missing ${report.missing.length}${list(report.missing)}, ` +
        `unexpected ${report.unexpected.length}${list(report.unexpected)}${report.skippedClassifier ? '; classifier skipped (another class count)' : ''}`,
    );
  }
  const multi = modelConfig.multiTask;
  const preprocessing: PreprocessorConfig = {
    format: PREPROCESSOR_FORMAT, version: PREPROCESSOR_VERSION, inputSize: size, colorOrder: built.normalization.colorOrder, mean: [...built.normalization.mean], std: [...built.normalization.std],
    crop: o.crop, margin: o.margin, heads: multi ? ['age', 'gender', 'ethnicity'] : ['age'], minAge: 0, numClasses: modelConfig.numClasses, sigma: o.sigma,
    genderClasses: multi ? [...GENDER_CLASSES] : null, ethnicityClasses: multi ? [...o.ethnicityClasses!] : null,
    backbone: modelConfig.backbone, weights: built.pretrainedCfg ? `${built.pretrainedCfg.architecture}.${built.pretrainedCfg.tag}` : null,
  };
  const config: Record<string, unknown> = {
    title: o.title, model: modelConfig, margin: o.margin, crop: o.crop, augment: o.augment, batchSize: o.batchSize, valFraction: o.valFraction, splitSeed: o.splitSeed,
    pretrained: o.pretrained ?? null, minAge: 0, preprocessing,
  };
  const frozen = new Set(built.frozenLayers);
  const tuned = built.backboneLayers.filter((l) => !frozen.has(l) && model.getLayer(l).trainableWeights.length > 0);
  const parameterGroups = modelConfig.backboneLrScale !== 1 && tuned.length > 0 ? [{ name: 'backbone', layers: tuned, lrScale: modelConfig.backboneLrScale }] : [];
  // Training the layers above a frozen prefix on its cached outputs: the trainer runs the suffix, saves the whole model.
  let trainSource: BatchSource = trainLoader;
  let valSource: BatchSource = valLoader;
  let trained = model;
  let featureCacheSeconds: number | null = null;
  if (modelConfig.cacheFeatures) {
    const { prefix, suffix } = splitModel(model, modelConfig.freeze);
    const plain = { ...image, batchSize: micro, cache: false };
    // Stored in the run directory (or --feature-cache-dir, shared between runs): --resume does not run the prefix again.
    const cacheDir = o.featureCacheDir ?? path.join(o.runDir, 'feature-cache');
    await fsp.mkdir(cacheDir, { recursive: true });
    const { inputSize, colorOrder, mean, std, crop, margin, backbone, weights } = preprocessing;
    const key = { input: { inputSize, colorOrder, mean, std, crop, margin, backbone, weights }, freeze: modelConfig.freeze, seed: built.pretrainedCfg ? null : o.seed };
    const trainCache = await FeatureCache.build(prefix, new DataLoader(train, plain), { flips: true, train: true, label: 'caching train features', file: path.join(cacheDir, 'train'), key });
    const valCache = await FeatureCache.build(prefix, new DataLoader(val, plain), { flips: o.flipTTA, label: 'caching validation features', file: path.join(cacheDir, 'val'), key });
    featureCacheSeconds = trainCache.seconds + valCache.seconds;
    if (trainCache.fromFile || valCache.fromFile) log(`feature cache: read from ${cacheDir} (same samples, prefix and preprocessing)`);
    log(
      `feature cache: ${modelConfig.freeze} outputs [${trainCache.featureShape.join(', ')}] of ${train.length} training images and their mirrors, ${val.length} validation images` +
        `${o.flipTTA ? ' (and mirrors)' : ''}: ${((trainCache.bytes + valCache.bytes) / 1e9).toFixed(2)} GB, ` +
        (trainCache.fromFile && valCache.fromFile
          ? 'read from the store'
          : `${featureCacheSeconds.toFixed(0)} s (${((train.length * 2 + val.length * (o.flipTTA ? 2 : 1)) / Math.max(1e-3, featureCacheSeconds)).toFixed(1)} img/s)`),
    );
    trainSource = trainCache;
    valSource = valCache;
    trained = suffix;
  }
  const trainer = new Trainer(trained, {
    runDir: o.runDir, loss: o.loss, epochs: o.epochs, learningRate: o.learningRate, stepSize: o.stepSize, gamma: o.gamma, schedule: o.schedule,
    warmupEpochs: o.warmupEpochs, minLearningRate: o.minLearningRate, parameterGroups, exportModel: model, sigma: o.sigma,
    lambda: o.lambda, accumulationSteps: o.accumulationSteps, seed: o.seed, bestBy: o.bestBy, resume: o.resume, flipTTA: o.flipTTA, config, preprocessor: preprocessing, log,
  });
  const fit = await trainer.fit(trainSource, valSource);
  const best = await loadModel(fit.bestDir);
  loadWeightMap(model, namedWeights(best)); // by name: a model with nested backbones reloads its weights in another order
  best.dispose();
  // The test set always goes through the whole model on images, as eval/predict will.
  const tester = trained === model ? trainer : new Trainer(model, { runDir: o.runDir, loss: o.loss, sigma: o.sigma, lambda: o.lambda, flipTTA: o.flipTTA, progress: false, log });
  const test = await tester.evaluate(testLoader);
  const trainMean = train.reduce((s, x) => s + x.age, 0) / train.length;
  const base = constantBaseline(trainMean, test.truth);
  const report: ExperimentReport = {
    status: 'completed',
    title: o.title,
    backend: backend.name,
    backendDetail: backend.attempts.find((a) => a.ok)?.reason ?? '',
    wallSeconds: (Date.now() - t0) / 1000,
    counts: { train: train.length, val: val.length, test: o.test.length },
    best: fit.best,
    epochsRun: fit.history.length,
    throughput: {
      imagesPerSecond: fit.history.reduce((a, r) => a + r.imagesPerSecond, 0) / Math.max(1, fit.history.length),
      secondsPerEpoch: fit.history.reduce((a, r) => a + r.seconds, 0) / Math.max(1, fit.history.length),
      featureCacheSeconds,
    },
    test: { mae: test.metrics.mae, ca3: test.metrics.ca3, ca5: test.metrics.ca5, ca7: test.metrics.ca7, loss: test.loss, genderAcc: test.genderAcc, ethnicityAcc: test.ethnicityAcc, maeByDecade: test.metrics.maeByDecade },
    baseline: { description: 'predict the training-set mean age for every test image', trainMean, mae: base.mae, ca3: base.ca3, ca5: base.ca5, ca7: base.ca7 },
    config: { ...config, loss: o.loss, epochs: o.epochs, learningRate: o.learningRate, stepSize: o.stepSize, gamma: o.gamma, schedule: o.schedule, warmupEpochs: o.warmupEpochs, minLearningRate: o.minLearningRate, sigma: o.sigma, lambda: o.lambda, seed: o.seed, bestBy: o.bestBy, accumulationSteps: o.accumulationSteps, flipTTA: o.flipTTA },
    notes,
  };
  await writeTestArtifacts(o.runDir, report, test);
  log(`test: MAE ${fmt(test.metrics.mae, 3)} CA(3/5/7) ${fmt(test.metrics.ca3, 1)}/${fmt(test.metrics.ca5, 1)}/${fmt(test.metrics.ca7, 1)} | baseline (training mean ${fmt(trainMean, 1)}): MAE ${fmt(base.mae, 3)} CA(3/5/7) ${fmt(base.ca3, 1)}/${fmt(base.ca5, 1)}/${fmt(base.ca7, 1)}`);
  log(`report: ${path.join(o.runDir, 'report.md')} (${(report.wallSeconds / 60).toFixed(1)} min)`);
  return report;
}

async function writeTestArtifacts(runDir: string, report: ExperimentReport, test: EvalResult): Promise<void> {
  await writeFileAtomic(path.join(runDir, 'report.json'), JSON.stringify(report, null, 2));
  await writeFileAtomic(path.join(runDir, 'report.md'), reportMarkdown(report));
  await writeSvgPng(errorByAgeSvg(errorByAge(test.predictions, test.truth, 5), `${report.title}: test MAE by true age (model)`), path.join(runDir, 'error-by-age.png'));
}

/** A saved model and the settings it was trained with. */
export interface SavedModel {
  /** The model, with its trained weights. */
  model: LayersModel;
  /** The run config stored with it (`meta.json` or the checkpoint's `state.json`). */
  config: Record<string, unknown>;
  /** How to make its inputs and read its outputs: its `preprocessor.json`. */
  preprocessor: PreprocessorConfig;
  /** Directory the model was read from. */
  dir: string;
}

/** What to run for a model folder that lacks a valid `preprocessor.json` (runs saved before the file, or before version 2). */
export const REGENERATE_PREPROCESSOR = "write it from the run's recorded settings with 'ldl preprocessor --upgrade DIR'";

/**
 * Reads and checks `preprocessor.json` in a model folder (see {@link parsePreprocessorConfig}).
 * @throws Error naming the file when it is absent, not JSON or invalid; never falls back to a default.
 */
export async function readPreprocessorConfig(modelDir: string): Promise<PreprocessorConfig> {
  const file = path.join(modelDir, PREPROCESSOR_JSON);
  if (!existsSync(file)) {
    throw new Error(
      `Error in readPreprocessorConfig: ${modelDir} must hold ${PREPROCESSOR_JSON} (input size, colour order, mean/std, crop, label set) beside its model.json, but it has none; ` +
        `eval and predict never guess it: ${REGENERATE_PREPROCESSOR}.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`Error in readPreprocessorConfig: ${file} must be JSON, but it does not parse (${(e as Error).message}).`);
  }
  return parsePreprocessorConfig(json, file);
}

/** A model folder (`model.json`) and the run config beside it, found in a run directory, its `best/` or a checkpoint directory. */
export async function findSavedModel(dir: string): Promise<{ modelDir: string; config: Record<string, unknown> }> {
  const candidates: [string, string][] = [
    [dir, path.join(dir, 'meta.json')],
    [path.join(dir, 'best'), path.join(dir, 'best', 'meta.json')],
    [path.join(dir, 'model'), path.join(dir, 'state.json')],
    [dir, path.join(path.dirname(dir), 'state.json')],
  ];
  for (const [modelDir, metaFile] of candidates) {
    if (existsSync(path.join(modelDir, 'model.json')) && existsSync(metaFile)) {
      return { modelDir, config: (JSON.parse(await fsp.readFile(metaFile, 'utf8')) as { config: Record<string, unknown> }).config };
    }
  }
  throw new Error(`Error in loadSavedModel: ${dir} must be a run directory, its best/ directory or a checkpoint directory (model.json + meta.json or state.json), but none was found.`);
}

/**
 * Loads a model for evaluation or prediction from a run directory (uses `best/`), a `best/`
 * directory, or a checkpoint directory (`checkpoints/epoch-NNNN`), with its `preprocessor.json`.
 * @throws Error when no model is found, or its `preprocessor.json` is absent or invalid ({@link readPreprocessorConfig}),
 * or the model's input or outputs disagree with it.
 */
export async function loadSavedModel(dir: string): Promise<SavedModel> {
  const { modelDir, config } = await findSavedModel(dir);
  const preprocessor = await readPreprocessorConfig(modelDir);
  const model = await loadModel(modelDir);
  const file = path.join(modelDir, PREPROCESSOR_JSON);
  const input = model.inputs[0]!.shape;
  if (input[1] !== preprocessor.inputSize || input[2] !== preprocessor.inputSize) {
    model.dispose();
    throw new Error(`Error in loadSavedModel: ${file}: inputSize must match the model's input [${input.slice(1).join(', ')}], but got ${preprocessor.inputSize}.`);
  }
  const units = model.outputs.map((o) => o.shape[1]);
  const expected = [preprocessor.numClasses, ...(preprocessor.genderClasses ? [preprocessor.genderClasses.length] : []), ...(preprocessor.ethnicityClasses ? [preprocessor.ethnicityClasses.length] : [])];
  if (JSON.stringify(units) !== JSON.stringify(expected)) {
    model.dispose();
    throw new Error(`Error in loadSavedModel: ${file}: heads ${JSON.stringify(preprocessor.heads)} with ${expected.join(', ')} classes must match the model's outputs, but the model has ${units.join(', ')}.`);
  }
  return { model, config, preprocessor, dir: modelDir };
}

/** The loader settings of a saved model's preprocessing. */
function imageOptionsOf(p: PreprocessorConfig): { size: number; margin: number; crop: WholeImageCrop; normalization: Normalization } {
  return { size: p.inputSize, margin: p.margin, crop: p.crop, normalization: { colorOrder: p.colorOrder, mean: p.mean, std: p.std } };
}

/** Evaluates a saved model on samples: MAE, CA(3/5/7) (and gender/ethnicity accuracy for multi-task). */
export async function evaluateSaved(saved: SavedModel, samples: AgeSample[], options: { batchSize?: number; flipTTA?: boolean; runDir: string }): Promise<EvalResult> {
  const loader = new DataLoader(samples, { ...imageOptionsOf(saved.preprocessor), batchSize: options.batchSize ?? 64 });
  const trainer = new Trainer(saved.model, { runDir: options.runDir, minAge: saved.preprocessor.minAge, sigma: saved.preprocessor.sigma, flipTTA: options.flipTTA ?? false, progress: false });
  return trainer.evaluate(loader);
}

/** A single-image prediction. */
export interface Prediction {
  /** Expected age `Σ k·p_k`. */
  age: number;
  /** The most probable ages with their probabilities, descending. */
  top: { age: number; p: number }[];
  /** Multi-task only: the gender head's probabilities by class (`preprocessor.genderClasses`). */
  gender?: { label: string; p: number }[];
  /** Multi-task only: the ethnicity head's probabilities by class (`preprocessor.ethnicityClasses`). */
  ethnicity?: { label: string; p: number }[];
}

/** Predicts the age distribution of one (aligned, cropped) face image. */
export async function predictImage(saved: SavedModel, imagePath: string, topK = 5): Promise<Prediction> {
  const { inputSize: size, minAge, genderClasses, ethnicityClasses } = saved.preprocessor;
  const options = imageOptionsOf(saved.preprocessor);
  const img = await loadImage({ path: path.resolve(imagePath), age: 0, source: { file: imagePath, line: 0 } }, options);
  const x = new Float32Array(size * size * 3);
  normalizeInto(img, x, 0, options.normalization);
  const outs = tf.tidy(() => {
    const out = saved.model.predict(tf.tensor4d(x, [1, size, size, 3])) as tf.Tensor | tf.Tensor[];
    const list = Array.isArray(out) ? out : [out];
    return [tf.softmax(list[0] as tf.Tensor2D), expectedAge(list[0] as tf.Tensor2D, { minAge }), ...list.slice(1).map((t) => tf.softmax(t))];
  });
  const [probs, age, ...heads] = await Promise.all(outs.map((t) => t.data()));
  tf.dispose(outs);
  const top = Array.from(probs, (p, k) => ({ age: k + minAge, p })).sort((a, b) => b.p - a.p).slice(0, topK);
  const result: Prediction = { age: age[0], top };
  if (genderClasses && ethnicityClasses) {
    result.gender = genderClasses.map((label, i) => ({ label, p: heads[0]![i]! }));
    result.ethnicity = ethnicityClasses.map((label, i) => ({ label, p: heads[1]![i]! }));
  }
  return result;
}

/**
 * Writes a version-2 `preprocessor.json` for a model saved before it existed, from what its run recorded
 * exactly: a version-1 `preprocessor.json`, or the `preprocessing` of the run config in `meta.json` /
 * `state.json` (every run since `@ldl` 0.1 with pretrained backbones); the heads come from the model's outputs.
 * Nothing is guessed: a run that recorded neither is refused.
 * @param dir A run directory, its `best/` or a checkpoint directory.
 * @param options.ethnicityClasses Class names of a multi-task model's ethnicity head (version 1 did not record them).
 * @returns The file written.
 * @throws Error when the run recorded no preprocessing, or a multi-task model lacks `ethnicityClasses`.
 */
export async function upgradePreprocessor(dir: string, options: { ethnicityClasses?: string[] } = {}): Promise<{ file: string; config: PreprocessorConfig }> {
  const fn = 'upgradePreprocessor';
  const { modelDir, config } = await findSavedModel(dir);
  const file = path.join(modelDir, PREPROCESSOR_JSON);
  const old = existsSync(file) ? (JSON.parse(await fsp.readFile(file, 'utf8')) as Record<string, unknown>) : (config.preprocessing as Record<string, unknown> | undefined);
  if (old?.version === PREPROCESSOR_VERSION) {
    // Already version 2: in the file (checked only), or in the run config of a folder whose file was lost.
    const current = parsePreprocessorConfig(old, existsSync(file) ? file : `the run config of ${modelDir}`);
    if (!existsSync(file)) await writeFileAtomic(file, JSON.stringify(current, null, 2));
    return { file, config: current };
  }
  if (!old || old.format !== PREPROCESSOR_FORMAT || old.version !== 1) {
    throw new Error(
      `Error in ${fn}: ${modelDir} must have a version-1 ${PREPROCESSOR_JSON} or a run config with 'preprocessing' (its run recorded how it made its inputs), but has neither; ` +
        'retrain it, or write the file by hand (fields: see PreprocessorConfig).',
    );
  }
  const model = await loadModel(modelDir);
  const outputs = model.outputs.map((o) => o.shape[1] as number);
  model.dispose();
  const multi = outputs.length === 3;
  const classes = options.ethnicityClasses;
  if (multi && (!classes || classes.length !== outputs[2])) {
    throw new Error(`Error in ${fn}: ethnicityClasses must name the ${outputs[2]} ethnicity classes of this multi-task model (version 1 did not record them), but got ${JSON.stringify(classes)}.`);
  }
  const next = parsePreprocessorConfig(
    {
      format: PREPROCESSOR_FORMAT, version: PREPROCESSOR_VERSION, inputSize: old.size, colorOrder: old.colorOrder, mean: old.mean, std: old.std, crop: old.crop, margin: old.margin,
      heads: multi ? ['age', 'gender', 'ethnicity'] : ['age'], minAge: old.minAge, numClasses: old.numClasses, sigma: old.sigma,
      genderClasses: multi ? [...GENDER_CLASSES] : null, ethnicityClasses: multi ? classes : null, backbone: old.backbone, weights: old.weights,
    },
    file,
  );
  await writeFileAtomic(file, JSON.stringify(next, null, 2));
  return { file, config: next };
}
