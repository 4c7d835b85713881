/**
 * Loading a model saved by @ldl training (a run's `best/` folder: `model.json`, its weight shards and
 * `preprocessor.json`) in the page, from files the user picked or from a URL, and validating its
 * preprocessing: every number the page uses to make the model's input comes from `preprocessor.json`.
 */
import '@ldl/backbones'; // registers the custom layer classes a saved model's topology names
import { type LayersModel, io, loadLayersModel } from '@tensorflow/tfjs';
import { PREPROCESSOR_JSON, type PreprocessorConfig, parsePreprocessorConfig } from '@ldl/train/preprocessor';

/** A loaded model with its preprocessing. */
export interface LoadedModel {
  model: LayersModel;
  preprocessor: PreprocessorConfig;
  /** Where it came from (folder name or URL), for the page. */
  source: string;
  /** Whether the model has the gender and ethnicity heads (multi-task: outputs `[age, gender, ethnicity]`). */
  multiTask: boolean;
}

/** Raised for a folder or URL that does not hold an @ldl model; the message says what is missing. */
export class NotAnLdlModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotAnLdlModelError';
  }
}

/**
 * Checks a parsed `preprocessor.json` field by field with @ldl/train's own validator (the one eval and
 * predict use in Node), so the page reads exactly the contract training writes.
 * @throws {NotAnLdlModelError} naming the file and the first field that is missing or wrong.
 */
export function parsePreprocessor(json: unknown, source: string): PreprocessorConfig {
  try {
    return parsePreprocessorConfig(json, `${source}/${PREPROCESSOR_JSON}`);
  } catch (err) {
    throw new NotAnLdlModelError(err instanceof Error ? err.message.replace(/^Error in parsePreprocessorConfig: /, '') : String(err));
  }
}

/** Checks that the model's outputs are what `preprocessor.json` says: `[n, numClasses]` age logits (+ gender, ethnicity). */
function describeModel(model: LayersModel, preprocessor: PreprocessorConfig, source: string): boolean {
  const shapes = model.outputs.map((o) => o.shape);
  const [age] = shapes;
  if (age.length !== 2 || age[1] !== preprocessor.numClasses) {
    throw new NotAnLdlModelError(`${source}: the model's first output must be [batch, ${preprocessor.numClasses}] age logits (numClasses of ${PREPROCESSOR_JSON}), but got [${age.join(', ')}].`);
  }
  const input = model.inputs[0].shape;
  if (input[1] !== preprocessor.inputSize || input[2] !== preprocessor.inputSize || input[3] !== 3) {
    throw new NotAnLdlModelError(`${source}: the model's input must be [batch, ${preprocessor.inputSize}, ${preprocessor.inputSize}, 3] (inputSize of ${PREPROCESSOR_JSON}), but got [${input.join(', ')}].`);
  }
  if (shapes.length !== preprocessor.heads.length) {
    throw new NotAnLdlModelError(`${source}: the model must have one output per head of ${PREPROCESSOR_JSON} (${preprocessor.heads.join(', ')}), but it has ${shapes.length}.`);
  }
  return preprocessor.heads.length === 3;
}

/** Loads the topology + weights, turning tfjs' errors into a message about the folder. */
async function loadLayers(handler: io.IOHandler | string, source: string): Promise<LayersModel> {
  try {
    return await loadLayersModel(handler);
  } catch (err) {
    throw new NotAnLdlModelError(`${source}: model.json and its weights could not be loaded as a TF.js layers model: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * A model from the files of a run's `best/` folder (a folder picker gives all of them; the names decide,
 * not the paths): `model.json`, the shards its manifest names, and `preprocessor.json`.
 * @throws {NotAnLdlModelError} when one of them is missing or wrong.
 */
export async function loadModelFromFiles(files: readonly File[]): Promise<LoadedModel> {
  const folder = files[0]?.webkitRelativePath.split('/')[0] || 'the chosen files';
  const byName = new Map(files.map((f) => [f.name, f]));
  const modelJson = byName.get('model.json');
  if (!modelJson) {
    throw new NotAnLdlModelError(`${folder} is not an @ldl model folder: it has no model.json (choose a run's best/ folder, which holds model.json, its weights and ${PREPROCESSOR_JSON}).`);
  }
  const pre = byName.get(PREPROCESSOR_JSON);
  if (!pre) {
    throw new NotAnLdlModelError(`${folder} is not an @ldl model folder: it has model.json but no ${PREPROCESSOR_JSON} (the preprocessing @ldl training saves beside the weights; without it the page would have to guess the input size and normalisation).`);
  }
  let manifest: { weightsManifest?: { paths: string[] }[] };
  try {
    manifest = JSON.parse(await modelJson.text()) as typeof manifest;
  } catch (err) {
    throw new NotAnLdlModelError(`${folder}/model.json must be JSON, but got: ${err instanceof Error ? err.message : String(err)}`);
  }
  const shardNames = (manifest.weightsManifest ?? []).flatMap((g) => g.paths.map((p) => p.split('/').pop() ?? p));
  const missing = shardNames.filter((n) => !byName.has(n));
  if (missing.length > 0) throw new NotAnLdlModelError(`${folder}: model.json names weight files that are not in the folder: ${missing.join(', ')}.`);
  let preJson: unknown;
  try {
    preJson = JSON.parse(await pre.text());
  } catch (err) {
    throw new NotAnLdlModelError(`${folder}/${PREPROCESSOR_JSON} must be JSON, but got: ${err instanceof Error ? err.message : String(err)}`);
  }
  const preprocessor = parsePreprocessor(preJson, folder);
  const shards = shardNames.map((n) => byName.get(n) as File);
  const model = await loadLayers(io.browserFiles([modelJson, ...shards]), folder);
  return { model, preprocessor, source: folder, multiTask: describeModel(model, preprocessor, folder) };
}

/**
 * A model served over HTTP: `base` is the URL of a `best/` folder (e.g. `http://localhost:8081/`).
 * @throws {NotAnLdlModelError} when `preprocessor.json` or the model cannot be fetched or is wrong.
 */
export async function loadModelFromUrl(base: string): Promise<LoadedModel> {
  const folder = new URL(base.endsWith('/') ? base : `${base}/`, location.href);
  const res = await fetch(new URL(PREPROCESSOR_JSON, folder)).catch((err: unknown) => {
    throw new NotAnLdlModelError(`${folder.href}: ${PREPROCESSOR_JSON} could not be fetched: ${err instanceof Error ? err.message : String(err)}`);
  });
  if (!res.ok) throw new NotAnLdlModelError(`${folder.href} is not an @ldl model folder: ${PREPROCESSOR_JSON} answered ${res.status} ${res.statusText}.`);
  const preprocessor = parsePreprocessor(await res.json().catch(() => null), folder.href);
  const model = await loadLayers(new URL('model.json', folder).href, folder.href);
  return { model, preprocessor, source: folder.href, multiTask: describeModel(model, preprocessor, folder.href) };
}
