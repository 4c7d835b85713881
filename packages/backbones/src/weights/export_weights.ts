import type { LayersModel } from '@tensorflow/tfjs-layers';
import { RESNET_VARIANTS, type ResNetName } from '../models/variants.js';
import { VGG16_CFG } from '../models/vgg.js';
import { toTorchLayout } from './layout.js';
import { assertWeightSource, isConv1x1Key, sourceKeyOf, torchKeyOf, type WeightSource } from './names.js';
import type { StateDict } from './safetensors.js';

/** Options of {@link exportPyTorchWeights}. */
export interface ExportOptions {
  /**
   * Key naming to write. @default the naming timm loads this model with: `'timm'`, or `'cadene'` for a model
   * with Cadene's stem pool (`stemPool: 'cadene'`), which is timm's `legacy_seresnext50_32x4d` and Cadene's
   * `pretrainedmodels`
   */
  target?: WeightSource;
  /**
   * Value of every BatchNorm's `num_batches_tracked` buffer (int64 scalar): the optimizer steps the model was
   * trained for. PyTorch reads it only for `momentum=None` (a cumulative average; timm uses 0.1), but
   * `load_state_dict(strict=True)` expects the key. @default 0
   */
  numBatchesTracked?: number;
}

/** Keys of the `__metadata__` of a safetensors file that carries a model to PyTorch (and back with `ldl import`). */
export const PYTORCH_METADATA = {
  /** The model's `preprocessor.json`, its text exactly. */
  preprocessor: 'preprocessor.json',
  /** `'pt'`, as `safetensors.torch.save_file` writes it. */
  format: 'format',
  /** The timm model name (`timm.create_model(name, num_classes=…)`), when the model has one ({@link timmModelName}). */
  timmModel: 'timm_model',
} as const;

/** Which architecture a model is, for export. */
type Family = 'resnet' | 'vgg';

/** Layers a model may hold, by name pattern: the classes each may have. Everything else has no PyTorch counterpart. */
const LAYERS: Record<Family | 'multitask', [RegExp, string[]][]> = {
  resnet: [
    [/^input$/, ['InputLayer']],
    [/^(conv1_pad|maxpool_pad)$/, ['ZeroPadding2D']],
    [/^conv1$/, ['GroupedConv2D']],
    [/^bn1$/, ['BatchNorm']],
    [/^act1$/, ['ReLU']],
    [/^maxpool$/, ['MaxPooling2D']],
    [/^layer[1-4]\.\d+$/, ['Bottleneck', 'BasicBlock']],
    [/^pool$/, ['GlobalAveragePooling2D']],
    [/^fc$/, ['Dense']],
  ],
  vgg: [
    [/^input$/, ['InputLayer']],
    [/^features\.\d+$/, ['Conv2D', 'BatchNorm', 'ReLU', 'MaxPooling2D']],
    [/^pre_logits\.pool$/, ['AdaptiveAvgPool2D']],
    [/^pre_logits\.fc[12]$/, ['Conv2D']],
    [/^pre_logits\.act[12]$/, ['ReLU']],
    [/^pre_logits\.drop$/, ['Dropout']],
    [/^pool$/, ['GlobalAveragePooling2D']],
    [/^head\.fc$/, ['Dense']],
  ],
  // multiTaskAgeModel's heads on a ResNet trunk (no classifier `fc`): documented @ldl keys.
  multitask: [
    [/^layer2_pool$/, ['GlobalAveragePooling2D']],
    [/^(gender|ethnicity|age)$/, ['Dense']],
    [/^age_concat$/, ['Concatenate']],
  ],
};

const SUPPORTED = 'exportPyTorchWeights supports the ResNet family (resnet18/34/50, resnext50_32x4d, seresnext50_32x4d; timm ResNet), VGG-BN (timm VGG) and the multi-task age model';

type Layer = LayersModel['layers'][number];
const config = (layer: Layer) => layer.getConfig() as Record<string, unknown>;
const noCounterpart = (layer: Layer, why: string) =>
  new Error(`Error in exportPyTorchWeights: layer '${layer.name}' (class ${layer.getClassName()}) has no PyTorch counterpart ${why}; ${SUPPORTED}.`);

/** What a layer outside every family belongs to. */
function whyNone(layer: Layer): string {
  if (['DlibConv', 'DlibResidual'].includes(layer.getClassName())) return "(dlib's face-recognition ResNet of face-api.js)";
  if (/^(entry_flow|middle_flow|exit_flow|fc)\//.test(layer.name)) return "(face-api.js's AgeGenderNet, a TinyXception)";
  return "in timm's ResNet or VGG";
}

/** The model's family, after checking that every layer has a timm counterpart. */
function familyOf(model: LayersModel): { family: Family; multitask: boolean; stemPool: 'timm' | 'cadene' | null } {
  const names = new Set(model.layers.map((l) => l.name));
  const family: Family = names.has('conv1') || [...names].some((n) => /^layer[1-4]\.\d+$/.test(n)) ? 'resnet' : 'vgg';
  const multitask = family === 'resnet' && names.has('age_concat');
  const table = [...LAYERS[family], ...(multitask ? LAYERS.multitask : [])];
  for (const layer of model.layers) {
    const rule = table.find(([pattern]) => pattern.test(layer.name));
    if (!rule) {
      throw noCounterpart(layer, whyNone(layer));
    }
    if (!rule[1].includes(layer.getClassName())) throw noCounterpart(layer, `as '${layer.name}' of a timm ${family === 'resnet' ? 'ResNet' : 'VGG'} (expected ${rule[1].join(' or ')})`);
    checkLayer(layer);
  }
  let stemPool: 'timm' | 'cadene' | null = null;
  if (family === 'resnet') {
    const pad = names.has('maxpool_pad') ? (config(model.getLayer('maxpool_pad')).padding as number[][]) : null;
    stemPool = pad && pad[0]![0] === 1 && pad[1]![0] === 1 ? 'timm' : 'cadene';
  }
  return { family, multitask, stemPool };
}

/** Settings of a layer that timm's module lacks (Caffe/Keras ResNet v1 blocks, biased stems, activations in a Dense). */
function checkLayer(layer: Layer): void {
  const c = config(layer);
  const cls = layer.getClassName();
  if (cls === 'Bottleneck' || cls === 'BasicBlock') {
    if (c.strideIn1x1) throw noCounterpart(layer, 'in timm: strideIn1x1 (Caffe/Keras ResNet v1; timm strides the 3×3)');
    if (c.convBias) throw noCounterpart(layer, 'in timm: convBias (Caffe/Keras ResNet v1; timm convolutions have no bias)');
    if (c.bnEpsilon !== 1e-5) throw noCounterpart(layer, `in timm: bnEpsilon ${String(c.bnEpsilon)} (timm's BatchNorm2d uses 1e-5)`);
    if (c.seReduction !== 16) throw noCounterpart(layer, `in timm: seReduction ${String(c.seReduction)} (timm's SE uses 16)`);
    if (cls === 'Bottleneck' && c.expansion !== 4) throw noCounterpart(layer, `in timm: expansion ${String(c.expansion)} (timm's Bottleneck uses 4)`);
  } else if (cls === 'GroupedConv2D' && (c.useBias || c.groups !== 1)) {
    throw noCounterpart(layer, 'in timm: a stem convolution with a bias or groups (Caffe/Keras ResNet v1)');
  } else if (cls === 'BatchNorm' && c.epsilon !== 1e-5) {
    throw noCounterpart(layer, `in timm: epsilon ${String(c.epsilon)} (timm's BatchNorm2d uses 1e-5)`);
  } else if ((cls === 'Dense' || cls === 'Conv2D') && (c.activation !== 'linear' || c.useBias !== true)) {
    throw noCounterpart(layer, `in timm: activation '${String(c.activation)}', useBias ${String(c.useBias)} (timm's layer is linear with a bias)`);
  }
}

/**
 * The timm model name of a model built by this package at full size (`timm.create_model(name, num_classes=…)`
 * loads its export strictly), or `null` for one timm has not (e.g. `widthScale` < 1, other depths):
 * `resnet18`, `resnet34`, `resnet50`, `resnext50_32x4d`, `seresnext50_32x4d`, `legacy_seresnext50_32x4d`
 * (Cadene's stem pool), `vgg16_bn`. A multi-task model gives its trunk's name (timm `num_classes=0`).
 * @throws Error as {@link exportPyTorchWeights} for a layer with no PyTorch counterpart.
 */
export function timmModelName(model: LayersModel): string | null {
  const { family, stemPool } = familyOf(model);
  const filters = (name: string) => config(model.getLayer(name)).filters as number;
  if (family === 'vgg') {
    const convs = model.layers.filter((l) => /^features\.\d+$/.test(l.name) && l.getClassName() !== 'ReLU' && l.getClassName() !== 'BatchNorm');
    const cfg = convs.map((l) => (l.getClassName() === 'MaxPooling2D' ? 'M' : (config(l).filters as number)));
    const same = cfg.length === VGG16_CFG.length && cfg.every((v, i) => v === VGG16_CFG[i]);
    return same && filters('pre_logits.fc1') === 4096 && filters('pre_logits.fc2') === 4096 ? 'vgg16_bn' : null;
  }
  const blocks = model.layers.filter((l) => /^layer[1-4]\.\d+$/.test(l.name));
  const depths = [1, 2, 3, 4].map((s) => blocks.filter((b) => b.name.startsWith(`layer${s}.`)).length);
  const first = config(blocks[0]!);
  const kind = blocks[0]!.getClassName() === 'BasicBlock' ? 'basic' : 'bottleneck';
  const uniform = blocks.every((b) => {
    const c = config(b);
    return b.getClassName() === blocks[0]!.getClassName() && c.cardinality === first.cardinality && c.baseWidth === first.baseWidth && c.attention === first.attention;
  });
  const widths = [1, 2, 3, 4].every((s) => config(model.getLayer(`layer${s}.0`)).planes === 64 * 2 ** (s - 1)) && filters('conv1') === 64;
  if (!uniform || !widths) return null;
  const name = (Object.keys(RESNET_VARIANTS) as ResNetName[]).find((n) => {
    const v = RESNET_VARIANTS[n];
    return (
      (v.block ?? 'bottleneck') === kind &&
      v.depths.every((d, i) => d === depths[i]) &&
      (v.cardinality ?? 1) === (first.cardinality ?? 1) &&
      (v.baseWidth ?? 64) === (first.baseWidth ?? 64) &&
      (v.attention ?? null) === first.attention
    );
  });
  if (!name) return null;
  if (stemPool === 'cadene') return name === 'seresnext50_32x4d' ? 'legacy_seresnext50_32x4d' : null;
  return name;
}

/**
 * Writes a model built by this package as a PyTorch state dict, the exact inverse of
 * {@link importPyTorchWeights}: the same name map ({@link torchKeyOf}, {@link sourceKeyOf}), timm's layouts
 * (convolutions `[out, in/groups, kH, kW]`, `nn.Linear` `[out, in]`, SE 1×1 convolutions `[out, in, 1, 1]`;
 * torchvision's VGG classifier as `nn.Linear`), the BatchNorm buffers `running_mean`, `running_var` and
 * `num_batches_tracked` (`I64` scalar). ResNet family and VGG-BN give timm's keys exactly
 * (`load_state_dict(strict=True)` of `timm.create_model(timmModelName(model), num_classes=…)`); the multi-task
 * age model gives its trunk's keys (timm `num_classes=0`) plus `gender.weight` `[G, 512·w]`, `gender.bias`,
 * `ethnicity.weight` `[E, 512·w]`, `ethnicity.bias` (on `layer2` globally average-pooled) and `age.weight`
 * `[A, F + G + E]`, `age.bias` (on `concat(pool, gender logits, ethnicity logits)`). Float32 values are copied bit for bit.
 * Write the result with `writeSafetensors(stateDict, { format: 'pt', … })` ({@link PYTORCH_METADATA}).
 * @returns Key → tensor (`F32`, `num_batches_tracked` `I64`).
 * @throws Error `Error in exportPyTorchWeights: layer 'x' (class Y) has no PyTorch counterpart …` for a layer
 * timm lacks (dlib's face-recognition ResNet, face-api's AgeGenderNet, Keras-style blocks, a transfer head), or a
 * stem pool of the other naming's model (Cadene's ceil-mode pool under timm names, or the reverse).
 */
export function exportPyTorchWeights(model: LayersModel, options: ExportOptions = {}): StateDict {
  const fn = 'exportPyTorchWeights';
  const { stemPool } = familyOf(model);
  const { target = stemPool === 'cadene' ? 'cadene' : 'timm', numBatchesTracked = 0 } = options;
  assertWeightSource(fn, 'target', target);
  if (!Number.isInteger(numBatchesTracked) || numBatchesTracked < 0 || numBatchesTracked > 2 ** 24) {
    throw new Error(`Error in ${fn}: numBatchesTracked must be an integer in [0, 2^24], but got ${numBatchesTracked}.`);
  }
  if (stemPool !== null && (stemPool === 'cadene') !== (target === 'cadene')) {
    throw new Error(
      `Error in ${fn}: target must match the stem max-pool, but got target '${target}' for a model with ${stemPool === 'cadene' ? "Cadene's ceil-mode pool (timm 'legacy_seresnext50_32x4d'): use target 'cadene'" : "timm's padded pool: Cadene's models pool with ceil_mode, use target 'timm' or 'torchvision'"}.`,
    );
  }
  const out: StateDict = {};
  for (const layer of model.layers) {
    for (const weight of layer.weights) {
      const timmKey = torchKeyOf(weight.originalName);
      const { key, linear } = sourceKeyOf(timmKey, target);
      if (key in out) throw new Error(`Error in ${fn}: weight names must be unique, but '${weight.originalName}' maps to '${key}' twice.`);
      const form = linear ? 'linear' : isConv1x1Key(timmKey) ? 'conv1x1' : 'native';
      out[key] = { dtype: 'F32', ...toTorchLayout(weight.read().dataSync() as Float32Array, weight.shape as number[], form) };
      if (timmKey.endsWith('.running_var')) {
        out[`${key.slice(0, -'running_var'.length)}num_batches_tracked`] = { dtype: 'I64', shape: [], data: new Float32Array([numBatchesTracked]) };
      }
    }
  }
  return out;
}
