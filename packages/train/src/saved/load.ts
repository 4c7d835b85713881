/** Saved models: finding a model folder in a run directory, reading its `preprocessor.json`, loading it. */
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { loadModel } from '@ldl/backbones';
import { type LayersModel } from '@tensorflow/tfjs-layers';
import { MANIFEST_JSON, verifyManifest } from '../run/checkpoint';
import { parsePreprocessorConfig, PREPROCESSOR_JSON, type PreprocessorConfig } from './preprocessor';

/** A saved model and the settings it was trained with. */
export interface SavedModel {
  /** The model, with its trained weights. */
  model: LayersModel;
  /** The run config stored with it (`meta.json` or the checkpoint's `state.json`). */
  config: Record<string, unknown>;
  /** How to make its inputs and read its outputs: its `preprocessor.json`. */
  preprocessor: PreprocessorConfig;
  /** Directory the model was read from. */
  dir: string;
}

/** What to run for a model folder that lacks a valid `preprocessor.json` (runs saved before the file, or before version 2). */
export const REGENERATE_PREPROCESSOR = "write it from the run's recorded settings with 'ldl preprocessor --upgrade DIR'";

/**
 * Reads and checks `preprocessor.json` in a model folder (see {@link parsePreprocessorConfig}).
 * @throws Error naming the file when it is absent, not JSON or invalid; never falls back to a default.
 */
export async function readPreprocessorConfig(modelDir: string): Promise<PreprocessorConfig> {
  const file = path.join(modelDir, PREPROCESSOR_JSON);
  if (!existsSync(file)) {
    throw new Error(
      `Error in readPreprocessorConfig: ${modelDir} must hold ${PREPROCESSOR_JSON} (input size, colour order, mean/std, crop, label set) beside its model.json, but it has none; ` +
        `eval and predict never guess it: ${REGENERATE_PREPROCESSOR}.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`Error in readPreprocessorConfig: ${file} must be JSON, but it does not parse (${(e as Error).message}).`);
  }
  return parsePreprocessorConfig(json, file);
}

/** A model folder (`model.json`) and the run config beside it, found in a run directory, its `best/` or a checkpoint directory. */
export async function findSavedModel(dir: string): Promise<{ modelDir: string; config: Record<string, unknown> }> {
  const candidates: [string, string][] = [
    [dir, path.join(dir, 'meta.json')],
    [path.join(dir, 'best'), path.join(dir, 'best', 'meta.json')],
    [path.join(dir, 'model'), path.join(dir, 'state.json')],
    [dir, path.join(path.dirname(dir), 'state.json')],
  ];
  for (const [modelDir, metaFile] of candidates) {
    if (existsSync(path.join(modelDir, 'model.json')) && existsSync(metaFile)) {
      return { modelDir, config: (JSON.parse(await fsp.readFile(metaFile, 'utf8')) as { config: Record<string, unknown> }).config };
    }
  }
  throw new Error(`Error in loadSavedModel: ${dir} must be a run directory, its best/ directory or a checkpoint directory (model.json + meta.json or state.json), but none was found.`);
}

/**
 * Loads a model for evaluation or prediction from a run directory (uses `best/`), a `best/`
 * directory, or a checkpoint directory (`checkpoints/epoch-NNNN`), with its `preprocessor.json`.
 * Where the folder (`best/`) or its checkpoint holds a `manifest.json`, every file is checked against it first.
 * @throws Error when no model is found, a file differs from the manifest (named), its `preprocessor.json` is absent
 * or invalid ({@link readPreprocessorConfig}), or the model's input or outputs disagree with it.
 */
export async function loadSavedModel(dir: string): Promise<SavedModel> {
  const { modelDir, config } = await findSavedModel(dir);
  const preprocessor = await readPreprocessorConfig(modelDir); // first: a missing file gets its own message and remedy
  const model = await loadModel(modelDir);
  const file = path.join(modelDir, PREPROCESSOR_JSON);
  const input = model.inputs[0]!.shape;
  if (input[1] !== preprocessor.inputSize || input[2] !== preprocessor.inputSize) {
    model.dispose();
    throw new Error(`Error in loadSavedModel: ${file}: inputSize must match the model's input [${input.slice(1).join(', ')}], but got ${preprocessor.inputSize}.`);
  }
  const units = model.outputs.map((o) => o.shape[1]);
  const expected = [preprocessor.numClasses, ...(preprocessor.genderClasses ? [preprocessor.genderClasses.length] : []), ...(preprocessor.ethnicityClasses ? [preprocessor.ethnicityClasses.length] : [])];
  if (JSON.stringify(units) !== JSON.stringify(expected)) {
    model.dispose();
    throw new Error(`Error in loadSavedModel: ${file}: heads ${JSON.stringify(preprocessor.heads)} with ${expected.join(', ')} classes must match the model's outputs, but the model has ${units.join(', ')}.`);
  }
  // Last, so that a file the checks above explain gets their message: any other changed byte is named here.
  // best/ carries its own manifest; a checkpoint's model/ is listed in the checkpoint's.
  const manifestDir = !existsSync(path.join(modelDir, MANIFEST_JSON)) && path.basename(modelDir) === 'model' ? path.dirname(modelDir) : modelDir;
  const damage = await verifyManifest(manifestDir);
  if (damage) {
    model.dispose();
    throw new Error(`Error in loadSavedModel: ${path.join(manifestDir, damage.split(':')[0]!)}: the saved model is damaged (${damage.slice(damage.indexOf(':') + 2)}).`);
  }
  return { model, config, preprocessor, dir: modelDir };
}
