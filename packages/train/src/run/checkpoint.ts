/**
 * Checkpoints after every epoch, written atomically: each epoch goes to a temp directory that
 * {@link replaceDirAtomic} renames to `checkpoints/epoch-NNNN` when complete, and
 * `checkpoints/latest.json` (written by `write-file-atomic`) points at the newest complete one. A
 * crash at any moment leaves the previous checkpoint intact. Contents: model (via @ldl/backbones
 * `saveModel`), Adam state (`getWeights()`), epoch, optimizer step, RNG state (`Rng` of @ldl/core),
 * metrics history and run config. Each checkpoint carries `manifest.json` (size and SHA-256 of every file),
 * written inside the same atomic swap; {@link scanCheckpoints} checks it, so that `resume` names a damaged
 * file and continues from the newest intact checkpoint.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { loadModel, loadWeightMap, namedWeights, saveModel } from '@ldl/backbones';
import * as tf from '@tensorflow/tfjs-core';
import type { RngState } from '@ldl/core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import writeFileAtomic from 'write-file-atomic';
import { explainDiskError } from './disk';
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
    await writeManifest(tmp);
  });
  await writeFileAtomic(path.join(root, 'latest.json'), JSON.stringify({ dir: name, epoch: parts.state.epoch })).catch((e: unknown) => {
    throw explainDiskError(e, 'saveCheckpoint', path.join(root, 'latest.json'), 'The checkpoints are kept; free space (or make the folder writable) and resume the run with --resume.');
  });
  const old = (await fsp.readdir(root)).filter((d) => /^epoch-\d+$/.test(d)).sort().slice(0, -keep);
  await Promise.all(old.map((d) => fsp.rm(path.join(root, d), { recursive: true, force: true })));
  return final;
}

/** File of a checkpoint (or `best/`) that lists the size and SHA-256 of each of its other files. */
export const MANIFEST_JSON = 'manifest.json';

/** `manifest.json`: file path (relative, `/`-separated) → its size in bytes and SHA-256 (hex). */
export interface DirManifest {
  format: 'ldl-manifest';
  version: 1;
  files: Record<string, { bytes: number; sha256: string }>;
}

async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, rel)));
    else if (rel !== MANIFEST_JSON) out.push(rel);
  }
  return out.sort();
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Writes `dir/manifest.json` over every other file below `dir` (call it last, inside the atomic swap). */
export async function writeManifest(dir: string): Promise<void> {
  const files: DirManifest['files'] = {};
  for (const rel of await filesUnder(dir)) {
    const bytes = await fsp.readFile(path.join(dir, rel));
    files[rel] = { bytes: bytes.byteLength, sha256: sha256(bytes) };
  }
  const manifest: DirManifest = { format: 'ldl-manifest', version: 1, files };
  await fsp.writeFile(path.join(dir, MANIFEST_JSON), JSON.stringify(manifest, null, 1));
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e)).replace(/^Error in \S+: /, '');

async function readJson(file: string): Promise<unknown> {
  const text = await fsp.readFile(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`not valid JSON (${text.length} bytes: ${errorText(e)}; cut or overwritten?)`);
  }
}

/**
 * What is wrong with `dir` by its `manifest.json` (a missing, resized or changed file), or `null`;
 * `undefined` when the directory has no manifest of ours (saved before manifests were written, or another
 * tool's `manifest.json`). A `manifest.json` that does not parse is damage.
 */
export async function verifyManifest(dir: string): Promise<string | null | undefined> {
  let manifest: DirManifest;
  try {
    manifest = (await readJson(path.join(dir, MANIFEST_JSON))) as DirManifest;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return `${MANIFEST_JSON}: ${errorText(e)}`;
  }
  if (manifest?.format !== 'ldl-manifest') return undefined; // another tool's manifest.json: not ours to check
  if (typeof manifest.files !== 'object' || manifest.files === null) return `${MANIFEST_JSON}: its files must be an object, but got ${JSON.stringify(manifest.files)}`;
  for (const [rel, want] of Object.entries(manifest.files)) {
    let bytes: Uint8Array;
    try {
      bytes = await fsp.readFile(path.join(dir, rel));
    } catch (e) {
      return `${rel}: missing (${(e as NodeJS.ErrnoException).code ?? errorText(e)})`;
    }
    if (bytes.byteLength !== want.bytes) return `${rel}: ${bytes.byteLength} bytes, but the manifest says ${want.bytes} (cut or overwritten)`;
    if (sha256(bytes) !== want.sha256) return `${rel}: its SHA-256 differs from the manifest's (the file changed or is damaged)`;
  }
  return null;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/** Bytes that tensors of these specs take in a weights file. */
function specBytes(specs: readonly { shape: number[]; dtype: string }[]): number {
  return specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[s.dtype] ?? 4), 0);
}

/** Checks what can be checked without a manifest: the JSON files parse and the weight files have their sizes. */
async function verifyStructure(dir: string): Promise<string | null> {
  try {
    const model = (await readJson(path.join(dir, 'model', 'model.json')).catch((e: unknown) => {
      throw new Error(`model/model.json: ${errorText(e)}`);
    })) as { weightsManifest?: { paths: string[]; weights: { shape: number[]; dtype: string }[] }[] };
    for (const group of model.weightsManifest ?? []) {
      const sizes = await Promise.all(group.paths.map((p) => fsp.stat(path.join(dir, 'model', p)).then((st) => st.size)));
      const have = sizes.reduce((a, b) => a + b, 0);
      const want = specBytes(group.weights);
      if (have !== want) return `model/${group.paths.join(', ')}: ${have} bytes, but model.json's weights need ${want} (cut or overwritten)`;
    }
    const specs = (await readJson(path.join(dir, 'optimizer.json')).catch((e: unknown) => {
      throw new Error(`optimizer.json: ${errorText(e)}`);
    })) as { shape: number[]; dtype: string }[];
    const have = (await fsp.stat(path.join(dir, 'optimizer.bin'))).size;
    if (have !== specBytes(specs)) return `optimizer.bin: ${have} bytes, but optimizer.json needs ${specBytes(specs)} (cut or overwritten)`;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? `${path.relative(dir, (e as NodeJS.ErrnoException).path ?? dir)}: missing` : errorText(e);
  }
  return null;
}

/** One epoch directory of `runDir/checkpoints` as {@link scanCheckpoints} found it. */
export interface CheckpointCheck {
  /** Its directory. */
  dir: string;
  /** What is damaged (names the file), or `null` when intact. */
  problem: string | null;
  /** Its state, when intact. */
  state: TrainingState | null;
  /** Whether a manifest vouched for every byte (`false`: a checkpoint saved before manifests, checked by structure only). */
  manifest: boolean;
}

/** The checkpoints of a run, newest first, each checked; and what is wrong with `latest.json`, if anything. */
export interface CheckpointScan {
  /** The checkpoint `latest.json` names, or `null` when it is missing or damaged. */
  latest: string | null;
  /** What is wrong with `latest.json` (`null` when fine or absent). */
  latestProblem: string | null;
  /** Epoch directories, newest first. */
  checkpoints: CheckpointCheck[];
}

/** Checks one checkpoint directory: its manifest (or, without one, its structure) and its `state.json`. */
export async function checkCheckpoint(dir: string): Promise<CheckpointCheck> {
  const byManifest = await verifyManifest(dir);
  const problem = byManifest === undefined ? await verifyStructure(dir) : byManifest;
  if (problem) return { dir, problem, state: null, manifest: byManifest !== undefined };
  try {
    const state = (await readJson(path.join(dir, 'state.json'))) as TrainingState;
    if (state?.version !== 1 || !Number.isInteger(state.epoch)) return { dir, problem: `state.json: must have version 1 and an epoch, but got version ${JSON.stringify(state?.version)}`, state: null, manifest: byManifest !== undefined };
    return { dir, problem: null, state, manifest: byManifest !== undefined };
  } catch (e) {
    const problem = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'state.json: missing' : `state.json: ${errorText(e)}`;
    return { dir, problem, state: null, manifest: byManifest !== undefined };
  }
}

/** Checks every epoch checkpoint of `runDir` (newest first) and `latest.json`. */
export async function scanCheckpoints(runDir: string): Promise<CheckpointScan> {
  const root = path.join(runDir, 'checkpoints');
  const names = await fsp.readdir(root).catch(() => [] as string[]);
  let latest: string | null = null;
  let latestProblem: string | null = null;
  try {
    const pointer = (await readJson(path.join(root, 'latest.json'))) as { dir?: unknown };
    if (typeof pointer?.dir !== 'string' || !/^epoch-\d+$/.test(pointer.dir)) latestProblem = `names no epoch directory (${JSON.stringify(pointer?.dir)})`;
    else latest = path.join(root, pointer.dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') latestProblem = errorText(e);
  }
  const epochs = names.filter((d) => /^epoch-\d+$/.test(d)).sort().reverse();
  const checkpoints = await Promise.all(epochs.map((d) => checkCheckpoint(path.join(root, d))));
  return { latest, latestProblem, checkpoints };
}

/** The newest intact checkpoint of a run (see {@link scanCheckpoints}), or `null` when there is none. */
export async function latestCheckpoint(runDir: string): Promise<{ dir: string; state: TrainingState } | null> {
  const intact = (await scanCheckpoints(runDir)).checkpoints.find((c) => c.problem === null);
  return intact ? { dir: intact.dir, state: intact.state! } : null;
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
 * Writes `dir` atomically: `write` fills a temp sibling directory (`DIR.tmp-PID`), which then replaces
 * `dir` (rename of the old one aside, rename of the new one in, removal of the old). When anything
 * fails, the temp directory is removed and `dir` is as it was; a disk fault (full, read-only) becomes a
 * `DiskError` naming the folder.
 */
export async function replaceDirAtomic(dir: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  let movedAside = false;
  try {
    await fsp.rm(tmp, { recursive: true, force: true });
    await fsp.mkdir(tmp, { recursive: true });
    await write(tmp);
    const exists = await fsp.stat(dir).then(() => true, () => false);
    if (exists) {
      await fsp.rename(dir, old);
      movedAside = true;
    }
    await fsp.rename(tmp, dir);
    movedAside = false;
    if (exists) await fsp.rm(old, { recursive: true, force: true });
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
    if (movedAside) await fsp.rename(old, dir).catch(() => {});
    throw explainDiskError(e, 'replaceDirAtomic', dir, 'The previous version is kept; free space (or make the folder writable) and resume the run with --resume.');
  }
}
