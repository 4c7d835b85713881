import { io, type NamedTensorMap } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { assignWeights } from './assign.js';

// Node's fs is imported lazily so that browser bundles of this package do not pull it in.
const fs = () => import('node:fs/promises');
const path = () => import('node:path');

/**
 * Reads TF.js weights from disk: a weights manifest (`*-weights_manifest.json`, an array of groups, as
 * face-api.js ships) or a model file whose `weightsManifest` lists them (`model.json`), plus every shard
 * it names (relative to the file). Quantised weights (uint8/uint16/float16 with `scale`/`min`) are
 * dequantised to float32 by `tf.io.decodeWeights`. Node.js only.
 * @throws Error naming the file when it is not a manifest or a shard is missing.
 */
export async function readTfjsWeights(file: string): Promise<NamedTensorMap> {
  const { readFile } = await fs();
  const { dirname, join } = await path();
  let groups: io.WeightsManifestConfig;
  try {
    const json = JSON.parse(await readFile(file, 'utf8')) as io.WeightsManifestConfig | io.ModelJSON;
    groups = Array.isArray(json) ? json : json.weightsManifest;
  } catch (e) {
    throw new Error(`Error in readTfjsWeights: ${file} must be a readable TF.js weights manifest or model.json, but got: ${(e as Error).message}.`);
  }
  if (!Array.isArray(groups) || !groups.every((g) => Array.isArray(g.paths) && Array.isArray(g.weights))) {
    throw new Error(`Error in readTfjsWeights: ${file} must list weight groups ({ paths, weights }), but got none.`);
  }
  const buffers: ArrayBuffer[] = [];
  for (const shard of groups.flatMap((g) => g.paths)) {
    const shardPath = join(dirname(file), shard);
    const bytes = await readFile(shardPath).catch((e: Error) => {
      throw new Error(`Error in readTfjsWeights: the shard ${shardPath} listed in ${file} must be readable, but got: ${e.message}.`);
    });
    buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  }
  return io.decodeWeights(io.CompositeArrayBuffer.join(buffers), groups.flatMap((g) => g.weights));
}

/** Options of {@link loadWeightMap}. */
export interface LoadWeightMapOptions {
  /**
   * Maps a source weight name to the model weight's `originalName` (`layer/param`), or `null` to ignore
   * it on purpose. @default the identity
   */
  rename?: (sourceName: string) => string | null;
  /**
   * Layers whose weights are left at their initial values when their shape differs from the source's
   * (a classifier re-sized for another class count, as timm's `num_classes`). @default []
   */
  resizable?: readonly string[];
  /** Throw when a model weight is missing from the source or a source weight matches no model weight. @default true */
  strict?: boolean;
}

/** What {@link loadWeightMap} did (model weight names unless said otherwise). */
export interface LoadWeightMapReport {
  /** Model weights written. */
  loaded: string[];
  /** Model weights the source lacks (they keep their initial values). */
  missing: string[];
  /** Source names that match no model weight. */
  unexpected: string[];
  /** Source names ignored on purpose (`rename` gave `null`). */
  ignored: string[];
  /** Model weights of `resizable` layers left as initialised because the shapes differ. */
  resized: string[];
}

/**
 * Writes named tensors (e.g. from {@link readTfjsWeights}) into a model's weights by name: source name →
 * `rename` → the weight's `originalName`. Shapes must match exactly (no transposition: for PyTorch state
 * dicts use `importPyTorchWeights`). Nothing is written unless every check passes. The source tensors are
 * not disposed.
 * @throws Error on a shape mismatch outside `resizable` layers, and (strict) on missing or unexpected weights.
 */
export function loadWeightMap(model: LayersModel, source: NamedTensorMap, options: LoadWeightMapOptions = {}): LoadWeightMapReport {
  const fn = 'loadWeightMap';
  const { rename = (n: string) => n, resizable = [], strict = true } = options;
  const ignored: string[] = [];
  const bySourceTarget = new Map<string, string>();
  for (const name of Object.keys(source)) {
    const target = rename(name);
    if (target === null) ignored.push(name);
    else bySourceTarget.set(target, name);
  }
  const { loaded, missing, unexpected, skipped } = assignWeights(fn, model, bySourceTarget, {
    strict,
    what: 'the weights',
    keyOf: (weight) => weight.originalName,
    convert: (sourceName, weight, layerName) => {
      const t = source[sourceName]!;
      const shape = weight.shape as number[];
      if (t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i])) return { tensor: t, owned: false };
      if (resizable.includes(layerName)) return 'skip';
      throw new Error(`Error in ${fn}: '${sourceName}' must have the shape of ${weight.originalName} [${shape.join(', ')}], but got [${t.shape.join(', ')}].`);
    },
  });
  return { loaded, missing, unexpected, ignored, resized: skipped };
}

/**
 * A model's weights by `originalName` (`layer/param`), for {@link loadWeightMap}: copying weights between two
 * builds of one architecture by name rather than by position (a reloaded model with nested models lists
 * its weights in another order).
 * @throws Error when two weights share a name.
 */
export function namedWeights(model: LayersModel): NamedTensorMap {
  const out: NamedTensorMap = {};
  for (const w of model.weights) {
    if (w.originalName in out) throw new Error(`Error in namedWeights: weight names of '${model.name}' must be unique, but '${w.originalName}' appears twice.`);
    out[w.originalName] = w.read();
  }
  return out;
}
