import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Tensor } from '@tensorflow/tfjs-core';

/** A model weight as the assignment loop sees it (a tfjs-layers `LayerVariable`). */
export interface AssignTarget {
  /** `layer/param` (the layer's scoped name and the parameter). */
  originalName: string;
  /** The weight's shape. */
  shape: readonly (number | null)[];
  /** Overwrites the value. */
  write(t: Tensor): unknown;
}

/** How {@link assignWeights} treats one model weight whose source tensor was found. */
export type AssignValue = { tensor: Tensor; owned: boolean } | 'skip';

/** Options of {@link assignWeights}. */
export interface AssignOptions {
  /** The key of a model weight in the source's naming (the keys of `sources`). */
  keyOf(weight: AssignTarget): string;
  /**
   * The tensor to write for a model weight from its source tensor (`owned`: made here, disposed after the
   * write), or `'skip'` to leave the weight as initialised (a re-sized classifier).
   * @throws Error for a shape that cannot be used.
   */
  convert(sourceName: string, weight: AssignTarget, layerName: string): AssignValue;
  /** Throw when a model weight has no source or a source matches no model weight (PyTorch's `load_state_dict(strict=True)`). */
  strict: boolean;
  /** What the source is, in the strict error (`'the state dict'`). */
  what: string;
}

/** What {@link assignWeights} did, in the source's key naming. */
export interface AssignReport {
  /** Keys written into the model. */
  loaded: string[];
  /** Keys the model expects but the source lacks (those weights keep their values). */
  missing: string[];
  /** Source names (as given) that match no model weight. */
  unexpected: string[];
  /** Keys found but left as initialised (`convert` returned `'skip'`). */
  skipped: string[];
}

const list = (xs: string[]) => (xs.length > 20 ? `${xs.slice(0, 20).join(', ')}, … (${xs.length} in all)` : xs.join(', '));

/**
 * The loop `importPyTorchWeights` and `loadWeightMap` share: for every weight of `model`, find its source
 * by key, convert it (transpose, check the shape) and write it — all or nothing: nothing is written
 * unless every weight converts and, when `strict`, no key is missing or unexpected.
 * @param fn Name of the calling function, for errors.
 * @param sources Key in the model's naming (`keyOf`) → the source's own name.
 * @throws Error `Error in <fn>: <what> must match model '<name>' (strict), but got missing [...] and unexpected [...]`,
 * or `convert`'s error.
 */
export function assignWeights(fn: string, model: LayersModel, sources: ReadonlyMap<string, string>, options: AssignOptions): AssignReport {
  const report: AssignReport = { loaded: [], missing: [], unexpected: [], skipped: [] };
  const used = new Set<string>();
  const writes: [AssignTarget, AssignValue & object][] = [];
  const release = () => writes.forEach(([, v]) => v.owned && v.tensor.dispose());
  try {
    for (const layer of model.layers) {
      for (const weight of layer.weights) {
        const key = options.keyOf(weight);
        const sourceName = sources.get(key);
        if (sourceName === undefined) {
          report.missing.push(key);
          continue;
        }
        used.add(key);
        const value = options.convert(sourceName, weight, layer.name);
        if (value === 'skip') {
          report.skipped.push(key);
          continue;
        }
        writes.push([weight, value]);
        report.loaded.push(key);
      }
    }
  } catch (e) {
    release();
    throw e;
  }
  report.unexpected = [...sources].filter(([key]) => !used.has(key)).map(([, name]) => name);
  if (options.strict && (report.missing.length > 0 || report.unexpected.length > 0)) {
    release();
    throw new Error(
      `Error in ${fn}: ${options.what} must match model '${model.name}' (strict), but got missing [${list(report.missing)}] and unexpected [${list(report.unexpected)}]; ` +
        'pass { strict: false } to load only the matching tensors.',
    );
  }
  for (const [weight, value] of writes) weight.write(value.tensor);
  release();
  return report;
}
