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
        throw new Error(`Error in loadModel: ${jsonPath}: it must be a readable TF.js model.json, but got: ${(e as Error).message}.`);
      }
      checkModelJson(modelJson, jsonPath);
      return io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          let have = 0;
          for (const p of group.paths) {
            const file = join(dirname(jsonPath), p);
            let bytes: Uint8Array;
            try {
              bytes = await readFile(file);
            } catch (e) {
              throw new Error(`Error in loadModel: ${file}: the weight shard named by ${jsonPath} must be readable, but got: ${(e as Error).message}.`);
            }
            have += bytes.byteLength;
            buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
          }
          const want = group.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[w.dtype] ?? 4), 0);
          if (have !== want) {
            throw new Error(
              `Error in loadModel: ${join(dirname(jsonPath), group.paths.join(', '))}: the weight shards must hold the ${want} bytes model.json's weights need, but hold ${have} (cut or overwritten).`,
            );
          }
        }
        return [specs, io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };

/** Checks the parts of a model.json that loading trusts: the topology is an object, the weights manifest well formed. */
function checkModelJson(json: unknown, file: string): asserts json is io.ModelJSON {
  const bad = (what: string, got: unknown): never => {
    const text = JSON.stringify(got);
    throw new Error(`Error in loadModel: ${file}: ${what}, but got ${text === undefined ? 'nothing' : text.length > 80 ? `${text.slice(0, 80)}…` : text}.`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad('the file must be a JSON object', json);
  const o = json as Record<string, unknown>;
  if (typeof o.modelTopology !== 'object' || o.modelTopology === null || Array.isArray(o.modelTopology)) bad('modelTopology must be an object', o.modelTopology);
  if (!Array.isArray(o.weightsManifest)) bad('weightsManifest must be an array', o.weightsManifest);
  for (const [g, group] of (o.weightsManifest as unknown[]).entries()) {
    const gr = group as { paths?: unknown; weights?: unknown };
    if (!Array.isArray(gr?.paths) || !gr.paths.every((p) => typeof p === 'string' && p !== '' && !p.split(/[\\/]/).includes('..'))) {
      bad(`weightsManifest[${g}].paths must be file names inside the model folder`, gr?.paths);
    }
    if (!Array.isArray(gr.weights)) bad(`weightsManifest[${g}].weights must be an array`, gr.weights);
    for (const [i, w] of (gr.weights as unknown[]).entries()) {
      const spec = w as { name?: unknown; shape?: unknown; dtype?: unknown };
      if (typeof spec?.name !== 'string') bad(`weightsManifest[${g}].weights[${i}].name must be a string`, spec?.name);
      if (!Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0) || spec.shape.reduce((a: number, b) => a * (b as number), 1) > 2 ** 31) {
        bad(`weightsManifest[${g}].weights[${i}] (${spec.name}).shape must be integers ≥ 0 with at most 2^31 values`, spec.shape);
      }
      if (typeof spec.dtype !== 'string' || DTYPE_BYTES[spec.dtype] === undefined) bad(`weightsManifest[${g}].weights[${i}] (${spec.name}).dtype must be one of ${Object.keys(DTYPE_BYTES).join(', ')}`, spec.dtype);
    }
  }
}

/** Saves a layers model to `dir` in the standard TF.js format (see {@link fileSystem}). */
export async function saveModel(model: LayersModel, dir: string): Promise<io.SaveResult> {
  return model.save(fileSystem(dir));
}

/**
 * Loads a layers model saved by {@link saveModel} (custom layers of this package are registered on import).
 * @throws Error `Error in loadModel: <file>: …` for a damaged model.json (its weights manifest checked field
 *   by field, its topology by TF.js) or weight shards whose size is not what model.json's weights need.
 */
export async function loadModel(dir: string): Promise<LayersModel> {
  try {
    return await loadLayersModel(fileSystem(dir));
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (message.startsWith('Error in loadModel: ')) throw e;
    // What TF.js says of a damaged topology (an unknown layer class, a wrong config), with the file named.
    throw new Error(`Error in loadModel: ${dir}/${MODEL_JSON}: it does not describe a loadable model: ${message}`);
  }
}
