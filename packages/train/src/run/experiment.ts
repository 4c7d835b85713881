/**
 * End-to-end runs built from the pieces of this package, shared by the examples and `ldl train`: pick a
 * backend, build the model, train with checkpoints, evaluate the best model on the test set against the
 * predict-the-training-mean baseline, and write `report.md`, `report.json` and the plots.
 */
import { promises as fsp, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { importPyTorchWeights, loadModel, loadWeightMap, namedWeights, readSafetensors, splitModel } from '@ldl/backbones';
import type { WholeImageCrop } from '@ldl/face-prep';
import { AgeMetrics, type AgeMetricsResult, Rng } from '@ldl/core';
import { enableFastKernels } from '@ldl/kernels';
import type { AugmentConfig } from '../data/augment';
import { type BackendSelection, type SelectBackendOptions, selectBackend } from './backend';
import { FeatureCache } from '../data/feature_cache';
import { explainDiskError } from './disk';
import { appendRunLog, discardRunLog, holdRunLog, recordFailure, releaseRunLog } from './failure';
import { acquireRunLock } from './lock';
import { type BatchSource, DataLoader, writeImageGrid } from '../data/pipeline';
import { type AgeSample, type BadRow, splitSamples } from '../data/readers';
import { SkippedRows } from '../data/skipped';
import { errorByAge, errorByAgeSvg, writeSvgPng } from './report';
import writeFileAtomic from 'write-file-atomic';
import { GENDER_CLASSES, PREPROCESSOR_FORMAT, PREPROCESSOR_VERSION, type PreprocessorConfig } from '../saved/preprocessor';
import { type BestBy, type EvalResult, type LossName, ResumeRefusedError, type ScheduleName, Trainer } from './trainer';
import { buildAgeModel, type ModelConfig } from '../model/build';
import { definedOnly } from '../util';

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
  flipTta?: boolean;
  /** Extra facts for the report (data source, skipped rows, synthetic or not…). */
  notes?: string[];
  /**
   * `--skip-bad`: every row left out is written to `RUN_DIR/skipped.csv` (`skipped`, the readers' rows,
   * first), and an image that fails to decode during training is left out, logged with its decoder's
   * message and added to that table, instead of stopping the run. @default false
   */
  skipBad?: boolean;
  /** Rows the readers skipped (written to `RUN_DIR/skipped.csv` with `skipBad`). @default [] */
  skipped?: BadRow[];
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

/** A logger that prints and appends to `runDir/train.log` (see `appendRunLog`). */
export function runLogger(runDir: string): (line: string) => void {
  return (line: string) => {
    console.log(line);
    appendRunLog(runDir, line);
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

/** `report.json` of a run stopped by Ctrl-C (SIGINT) or SIGTERM. */
export interface InterruptedReport {
  /** Always `'interrupted'`. */
  status: 'interrupted';
  /** The signal. */
  signal: string;
  /** Run title. */
  title: string;
  /** The epoch that was running (it restarts from its beginning on resume). */
  epoch: number;
  /** Epochs completed, saved in `lastCheckpoint`. */
  epochsDone: number;
  /** The newest checkpoint, or `null`. */
  lastCheckpoint: string | null;
  /** The command that continues the run. */
  resume: string;
  /** When (ISO 8601). */
  interruptedAt: string;
}

/** What a run directory's `latest.json` names, read synchronously (for a signal handler). */
function latestSync(runDir: string): { dir: string; epoch: number } | null {
  try {
    const p = JSON.parse(readFileSync(path.join(runDir, 'checkpoints', 'latest.json'), 'utf8')) as { dir: string; epoch: number };
    return { dir: path.join(runDir, 'checkpoints', p.dir), epoch: p.epoch };
  } catch {
    return null;
  }
}

/** Removes this process's temporary folders (`*.tmp-PID`, `*.old-PID` is renamed back) of the run directory. */
function removeOwnTemp(runDir: string): void {
  for (const folder of [runDir, path.join(runDir, 'checkpoints')]) {
    let names: string[] = [];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const n of names) {
      if (n.endsWith(`.tmp-${process.pid}`)) rmSync(path.join(folder, n), { recursive: true, force: true });
      const old = n.match(new RegExp(`^(.*)\\.old-${process.pid}$`));
      if (old && !names.includes(old[1])) renameSync(path.join(folder, n), path.join(folder, old[1]));
    }
  }
}

/**
 * Trains, evaluates the best model on the test set, and writes the report.
 *
 * - One training per run directory: `run.lock` ({@link acquireRunLock}) refuses a second one.
 * - A failure of a started run is recorded in the run directory (`FATAL …` in `train.log`, `report.json` with
 *   `status: 'failed'`) and rethrown. A resume that did not start (refused, damaged checkpoints, changed
 *   settings, or any error before its checkpoint was restored) writes nothing: its log lines are held back
 *   and dropped, and a finished run's report stays `completed`.
 * - Ctrl-C (SIGINT) or SIGTERM during a started run: `INTERRUPTED …` in `train.log` and a `report.json` with
 *   `status: 'interrupted'`, the epoch reached and the command that resumes; the checkpoints stay intact.
 * - A full disk or a read-only folder: a `DiskError` naming the folder and the cause.
 */
export async function runExperiment(options: ExperimentOptions): Promise<ExperimentReport> {
  const runDir = options.runDir;
  await fsp.mkdir(runDir, { recursive: true }).catch((e: unknown) => {
    throw explainDiskError(e, 'runExperiment', runDir);
  });
  const lock = acquireRunLock(runDir);
  let started = !options.resume;
  if (options.resume) holdRunLog(runDir);
  let epoch = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    try {
      removeOwnTemp(runDir);
      if (started) {
        const latest = latestSync(runDir);
        const resume = `ldl train --run-dir ${runDir} --resume`;
        const report: InterruptedReport = {
          status: 'interrupted', signal, title: options.title, epoch, epochsDone: latest?.epoch ?? 0, lastCheckpoint: latest?.dir ?? null, resume, interruptedAt: new Date().toISOString(),
        };
        appendRunLog(runDir, `INTERRUPTED by ${signal} in epoch ${epoch}; ${report.epochsDone} epoch(s) done and saved${latest ? ` (${latest.dir})` : ''}; continue with: ${resume}`);
        const file = path.join(runDir, 'report.json');
        writeFileSync(`${file}.tmp-${process.pid}`, JSON.stringify(report, null, 2));
        renameSync(`${file}.tmp-${process.pid}`, file);
        console.error(`interrupted (${signal}) in epoch ${epoch}: ${report.epochsDone} epoch(s) saved; continue with: ${resume}`);
      } else {
        discardRunLog(runDir);
      }
    } finally {
      lock.release(true); // the process ends here: the lock goes, however often it was taken
      process.kill(process.pid, signal); // the default action: end with the signal
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await runExperimentUnrecorded(options, {
      onStart: (info) => {
        started = true;
        epoch = info.firstEpoch;
        releaseRunLog(runDir);
      },
      onEpoch: (e) => {
        epoch = e;
      },
    });
  } catch (e) {
    const error = explainDiskError(e, 'runExperiment', runDir, `The last checkpoint is kept: free space (or make ${runDir} writable) and continue with: ldl train --run-dir ${runDir} --resume.`);
    if (started && !(error instanceof ResumeRefusedError)) await recordFailure(runDir, error, { title: options.title });
    else discardRunLog(runDir);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    releaseRunLog(runDir);
    lock.release();
  }
}

async function runExperimentUnrecorded(
  options: ExperimentOptions,
  hooks: { onStart: (info: { firstEpoch: number }) => void; onEpoch: (epoch: number) => void },
): Promise<ExperimentReport> {
  const t0 = Date.now();
  const o = {
    valFraction: 0.1, splitSeed: 0, margin: 0, augment: {}, loss: 'ldl' as LossName, epochs: 80, batchSize: 128, accumulationSteps: 1,
    learningRate: 1e-3, stepSize: 20, gamma: 0.2, schedule: 'step' as ScheduleName, warmupEpochs: 0, minLearningRate: 0, crop: 'stretch' as WholeImageCrop, sigma: 2, lambda: 1, bestBy: 'mae' as BestBy, seed: 0, fastKernels: true,
    saveSamples: false, resume: false, flipTta: false, pretrainedStrict: true, notes: [], ...definedOnly(options),
  };
  const modelConfig: Required<ModelConfig> = {
    backbone: 'seresnext50_32x4d', widthScale: 1, depthScale: 1, imageSize: 224, numClasses: 101, multiTask: false, numEthnicities: 5,
    pretrained: false, headFeatures: ['pool'], extraBackbones: [], headNorm: false, headHidden: 0, headDropout: 0, freeze: 'none', backboneLrScale: 1, cacheFeatures: false, cacheMirrors: true, ...definedOnly(o.model ?? {}),
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
  const skippedRows = o.skipBad ? await SkippedRows.create(o.runDir, o.skipped ?? []) : null;
  if (skippedRows) log(`skipped rows: ${skippedRows.file} (${skippedRows.count} from reading the data; images that fail to decode later are added)`);
  const onBadImage = skippedRows
    ? (sample: AgeSample, reason: string) => {
        skippedRows.add({ file: sample.source.file, line: sample.source.line, reason });
        log(`WARNING skipped (--skip-bad): ${reason}`);
      }
    : undefined;
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
  const image = { size, margin: o.margin, crop: o.crop, normalization: built.normalization, onBadImage };
  const trainLoader = new DataLoader(train, { ...image, batchSize: micro, shuffle: true, augment: modelConfig.cacheFeatures ? false : o.augment, cache: cache && !modelConfig.cacheFeatures });
  const valLoader = new DataLoader(val, { ...image, batchSize: micro, cache: cache && !modelConfig.cacheFeatures });
  const testLoader = new DataLoader(o.test, { ...image, batchSize: micro, cache: false });
  log(
    `data: train ${train.length}, validation ${val.length}, test ${o.test.length}; ${size}px, crop ${o.crop}, margin ${o.margin}, ` +
      `augmentation ${modelConfig.cacheFeatures ? (modelConfig.cacheMirrors ? 'flips only (cached features)' : 'none (cached features without mirrors)') : o.augment ? 'on' : 'off'}, image cache ${cache && !modelConfig.cacheFeatures ? 'on' : 'off'}`,
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
    const report = importPyTorchWeights(model, readSafetensors(new Uint8Array(await fsp.readFile(o.pretrained)), o.pretrained), { source: 'timm', strict: o.pretrainedStrict });
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
    const plain = { ...image, batchSize: micro, cache: false, onBadImage: undefined }; // the cache keeps every sample's row
    // Stored in the run directory (or --feature-cache-dir, shared between runs): --resume does not run the prefix again.
    const cacheDir = o.featureCacheDir ?? path.join(o.runDir, 'feature-cache');
    await fsp.mkdir(cacheDir, { recursive: true });
    const { inputSize, colorOrder, mean, std, crop, margin, backbone, weights } = preprocessing;
    const key = { input: { inputSize, colorOrder, mean, std, crop, margin, backbone, weights }, freeze: modelConfig.freeze, seed: built.pretrainedCfg ? null : o.seed };
    const trainCache = await FeatureCache.build(prefix, new DataLoader(train, plain), { flips: modelConfig.cacheMirrors, train: true, label: 'caching train features', file: path.join(cacheDir, 'train'), key });
    const valCache = await FeatureCache.build(prefix, new DataLoader(val, plain), { flips: o.flipTta, label: 'caching validation features', file: path.join(cacheDir, 'val'), key });
    featureCacheSeconds = trainCache.seconds + valCache.seconds;
    if (trainCache.fromFile || valCache.fromFile) log(`feature cache: read from ${cacheDir} (same samples, prefix and preprocessing)`);
    log(
      `feature cache: ${modelConfig.freeze} outputs [${trainCache.featureShape.join(', ')}] of ${train.length} training images${modelConfig.cacheMirrors ? ' and their mirrors' : ' (no mirrors: no flip augmentation)'}, ${val.length} validation images` +
        `${o.flipTta ? ' (and mirrors)' : ''}: ${((trainCache.bytes + valCache.bytes) / 1e9).toFixed(2)} GB, ` +
        (trainCache.fromFile && valCache.fromFile
          ? 'read from the store'
          : `${featureCacheSeconds.toFixed(0)} s (${((train.length * (modelConfig.cacheMirrors ? 2 : 1) + val.length * (o.flipTta ? 2 : 1)) / Math.max(1e-3, featureCacheSeconds)).toFixed(1)} img/s)`),
    );
    trainSource = trainCache;
    valSource = valCache;
    trained = suffix;
  }
  const trainer = new Trainer(trained, {
    runDir: o.runDir, loss: o.loss, epochs: o.epochs, learningRate: o.learningRate, stepSize: o.stepSize, gamma: o.gamma, schedule: o.schedule,
    warmupEpochs: o.warmupEpochs, minLearningRate: o.minLearningRate, parameterGroups, exportModel: model, sigma: o.sigma,
    lambda: o.lambda, accumulationSteps: o.accumulationSteps, seed: o.seed, bestBy: o.bestBy, resume: o.resume, flipTta: o.flipTta, config, preprocessor: preprocessing, log,
    onStart: hooks.onStart,
    onStep: (info) => hooks.onEpoch(info.epoch),
  });
  const fit = await trainer.fit(trainSource, valSource);
  if (skippedRows) notes.push(`skipped rows (--skip-bad): ${skippedRows.count}, every one in ${skippedRows.file} (file, line, reason)`);
  const best = await loadModel(fit.bestDir);
  loadWeightMap(model, namedWeights(best)); // by name: a model with nested backbones reloads its weights in another order
  best.dispose();
  // The test set always goes through the whole model on images, as eval/predict will.
  const tester = trained === model ? trainer : new Trainer(model, { runDir: o.runDir, loss: o.loss, sigma: o.sigma, lambda: o.lambda, flipTta: o.flipTta, progress: false, log });
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
    config: { ...config, loss: o.loss, epochs: o.epochs, learningRate: o.learningRate, stepSize: o.stepSize, gamma: o.gamma, schedule: o.schedule, warmupEpochs: o.warmupEpochs, minLearningRate: o.minLearningRate, sigma: o.sigma, lambda: o.lambda, seed: o.seed, bestBy: o.bestBy, accumulationSteps: o.accumulationSteps, flipTta: o.flipTta },
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
