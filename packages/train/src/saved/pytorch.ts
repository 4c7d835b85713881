/**
 * Saved models to and from PyTorch: `ldl export --format safetensors` writes a model folder's weights with
 * timm's key names and its `preprocessor.json` in the safetensors `__metadata__`; `ldl import` turns such a
 * file (e.g. after training in PyTorch) back into a model folder that eval, predict and the browser demo read.
 */
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import {
  backbones,
  exportPyTorchWeights,
  importPyTorchWeights,
  multiTaskAgeModel,
  PYTORCH_METADATA,
  readSafetensors,
  readSafetensorsMetadata,
  renameKey,
  resnet,
  RESNET_VARIANTS,
  type ResNetName,
  VGG16_CFG,
  saveModel,
  type StateDict,
  timmModelName,
  type WeightSource,
  writeSafetensors,
} from '@ldl/backbones';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import writeFileAtomic from 'write-file-atomic';
import { replaceDirAtomic } from '../run/checkpoint';
import { findSavedModel, loadSavedModel } from './load';
import { parsePreprocessorConfig, PREPROCESSOR_JSON, type PreprocessorConfig } from './preprocessor';

/** What {@link exportPyTorchSafetensors} wrote. */
export interface PyTorchExport {
  /** The `.safetensors` file. */
  file: string;
  /** The model folder it was read from. */
  modelDir: string;
  /** timm model name (`timm.create_model(name, num_classes=…)`), or `null` for a model timm has not at that size. */
  timmModel: string | null;
  /** Tensors written (`num_batches_tracked` included). */
  tensors: number;
  /** File size, bytes. */
  bytes: number;
}

/** The optimizer steps of a checkpoint's model (`state.json` beside its `model/`), else `null` (a `best/` folder records none). */
async function stepsOf(modelDir: string): Promise<number | null> {
  const state = path.join(path.dirname(modelDir), 'state.json');
  if (path.basename(modelDir) !== 'model' || !existsSync(state)) return null;
  const step = (JSON.parse(await fsp.readFile(state, 'utf8')) as { step?: unknown }).step;
  return Number.isInteger(step) ? (step as number) : null;
}

/**
 * Writes a saved model as a PyTorch safetensors file (`exportPyTorchWeights` of @ldl/backbones: timm's key
 * names, layouts and BatchNorm buffers) with `__metadata__` `format: 'pt'`, `preprocessor.json` (the model
 * folder's file, its text exactly) and `timm_model` where timm has the architecture. `num_batches_tracked`
 * is the checkpoint's optimizer step count, or 0 for a `best/` folder (which records none; timm's BatchNorm
 * never reads it).
 * @param dir A run directory (its `best/`), a `best/` folder or a checkpoint directory.
 * @param out The `.safetensors` file to write (atomically; an existing file is replaced).
 * @throws Error when no saved model is found, its `preprocessor.json` is absent or invalid, or a layer has no
 * PyTorch counterpart (`exportPyTorchWeights`).
 */
export async function exportPyTorchSafetensors(dir: string, out: string): Promise<PyTorchExport> {
  const saved = await loadSavedModel(dir);
  try {
    const preprocessorText = await fsp.readFile(path.join(saved.dir, PREPROCESSOR_JSON), 'utf8');
    const timmModel = timmModelName(saved.model);
    const state = exportPyTorchWeights(saved.model, { numBatchesTracked: (await stepsOf(saved.dir)) ?? 0 });
    const metadata: Record<string, string> = { [PYTORCH_METADATA.format]: 'pt', [PYTORCH_METADATA.preprocessor]: preprocessorText };
    if (timmModel) metadata[PYTORCH_METADATA.timmModel] = timmModel;
    const bytes = writeSafetensors(state, metadata);
    await fsp.mkdir(path.dirname(path.resolve(out)), { recursive: true });
    await writeFileAtomic(out, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { file: out, modelDir: saved.dir, timmModel, tensors: Object.keys(state).length, bytes: bytes.byteLength };
  } finally {
    saved.model.dispose();
  }
}

/** Options of {@link importPyTorchSafetensors}. */
export interface PyTorchImportOptions {
  /**
   * A `preprocessor.json` to use when the file's `__metadata__` has none (a state dict saved without @ldl's
   * metadata). Refused when the metadata has one too. @default the file's metadata
   */
  preprocessor?: string;
}

/** What {@link importPyTorchSafetensors} wrote. */
export interface PyTorchImport {
  /** The model folder (`model.json`, weights, `preprocessor.json`, `meta.json`). */
  dir: string;
  /** The model's preprocessing. */
  preprocessor: PreprocessorConfig;
  /** Key naming found in the file. */
  source: WeightSource;
  /** The file's `timm_model`, if any. */
  timmModel: string | null;
  /** Tensors loaded into the model. */
  loaded: number;
}

const fnImport = 'importPyTorchSafetensors';

/**
 * The `widthScale` that gives every observed channel count from its full-size count (`scaleChannels`:
 * `max(1, round(base · w))`, halves up): the middle of the interval of such scales, so any scale the model was
 * built with is recovered exactly in effect.
 * @throws Error when no single scale gives them all.
 */
function widthScaleOf(pairs: [base: number, observed: number][], file: string): number {
  let lo = 0;
  let hi = Infinity;
  for (const [base, observed] of pairs) {
    lo = Math.max(lo, observed === 1 ? 0 : (observed - 0.5) / base);
    hi = Math.min(hi, (observed + 0.5) / base);
  }
  if (!(lo < hi)) {
    throw new Error(`Error in ${fnImport}: ${file}: the channel counts must come from one widthScale, but got ${pairs.map(([b, o]) => `${o} for ${b}`).join(', ')}.`);
  }
  return (lo + hi) / 2;
}

/** The architecture a state dict holds: the backbone of `preprocessor.json` at the width and depth of its tensors. */
function buildFor(p: PreprocessorConfig, state: StateDict, source: WeightSource, file: string): LayersModel {
  const keys = Object.keys(state).map((k) => renameKey(k, source));
  const shapeOf = (key: string) => {
    const original = Object.keys(state).find((k) => renameKey(k, source) === key);
    if (!original) throw new Error(`Error in ${fnImport}: ${file} must hold '${key}' (a ${p.backbone}), but has no such tensor; its keys begin ${keys.slice(0, 5).join(', ')}.`);
    return state[original]!.shape;
  };
  const inputShape: [number, number, number] = [p.inputSize, p.inputSize, 3];
  const multi = p.heads.length === 3;
  if (p.backbone === 'vgg16bn') {
    if (multi) throw new Error(`Error in ${fnImport}: ${file}: heads must be ["age"] for a vgg16bn (the multi-task model has a ResNet trunk), but got ${JSON.stringify(p.heads)}.`);
    let index = 0; // features.N numbering: conv, BN, ReLU per conv; one max-pool per 'M'
    const pairs: [number, number][] = [];
    for (const v of VGG16_CFG) {
      if (v === 'M') index += 1;
      else {
        pairs.push([v, shapeOf(`features.${index}.weight`)[0]!]);
        index += 3;
      }
    }
    pairs.push([4096, shapeOf('pre_logits.fc2.weight')[0]!]);
    return backbones.vgg16bn({ widthScale: widthScaleOf(pairs, file), numClasses: p.numClasses, inputShape });
  }
  if (!(p.backbone in RESNET_VARIANTS)) {
    throw new Error(
      `Error in ${fnImport}: ${file}: preprocessor.json's backbone must be one with a PyTorch counterpart (${[...Object.keys(RESNET_VARIANTS), 'vgg16bn'].join(', ')}), but got '${p.backbone}'.`,
    );
  }
  const name = p.backbone as ResNetName;
  const depths = [1, 2, 3, 4].map((s) => new Set(keys.filter((k) => k.startsWith(`layer${s}.`)).map((k) => k.split('.')[1])).size).filter((d) => d > 0);
  const arch = { ...RESNET_VARIANTS[name], depths, name, stemPool: source === 'cadene' ? ('cadene' as const) : ('timm' as const) };
  // The stem and each stage's output (its first block's last BN: planes · expansion).
  const expansion = arch.block === 'basic' ? 1 : 4;
  const last = arch.block === 'basic' ? 'bn2' : 'bn3';
  const widthScale = widthScaleOf(
    [[64, shapeOf('conv1.weight')[0]!], ...depths.map((_, s) => [64 * 2 ** s, shapeOf(`layer${s + 1}.0.${last}.weight`)[0]! / expansion] as [number, number])],
    file,
  );
  if (multi) {
    return multiTaskAgeModel({ backbone: arch, widthScale, numClasses: p.numClasses, numGenders: p.genderClasses!.length, numEthnicities: p.ethnicityClasses!.length, inputShape, name: `multitask_${name}` });
  }
  return resnet({ ...arch, widthScale, numClasses: p.numClasses, inputShape });
}

/**
 * Turns a PyTorch safetensors file with timm's (or Cadene's, torchvision's) key names — `ldl export`'s output
 * after training in PyTorch — into a model folder that `ldl eval`, `ldl predict` and the browser demo read:
 * `model.json` + weights, `preprocessor.json` (the file's `__metadata__` `preprocessor.json`, its text
 * exactly, or `options.preprocessor`) and `meta.json` (where it came from). The architecture is
 * `preprocessor.json`'s `backbone` (a ResNet-family name or `vgg16bn`; multi-task when `heads` has three) at the
 * width and stage depths of the tensors; loading is strict (`importPyTorchWeights`): every key must match.
 * @param file The `.safetensors` file.
 * @param outDir The model folder to write; must not exist or be empty (written atomically).
 * @throws Error when the file has no `preprocessor.json` metadata and none is given (naming `--preprocessor`),
 * a key is missing or unexpected (all listed), a tensor's shape differs (naming the key and both shapes), or
 * the model disagrees with `preprocessor.json`.
 */
export async function importPyTorchSafetensors(file: string, outDir: string, options: PyTorchImportOptions = {}): Promise<PyTorchImport> {
  if (existsSync(outDir) && (await fsp.readdir(outDir)).length > 0) {
    throw new Error(`Error in ${fnImport}: outDir must be a new or empty folder (nothing is overwritten), but ${outDir} holds files.`);
  }
  const bytes = new Uint8Array(await fsp.readFile(file));
  const metadata = readSafetensorsMetadata(bytes, file);
  const state = readSafetensors(bytes, file);
  const fromMeta = metadata[PYTORCH_METADATA.preprocessor];
  if (fromMeta !== undefined && options.preprocessor !== undefined) {
    throw new Error(`Error in ${fnImport}: preprocessor must be left out for ${file}, which carries its own preprocessor.json in __metadata__, but got ${options.preprocessor}.`);
  }
  if (fromMeta === undefined && options.preprocessor === undefined) {
    throw new Error(
      `Error in ${fnImport}: ${file} must carry the model's preprocessor.json in its safetensors __metadata__ ('${PYTORCH_METADATA.preprocessor}', as ldl export and ldl_torch write it), ` +
        `but its metadata has ${Object.keys(metadata).length ? `only ${Object.keys(metadata).join(', ')}` : 'none'}; pass the model's preprocessor.json with --preprocessor FILE (options.preprocessor).`,
    );
  }
  const text = fromMeta ?? (await fsp.readFile(options.preprocessor!, 'utf8'));
  const where = fromMeta !== undefined ? `${file} __metadata__ '${PYTORCH_METADATA.preprocessor}'` : options.preprocessor!;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`Error in ${fnImport}: ${where} must be JSON, but it does not parse (${(e as Error).message}).`);
  }
  const preprocessor = parsePreprocessorConfig(json, where);
  const keys = Object.keys(state);
  const source: WeightSource = keys.some((k) => renameKey(k, 'timm').startsWith('layer0.')) ? 'cadene' : keys.some((k) => renameKey(k, 'timm').startsWith('classifier.')) ? 'torchvision' : 'timm';
  const model = buildFor(preprocessor, state, source, file);
  try {
    const timmModel = metadata[PYTORCH_METADATA.timmModel] ?? null;
    const ours = timmModelName(model);
    if (timmModel !== null && ours !== null && timmModel !== ours) {
      throw new Error(`Error in ${fnImport}: ${file}: timm_model must be the architecture of preprocessor.json's backbone '${preprocessor.backbone}' (${ours}), but got '${timmModel}'.`);
    }
    const report = importPyTorchWeights(model, state, { source, strict: true });
    if (report.skippedClassifier) {
      const head = keys.find((k) => /(^|\.)(fc|last_linear|head\.fc|classifier\.6)\.weight$/.test(k))!;
      throw new Error(`Error in ${fnImport}: '${head}' must have [${preprocessor.numClasses}, …] (numClasses ${preprocessor.numClasses} of ${where}), but got [${state[head]!.shape.join(', ')}].`);
    }
    await replaceDirAtomic(outDir, async (tmp) => {
      await saveModel(model, tmp);
      await fsp.writeFile(path.join(tmp, PREPROCESSOR_JSON), text);
      const meta = { importedFrom: { file: path.resolve(file), source, timmModel, metadataKeys: Object.keys(metadata) }, config: { backbone: preprocessor.backbone, imageSize: preprocessor.inputSize } };
      await fsp.writeFile(path.join(tmp, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
    });
    await findSavedModel(outDir); // the folder is one loadSavedModel finds
    return { dir: outDir, preprocessor, source, timmModel, loaded: report.loaded.length };
  } finally {
    model.dispose();
  }
}
