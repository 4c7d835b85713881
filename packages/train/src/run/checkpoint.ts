/**
 * Checkpoints after every epoch, written atomically: each epoch goes to a temp directory that
 * {@link replaceDirAtomic} renames to `checkpoints/epoch-NNNN` when complete, and
 * `checkpoints/latest.json` (written by `write-file-atomic`) points at the newest complete one. A
 * crash at any moment leaves the previous checkpoint intact. Contents: model (via @ldl/backbones
 * `saveModel`), Adam state (`getWeights()`), epoch, optimizer step, RNG state (`Rng` of @ldl/core),
 * metrics history and run config.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { loadModel, loadWeightMap, namedWeights, saveModel } from '@ldl/backbones';
import * as tf from '@tensorflow/tfjs-core';
import type { RngState } from '@ldl/core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import writeFileAtomic from 'write-file-atomic';
import type { EpochRecord } from './report';

/** A tensor with a name, as `Optimizer.getWeights()` returns them. */
export interface NamedTensor {
  /** Variable name. */
  name: string;
  /** Value. */
  tensor: tf.Tensor;
}

/** The JSON-serialisable part of a checkpoint. */
export interface TrainingState {
  /** Format version. */
  version: 1;
  /** Epochs completed (the next epoch to run is `epoch + 1`). */
  epoch: number;
  /** Optimizer steps taken so far. */
  step: number;
  /** RNG state at the start of epoch `epoch + 1`. */
  rngState: RngState;
  /** Metrics of the completed epochs. */
  history: EpochRecord[];
  /** Best epoch so far and its selection metric. */
  best: { epoch: number; metric: string; value: number } | null;
  /** The run configuration (for checks on resume and for eval/predict). */
  config: Record<string, unknown>;
}

/** Writes tensors as `NAME.json` (specs) + `NAME.bin` (data) with `tf.io.encodeWeights`. */
export async function saveTensors(dir: string, name: string, tensors: NamedTensor[]): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  await fsp.writeFile(path.join(dir, `${name}.bin`), new Uint8Array(data));
  await fsp.writeFile(path.join(dir, `${name}.json`), JSON.stringify(specs));
}

/** Reads tensors written by {@link saveTensors}, in their saved order. */
export async function loadTensors(dir: string, name: string): Promise<NamedTensor[]> {
  const specs = JSON.parse(await fsp.readFile(path.join(dir, `${name}.json`), 'utf8')) as tf.io.WeightsManifestEntry[];
  const bin = await fsp.readFile(path.join(dir, `${name}.bin`));
  const map = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), specs);
  return specs.map((s) => ({ name: s.name, tensor: map[s.name] }));
}

const epochDir = (epoch: number) => `epoch-${String(epoch).padStart(4, '0')}`;

/**
 * Saves model, optimizer and state as `runDir/checkpoints/epoch-NNNN` and points `latest.json` at
 * it; keeps the newest `keep` epoch directories. Returns the checkpoint directory.
 *
 * `parts.modelFiles` (file name → text, e.g. `preprocessor.json`) are written into the checkpoint's
 * `model/` folder inside the same atomic directory swap, so a crash never leaves weights without them.
 */
export async function saveCheckpoint(
  runDir: string,
  parts: { model: LayersModel; optimizer: tf.Optimizer; state: TrainingState; modelFiles?: Readonly<Record<string, string>> },
  keep = 2,
): Promise<string> {
  const root = path.join(runDir, 'checkpoints');
  await fsp.mkdir(root, { recursive: true });
  const name = epochDir(parts.state.epoch);
  const final = path.join(root, name);
  await replaceDirAtomic(final, async (tmp) => {
    await saveModel(parts.model, path.join(tmp, 'model'));
    for (const [name, text] of Object.entries(parts.modelFiles ?? {})) await fsp.writeFile(path.join(tmp, 'model', name), text);
    await saveTensors(tmp, 'optimizer', await parts.optimizer.getWeights());
    await fsp.writeFile(path.join(tmp, 'state.json'), JSON.stringify(parts.state));
  });
  await writeFileAtomic(path.join(root, 'latest.json'), JSON.stringify({ dir: name, epoch: parts.state.epoch }));
  const old = (await fsp.readdir(root)).filter((d) => /^epoch-\d+$/.test(d)).sort().slice(0, -keep);
  await Promise.all(old.map((d) => fsp.rm(path.join(root, d), { recursive: true, force: true })));
  return final;
}

/** The newest complete checkpoint of a run, or `null` when there is none. */
export async function latestCheckpoint(runDir: string): Promise<{ dir: string; state: TrainingState } | null> {
  const root = path.join(runDir, 'checkpoints');
  let pointer: { dir: string };
  try {
    pointer = JSON.parse(await fsp.readFile(path.join(root, 'latest.json'), 'utf8')) as { dir: string };
  } catch {
    return null;
  }
  const dir = path.join(root, pointer.dir);
  const state = JSON.parse(await fsp.readFile(path.join(dir, 'state.json'), 'utf8')) as TrainingState;
  if (state.version !== 1) {
    throw new Error(`Error in latestCheckpoint: ${dir}/state.json must have version 1, but got ${String(state.version)}.`);
  }
  return { dir, state };
}

/**
 * Restores a checkpoint into an existing model (same architecture) and returns a fresh Adam with the
 * saved moments. Copies weights by name (`loadWeightMap`), so `model` keeps its identity.
 */
export async function restoreCheckpoint(
  dir: string,
  model: LayersModel,
  makeOptimizer: () => tf.AdamOptimizer,
): Promise<tf.AdamOptimizer> {
  const saved = await loadModel(path.join(dir, 'model'));
  if (saved.weights.length !== model.weights.length) {
    throw new Error(`Error in restoreCheckpoint: ${dir} must hold a model with ${model.weights.length} weights, but it has ${saved.weights.length}.`);
  }
  // By name: a model with nested backbones reloads its weights in another order.
  loadWeightMap(model, namedWeights(saved));
  saved.dispose();
  const optimizer = makeOptimizer();
  const state = await loadTensors(dir, 'optimizer');
  await optimizer.setWeights(state);
  return optimizer;
}

/**
 * Writes `dir` atomically: `write` fills a temp sibling directory, which then replaces `dir`
 * (rename of the old one aside, rename of the new one in, removal of the old).
 */
export async function replaceDirAtomic(dir: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.mkdir(tmp, { recursive: true });
  await write(tmp);
  const exists = await fsp.stat(dir).then(() => true, () => false);
  if (exists) await fsp.rename(dir, old);
  await fsp.rename(tmp, dir);
  if (exists) await fsp.rm(old, { recursive: true, force: true });
}
