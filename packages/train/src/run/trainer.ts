/**
 * The training loop of the paper (Adam 1e-3, StepLR(20, 0.2), 80 epochs, σ = 2, λ = 1 by default):
 * single-task LDL, the cross-entropy and mean-variance baselines, and the multi-task model (age +
 * gender + ethnicity); evaluation every epoch; best-model selection; gradient accumulation;
 * checkpoints after every epoch and exact resume.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { saveModel } from '@ldl/backbones';
import { type FusedAdamOptimizer, fusedAdam } from '@ldl/kernels';
import {
  AgeMetrics,
  type AgeMetricsResult,
  crossEntropyLoss,
  expectedAge,
  flipTTA,
  ldlLoss,
  meanVarianceLoss,
  multiTaskLoss,
  Rng,
} from '@ldl/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import writeFileAtomic from 'write-file-atomic';
import { latestCheckpoint, replaceDirAtomic, restoreCheckpoint, saveCheckpoint, scanCheckpoints, type TrainingState, writeManifest } from './checkpoint';
import { clearDiverged, DEFAULT_MAX_LOSS_RATIO, DivergenceGuard, firstStepCause, markDiverged, NonFinitePredictionError, readDiverged, TrainingDivergedError } from './divergence';
import type { Batch, BatchSource } from '../data/pipeline';
import { definedOnly } from '../util';
import { PREPROCESSOR_JSON, type PreprocessorConfig } from '../saved/preprocessor';
import { createProgress, type ProgressReporter } from './progress';
import { curvesSvg, type EpochRecord, metricsCsv, writeSvgPng } from './report';

/** Loss of the age head. */
export type LossName = 'ldl' | 'ce' | 'mean-variance';

/** Learning-rate schedule: StepLR (the paper's) or cosine annealing to `minLearningRate` over the run. */
export type ScheduleName = 'step' | 'cosine';

/** Layers trained at `lrScale` × the learning rate (PyTorch parameter groups; e.g. a pretrained backbone). */
export interface ParameterGroup {
  /** Name for logs. */
  name: string;
  /** Layer names of the model. */
  layers: string[];
  /** Learning-rate multiplier. */
  lrScale: number;
}

/** Metric that picks the best epoch: `'ca3'` (higher is better; MegaAge-style) or `'mae'` (lower; MORPH-style). */
export type BestBy = 'ca3' | 'mae';

/** Options of {@link Trainer}. Defaults are the paper's. */
export interface TrainerOptions {
  /** Output directory: checkpoints, `best/`, `metrics.csv`, `curves.png`. */
  runDir: string;
  /** Age loss. Multi-task models always use LDL for age. @default 'ldl' */
  loss?: LossName;
  /** Epochs. @default 80 */
  epochs?: number;
  /** Adam learning rate. @default 1e-3 */
  learningRate?: number;
  /** StepLR step size in epochs. @default 20 */
  stepSize?: number;
  /** StepLR factor. @default 0.2 */
  gamma?: number;
  /** Learning-rate schedule. @default 'step' */
  schedule?: ScheduleName;
  /** Linear warm-up from `lr / steps` over this many epochs (fractions allowed), then the schedule. @default 0 */
  warmupEpochs?: number;
  /** Final learning rate of the cosine schedule. @default 0 */
  minLearningRate?: number;
  /** Layers with their own learning-rate multiplier; the rest train at the learning rate. @default [] */
  parameterGroups?: ParameterGroup[];
  /**
   * The model written to `best/` and checkpoints and restored on resume, when `model` is the trainable
   * top of it (see `splitModel`, `FeatureCache`). @default model
   */
  exportModel?: LayersModel;
  /** Label σ of the Gaussian target. @default 2 */
  sigma?: number;
  /** Weight λ of the expectation L1 term. @default 1 */
  lambda?: number;
  /** Age of class 0. @default 0 */
  minAge?: number;
  /** Loader batches per optimizer step (the effective batch is `accumulationSteps` × loader batch). @default 1 */
  accumulationSteps?: number;
  /** Seed of the shuffling/augmentation RNG. @default 0 */
  seed?: number;
  /** Best-epoch metric. @default 'mae' */
  bestBy?: BestBy;
  /** Continue from the run directory's latest checkpoint (error if there is none). @default false */
  resume?: boolean;
  /** Epoch checkpoints to keep. @default 2 */
  keepCheckpoints?: number;
  /** Average the prediction with the mirrored image's in evaluation. @default false */
  flipTta?: boolean;
  /** Extra run configuration stored with checkpoints and `best/meta.json` (image size, margin, …). */
  config?: Record<string, unknown>;
  /**
   * How inputs are made for this model and what its outputs mean, written as `preprocessor.json` beside the
   * weights of `best/` and of every checkpoint's `model/` (read by eval/predict; without it they refuse the model).
   */
  preprocessor?: PreprocessorConfig;
  /** Progress display; `false` for none. @default createProgress() */
  progress?: ProgressReporter | false;
  /** Log sink for one line per epoch and notices. @default console.log */
  log?: (line: string) => void;
  /**
   * A training loss above this many times the run's first one (or a non-finite loss, or non-finite
   * predictions in validation) stops training with a {@link TrainingDivergedError}; the last
   * checkpoint is kept, and a resume of a diverged run may lower `learningRate`.
   * @default 1000
   */
  maxLossRatio?: number;
  /** Called after every optimizer step (it may throw, e.g. to simulate an interruption in tests). */
  onStep?: (info: { epoch: number; step: number; stepInEpoch: number; loss: number }) => void;
  /**
   * Called once the run has started (a resume: its checkpoint verified, its settings checked and restored),
   * before the first epoch; nothing of the run directory is written before it.
   */
  onStart?: (info: { firstEpoch: number; resumedFrom: string | null }) => void;
}

/** Result of {@link Trainer.evaluate}. */
export interface EvalResult {
  /** MAE, CA(3/5/7), MAE by decade. */
  metrics: AgeMetricsResult;
  /** Mean loss over the samples. */
  loss: number;
  /** Gender accuracy, % (multi-task). */
  genderAcc?: number;
  /** Ethnicity accuracy, % (multi-task). */
  ethnicityAcc?: number;
  /** Predicted ages, in loader order. */
  predictions: number[];
  /** True ages, in loader order. */
  truth: number[];
}

/** Result of {@link Trainer.fit}. */
export interface FitResult {
  /** One record per epoch (including epochs before a resume). */
  history: EpochRecord[];
  /** Best epoch and its metric value. */
  best: { epoch: number; metric: BestBy; value: number };
  /** Directory of the best model (`runDir/best`). */
  bestDir: string;
  /** Optimizer steps taken in total. */
  steps: number;
}

type ModelOutputs = { age: tf.Tensor2D; gender?: tf.Tensor2D; ethnicity?: tf.Tensor2D };

/**
 * Settings of the run config that may change on resume (each change is logged): the epoch count, the
 * learning rate (e.g. lower after a divergence), the title, validation flip-TTA and the divergence
 * threshold. Every other setting defines the model, the data, the preprocessing or the optimisation
 * and must equal the checkpoint's.
 */
export const RESUME_MAY_CHANGE: readonly string[] = ['epochs', 'learningRate', 'title', 'flipTta', 'maxLossRatio'];

/**
 * Leaf settings of `saved` (the checkpoint's run config) whose value differs in `now`, as
 * `key.path (checkpoint A, now B)`; keys the checkpoint does not hold (settings added later) are not compared.
 */
export function changedSettings(saved: Record<string, unknown>, now: Record<string, unknown>, skip: readonly string[] = RESUME_MAY_CHANGE): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, key: string) => {
    if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
      for (const k of Object.keys(a)) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], key ? `${key}.${k}` : k);
    } else if (JSON.stringify(a) !== JSON.stringify(b)) {
      out.push(`${key} (checkpoint ${JSON.stringify(a) ?? 'unset'}, now ${JSON.stringify(b) ?? 'unset'})`);
    }
  };
  for (const k of Object.keys(saved)) if (!skip.includes(k)) walk(saved[k], now[k], k);
  return out;
}

/**
 * A `resume` the trainer refuses before it restores or writes anything of the run (no checkpoint, or settings
 * a checkpoint cannot take): `runExperiment` records no failure for it, so the run's `report.json` keeps its
 * status (log lines written before the check stay in `train.log`).
 */
export class ResumeRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResumeRefusedError';
  }
}

/**
 * Trains a `LayersModel` whose output is age logits `[N, numClasses]`, or, for multi-task, three
 * outputs `[age, gender, ethnicity]` (as built by `multiTaskAgeModel`).
 *
 * ```ts
 * const trainer = new Trainer(model, { runDir: 'runs/x', epochs: 10, bestBy: 'ca3' });
 * const { best } = await trainer.fit(trainLoader, valLoader);
 * ```
 */
export class Trainer {
  /** The model being trained (weights are updated in place). */
  readonly model: LayersModel;
  /** Whether the model has the three multi-task outputs. */
  readonly multiTask: boolean;
  private readonly o: Required<Omit<TrainerOptions, 'onStep' | 'onStart' | 'progress' | 'config' | 'exportModel' | 'preprocessor'>> & Pick<TrainerOptions, 'onStep' | 'onStart' | 'config' | 'preprocessor'>;
  /** The model saved and restored (`exportModel`, or `model`). */
  readonly exportModel: LayersModel;
  private readonly progress: ProgressReporter | false;

  constructor(model: LayersModel, options: TrainerOptions) {
    this.model = model;
    this.multiTask = model.outputs.length === 3;
    if (model.outputs.length !== 1 && !this.multiTask) {
      throw new Error(`Error in Trainer: model must have 1 output (age) or 3 (age, gender, ethnicity), but got ${model.outputs.length}.`);
    }
    this.o = {
      loss: 'ldl',
      epochs: 80,
      learningRate: 1e-3,
      stepSize: 20,
      gamma: 0.2,
      schedule: 'step',
      warmupEpochs: 0,
      minLearningRate: 0,
      parameterGroups: [],
      sigma: 2,
      lambda: 1,
      minAge: 0,
      accumulationSteps: 1,
      seed: 0,
      bestBy: 'mae',
      resume: false,
      keepCheckpoints: 2,
      flipTta: false,
      maxLossRatio: DEFAULT_MAX_LOSS_RATIO,
      log: (l: string) => console.log(l),
      ...definedOnly(options),
    };
    if (this.multiTask && this.o.loss !== 'ldl') {
      throw new Error(`Error in Trainer: loss must be 'ldl' for a multi-task model, but got '${this.o.loss}'.`);
    }
    if (!Number.isInteger(this.o.accumulationSteps) || this.o.accumulationSteps < 1) {
      throw new Error(`Error in Trainer: accumulationSteps must be a positive integer, but got ${this.o.accumulationSteps}.`);
    }
    this.progress = options.progress === undefined ? createProgress() : options.progress;
    this.exportModel = options.exportModel ?? model;
    if (this.o.schedule !== 'step' && this.o.schedule !== 'cosine') {
      throw new Error(`Error in Trainer: schedule must be 'step' or 'cosine', but got ${JSON.stringify(this.o.schedule)}.`);
    }
    if (!(Number.isFinite(this.o.warmupEpochs) && this.o.warmupEpochs >= 0)) {
      throw new Error(`Error in Trainer: warmupEpochs must be a number ≥ 0, but got ${this.o.warmupEpochs}.`);
    }
    const names = new Set(model.layers.map((l) => l.name));
    for (const g of this.o.parameterGroups) {
      const unknown = g.layers.filter((l) => !names.has(l));
      if (unknown.length > 0) throw new Error(`Error in Trainer: parameterGroups '${g.name}' must name layers of the model, but got ${unknown.slice(0, 5).join(', ')}.`);
      if (!(Number.isFinite(g.lrScale) && g.lrScale >= 0)) throw new Error(`Error in Trainer: parameterGroups '${g.name}' lrScale must be a number ≥ 0, but got ${g.lrScale}.`);
    }
    if (this.exportModel !== model) {
      const exported = new Set(this.exportModel.weights.map((w) => w.read().id));
      if (!model.weights.every((w) => exported.has(w.read().id))) {
        throw new Error(`Error in Trainer: exportModel must contain every weight of the trained model (share its layers, see splitModel), but '${this.exportModel.name}' does not.`);
      }
    }
  }

  /** Number of age classes (the age output's width). */
  get numClasses(): number {
    const shape = this.model.outputs[0].shape;
    return shape[shape.length - 1] as number;
  }

  /**
   * Learning rate at `fraction` ∈ [0, 1] of the 1-based `epoch` (the trainer passes the fraction done after
   * each step, so the first step is not wasted at 0): linear warm-up over `warmupEpochs`, then
   * StepLR (`lr · γ^⌊(epoch−1)/stepSize⌋`) or cosine annealing from `lr` to `minLearningRate` over the
   * remaining epochs.
   */
  learningRateAt(epoch: number, fraction = 0): number {
    const { learningRate: lr, warmupEpochs, schedule, epochs, minLearningRate } = this.o;
    const t = epoch - 1 + fraction;
    const warm = warmupEpochs > 0 ? Math.min(1, t / warmupEpochs) : 1;
    if (schedule === 'cosine') {
      const span = Math.max(1e-9, epochs - warmupEpochs);
      const p = Math.min(1, Math.max(0, (t - warmupEpochs) / span));
      return warm * (minLearningRate + (lr - minLearningRate) * 0.5 * (1 + Math.cos(Math.PI * p)));
    }
    return warm * lr * this.o.gamma ** Math.floor((epoch - 1) / this.o.stepSize);
  }

  /** Learning-rate multipliers by variable name, from `parameterGroups`. */
  private lrScales(): Map<string, number> {
    const scales = new Map<string, number>();
    for (const g of this.o.parameterGroups) {
      for (const layer of this.model.layers.filter((l) => g.layers.includes(l.name))) {
        for (const w of layer.trainableWeights) scales.set((w.read() as tf.Variable).name, g.lrScale);
      }
    }
    return scales;
  }

  private runConfig(): Record<string, unknown> {
    const { runDir: _r, resume: _s, log: _l, onStep: _o, onStart: _t, keepCheckpoints: _k, preprocessor: _p, exportModel: _e, config, ...rest } = this.o as typeof this.o & Pick<TrainerOptions, 'exportModel'>;
    return { ...rest, multiTask: this.multiTask, numClasses: this.numClasses, ...config };
  }

  private outputs(x: tf.Tensor4D, training: boolean): ModelOutputs {
    const out = this.model.apply(x, { training }) as tf.Tensor | tf.Tensor[];
    if (Array.isArray(out)) {
      if (out.length === 1) return { age: out[0] as tf.Tensor2D };
      return { age: out[0] as tf.Tensor2D, gender: out[1] as tf.Tensor2D, ethnicity: out[2] as tf.Tensor2D };
    }
    return { age: out as tf.Tensor2D };
  }

  private lossOf(out: ModelOutputs, batch: Batch): tf.Scalar {
    const { sigma, lambda, minAge, loss } = this.o;
    if (this.multiTask) {
      if (!batch.genders || !batch.ethnicities) {
        const s = batch.samples.find((x) => x.gender === undefined || x.ethnicity === undefined);
        throw new Error(`Error in Trainer: multi-task training needs gender and race for every sample, but ${s?.path} (${s?.source.file} line ${s?.source.line}) has none.`);
      }
      return multiTaskLoss(
        { age: out.age, gender: out.gender as tf.Tensor2D, ethnicity: out.ethnicity as tf.Tensor2D },
        { ages: batch.ages, gender: batch.genders, ethnicity: batch.ethnicities },
        { sigma, lambda, minAge },
      );
    }
    if (loss === 'ce') return crossEntropyLoss(out.age, batch.ages, { minAge });
    if (loss === 'mean-variance') return meanVarianceLoss(out.age, batch.ages, { minAge });
    return ldlLoss(out.age, batch.ages, { sigma, lambda, minAge });
  }

  /**
   * Replaces the optimizer by a fresh Adam at `lr` carrying the same state (see the README on exact
   * resume); `@ldl/kernels`' fused update (one kernel a variable) where the backend registers it.
   */
  private async rebuildOptimizer(lr: number, from: tf.AdamOptimizer | null): Promise<FusedAdamOptimizer> {
    const fresh = fusedAdam(lr);
    fresh.lrScales = this.lrScales();
    if (from) {
      const weights = await from.getWeights();
      await fresh.setWeights(weights);
      weights[0].tensor.dispose(); // the iteration count scalar; the rest are shared with `fresh`
      from.dispose();
    }
    return fresh;
  }

  /**
   * Evaluates on every sample of `loader` (in order): MAE, CA(3/5/7), mean loss, and for multi-task
   * models gender/ethnicity accuracy.
   */
  async evaluate(loader: BatchSource): Promise<EvalResult> {
    const metrics = new AgeMetrics();
    let lossSum = 0;
    let genderRight = 0;
    let ethnicityRight = 0;
    const predictions: number[] = [];
    const truth: number[] = [];
    for await (const batch of loader.epoch()) {
      const [lossT, predT, gT, eT] = tf.tidy(() => {
        const x = tf.tensor<tf.Rank>(batch.images, batch.shape) as tf.Tensor4D;
        const out = this.outputs(x, false);
        const { flipped } = batch;
        // Cached features carry their mirror's (`FeatureCache`); images are mirrored here.
        const probabilities = !this.o.flipTta
          ? null
          : flipped
            ? tf.div(tf.add(tf.softmax(out.age), tf.softmax(this.outputs(tf.tensor<tf.Rank>(flipped, batch.shape) as tf.Tensor4D, false).age)), 2)
            : flipTTA((im) => this.outputs(im, false).age, x);
        const ages = probabilities
          ? expectedAge(probabilities as tf.Tensor2D, { minAge: this.o.minAge, from: 'probabilities' })
          : expectedAge(out.age, { minAge: this.o.minAge });
        const g = out.gender ? tf.argMax(out.gender, 1) : tf.zeros([0]);
        const e = out.ethnicity ? tf.argMax(out.ethnicity, 1) : tf.zeros([0]);
        return [this.lossOf(out, batch), ages, g, e];
      });
      const [l, p, g, e] = await Promise.all([lossT.data(), predT.data(), gT.data(), eT.data()]);
      tf.dispose([lossT, predT, gT, eT]);
      const bad = p.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new NonFinitePredictionError('Trainer.evaluate', p[bad], batch.samples[bad].path);
      lossSum += l[0] * batch.ages.length;
      metrics.update(p, batch.ages);
      predictions.push(...p);
      truth.push(...batch.ages);
      if (batch.genders) genderRight += batch.genders.filter((v, i) => g[i] === v).length;
      if (batch.ethnicities) ethnicityRight += batch.ethnicities.filter((v, i) => e[i] === v).length;
    }
    const result: EvalResult = { metrics: metrics.result(), loss: lossSum / metrics.count, predictions, truth };
    if (this.multiTask) {
      result.genderAcc = (100 * genderRight) / metrics.count;
      result.ethnicityAcc = (100 * ethnicityRight) / metrics.count;
    }
    return result;
  }

  /** Saves the model and `meta.json` (run config, epoch, metrics) to `runDir/best` atomically. */
  private async saveBest(epoch: number, record: EpochRecord): Promise<string> {
    const dir = path.join(this.o.runDir, 'best');
    await replaceDirAtomic(dir, async (tmp) => {
      await saveModel(this.exportModel, tmp);
      await fsp.writeFile(path.join(tmp, 'meta.json'), JSON.stringify({ epoch, metrics: record, config: this.runConfig() }, null, 2));
      if (this.o.preprocessor) await fsp.writeFile(path.join(tmp, PREPROCESSOR_JSON), JSON.stringify(this.o.preprocessor, null, 2));
      await writeManifest(tmp);
    });
    return dir;
  }

  /**
   * The checkpoint a resume continues from: the newest intact one (manifest checksums, or for a checkpoint
   * saved before manifests its JSON files and weight-file sizes). Damaged ones and a damaged `latest.json`
   * are named in `notices` (logged once the resume starts).
   * @throws ResumeRefusedError when the run has no checkpoint, or none is intact (each listed with its damage).
   */
  private async resumableCheckpoint(notices: string[]): Promise<{ dir: string; state: TrainingState }> {
    const root = path.join(this.o.runDir, 'checkpoints');
    const scan = await scanCheckpoints(this.o.runDir);
    const intact = scan.checkpoints.find((c) => c.problem === null);
    const damaged = scan.checkpoints.filter((c) => c.problem !== null);
    if (!intact) {
      if (damaged.length === 0) throw new ResumeRefusedError(`Error in Trainer.fit: resume needs a checkpoint in ${root}, but there is none${scan.latestProblem ? ` (latest.json is damaged: ${scan.latestProblem})` : ''}.`);
      throw new ResumeRefusedError(
        `Error in Trainer.fit: resume needs an intact checkpoint in ${root}, but every one is damaged: ${damaged.map((c) => `${path.basename(c.dir)}: ${c.problem}`).join('; ')}. ` +
          'Nothing was changed; train a new run in another run directory.',
      );
    }
    if (scan.latestProblem) notices.push(`WARNING ${path.join(root, 'latest.json')} is damaged (${scan.latestProblem}); using the newest intact checkpoint`);
    for (const c of damaged) if (c.dir > intact.dir) notices.push(`WARNING checkpoint ${c.dir} is damaged (${c.problem}); skipped`);
    if (damaged.some((c) => c.dir > intact.dir) || scan.latestProblem || (scan.latest && scan.latest !== intact.dir)) {
      notices.push(`resuming from ${intact.dir}, the newest intact checkpoint (epoch ${intact.state!.epoch})`);
    }
    if (!intact.manifest) notices.push(`${intact.dir} has no manifest.json (saved before checksums): its JSON files and weight-file sizes were checked, not every byte`);
    return { dir: intact.dir, state: intact.state! };
  }

  /**
   * Trains for the configured epochs (continuing from the latest checkpoint with `resume`),
   * evaluating on `val` after every epoch. Resume restarts an interrupted epoch from its beginning
   * with the RNG state saved at that epoch's start, so a resumed run equals an uninterrupted one.
   */
  async fit(train: BatchSource, val: BatchSource): Promise<FitResult> {
    const { runDir, epochs, bestBy, log } = this.o;
    await fsp.mkdir(runDir, { recursive: true });
    const config = this.runConfig();
    let rng = new Rng(this.o.seed);
    let history: EpochRecord[] = [];
    let best: TrainingState['best'] = null;
    let step = 0;
    let startEpoch = 0;
    let optimizer: FusedAdamOptimizer | null = null;
    let resumedFrom: string | null = null;
    if (this.o.resume) {
      // Nothing of the run is written until the resume has started: a refusal leaves the run as it was.
      const notices: string[] = [];
      const ckpt = await this.resumableCheckpoint(notices);
      const diverged = await readDiverged(runDir); // a diverged run continues with a lower learning rate
      const changed = changedSettings(ckpt.state.config, config);
      if (changed.length > 0) {
        throw new ResumeRefusedError(
          `Error in Trainer.fit: resume must keep the settings that define the model, data, preprocessing and optimisation, but ${changed.length === 1 ? 'this one' : 'these'} changed since ${ckpt.dir}: ${changed.join(', ')}. ` +
            `Put ${changed.length === 1 ? 'it' : 'them'} back (in the run's config.json or the flags), or train a new run in another run directory; on resume only ${RESUME_MAY_CHANGE.join(', ')} may change.`,
        );
      }
      const model = this.exportModel;
      optimizer = (await restoreCheckpoint(ckpt.dir, model, () => fusedAdam(this.o.learningRate)).catch((e: unknown) => {
        throw new ResumeRefusedError(`Error in Trainer.fit: resume could not restore ${ckpt.dir}: ${e instanceof Error ? e.message : String(e)}`);
      })) as FusedAdamOptimizer;
      rng = Rng.fromState(ckpt.state.rngState);
      ({ history, best, step } = ckpt.state);
      startEpoch = ckpt.state.epoch;
      resumedFrom = ckpt.dir;
      this.o.onStart?.({ firstEpoch: startEpoch + 1, resumedFrom });
      for (const n of notices) log(n);
      log(`resumed from ${ckpt.dir}: ${startEpoch} epoch(s) done, ${step} steps; restarting at epoch ${startEpoch + 1}`);
      for (const key of RESUME_MAY_CHANGE) {
        const was = ckpt.state.config[key];
        if (was !== undefined && JSON.stringify(was) !== JSON.stringify(config[key])) log(`resume: ${key} changed from ${JSON.stringify(was)} to ${JSON.stringify(config[key])}`);
      }
      if (diverged) {
        log(`the run had diverged at learning rate ${diverged.learningRate}; continuing at ${this.o.learningRate}`);
        await clearDiverged(runDir);
      }
    } else {
      this.o.onStart?.({ firstEpoch: 1, resumedFrom });
    }
    const stepsAtStart = step;
    const vars = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const guard = new DivergenceGuard(this.o.maxLossRatio);
    const diverged = async (epoch: number, stepInEpoch: number, loss: number, detail: string, lr: number) => {
      const error = new TrainingDivergedError(epoch, stepInEpoch, loss, detail, lr, (await latestCheckpoint(runDir))?.dir ?? null);
      await markDiverged(runDir, error, lr);
      optimizer?.dispose(); // its moments are not finite either; the run stops here
      return error;
    };
    const k = this.o.accumulationSteps;
    for (let epoch = startEpoch + 1; epoch <= epochs; epoch++) {
      // Logged: the rate of the epoch's last step (the epoch's rate under StepLR without warm-up).
      const lr = this.learningRateAt(epoch, 1);
      optimizer = await this.rebuildOptimizer(lr, optimizer);
      const opt = optimizer;
      const t0 = Date.now();
      const total = Math.ceil(train.numBatches / k);
      let lossSum = 0;
      let seen = 0;
      let micro = 0;
      let stepInEpoch = 0;
      let acc: tf.NamedTensorMap | null = null;
      const payload = (loss: number) => ({ epoch, epochs, ips: seen / Math.max(1e-3, (Date.now() - t0) / 1000), loss });
      if (this.progress) this.progress.start(total, payload(0));
      const apply = () => {
        const grads = acc as tf.NamedTensorMap;
        const scaled = tf.tidy(() => Object.entries(grads).map(([name, g]) => ({ name, tensor: micro > 1 ? tf.div(g, micro) : g.clone() })));
        opt.setLearningRate(this.learningRateAt(epoch, (stepInEpoch + 1) / total));
        opt.applyGradients(scaled);
        tf.dispose([...scaled.map((s) => s.tensor), ...Object.values(grads)]);
        acc = null;
        micro = 0;
        step += 1;
        stepInEpoch += 1;
        if (this.progress) this.progress.update(stepInEpoch, payload(lossSum / seen));
        this.o.onStep?.({ epoch, step, stepInEpoch, loss: lossSum / seen });
      };
      try {
        for await (const batch of train.epoch(rng)) {
          const x = tf.tensor<tf.Rank>(batch.images, batch.shape) as tf.Tensor4D;
          const { value, grads } = tf.variableGrads(() => this.lossOf(this.outputs(x, true), batch), vars);
          x.dispose();
          const lossValue = (await value.data())[0];
          value.dispose();
          const divergence = guard.check(lossValue);
          if (divergence !== null && step === stepsAtStart && !Number.isFinite(lossValue)) {
            // No optimizer step yet: the learning rate cannot be the cause, so it is not blamed.
            tf.dispose(Object.values(grads));
            const cause = firstStepCause(lossValue, batch.images, { lambda: { value: this.o.lambda, times: this.numClasses, what: '|E[p] − age| years' } });
            throw new Error(`Error in Trainer.fit: the loss is ${lossValue} at epoch ${epoch}, step ${stepInEpoch + 1}, before any optimizer step, so the learning rate is not the cause: ${cause}.`);
          }
          if (divergence !== null) {
            tf.dispose(Object.values(grads));
            throw await diverged(epoch, stepInEpoch + 1, lossValue, divergence, lr);
          }
          lossSum += lossValue * batch.ages.length;
          seen += batch.ages.length;
          if (acc === null) {
            acc = grads;
          } else {
            const prev: tf.NamedTensorMap = acc;
            acc = tf.tidy(() => Object.fromEntries(Object.entries(prev).map(([n, g]) => [n, tf.add(g, grads[n])])));
            tf.dispose([...Object.values(prev), ...Object.values(grads)]);
          }
          micro += 1;
          if (micro === k) apply();
        }
        if (micro > 0) apply();
      } finally {
        if (this.progress) this.progress.stop();
        if (acc) tf.dispose(Object.values(acc as tf.NamedTensorMap));
      }
      const trainSeconds = (Date.now() - t0) / 1000;
      const ev = await this.evaluate(val).catch(async (e: unknown) => {
        if (!(e instanceof NonFinitePredictionError)) throw e;
        throw await diverged(epoch, stepInEpoch, lossSum / seen, `validation: ${e.message.replace(/^Error in \S+: /, '')}`, lr);
      });
      const record: EpochRecord = {
        epoch,
        lr,
        trainLoss: lossSum / seen,
        valLoss: ev.loss,
        mae: ev.metrics.mae,
        ca3: ev.metrics.ca3,
        ca5: ev.metrics.ca5,
        ca7: ev.metrics.ca7,
        ...(this.multiTask ? { genderAcc: ev.genderAcc, ethnicityAcc: ev.ethnicityAcc } : {}),
        seconds: (Date.now() - t0) / 1000,
        imagesPerSecond: seen / trainSeconds,
      };
      history.push(record);
      const value = record[bestBy];
      const improved = best === null || (bestBy === 'mae' ? value < best.value : value > best.value);
      if (improved) {
        best = { epoch, metric: bestBy, value };
        await this.saveBest(epoch, record);
      }
      // preprocessor.json beside the checkpoint's weights, so that eval/predict can use it; resume does not need it (the run config is in state.json).
      const modelFiles = this.o.preprocessor ? { [PREPROCESSOR_JSON]: JSON.stringify(this.o.preprocessor, null, 2) } : undefined;
      await saveCheckpoint(runDir, { model: this.exportModel, optimizer: opt, state: { version: 1, epoch, step, rngState: rng.state, history, best, config }, modelFiles }, this.o.keepCheckpoints);
      await writeFileAtomic(path.join(runDir, 'metrics.csv'), metricsCsv(history));
      await writeSvgPng(curvesSvg(history, `${String(config.title ?? path.basename(runDir))} — ${this.multiTask ? 'multi-task' : this.o.loss}`), path.join(runDir, 'curves.png'));
      log(
        `epoch ${epoch}/${epochs} lr ${lr.toExponential(2)} | train loss ${record.trainLoss.toFixed(4)} | val loss ${record.valLoss.toFixed(4)} ` +
          `MAE ${record.mae.toFixed(3)} CA(3/5/7) ${record.ca3.toFixed(1)}/${record.ca5.toFixed(1)}/${record.ca7.toFixed(1)}` +
          (this.multiTask ? ` gender ${record.genderAcc?.toFixed(1)}% race ${record.ethnicityAcc?.toFixed(1)}%` : '') +
          ` | ${record.imagesPerSecond.toFixed(1)} img/s, ${record.seconds.toFixed(0)} s${improved ? ' | best' : ''}`,
      );
    }
    (optimizer as tf.AdamOptimizer | null)?.dispose(); // its state is in the last checkpoint
    if (!best) throw new Error(`Error in Trainer.fit: epochs must be more than the ${startEpoch} already done, but got ${epochs}.`);
    return { history, best: { epoch: best.epoch, metric: bestBy, value: best.value }, bestDir: path.join(runDir, 'best'), steps: step };
  }
}
