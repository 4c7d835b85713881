/** `ldl preprocessor --upgrade`: a version-2 `preprocessor.json` for models saved before it. */
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { loadModel } from '@ldl/backbones';
import writeFileAtomic from 'write-file-atomic';
import { parsePreprocessorConfig, PREPROCESSOR_FORMAT, PREPROCESSOR_JSON, PREPROCESSOR_VERSION, type PreprocessorConfig } from './preprocessor';
import { findSavedModel } from './load';
import { GENDER_CLASSES } from './preprocessor';

/**
 * Writes a version-2 `preprocessor.json` for a model saved before it existed, from what its run recorded
 * exactly: a version-1 `preprocessor.json`, or the `preprocessing` of the run config in `meta.json` /
 * `state.json` (every run since `@ldl` 0.1 with pretrained backbones); the heads come from the model's outputs.
 * Nothing is guessed: a run that recorded neither is refused.
 * @param dir A run directory, its `best/` or a checkpoint directory.
 * @param options.ethnicityClasses Class names of a multi-task model's ethnicity head (version 1 did not record them).
 * @returns The file written.
 * @throws Error when the run recorded no preprocessing, or a multi-task model lacks `ethnicityClasses`.
 */
export async function upgradePreprocessor(dir: string, options: { ethnicityClasses?: string[] } = {}): Promise<{ file: string; config: PreprocessorConfig }> {
  const fn = 'upgradePreprocessor';
  const { modelDir, config } = await findSavedModel(dir);
  const file = path.join(modelDir, PREPROCESSOR_JSON);
  const old = existsSync(file) ? (JSON.parse(await fsp.readFile(file, 'utf8')) as Record<string, unknown>) : (config.preprocessing as Record<string, unknown> | undefined);
  if (old?.version === PREPROCESSOR_VERSION) {
    // Already version 2: in the file (checked only), or in the run config of a folder whose file was lost.
    const current = parsePreprocessorConfig(old, existsSync(file) ? file : `the run config of ${modelDir}`);
    if (!existsSync(file)) await writeFileAtomic(file, JSON.stringify(current, null, 2));
    return { file, config: current };
  }
  if (!old || old.format !== PREPROCESSOR_FORMAT || old.version !== 1) {
    throw new Error(
      `Error in ${fn}: ${modelDir} must have a version-1 ${PREPROCESSOR_JSON} or a run config with 'preprocessing' (its run recorded how it made its inputs), but has neither; ` +
        'retrain it, or write the file by hand (fields: see PreprocessorConfig).',
    );
  }
  const model = await loadModel(modelDir);
  const outputs = model.outputs.map((o) => o.shape[1] as number);
  model.dispose();
  const multi = outputs.length === 3;
  const classes = options.ethnicityClasses;
  if (multi && (!classes || classes.length !== outputs[2])) {
    throw new Error(`Error in ${fn}: ethnicityClasses must name the ${outputs[2]} ethnicity classes of this multi-task model (version 1 did not record them), but got ${JSON.stringify(classes)}.`);
  }
  const next = parsePreprocessorConfig(
    {
      format: PREPROCESSOR_FORMAT, version: PREPROCESSOR_VERSION, inputSize: old.size, colorOrder: old.colorOrder, mean: old.mean, std: old.std, crop: old.crop, margin: old.margin,
      heads: multi ? ['age', 'gender', 'ethnicity'] : ['age'], minAge: old.minAge, numClasses: old.numClasses, sigma: old.sigma,
      genderClasses: multi ? [...GENDER_CLASSES] : null, ethnicityClasses: multi ? classes : null, backbone: old.backbone, weights: old.weights,
    },
    file,
  );
  await writeFileAtomic(file, JSON.stringify(next, null, 2));
  return { file, config: next };
}
