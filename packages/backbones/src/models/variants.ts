import { input, layers, model as functionalModel, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { resnet, RESNET_STAGES, type ResNetConfig } from './resnet.js';
import { vgg, VGG16_CFG } from './vgg.js';
import { FACEREC_STAGES } from './face_recognition_net.js';

/** Options every named backbone takes (the rest of the architecture is fixed by the name). */
export interface VariantConfig {
  /** Classifier outputs. @default 1000 */
  numClasses?: number;
  /** Input `[H, W, 3]`. @default [224, 224, 3] */
  inputShape?: [number, number, number];
  /** Channel multiplier for small (test / CPU) models. @default 1 */
  widthScale?: number;
  /** Depth multiplier for small models (ResNet family only). @default 1 */
  depthScale?: number;
  /** Adds the classifier; without it the model outputs the pooled features (`pool`). @default true */
  includeTop?: boolean;
  /** Model name. @default the backbone name */
  name?: string;
}

/** Architecture of each named ResNet-family variant (timm names). */
export const RESNET_VARIANTS: Readonly<Record<'resnet18' | 'resnet34' | 'resnet50' | 'resnext50_32x4d' | 'seresnext50_32x4d', Readonly<ResNetConfig>>> = {
  resnet18: { depths: [2, 2, 2, 2], block: 'basic' },
  resnet34: { depths: [3, 4, 6, 3], block: 'basic' },
  resnet50: { depths: [3, 4, 6, 3] },
  resnext50_32x4d: { depths: [3, 4, 6, 3], cardinality: 32, baseWidth: 4 },
  seresnext50_32x4d: { depths: [3, 4, 6, 3], cardinality: 32, baseWidth: 4, attention: 'se' },
};

/** Names of the ResNet-family backbones. */
export type ResNetName = keyof typeof RESNET_VARIANTS;

/** Names of every backbone in {@link backbones}. */
export type BackboneName = ResNetName | 'vgg16bn';

const resnetVariant =
  (name: ResNetName) =>
  (config: VariantConfig = {}): LayersModel =>
    resnet({ ...RESNET_VARIANTS[name], name, ...config });

/** ResNet-18 (timm `resnet18`, torchvision `resnet18`): basic blocks `[2, 2, 2, 2]`, 512 pooled features. */
export const resnet18 = resnetVariant('resnet18');
/** ResNet-34 (timm `resnet34`, torchvision `resnet34`): basic blocks `[3, 4, 6, 3]`, 512 pooled features. */
export const resnet34 = resnetVariant('resnet34');
/** ResNet-50 (timm `resnet50`, torchvision `resnet50`). */
export const resnet50 = resnetVariant('resnet50');
/** ResNeXt-50 32×4d (timm `resnext50_32x4d`). */
export const resnext50_32x4d = resnetVariant('resnext50_32x4d');
/** SE-ResNeXt-50 32×4d (timm `seresnext50_32x4d`), the paper's best backbone. */
export const seresnext50_32x4d = resnetVariant('seresnext50_32x4d');

/** VGG-16 with batch-norm (timm `vgg16_bn`); `depthScale` does not apply. */
export function vgg16bn(config: VariantConfig = {}): LayersModel {
  const { depthScale: _unused, ...rest } = config;
  return vgg({ cfg: VGG16_CFG, name: 'vgg16bn', ...rest });
}

/** Every named backbone by name. */
export const backbones: Record<BackboneName, (config?: VariantConfig) => LayersModel> = {
  resnet18,
  resnet34,
  resnet50,
  resnext50_32x4d,
  seresnext50_32x4d,
  vgg16bn,
};

/**
 * Resolves a feature name of a backbone built here to its layer: `'layer1'…'layer4'` → the last block of
 * that stage (ResNet family, and `FACEREC_STAGES` of `faceRecognitionNet`); `'pool'` → the global average pool; anything else → the layer of that name.
 */
export function featureLayer(model: LayersModel, name: string): InstanceType<typeof layers.Layer> {
  if ((RESNET_STAGES as readonly string[]).includes(name)) {
    // dlib's face-recognition ResNet names its blocks as face-api.js does (conv64_down, …).
    const facerec = FACEREC_STAGES[name as keyof typeof FACEREC_STAGES];
    const last = model.layers.find((l) => l.name === facerec[facerec.length - 1]);
    if (last) return last;
    const blocks = model.layers.filter((l) => l.name.startsWith(`${name}.`));
    if (blocks.length === 0) throw new Error(`Error in getFeatureModel: model '${model.name}' has no stage '${name}' (not a ResNet-family model).`);
    return blocks[blocks.length - 1]!;
  }
  const layer = model.layers.find((l) => l.name === name);
  if (!layer) throw new Error(`Error in getFeatureModel: names must be layers of '${model.name}' or 'layer1'…'layer4', but got '${name}'.`);
  return layer;
}

/**
 * A model sharing `model`'s layers (and weights) that outputs the named features, in order: e.g.
 * `getFeatureModel(resnet50(), ['layer2', 'pool'])` → `[N, 28, 28, 512]` and `[N, 2048]` at 224 px.
 */
export function getFeatureModel(model: LayersModel, names: string[]): LayersModel {
  if (names.length === 0) throw new Error(`Error in getFeatureModel: names must name at least one feature, but got [].`);
  const outputs = names.map((n) => featureLayer(model, n).output as SymbolicTensor);
  return functionalModel({ inputs: model.inputs, outputs, name: `${model.name}_features` });
}

/** Options of {@link multiTaskAgeModel}. */
export interface MultiTaskAgeModelConfig {
  /**
   * Backbone: a ResNet-family name or a full {@link ResNetConfig} (`'vgg16bn'` has no `layer2` stage and
   * is rejected). @default 'seresnext50_32x4d'
   */
  backbone?: BackboneName | ResNetConfig;
  /** Age classes (ages `0…numClasses-1`). @default 101 */
  numClasses?: number;
  /** Gender classes. @default 2 */
  numGenders?: number;
  /** Ethnicity classes. @default 5 */
  numEthnicities?: number;
  /** Input `[H, W, 3]`. @default [224, 224, 3] */
  inputShape?: [number, number, number];
  /** Channel multiplier for small models. @default 1 */
  widthScale?: number;
  /** Depth multiplier for small models. @default 1 */
  depthScale?: number;
  /** Model name. @default 'multitask_' + backbone name */
  name?: string;
}

/**
 * The paper's multi-task age model (Liu 2020): `layer2` → global average pool (`layer2_pool`, 512) →
 * `gender` (FC, 2) and `ethnicity` (FC, 5); the final pooled features (`pool`, 2048) concatenated with
 * both logits (`age_concat`, 2055) → `age` (FC, 101). Outputs `[age, gender, ethnicity]` logits in this
 * order (train with `multiTaskLoss` of `@ldl/core`).
 */
export function multiTaskAgeModel(config: MultiTaskAgeModelConfig = {}): LayersModel {
  const { backbone = 'seresnext50_32x4d', numClasses = 101, numGenders = 2, numEthnicities = 5, inputShape, widthScale, depthScale } = config;
  const base: ResNetConfig =
    typeof backbone === 'string'
      ? (() => {
          const arch: ResNetConfig | undefined = RESNET_VARIANTS[backbone as ResNetName];
          if (!arch) {
            throw new Error(`Error in multiTaskAgeModel: backbone must be one of ${Object.keys(RESNET_VARIANTS).join(', ')} or a ResNetConfig, but got '${backbone}'.`);
          }
          return { ...arch, name: backbone };
        })()
      : backbone;
  const trunk = resnet({
    ...base,
    ...(inputShape ? { inputShape } : {}),
    ...(widthScale !== undefined ? { widthScale } : {}),
    ...(depthScale !== undefined ? { depthScale } : {}),
    includeTop: false,
  });
  const mid = layers.globalAveragePooling2d({ name: 'layer2_pool' }).apply(featureLayer(trunk, 'layer2').output as SymbolicTensor) as SymbolicTensor;
  const gender = layers.dense({ units: numGenders, name: 'gender' }).apply(mid) as SymbolicTensor;
  const ethnicity = layers.dense({ units: numEthnicities, name: 'ethnicity' }).apply(mid) as SymbolicTensor;
  const joined = layers.concatenate({ name: 'age_concat' }).apply([trunk.outputs[0]!, gender, ethnicity]) as SymbolicTensor;
  const age = layers.dense({ units: numClasses, name: 'age' }).apply(joined) as SymbolicTensor;
  return functionalModel({ inputs: trunk.inputs, outputs: [age, gender, ethnicity], name: config.name ?? `multitask_${base.name ?? 'resnet'}` });
}

/** The two halves of a model cut at one layer (see {@link splitModel}). */
export interface SplitModel {
  /** `model.inputs` → the cut layer's output. */
  prefix: LayersModel;
  /** A new input shaped like the cut layer's output → `model.outputs`, sharing `model`'s layers and weights. */
  suffix: LayersModel;
}

/**
 * Cuts a functional model after one layer (a feature name as {@link featureLayer} takes: `'layer3'`, a
 * layer name): `prefix(x)` is that layer's output and `suffix(prefix(x))` equals `model(x)`. Both share
 * the layers (and weights) of `model`, so training `suffix` trains `model` — the way to train the top of a
 * network on cached outputs of a frozen bottom. Every layer after the cut must read only tensors computed
 * after it (or the cut itself), and each layer must have been applied once in `model`'s graph.
 * @throws Error naming the layer that reads a tensor from before the cut.
 */
export function splitModel(model: LayersModel, cut: string): SplitModel {
  const fn = 'splitModel';
  const cutLayer = featureLayer(model, cut);
  const cutOutput = cutLayer.output as SymbolicTensor;
  const prefix = functionalModel({ inputs: model.inputs, outputs: cutOutput, name: `${model.name}_to_${cutLayer.name}` });
  const before = new Set(prefix.layers);
  const x = input({ shape: cutOutput.shape.slice(1) as number[], name: `${cutLayer.name}_output` });
  const mapped = new Map<number, SymbolicTensor>([[cutOutput.id, x]]);
  for (const layer of model.layers) {
    if (before.has(layer)) continue;
    const node = layer.inboundNodes[0];
    if (!node) throw new Error(`Error in ${fn}: layer '${layer.name}' of '${model.name}' must be connected, but has no inbound node.`);
    const inputs = node.inputTensors.map((t) => {
      const m = mapped.get(t.id);
      if (!m) throw new Error(`Error in ${fn}: cut must separate the graph, but layer '${layer.name}' reads '${t.name}' from before '${cutLayer.name}'; cut earlier.`);
      return m;
    });
    const out = layer.apply(inputs.length === 1 ? inputs[0]! : inputs) as SymbolicTensor | SymbolicTensor[];
    const outs = Array.isArray(out) ? out : [out];
    node.outputTensors.forEach((t, i) => mapped.set(t.id, outs[i]!));
  }
  const outputs = model.outputs.map((o) => {
    const m = mapped.get(o.id);
    if (!m) throw new Error(`Error in ${fn}: cut must come before the outputs, but output '${o.name}' is computed before '${cutLayer.name}'.`);
    return m;
  });
  return { prefix, suffix: functionalModel({ inputs: x, outputs, name: `${model.name}_from_${cutLayer.name}` }) };
}
