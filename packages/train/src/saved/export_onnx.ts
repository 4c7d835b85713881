/** A saved model (run directory, `best/` or checkpoint) as one `.onnx` file, and optionally a Triton model repository. */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { exportOnnx, readOnnxModel, writeTritonRepository, type ExportOnnxOptions, type TritonOptions, type TritonRepositoryFiles } from '@ldl/backbones/onnx';
import writeFileAtomic from 'write-file-atomic';
import { loadSavedModel } from './load';
import { PREPROCESSOR_JSON } from './preprocessor';

/** Options of {@link exportOnnxRun}. */
export interface ExportOnnxRunOptions extends Pick<ExportOnnxOptions, 'layout' | 'probabilities' | 'expectedAge' | 'inputName'> {
  /** More `metadata_props` beside `preprocessor.json` (which is always written, and cannot be replaced). @default {} */
  metadata?: Record<string, string>;
  /**
   * Also write a Triton model repository entry: `triton.dir/<name>/config.pbtxt` and `…/<version>/model.onnx`
   * (`writeTritonRepository` of @ldl/backbones/onnx). @default none
   */
  triton?: TritonOptions & {
    /** The model repository (folder of model folders). */
    dir: string;
    /** The model's name in Triton. @default the `.onnx` file's name without its extension */
    name?: string;
  };
}

/** What {@link exportOnnxRun} wrote. */
export interface ExportOnnxRunResult {
  /** The `.onnx` file. */
  file: string;
  /** Its size, bytes. */
  bytes: number;
  /** The model folder read (the run's `best/`, or the checkpoint's `model/`). */
  modelDir: string;
  /** The graph's outputs, in order (the model's heads, then `probabilities` and `expected_age` when asked). */
  outputs: string[];
  /** The Triton files, when `triton` was given. */
  triton?: TritonRepositoryFiles;
}

/**
 * Exports a saved model to ONNX (opset 17, `exportOnnx` of @ldl/backbones/onnx): loads it with
 * `loadSavedModel` (a run directory uses `best/`; a `best/` or checkpoint directory as it is), puts the text
 * of its `preprocessor.json` in `metadata_props` under the key `preprocessor.json`, takes the expected age's
 * `minAge` from it, and writes `out` (written to a temporary name and renamed) — plus a Triton model
 * repository entry with `triton`. The input stays unnormalised by the graph: feed what `preprocessor.json`
 * describes.
 * @param modelOrRunDir a run directory, its `best/`, or a checkpoint directory.
 * @param out the `.onnx` file to write (its folder is created).
 * @throws Error from `loadSavedModel` (no model, no or invalid `preprocessor.json`), from `exportOnnx` (a layer
 * that has no ONNX form, named), for a `metadata` key `preprocessor.json`, or when a file cannot be written.
 */
export async function exportOnnxRun(modelOrRunDir: string, out: string, options: ExportOnnxRunOptions = {}): Promise<ExportOnnxRunResult> {
  const fn = 'exportOnnxRun';
  const { metadata = {}, triton, ...exportOptions } = options;
  if (PREPROCESSOR_JSON in metadata) throw new Error(`Error in ${fn}: metadata must not set '${PREPROCESSOR_JSON}' (the saved model's own file goes there), but got it.`);
  const saved = await loadSavedModel(modelOrRunDir);
  try {
    // The file's own text, byte for byte (loadSavedModel has checked it).
    const preprocessorText = await fsp.readFile(path.join(saved.dir, PREPROCESSOR_JSON), 'utf8');
    const onnx = exportOnnx(saved.model, { ...exportOptions, minAge: saved.preprocessor.minAge, metadata: { ...metadata, [PREPROCESSOR_JSON]: preprocessorText } });
    await fsp.mkdir(path.dirname(path.resolve(out)), { recursive: true });
    await writeFileAtomic(out, Buffer.from(onnx.buffer, onnx.byteOffset, onnx.byteLength));
    const outputs = readOnnxModel(onnx).outputs.map((o) => o.name);
    const result: ExportOnnxRunResult = { file: out, bytes: onnx.byteLength, modelDir: saved.dir, outputs };
    if (triton) {
      const { dir, name = path.basename(out).replace(/\.onnx$/i, ''), ...tritonOptions } = triton;
      result.triton = await writeTritonRepository(dir, name, onnx, tritonOptions);
    }
    return result;
  } finally {
    saved.model.dispose();
  }
}
