import { tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { assignWeights } from './assign.js';
import { toTfLayout } from './layout.js';
import { assertWeightSource, renameKey, torchKeyOf, type WeightSource } from './names.js';
import type { StateDict } from './safetensors.js';

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

/** Classifier layers (their shape depends on the class count). */
const CLASSIFIERS = ['fc', 'head.fc'];

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
  assertWeightSource(fn, 'source', source);
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
