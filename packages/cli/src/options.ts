/**
 * The settings of `ldl train|eval|predict`, one table for both their sources: a flag `--image-size 64`
 * and a config-file key `imageSize: 64` are the same setting, checked by the same rule. Each setting
 * that a preset may fix names its place in `ExperimentOptions` (`path`).
 */
import { BACKEND_ORDER, DATASET_FORMATS, DUPLICATE_POLICIES, MAX_WASM_THREADS } from '@ldl/train';

/** Value kinds: a path is resolved against the config file's folder (or the working directory for a flag). */
export type OptionKind = 'string' | 'path' | 'number' | 'integer' | 'boolean' | 'list' | 'extra';

/** Commands that take table options (`pack` is `ldl prep pack`). */
export type CommandName = 'train' | 'eval' | 'predict' | 'pack';

/** One setting. */
export interface OptionSpec {
  /** Flag name without dashes (`wasm-threads`); the config-file key is its camelCase (`wasmThreads`). */
  flag: string;
  /** Value kind. */
  kind: OptionKind;
  /** Allowed values (string kinds). */
  choices?: readonly string[];
  /** A further rule for numbers, and how the error states it (`an integer in 1..8`). */
  check?: { test(n: number): boolean; text: string };
  /** `--help` text. */
  description: string;
  /** A boolean that is on unless `--no-<flag>` (or `false` in the file). */
  negatable?: boolean;
  /** Place in `ExperimentOptions` (a preset's value is read from there, the resolved value written there). */
  path?: readonly string[];
  /** Commands that accept it. */
  commands: readonly CommandName[];
}

const T: readonly CommandName[] = ['train'];
const TE: readonly CommandName[] = ['train', 'eval'];
/** The data settings: `ldl prep pack` reads the data as train and eval do. */
const TEP: readonly CommandName[] = ['train', 'eval', 'pack'];
const ALL: readonly CommandName[] = ['train', 'eval', 'predict'];
const positive = { test: (n: number) => n > 0, text: 'a number > 0' };
const positiveInt = { test: (n: number) => Number.isInteger(n) && n >= 1, text: 'an integer ≥ 1' };
const fraction = { test: (n: number) => n >= 0 && n < 1, text: 'a number in [0, 1)' };
const nonNegative = { test: (n: number) => n >= 0, text: 'a number ≥ 0' };

/** Every setting, in `--help` order. */
export const OPTIONS: readonly OptionSpec[] = [
  // data
  { flag: 'data', kind: 'path', commands: TEP, description: 'the data set: a MegaAge-Asian folder (list/, train/, test/), a MORPH-style CSV, or a folder of UTKFace-named photos' },
  { flag: 'data-format', kind: 'string', choices: DATASET_FORMATS, commands: TEP, description: `its layout: ${DATASET_FORMATS.join(' | ')} (default: detected from the path)` },
  { flag: 'synthetic', kind: 'boolean', commands: TEP, description: 'use generated synthetic faces (MegaAge layout, in RUNS_DIR/synthetic-megaage) instead of --data' },
  { flag: 'train-csv', kind: 'path', commands: TEP, description: "megaage: aligned CSV for train (photo,age,deg,box1..box4), or the faces.csv of 'ldl prep align' (ages joined from list/train_*.txt); photos relative to --data" },
  { flag: 'test-csv', kind: 'path', commands: TEP, description: 'megaage: aligned CSV for test' },
  { flag: 'faces', kind: 'path', commands: TEP, description: "morph-csv: the faces.csv of 'ldl prep align': crops by its boxes, ages from --data joined by photo path (relative to --image-root)" },
  { flag: 'aligned', kind: 'boolean', commands: TEP, description: 'morph-csv: the CSV is an aligned one (photo,age,deg,box1..box4[,gender,race])' },
  { flag: 'image-root', kind: 'path', commands: [...TEP, 'predict'], description: "morph-csv: folder photo paths are relative to (default: the CSV's); predict: the folder --list's paths are relative to (default: the list's)" },
  { flag: 'split-seed', kind: 'integer', commands: TEP, description: 'morph-csv, utkface-dir: seed of the 80/20 train/test split (default 0)' },
  { flag: 'race-classes', kind: 'list', commands: TEP, description: 'race labels in class order (default White,Black,Asian,Indian,Others; MORPH: B,W,A,H,O)' },
  { flag: 'photo-col', kind: 'string', commands: TEP, description: 'morph-csv: photo column (default photo)' },
  { flag: 'age-col', kind: 'string', commands: TEP, description: 'morph-csv: age column (default age; absent: from MORPH Album2 names)' },
  { flag: 'gender-col', kind: 'string', commands: TEP, description: 'morph-csv: gender column (default gender)' },
  { flag: 'race-col', kind: 'string', commands: TEP, description: 'morph-csv: race column (default race)' },
  { flag: 'split-col', kind: 'string', commands: ['pack'], description: "morph-csv: the column naming each photo's split (train, test, …), used instead of the seeded 80/20 split" },
  { flag: 'split', kind: 'string', choices: ['train', 'test'], commands: ['eval'], description: 'the split to evaluate (default test)' },
  { flag: 'limit', kind: 'integer', check: positiveInt, commands: TE, description: 'read only the first N valid rows of each list or table (train, test, each extra data set): a quick check that a command starts; its figures mean nothing' },
  { flag: 'skip-bad', kind: 'boolean', commands: TEP, description: 'skip bad rows (reported with a count) instead of stopping' },
  { flag: 'verify-images', kind: 'string', choices: ['decode', 'header', 'exists', 'none'], commands: TEP, description: 'decode (default: every image decoded up front by the one decoder training uses) | header | exists | none' },
  { flag: 'duplicates', kind: 'string', choices: DUPLICATE_POLICIES, commands: TEP, description: 'rows showing the same image: keep (default) | merge (mean age) | drop (all but the first); always reported' },
  // run
  { flag: 'title', kind: 'string', commands: T, description: 'report title (default: the data folder and format)' },
  { flag: 'name', kind: 'string', commands: T, description: 'run name prefix: runs go to RUNS_DIR/<name>-<preset>-<time> (default ldl)' },
  { flag: 'runs-dir', kind: 'path', commands: TEP, description: 'folder of run directories and the synthetic data (default ./runs)' },
  { flag: 'run-dir', kind: 'path', commands: T, description: 'output directory (default RUNS_DIR/<name>-<preset>-<time>)' },
  { flag: 'resume', kind: 'boolean', commands: T, description: 'continue the run in --run-dir from its latest checkpoint, with the settings of its config.json (flags on top)' },
  { flag: 'overwrite', kind: 'boolean', commands: T, description: "replace the run already in --run-dir (its checkpoints, best/, report, log); without it a run directory that holds a run is refused" },
  { flag: 'backend', kind: 'string', choices: BACKEND_ORDER, commands: ALL, description: `${BACKEND_ORDER.join(' | ')} (default: the first that loads)` },
  { flag: 'wasm-threads', kind: 'integer', check: { test: (n) => Number.isInteger(n) && n >= 1 && n <= MAX_WASM_THREADS, text: `an integer in 1..${MAX_WASM_THREADS}` }, commands: ALL, description: `wasm backend threads, 1..${MAX_WASM_THREADS} (default: the CPUs, at most ${MAX_WASM_THREADS}; 1: single-threaded build)` },
  { flag: 'fast-kernels', kind: 'boolean', negatable: true, path: ['fastKernels'], commands: ALL, description: "register @ldl/kernels' faster gradients (--no-fast-kernels: off)" },
  // model
  { flag: 'backbone', kind: 'string', path: ['model', 'backbone'], commands: T, description: 'seresnext50_32x4d | resnext50_32x4d | resnet50 | resnet34 | resnet18 | vgg16bn | facerec_resnet34 | agegender_tinyxception' },
  { flag: 'pretrained-weights', kind: 'string', path: ['model', 'pretrained'], commands: T, description: "start from a pretrained weight set of the backbone: 'default' or a tag (faceapi, keras_imagenet); 'none' for random init" },
  { flag: 'head-features', kind: 'list', path: ['model', 'headFeatures'], commands: T, description: 'features the age head pools, comma-separated (default pool; e.g. layer3,pool)' },
  { flag: 'head-norm', kind: 'boolean', path: ['model', 'headNorm'], commands: T, description: "batch-normalise the age head's input features" },
  { flag: 'head-hidden', kind: 'integer', check: { test: (n) => Number.isInteger(n) && n >= 0, text: 'an integer ≥ 0' }, path: ['model', 'headHidden'], commands: T, description: 'units of a hidden ReLU layer in the age head (0: linear head)' },
  { flag: 'head-dropout', kind: 'number', check: fraction, path: ['model', 'headDropout'], commands: T, description: 'dropout rate before the age layer' },
  { flag: 'freeze', kind: 'string', path: ['model', 'freeze'], commands: T, description: "freeze the backbone up to this stage (layer1..layer4) or layer; 'none' trains all" },
  { flag: 'backbone-lr-scale', kind: 'number', check: nonNegative, path: ['model', 'backboneLrScale'], commands: T, description: 'learning-rate multiplier of the unfrozen backbone layers' },
  { flag: 'cache-features', kind: 'boolean', path: ['model', 'cacheFeatures'], commands: T, description: 'train above --freeze on cached features (flip augmentation only); --no-cache-features trains through the frozen layers' },
  { flag: 'cache-mirrors', kind: 'boolean', negatable: true, path: ['model', 'cacheMirrors'], commands: T, description: "with cached features, also cache each training image's mirror, the flip augmentation (--no-cache-mirrors: off, half the caching time)" },
  { flag: 'width-scale', kind: 'number', check: positive, path: ['model', 'widthScale'], commands: T, description: 'channel multiplier' },
  { flag: 'depth-scale', kind: 'number', check: positive, path: ['model', 'depthScale'], commands: T, description: 'depth multiplier' },
  { flag: 'image-size', kind: 'integer', check: positiveInt, path: ['model', 'imageSize'], commands: ['train', 'pack'], description: 'input side in pixels' },
  { flag: 'multi-task', kind: 'boolean', path: ['model', 'multiTask'], commands: T, description: 'age + gender + ethnicity model (classes: --race-classes)' },
  // training
  { flag: 'pretrained', kind: 'path', path: ['pretrained'], commands: T, description: 'PyTorch safetensors state dict (timm names) to start from' },
  { flag: 'pretrained-strict', kind: 'boolean', negatable: true, path: ['pretrainedStrict'], commands: T, description: "--pretrained must match the model (PyTorch's strict load_state_dict); --no-pretrained-strict loads the matching tensors" },
  { flag: 'epochs', kind: 'integer', check: positiveInt, path: ['epochs'], commands: T, description: 'epochs' },
  { flag: 'batch-size', kind: 'integer', check: positiveInt, path: ['batchSize'], commands: T, description: 'batch size per optimizer step' },
  { flag: 'accumulation-steps', kind: 'integer', check: positiveInt, path: ['accumulationSteps'], commands: T, description: 'micro-batches per step (gradient accumulation)' },
  { flag: 'lr', kind: 'number', check: positive, path: ['learningRate'], commands: T, description: 'Adam learning rate' },
  { flag: 'schedule', kind: 'string', choices: ['step', 'cosine'], path: ['schedule'], commands: T, description: 'step (StepLR) | cosine' },
  { flag: 'step-size', kind: 'integer', check: positiveInt, path: ['stepSize'], commands: T, description: 'StepLR step size (epochs)' },
  { flag: 'gamma', kind: 'number', check: positive, path: ['gamma'], commands: T, description: 'StepLR factor' },
  { flag: 'warmup-epochs', kind: 'number', check: nonNegative, path: ['warmupEpochs'], commands: T, description: 'linear learning-rate warm-up, epochs' },
  { flag: 'sigma', kind: 'number', check: positive, path: ['sigma'], commands: T, description: 'label σ, years' },
  { flag: 'lambda', kind: 'number', check: nonNegative, path: ['lambda'], commands: T, description: 'weight of the expectation L1 term' },
  { flag: 'loss', kind: 'string', choices: ['ldl', 'ce', 'mean-variance'], path: ['loss'], commands: T, description: 'ldl | ce | mean-variance' },
  { flag: 'best-by', kind: 'string', choices: ['mae', 'ca3', 'ca5', 'ca7'], path: ['bestBy'], commands: T, description: 'validation metric that picks the best epoch' },
  { flag: 'crop', kind: 'string', choices: ['stretch', 'square-center', 'square-bottom'], path: ['crop'], commands: ['train', 'pack'], description: 'whole images without a box: stretch | square-center | square-bottom' },
  { flag: 'margin', kind: 'number', check: nonNegative, path: ['margin'], commands: ['train', 'pack'], description: 'face-box margin ratio (aligned CSV)' },
  { flag: 'augment', kind: 'boolean', negatable: true, path: ['augment'], commands: T, description: "the paper's augmentation (--no-augment: off)" },
  { flag: 'seed', kind: 'integer', path: ['seed'], commands: T, description: 'seed of init, shuffling and augmentation' },
  { flag: 'val-fraction', kind: 'number', check: fraction, path: ['valFraction'], commands: T, description: 'fraction of train held out for validation (0: validate on test)' },
  { flag: 'feature-cache-dir', kind: 'path', path: ['featureCacheDir'], commands: T, description: 'where --cache-features keeps its features (default RUN_DIR/feature-cache; share it between runs)' },
  { flag: 'extra-train', kind: 'extra', path: ['extraTrain'], commands: T, description: 'more training data: a MegaAge folder[:split], a MORPH-style .csv or a UTKFace folder (repeatable; --no-extra-train drops the preset\'s)' },
  { flag: 'save-samples', kind: 'boolean', path: ['saveSamples'], commands: T, description: 'write samples.png, a grid of augmented inputs' },
  { flag: 'flip-tta', kind: 'boolean', path: ['flipTta'], commands: TE, description: "average with the mirrored image when evaluating (eval: the run's own setting unless given; --no-flip-tta: off)" },
  // eval / predict
  { flag: 'checkpoint', kind: 'path', commands: ['eval', 'predict'], description: 'the model: a run directory, its best/ or a checkpoint directory (with preprocessor.json)' },
  { flag: 'top', kind: 'integer', check: positiveInt, commands: ['predict'], description: 'how many ages of the distribution to print (default 5)' },
  { flag: 'list', kind: 'path', commands: ['predict'], description: 'a file of image paths, one per line, relative to --image-root (default: its folder)' },
  { flag: 'out', kind: 'path', commands: ['predict', 'pack'], description: 'predict: write photo,status,age,top[,gender,ethnicity],error rows to this CSV instead of printing (a partial one is resumed); pack: the folder of tar files and shards.json' },
  { flag: 'image-format', kind: 'string', choices: ['png', 'jpg'], commands: ['pack'], description: 'pack: encoding of the crops in the tar files (default png; jpg at quality 95)' },
  { flag: 'samples-per-tar', kind: 'integer', check: positiveInt, commands: ['pack'], description: 'pack: samples per tar file (default 1000)' },
  { flag: 'shard', kind: 'string', commands: ['predict', 'pack'], description: "predict/pack shard i/N (1-based) of the images (predict: with --out), or 'auto' in a Kubernetes Indexed Job, Slurm array or AWS Batch array job (ldl prep --help)" },
  { flag: 'shard-count', kind: 'integer', check: positiveInt, commands: ['predict', 'pack'], description: "--shard auto: the number of shards (a Kubernetes Indexed Job's completions; checked against Slurm's and AWS Batch's own count)" },
];

/** The config-file key of a flag (`wasm-threads` → `wasmThreads`). */
export const keyOf = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Options by config-file key. */
export const OPTIONS_BY_KEY: ReadonlyMap<string, OptionSpec> = new Map(OPTIONS.map((o) => [keyOf(o.flag), o]));

/** A setting's value after checking: what {@link OptionSpec.kind} holds. */
export type OptionValue = string | number | boolean | string[] | ExtraTrainValue[];

/** An `extraTrain` entry as written in a config file (a path, or the training part of a seeded split). */
export type ExtraTrainValue = string | { path: string; trainPartOf: { seed: number; testFraction: number } };

/** Settings by config-file key. */
export type Settings = Record<string, OptionValue>;
