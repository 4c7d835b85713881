import { tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { assignWeights } from './assign.js';
import type { SafetensorsEntry, StateDict } from './safetensors.js';

/** Naming convention of the state dict. */
export type WeightSource = 'timm' | 'torchvision' | 'cadene';

/** Options of {@link importPyTorchWeights}. */
export interface ImportOptions {
  /** Where the state dict comes from (decides the key renaming). @default 'timm' */
  source?: WeightSource;
  /**
   * Throw when any model weight is missing from the state dict or any state-dict entry matches no weight,
   * listing both (PyTorch's `load_state_dict(strict=True)`); `false` loads the matching tensors and reports
   * the rest. A classifier whose class count differs is skipped either way (`skippedClassifier`). @default true
   */
  strict?: boolean;
}

/** What {@link importPyTorchWeights} did. */
export interface ImportReport {
  /** PyTorch keys (after renaming) written into the model. */
  loaded: string[];
  /** PyTorch keys the model expects but the state dict lacks (those weights keep their values). */
  missing: string[];
  /** State-dict keys (as given) that match no model weight. */
  unexpected: string[];
  /** State-dict keys without a TF.js counterpart, ignored on purpose (`num_batches_tracked`). */
  ignored: string[];
  /** True when the classifier was left as is because its class count differs. */
  skippedClassifier: boolean;
}

const PARAM_NAMES: Record<string, string> = {
  kernel: 'weight',
  bias: 'bias',
  gamma: 'weight',
  beta: 'bias',
  moving_mean: 'running_mean',
  moving_variance: 'running_var',
};

/** Classifier layers (their shape depends on the class count). */
const CLASSIFIERS = ['fc', 'head.fc'];

/**
 * The PyTorch key of a TF.js weight of a model built by this package: the weight's scoped name with
 * `/` → `.` and the TF parameter name mapped (`kernel`/`gamma` → `weight`, `beta` → `bias`,
 * `moving_mean` → `running_mean`, `moving_variance` → `running_var`), e.g.
 * `layer1.0/downsample/1/moving_mean` → `layer1.0.downsample.1.running_mean`.
 */
export function torchKeyOf(weightName: string): string {
  const parts = weightName.split('/');
  const param = parts.pop()!;
  const mapped = PARAM_NAMES[param];
  if (mapped === undefined) throw new Error(`Error in torchKeyOf: weightName must end in one of ${Object.keys(PARAM_NAMES).join(', ')}, but got '${weightName}'.`);
  return [...parts, mapped].join('.');
}

const RENAMES: Record<WeightSource, [RegExp, string][]> = {
  timm: [],
  torchvision: [
    // torchvision VGG's Linear classifier ⇔ timm's ConvMlp (fc1 is the 7×7 conv) + head.
    [/^classifier\.0\./, 'pre_logits.fc1.'],
    [/^classifier\.3\./, 'pre_logits.fc2.'],
    [/^classifier\.6\./, 'head.fc.'],
  ],
  cadene: [
    [/^layer0\.conv1\./, 'conv1.'],
    [/^layer0\.bn1\./, 'bn1.'],
    [/\.se_module\./, '.se.'],
    [/^last_linear\./, 'fc.'],
  ],
};

/** Renames a state-dict key of `source` to this package's (timm) key; strips a DataParallel `module.` prefix. */
export function renameKey(key: string, source: WeightSource): string {
  let k = key.startsWith('module.') ? key.slice('module.'.length) : key;
  for (const [pattern, replacement] of RENAMES[source]) k = k.replace(pattern, replacement);
  return k;
}

function permute(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  const out = new Float32Array(data.length);
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src += idx[d]! * inStrides[perm[d]!]!;
    out[o] = data[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < outShape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Converts a PyTorch tensor to the layout of a TF.js weight of shape `target`, or returns `null` when
 * the shapes are incompatible: conv `[o, i, kH, kW]` → `[kH, kW, i, o]`; linear `[o, i]` → `[i, o]`;
 * 1×1 conv `[o, i, 1, 1]` → dense `[i, o]`; linear `[o, i·kH·kW]` → conv `[kH, kW, i, o]` (torchvision
 * VGG classifier); 1-D unchanged.
 */
export function toTfLayout(entry: Pick<SafetensorsEntry, 'shape' | 'data'>, target: number[]): Float32Array | null {
  const s = entry.shape;
  let data = entry.data;
  let shape = s;
  if (s.length === 4 && target.length === 2 && s[2] === 1 && s[3] === 1) shape = [s[0]!, s[1]!];
  if (s.length === 2 && target.length === 4) {
    const [kh, kw, i, o] = target as [number, number, number, number];
    if (s[0] !== o || s[1] !== i * kh * kw) return null;
    shape = [o, i, kh, kw];
  }
  if (shape.length !== target.length) return null;
  if (shape.length === 4) {
    data = permute(data, shape, [2, 3, 1, 0]);
    shape = [shape[2]!, shape[3]!, shape[1]!, shape[0]!];
  } else if (shape.length === 2) {
    data = permute(data, shape, [1, 0]);
    shape = [shape[1]!, shape[0]!];
  }
  return sameShape(shape, target) ? data : null;
}

/**
 * Loads a PyTorch state dict (e.g. from {@link readSafetensors}) into a model built by this package, by
 * renaming keys ({@link renameKey}, {@link torchKeyOf}) and transposing ({@link toTfLayout}). Strict by
 * default, as PyTorch's `load_state_dict`. The classifier (`fc` / `head.fc`) is skipped when its class count
 * differs. Nothing is written unless every check passes.
 * @throws Error listing the missing and unexpected keys (strict), or naming a tensor of another shape.
 */
export function importPyTorchWeights(model: LayersModel, stateDict: StateDict, options: ImportOptions = {}): ImportReport {
  const fn = 'importPyTorchWeights';
  const { source = 'timm', strict = true } = options;
  if (!(source in RENAMES)) throw new Error(`Error in ${fn}: source must be one of ${Object.keys(RENAMES).join(', ')}, but got '${source}'.`);
  const byKey = new Map<string, string>(); // renamed key → original key
  const ignored: string[] = [];
  for (const key of Object.keys(stateDict)) {
    if (key.endsWith('num_batches_tracked')) ignored.push(key);
    else byKey.set(renameKey(key, source), key);
  }
  const { loaded, missing, unexpected, skipped } = assignWeights(fn, model, byKey, {
    strict,
    what: 'the state dict',
    keyOf: (weight) => torchKeyOf(weight.originalName),
    convert: (original, weight, layerName) => {
      const entry = stateDict[original]!;
      const shape = weight.shape as number[];
      const data = toTfLayout(entry, shape);
      if (data !== null) return { tensor: tensor(data, shape), owned: true };
      if (CLASSIFIERS.includes(layerName)) return 'skip';
      throw new Error(`Error in ${fn}: '${original}' must have a shape compatible with ${weight.originalName} [${shape.join(', ')}], but got [${entry.shape.join(', ')}].`);
    },
  });
  return { loaded, missing, unexpected, ignored, skippedClassifier: skipped.length > 0 };
}
