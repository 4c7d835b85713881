/**
 * Loading a model saved by @ldl training (a run's `best/` folder: `model.json`, its weight shards and
 * `preprocessor.json`) in the page, from files the user picked or from a URL, and validating its
 * preprocessing: every number the page uses to make the model's input comes from `preprocessor.json`.
 */
import '@ldl/backbones'; // registers the custom layer classes a saved model's topology names
import { type LayersModel, io, loadLayersModel } from '@tensorflow/tfjs';
import type { Preprocessor } from '@ldl/train';

/** The file beside the weights that says how a photo becomes the model's input (written by @ldl training). */
export const PREPROCESSOR_JSON = 'preprocessor.json';

/** A loaded model with its preprocessing. */
export interface LoadedModel {
  model: LayersModel;
  preprocessor: Preprocessor;
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

const isNumberList = (v: unknown, n: number): v is number[] => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/**
 * Checks a parsed `preprocessor.json` field by field.
 * @throws {NotAnLdlModelError} naming the first field that is missing or wrong.
 */
export function parsePreprocessor(json: unknown, source: string): Preprocessor {
  const bad = (field: string, want: string, got: unknown) =>
    new NotAnLdlModelError(`${source}: ${PREPROCESSOR_JSON} field ${field} must be ${want}, but got ${JSON.stringify(got)}.`);
  if (typeof json !== 'object' || json === null) throw bad('(root)', 'an object', json);
  const p = json as Record<string, unknown>;
  if (p.format !== 'ldl-preprocessor') throw bad('format', '"ldl-preprocessor"', p.format);
  if (p.version !== 1) throw bad('version', '1 (the version this page reads)', p.version);
  if (!(Number.isInteger(p.size) && (p.size as number) > 0)) throw bad('size', 'a positive integer (pixels)', p.size);
  if (p.crop !== 'stretch' && p.crop !== 'square-center' && p.crop !== 'square-bottom') throw bad('crop', "'stretch', 'square-center' or 'square-bottom'", p.crop);
  if (!(typeof p.margin === 'number' && p.margin >= 0)) throw bad('margin', 'a number >= 0', p.margin);
  if (p.colorOrder !== 'rgb' && p.colorOrder !== 'bgr') throw bad('colorOrder', "'rgb' or 'bgr'", p.colorOrder);
  if (!isNumberList(p.mean, 3)) throw bad('mean', 'three numbers', p.mean);
  if (!isNumberList(p.std, 3) || !p.std.every((s) => s > 0)) throw bad('std', 'three positive numbers', p.std);
  if (!(typeof p.minAge === 'number' && Number.isFinite(p.minAge))) throw bad('minAge', 'a number', p.minAge);
  if (!(Number.isInteger(p.numClasses) && (p.numClasses as number) > 1)) throw bad('numClasses', 'an integer > 1', p.numClasses);
  if (!(typeof p.sigma === 'number' && p.sigma > 0)) throw bad('sigma', 'a positive number', p.sigma);
  if (typeof p.backbone !== 'string') throw bad('backbone', 'a string', p.backbone);
  if (!(p.weights === null || typeof p.weights === 'string')) throw bad('weights', 'a string or null', p.weights);
  return p as unknown as Preprocessor;
}

/** Checks that the model's outputs are what `preprocessor.json` says: `[n, numClasses]` age logits (+ gender, ethnicity). */
function describeModel(model: LayersModel, preprocessor: Preprocessor, source: string): boolean {
  const shapes = model.outputs.map((o) => o.shape);
  const [age] = shapes;
  if (age.length !== 2 || age[1] !== preprocessor.numClasses) {
    throw new NotAnLdlModelError(`${source}: the model's first output must be [batch, ${preprocessor.numClasses}] age logits (numClasses of ${PREPROCESSOR_JSON}), but got [${age.join(', ')}].`);
  }
  const input = model.inputs[0].shape;
  if (input[1] !== preprocessor.size || input[2] !== preprocessor.size || input[3] !== 3) {
    throw new NotAnLdlModelError(`${source}: the model's input must be [batch, ${preprocessor.size}, ${preprocessor.size}, 3] (size of ${PREPROCESSOR_JSON}), but got [${input.join(', ')}].`);
  }
  if (shapes.length !== 1 && shapes.length !== 3) {
    throw new NotAnLdlModelError(`${source}: an @ldl age model has 1 output (age) or 3 (age, gender, ethnicity), but this one has ${shapes.length}.`);
  }
  return shapes.length === 3;
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
