import { io } from '@tensorflow/tfjs-core';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';

/** File name of the model topology + weights manifest. */
export const MODEL_JSON = 'model.json';
/** File name of the single weights shard. */
export const WEIGHTS_BIN = 'group1-shard1of1.bin';

// Node's fs (and write-file-atomic, which uses it) is imported lazily so that browser bundles of this
// package do not pull it in.
const fs = () => import('node:fs/promises');
const path = () => import('node:path');
const writeFileAtomic = async () => (await import('write-file-atomic')).default;

/**
 * A TF.js `IOHandler` for a directory on the local file system, without tfjs-node: `save` writes the
 * standard TF.js layers format (`model.json` + `group1-shard1of1.bin`, loadable by
 * `tf.loadLayersModel('http://…/model.json')` in a browser), each file written to a temporary name and
 * renamed (the weights first, so a `model.json` always points at complete weights); `load` reads it back.
 * Node.js only.
 */
export function fileSystem(dir: string): io.IOHandler {
  return {
    async save(artifacts: io.ModelArtifacts): Promise<io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error(`Error in fileSystem(${dir}).save: modelTopology must be a JSON object (layers model), but got binary data.`);
      }
      const { mkdir } = await fs();
      const { join } = await path();
      const writeAtomic = await writeFileAtomic();
      await mkdir(dir, { recursive: true });
      const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJson: io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? '',
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      await writeAtomic(join(dir, WEIGHTS_BIN), Buffer.from(weightData));
      await writeAtomic(join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return { modelArtifactsInfo: io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<io.ModelArtifacts> {
      const { readFile } = await fs();
      const { join, dirname } = await path();
      const jsonPath = join(dir, MODEL_JSON);
      let modelJson: io.ModelJSON;
      try {
        modelJson = JSON.parse(await readFile(jsonPath, 'utf8'));
      } catch (e) {
        throw new Error(`Error in fileSystem(${dir}).load: ${jsonPath} must be a readable TF.js model.json, but got: ${(e as Error).message}.`);
      }
      return io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const bytes = await readFile(join(dirname(jsonPath), p));
            buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
          }
        }
        return [specs, io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

/** Saves a layers model to `dir` in the standard TF.js format (see {@link fileSystem}). */
export async function saveModel(model: LayersModel, dir: string): Promise<io.SaveResult> {
  return model.save(fileSystem(dir));
}

/** Loads a layers model saved by {@link saveModel} (custom layers of this package are registered on import). */
export async function loadModel(dir: string): Promise<LayersModel> {
  return loadLayersModel(fileSystem(dir));
}
