/**
 * The command-line front end the examples share: `train`, `eval --checkpoint DIR`,
 * `predict --checkpoint DIR IMAGE`, with the paper's settings or a named preset, and flags for
 * every setting. An example supplies only its data loading and defaults ({@link ExampleSpec}).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultWasmThreads, MAX_WASM_THREADS } from './backend';
import { type ExperimentOptions, evaluateSaved, loadSavedModel, type ModelConfig, predictImage, runExperiment, setupBackend } from './experiment';
import { readDataset } from './datasets';
import { DUPLICATE_POLICIES, type DuplicateGroup, type DuplicatePolicy, describeDuplicates, sharedImages } from './duplicates';
import { recordFailure, teeWarnings } from './failure';
import { type AgeSample, describeSkipped, type ReaderOptions, splitSamples, type VerifyImages } from './readers';
import type { LossName } from './trainer';

/** Values of the parsed command line (flag name → string/boolean). */
export type CliValues = Record<string, string | boolean | string[] | undefined>;

/** Training settings a preset fixes (flags still override them). */
export type Preset = Omit<Partial<ExperimentOptions>, 'title' | 'runDir' | 'train' | 'test' | 'val'> & {
  model: ModelConfig;
  description: string;
  /** More training data (see `readDataset`), added to the example's own; paths that do not exist are skipped with a note. */
  extraTrain?: ExtraTrain[];
};

/**
 * A dataset added to the training data: a `readDataset` spec, or one whose seeded train/test split is taken
 * and only its training part used (so that its test part, another example's test set, stays unseen).
 */
export type ExtraTrain = string | { path: string; trainPartOf: { seed: number; testFraction: number } };

/** Data of one run, as loaded by an example. */
export interface ExampleData {
  train: AgeSample[];
  test: AgeSample[];
  /** Facts for the log and report (source folder, skipped rows, synthetic…). */
  notes: string[];
  /** Title for the report. */
  title: string;
}

/** What an example plugs into {@link runExampleCli}. */
export interface ExampleSpec {
  /** Short name, used for run directories (`runs/<name>-<preset>-<time>`). */
  name: string;
  /** Presets; `paper` is the default. */
  presets: Record<string, Preset>;
  /** Extra flags of this example (parsed as strings unless `type: 'boolean'`). */
  flags: Record<string, { type: 'string' | 'boolean'; description: string }>;
  /** Loads train/test samples for `train`. */
  loadData(values: CliValues, reader: ReaderOptions): Promise<ExampleData>;
  /** Loads the samples `eval` uses. */
  loadEvalData(values: CliValues, reader: ReaderOptions): Promise<{ samples: AgeSample[]; notes: string[] }>;
  /** Adjusts a preset from example flags (e.g. `--multi-task`). */
  adjust?(preset: Preset, values: CliValues): Preset;
  /** Repository root (run directories go to `<root>/runs`). */
  repoRoot: string;
}

const COMMON_FLAGS: Record<string, { type: 'string' | 'boolean'; description: string; multiple?: boolean }> = {
  preset: { type: 'string', description: 'paper (default) or another of the presets listed above' },
  'run-dir': { type: 'string', description: 'output directory (default runs/<example>-<preset>-<time>)' },
  resume: { type: 'boolean', description: 'continue the run in --run-dir from its latest checkpoint' },
  backend: { type: 'string', description: 'tensorflow | webgpu | wasm | cpu (default: first that loads)' },
  'wasm-threads': { type: 'string', description: `wasm backend threads, 1..${MAX_WASM_THREADS} (default: the CPUs, here ${defaultWasmThreads()}; 1: single-threaded build)` },
  'no-fast-kernels': { type: 'boolean', description: 'do not register @ldl/kernels gradients' },
  backbone: { type: 'string', description: 'seresnext50_32x4d | resnext50_32x4d | resnet50 | resnet34 | resnet18 | vgg16bn | facerec_resnet34' },
  'pretrained-weights': { type: 'string', description: "start from a pretrained weight set: 'default' or a tag (faceapi, keras_imagenet); 'none' for random init" },
  'head-features': { type: 'string', description: "features the age head pools, comma-separated (default pool; e.g. layer3,pool)" },
  'head-norm': { type: 'boolean', description: "batch-normalise the age head's input features" },
  'head-hidden': { type: 'string', description: 'units of a hidden ReLU layer in the age head (0: linear head)' },
  'head-dropout': { type: 'string', description: 'dropout rate before the age layer' },
  freeze: { type: 'string', description: "freeze the backbone up to this stage (layer1..layer4) or layer; 'none' trains all" },
  'backbone-lr-scale': { type: 'string', description: 'learning-rate multiplier of the unfrozen backbone layers' },
  'cache-features': { type: 'boolean', description: 'train above --freeze on cached features (flip augmentation only)' },
  'no-cache-features': { type: 'boolean', description: 'train through the frozen layers (full augmentation)' },
  schedule: { type: 'string', description: 'step (StepLR) | cosine' },
  'warmup-epochs': { type: 'string', description: 'linear learning-rate warm-up, epochs' },
  crop: { type: 'string', description: 'whole images without a box: stretch | square-center | square-bottom' },
  'feature-cache-dir': { type: 'string', description: 'where --cache-features keeps its features (default RUN_DIR/feature-cache; share it between runs)' },
  'extra-train': { type: 'string', multiple: true, description: 'more training data: a MegaAge folder[:split], a MORPH-style .csv or a UTKFace folder (repeatable)' },
  'no-extra-train': { type: 'boolean', description: "ignore the preset's extra training data" },
  'width-scale': { type: 'string', description: 'channel multiplier' },
  'depth-scale': { type: 'string', description: 'depth multiplier' },
  'image-size': { type: 'string', description: 'input side in pixels' },
  pretrained: { type: 'string', description: 'timm safetensors state dict to start from' },
  epochs: { type: 'string', description: 'epochs' },
  'batch-size': { type: 'string', description: 'batch size per optimizer step' },
  'accumulation-steps': { type: 'string', description: 'micro-batches per step (gradient accumulation)' },
  lr: { type: 'string', description: 'Adam learning rate' },
  'step-size': { type: 'string', description: 'StepLR step size (epochs)' },
  gamma: { type: 'string', description: 'StepLR factor' },
  sigma: { type: 'string', description: 'label sigma' },
  lambda: { type: 'string', description: 'weight of the expectation L1 term' },
  loss: { type: 'string', description: 'ldl | ce | mean-variance' },
  margin: { type: 'string', description: 'face-box margin ratio (aligned CSV)' },
  'no-augment': { type: 'boolean', description: 'turn the paper augmentation off' },
  seed: { type: 'string', description: 'seed of init, shuffling and augmentation' },
  'val-fraction': { type: 'string', description: 'fraction of train held out for validation (0: validate on test)' },
  'flip-tta': { type: 'boolean', description: 'average with the mirrored image when evaluating' },
  'skip-bad': { type: 'boolean', description: 'skip bad rows (reported with a count) instead of stopping' },
  'verify-images': { type: 'string', description: 'decode (default: every image decoded up front by the one decoder training uses) | header | exists | none' },
  duplicates: { type: 'string', description: 'rows showing the same image (path listed again, byte-identical file): keep (default) | merge (mean age) | drop (all but the first); always reported' },
  'save-samples': { type: 'boolean', description: 'write samples.png, a grid of augmented inputs' },
  checkpoint: { type: 'string', description: 'eval/predict: run dir, best/ dir or checkpoint dir' },
  top: { type: 'string', description: 'predict: how many ages of the distribution to print' },
  help: { type: 'boolean', description: 'this help' },
};

function num(values: CliValues, flag: string): number | undefined {
  const v = values[flag];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n)) throw new Error(`Error in ${flag}: --${flag} must be a number, but got ${JSON.stringify(v)}.`);
  return n;
}

/**
 * `--wasm-threads`: an integer in 1..{@link MAX_WASM_THREADS}, or undefined (the default of
 * `selectBackend`); refused with a backend other than wasm, where it would do nothing.
 */
function wasmThreads(values: CliValues): number | undefined {
  const v = values['wasm-threads'];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    throw new Error(`Error in --wasm-threads: --wasm-threads must be an integer in 1..${MAX_WASM_THREADS}, but got ${JSON.stringify(v)}.`);
  }
  if (values.backend !== undefined && values.backend !== 'wasm') {
    throw new Error(`Error in --wasm-threads: --wasm-threads needs the wasm backend (or automatic choice), but got --backend ${JSON.stringify(values.backend)}.`);
  }
  return n;
}

function verifyImages(values: CliValues): VerifyImages {
  const v = values['verify-images'] ?? 'decode';
  const allowed: VerifyImages[] = ['decode', 'header', 'exists', 'none'];
  if (!allowed.includes(v as VerifyImages)) throw new Error(`Error in --verify-images: --verify-images must be one of ${allowed.join(', ')}, but got ${JSON.stringify(v)}.`);
  return v as VerifyImages;
}

function duplicatePolicy(values: CliValues): DuplicatePolicy {
  const v = values.duplicates ?? 'keep';
  if (!DUPLICATE_POLICIES.includes(v as DuplicatePolicy)) throw new Error(`Error in --duplicates: --duplicates must be one of ${DUPLICATE_POLICIES.join(', ')}, but got ${JSON.stringify(v)}.`);
  return v as DuplicatePolicy;
}

function usage(spec: ExampleSpec, flags: Record<string, { description: string }>): string {
  return [
    `usage: tsx src/cli.ts <train|eval|predict> [flags]`,
    `  train                          train and write a report`,
    `  eval --checkpoint DIR          evaluate a saved model`,
    `  predict --checkpoint DIR IMAGE print the age and the top of the distribution`,
    `presets: ${Object.entries(spec.presets).map(([k, p]) => `${k} (${p.description})`).join('; ')}`,
    'flags:',
    ...Object.entries(flags).map(([k, f]) => `  --${k.padEnd(22)} ${f.description}`),
  ].join('\n');
}

/**
 * Parses `argv` and runs the command. Returns the process exit code: end the process with
 * `process.exit(code)` — on the wasm backend with more than one thread (the default on a multi-core
 * machine, `--wasm-threads`) the thread pool keeps Node's event loop alive, so returning from `main`
 * does not end it.
 */
export async function runExampleCli(spec: ExampleSpec, argv: string[]): Promise<number> {
  const flags = { ...COMMON_FLAGS, ...spec.flags };
  const { values, positionals } = parseArgs({ args: argv, options: flags, allowPositionals: true, strict: true });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(usage(spec, flags));
    return values.help ? 0 : 2;
  }
  const reader: ReaderOptions = {
    skipBad: Boolean(values['skip-bad']),
    verifyImages: verifyImages(values),
    duplicates: duplicatePolicy(values),
  };
  const presetName = (values.preset as string | undefined) ?? 'paper';
  const base = spec.presets[presetName];
  if (!base) throw new Error(`Error in --preset: preset must be one of ${Object.keys(spec.presets).join(', ')}, but got ${JSON.stringify(presetName)}.`);
  const preset = spec.adjust ? spec.adjust(base, values) : base;
  const threads = wasmThreads(values);
  if (command === 'train') {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 13);
    const runDir = path.resolve((values['run-dir'] as string | undefined) ?? path.join(spec.repoRoot, 'runs', `${spec.name}-${presetName}-${stamp}`));
    // The run directory exists from the start: a data error, a warning or a crash is in its train.log,
    // and a failed run leaves report.json with status 'failed' and the reason.
    await mkdir(runDir, { recursive: true });
    const restoreWarn = teeWarnings(runDir);
    try {
      await train(spec, values, runDir, reader, presetName, preset, threads);
    } catch (e) {
      await recordFailure(runDir, e);
      throw e;
    } finally {
      restoreWarn();
    }
    return 0;
  }
  if (command === 'eval' || command === 'predict') {
    return evalOrPredict(command, values, rest, spec, reader, threads);
  }
  throw new Error(`Error in command: command must be train, eval or predict, but got ${JSON.stringify(command)}.`);
}

async function train(spec: ExampleSpec, values: CliValues, runDir: string, reader: ReaderOptions, presetName: string, preset: Preset, threads: number | undefined): Promise<void> {
  const pick = <T>(v: T | undefined, d: T | undefined) => (v === undefined ? d : v);
  const data = await spec.loadData(values, reader);
  const fromFlags = (values['extra-train'] as string[] | undefined) ?? [];
  const extras: ExtraTrain[] = values['no-extra-train'] ? [] : [...(preset.extraTrain ?? []), ...fromFlags];
  const valFraction = pick(num(values, 'val-fraction'), preset.valFraction) ?? 0.1;
  const splitSeed = preset.splitSeed ?? 0;
  // Validation comes from the example's own training data, not from the extra sets: the best epoch is the best on this task.
  let val: AgeSample[] | undefined;
  if (extras.length > 0 && valFraction > 0) {
    const split = splitSamples(data.train, splitSeed, valFraction);
    data.train = split.train;
    val = split.test;
    data.notes.push(`validation: ${(valFraction * 100).toFixed(0)} % of the example's training list (seed ${splitSeed}), before extra data is added; the test set is used only for the final report`);
  }
  for (const extra of extras) {
    const source = typeof extra === 'string' ? extra : extra.path;
    const fromFlag = typeof extra === 'string' && fromFlags.includes(extra);
    if (!fromFlag && !existsSync(source.replace(/:[A-Za-z0-9_-]+$/, ''))) {
      data.notes.push(`extra training data ${source} (preset) not found: skipped`);
      continue;
    }
    // A preset's extra data is read with --skip-bad (UTKFace has ages above 100): the skipped rows are counted in the notes.
    const r = await readDataset(source, fromFlag ? reader : { ...reader, skipBad: true });
    const part = typeof extra === 'string' ? null : extra.trainPartOf;
    const samples = part ? splitSamples(r.samples, part.seed, part.testFraction).train : r.samples;
    data.train = [...data.train, ...samples];
    data.notes.push(
      `extra training data: ${r.path} (${r.format}), ${samples.length} samples` +
        (part ? ` (the training part of its seeded ${Math.round(100 * (1 - part.testFraction))}/${Math.round(100 * part.testFraction)} split, seed ${part.seed}; its test part stays unseen)` : ''),
      ...noteSkipped(path.basename(r.path), r.skipped),
    );
  }
  const leaked = sharedImages(data.train, data.test);
  if (leaked.length > 0) {
    data.notes.push(
      `WARNING: ${leaked.length} test image${leaked.length === 1 ? ' is' : 's are'} also in the training data (same path or byte-identical), so test figures are optimistic; first: ${leaked
        .slice(0, 3)
        .map((s) => `${s.path} (${s.source.file}${s.source.line ? ` line ${s.source.line}` : ''})`)
        .join(', ')}`,
    );
  }
  const pretrainedWeights = values['pretrained-weights'] as string | undefined;
  const model: ModelConfig = {
    ...preset.model,
    ...(pretrainedWeights !== undefined ? { pretrained: pretrainedWeights === 'none' ? false : pretrainedWeights === 'default' ? true : pretrainedWeights } : {}),
    ...(values['head-features'] ? { headFeatures: String(values['head-features']).split(',').map((f) => f.trim()) } : {}),
    ...(values.freeze ? { freeze: String(values.freeze) } : {}),
    ...(values['head-norm'] ? { headNorm: true } : {}),
    ...(values['head-hidden'] ? { headHidden: num(values, 'head-hidden') } : {}),
    ...(values['head-dropout'] ? { headDropout: num(values, 'head-dropout') } : {}),
    ...(values['backbone-lr-scale'] ? { backboneLrScale: num(values, 'backbone-lr-scale') } : {}),
    ...(values['cache-features'] ? { cacheFeatures: true } : {}),
    ...(values['no-cache-features'] ? { cacheFeatures: false } : {}),
    ...(values.backbone ? { backbone: values.backbone as ModelConfig['backbone'] } : {}),
    ...(values['width-scale'] ? { widthScale: num(values, 'width-scale') } : {}),
    ...(values['depth-scale'] ? { depthScale: num(values, 'depth-scale') } : {}),
    ...(values['image-size'] ? { imageSize: num(values, 'image-size') } : {}),
  };
  await runExperiment({
    ...preset,
    title: `${data.title} — preset ${presetName}`,
    runDir,
    train: data.train,
    test: data.test,
    ...(val ? { val } : {}),
    model,
    pretrained: pick(values.pretrained as string | undefined, preset.pretrained),
    epochs: pick(num(values, 'epochs'), preset.epochs),
    batchSize: pick(num(values, 'batch-size'), preset.batchSize),
    accumulationSteps: pick(num(values, 'accumulation-steps'), preset.accumulationSteps),
    learningRate: pick(num(values, 'lr'), preset.learningRate),
    stepSize: pick(num(values, 'step-size'), preset.stepSize),
    gamma: pick(num(values, 'gamma'), preset.gamma),
    schedule: pick(values.schedule as ExperimentOptions['schedule'], preset.schedule),
    warmupEpochs: pick(num(values, 'warmup-epochs'), preset.warmupEpochs),
    crop: pick(values.crop as ExperimentOptions['crop'], preset.crop),
    featureCacheDir: values['feature-cache-dir'] ? path.resolve(String(values['feature-cache-dir'])) : preset.featureCacheDir,
    sigma: pick(num(values, 'sigma'), preset.sigma),
    lambda: pick(num(values, 'lambda'), preset.lambda),
    loss: pick(values.loss as LossName | undefined, preset.loss),
    margin: pick(num(values, 'margin'), preset.margin),
    augment: values['no-augment'] ? false : pick(preset.augment, {}),
    seed: pick(num(values, 'seed'), preset.seed),
    valFraction: pick(num(values, 'val-fraction'), preset.valFraction),
    backend: values.backend as string | undefined,
    wasmThreads: threads,
    fastKernels: !values['no-fast-kernels'],
    saveSamples: Boolean(values['save-samples']),
    resume: Boolean(values.resume),
    flipTTA: Boolean(values['flip-tta']) || preset.flipTTA,
    notes: data.notes,
  });
}

async function evalOrPredict(command: 'eval' | 'predict', values: CliValues, rest: string[], spec: ExampleSpec, reader: ReaderOptions, threads: number | undefined): Promise<number> {
  const checkpoint = values.checkpoint as string | undefined;
  if (!checkpoint) throw new Error(`Error in ${command}: --checkpoint DIR is required (a run directory, its best/ or a checkpoint directory).`);
  const log = (l: string) => console.log(l);
  await setupBackend(values.backend as string | undefined, !values['no-fast-kernels'], log, { wasmThreads: threads });
  const saved = await loadSavedModel(path.resolve(checkpoint));
  log(`model: ${saved.dir}`);
  if (command === 'eval') {
    const { samples, notes } = await spec.loadEvalData(values, reader);
    notes.forEach((n) => log(n));
    const runDir = path.dirname(saved.dir);
    const r = await evaluateSaved(saved, samples, { runDir, flipTTA: Boolean(values['flip-tta']) });
    const m = r.metrics;
    log(`eval on ${m.count} images: MAE ${m.mae.toFixed(3)} CA(3) ${m.ca3.toFixed(1)} % CA(5) ${m.ca5.toFixed(1)} % CA(7) ${m.ca7.toFixed(1)} % loss ${r.loss.toFixed(4)}`);
    if (r.genderAcc !== undefined) log(`gender accuracy ${r.genderAcc.toFixed(1)} %, ethnicity accuracy ${r.ethnicityAcc?.toFixed(1)} %`);
    return 0;
  }
  const image = rest[0];
  if (!image) throw new Error('Error in predict: IMAGE is required: predict --checkpoint DIR IMAGE.');
  const p = await predictImage(saved, image, num(values, 'top') ?? 5);
  console.log(`${image}: age ${p.age.toFixed(1)}`);
  console.log(`top of the distribution: ${p.top.map((t) => `${t.age} (${(100 * t.p).toFixed(1)} %)`).join(', ')}`);
  if (p.female !== undefined) console.log(`P(female) ${(100 * p.female).toFixed(1)} %, ethnicity probabilities ${p.ethnicity?.map((x) => x.toFixed(2)).join(' ')}`);
  return 0;
}

/** A note on the duplicates a reader found (count, first few, conflicting labels), or none. */
export function noteDuplicates(label: string, groups: readonly DuplicateGroup[], policy: DuplicatePolicy = 'keep'): string[] {
  if (groups.length === 0) return [];
  const action = { keep: 'all rows kept', merge: 'each merged into one row with the mean age', drop: 'all but the first row dropped' }[policy];
  return [`WARNING ${label}: ${describeDuplicates(groups, 3).replace(/:\n/, `; ${action} (--duplicates ${policy}); kept on one side of every split:\n`).replace(/\n {2}/g, '\n    ')}`];
}

/** Logs skipped rows of a reader result into `notes` (and returns the notes). */
export function noteSkipped(label: string, skipped: Parameters<typeof describeSkipped>[0]): string[] {
  return skipped.length ? [`${label}: ${describeSkipped(skipped).split('\n')[0].replace(/:$/, '')} (--skip-bad); first: ${skipped[0].file}${skipped[0].line ? ` line ${skipped[0].line}` : ''}: ${skipped[0].reason}`] : [];
}
