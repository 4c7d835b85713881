/** Age models: a backbone of @ldl/backbones (random or pretrained) with an age head, frozen up to a stage. */
import { type BackboneName, backbones, BatchNorm, createModel, featureLayer, type ModelName, multiTaskAgeModel, type PretrainedCfg, ResizeBilinear, RESNET_VARIANTS, splitModel } from '@ldl/backbones';
import { layers as tfl, model as functionalModel, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { IMAGENET_NORMALIZATION, type Normalization } from '../data/pipeline';
import { Rng } from '@ldl/core';

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
   * Features the age head reads (pretrained models): `'pool'` (the backbone's pooled output) and stage or
   * layer names (`'layer3'`, globally average-pooled; a layer whose output is already a vector, such as
   * `faceres_mobilenet`'s `'global_pooling'`, as it is), concatenated. @default ['pool']
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
  /**
   * With `cacheFeatures`, also run the frozen part on the mirror of every training image, so that training
   * draws the original or the mirror (the flip augmentation); `false` halves the caching time of the training
   * set and trains without flips (validation and test mirrors are still cached for flip TTA). @default true
   */
  cacheMirrors?: boolean;
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
      const feats = headFeatures.map((f) => {
        if (f === 'pool') return trunk.outputs[0] as SymbolicTensor;
        const out = featureLayer(trunk, f).output as SymbolicTensor;
        // A feature map is average-pooled; a vector (a pooling or dense layer's output) is taken as it is.
        return out.shape.length === 2 ? out : (tfl.globalAveragePooling2d({ name: `${f}_pool` }).apply(out) as SymbolicTensor);
      });
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
