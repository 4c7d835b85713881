/**
 * MegaAge-Asian training run of Liu 2020 (DLDL-v2 + SE-ResNeXt-50 32x4d), on @ldl/train.
 *
 *   tsx src/cli.ts train [--preset small] [--data DIR] …
 *   tsx src/cli.ts eval --checkpoint RUN_DIR [--data DIR]
 *   tsx src/cli.ts predict --checkpoint RUN_DIR face.jpg
 *
 * Data: `--data DIR` in the MegaAge-Asian layout; by default `../shared/datasets/aaf-megaage` (beside
 * the repository) when it exists, otherwise a synthetic data set generated into `runs/` (see README).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getPretrainedCfg, resolvePackageFile } from '@ldl/backbones';
import {
  type AgeSample,
  type CliValues,
  type ExampleSpec,
  generateSyntheticMegaAge,
  noteDuplicates,
  noteSkipped,
  type Preset,
  type ReaderOptions,
  type ReadResult,
  readAlignedCsv,
  readMegaAge,
  runExampleCli,
  transferPresets,
} from '@ldl/train';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** Where `pnpm start` looks for real data: `../shared/datasets/aaf-megaage` from the repository root. */
export const SHARED_DATA = path.resolve(repoRoot, '../shared/datasets/aaf-megaage');
/**
 * Extra training data of the pretrained presets where present: UTKFace (MORPH-style CSV), only the training part
 * of the morph example's seeded 80/20 split, so that a model trained here can be evaluated on that example's test part.
 */
export const SHARED_UTKFACE = { path: path.resolve(repoRoot, '../shared/datasets/utkface/utkface.csv'), trainPartOf: { seed: 0, testFraction: 0.2 } };

async function resolveData(values: CliValues): Promise<{ root: string; synthetic: boolean; note: string }> {
  if (values.data) return { root: path.resolve(String(values.data)), synthetic: false, note: `data: ${path.resolve(String(values.data))}` };
  if (!values.synthetic && existsSync(SHARED_DATA)) return { root: SHARED_DATA, synthetic: false, note: `data: ${SHARED_DATA} (MegaAge-Asian layout)` };
  const root = path.join(repoRoot, 'runs', 'synthetic-megaage');
  const { generated } = await generateSyntheticMegaAge(root);
  const why = values.synthetic ? '--synthetic' : `${SHARED_DATA} not found`;
  return {
    root,
    synthetic: true,
    note: `data: SYNTHETIC drawn faces (${why}; ${generated ? 'generated' : 'reused'} in ${root}) — not real faces; figures show the pipeline works, nothing about real age estimation`,
  };
}

async function readSplit(root: string, split: 'train' | 'test', values: CliValues, reader: ReaderOptions): Promise<ReadResult> {
  const csv = values[`${split}-csv`];
  if (!csv) return readMegaAge(root, split, reader);
  // A faces.csv straight from `ldl-face-prep align` has no ages: they come from the split's own lists,
  // joined by photo name (the images themselves are checked through the CSV's rows).
  const labels = async () => (await readMegaAge(root, split, { ...reader, skipBad: true, verifyImages: 'none', duplicates: 'keep' })).samples;
  return readAlignedCsv(String(csv), { ...reader, imageRoot: root, labels });
}

/**
 * `pnpm start`'s choice: the best preset that trains in under 20 minutes here (finetune-head on AAF alone), or
 * small — on synthetic faces, or from random weights — when the data or the weights are absent.
 */
function startPreset(values: CliValues): Preset {
  const presets = spec.presets;
  const data = Boolean(values.data) || (!values.synthetic && existsSync(SHARED_DATA));
  let weights = true;
  try {
    const cfg = getPretrainedCfg('facerec_resnet34');
    resolvePackageFile(cfg.package, cfg.file);
  } catch (e) {
    weights = false;
    console.log(`preset start: ${(e as Error).message.replace(/^Error in \w+: /, '')}`);
  }
  const chosen = data && weights ? 'finetune-head' : 'small';
  console.log(`preset start → ${chosen}${chosen === 'small' ? ` (${data ? 'no pretrained weights' : 'no real face data'}: training from random weights)` : ' on this dataset alone'}`);
  const base = presets[chosen]!;
  // finetune-head without the extra UTKFace data: a frozen backbone's head fits AAF alone better, and in half the time.
  return chosen === 'small' ? spec.adjust!(base, { ...values, preset: 'small' }) : { ...base, extraTrain: [] };
}

const spec: ExampleSpec = {
  name: 'megaage-asian',
  repoRoot,
  presets: {
    paper: {
      description: 'SE-ResNeXt-50 32x4d, 224 px, batch 128, 80 epochs, Adam 1e-3, StepLR(20, 0.2), margin 0.4, augmentation',
      model: { backbone: 'seresnext50_32x4d', imageSize: 224 },
      epochs: 80,
      batchSize: 128,
      margin: 0.4,
      bestBy: 'ca3',
    },
    small: {
      description: 'CPU-sized: ResNet-50 family at width x0.25, depth x0.34 ([1,1,2,1] blocks), 64 px, batch 32, 6 epochs',
      model: { backbone: 'resnet50', widthScale: 0.25, depthScale: 0.34, imageSize: 64 },
      epochs: 6,
      stepSize: 4,
      batchSize: 32,
      margin: 0.4,
      bestBy: 'ca3',
    },
    ...transferPresets([SHARED_UTKFACE]),
    start: {
      description: "what `pnpm start` runs: finetune-head on the dataset alone where the All-Age-Faces data and @vladmandic/face-api's weights are present, else small",
      model: {},
    },
  },
  adjust(preset, values) {
    if (values.preset === 'start') return startPreset(values);
    // The synthetic set is small (720 training images): more epochs, still only a few minutes on 2 cores.
    const synthetic = Boolean(values.synthetic) || (!values.data && !existsSync(SHARED_DATA));
    return synthetic && preset.model.imageSize === 64 ? { ...preset, epochs: 8, stepSize: 6 } : preset;
  },
  flags: {
    data: { type: 'string', description: 'data root in the MegaAge-Asian layout (list/, train/, test/)' },
    synthetic: { type: 'boolean', description: 'use the generated synthetic data set even if real data exists' },
    'train-csv': { type: 'string', description: "aligned CSV for train: photo,age,deg,box1..box4, or the faces.csv of ldl-face-prep align (ages joined from list/train_*.txt); photos relative to --data" },
    'test-csv': { type: 'string', description: 'aligned CSV for test' },
    split: { type: 'string', description: 'eval: train or test (default test)' },
  },
  async loadData(values, reader) {
    const data = await resolveData(values);
    const [train, test] = await Promise.all([readSplit(data.root, 'train', values, reader), readSplit(data.root, 'test', values, reader)]);
    return {
      train: train.samples,
      test: test.samples,
      notes: [data.note, ...noteSkipped('train', train.skipped), ...noteSkipped('test', test.skipped), ...noteDuplicates('train', train.duplicates, reader.duplicates), ...noteDuplicates('test', test.duplicates, reader.duplicates)],
      title: data.synthetic ? 'MegaAge-Asian example on SYNTHETIC faces' : `MegaAge-Asian example on ${path.basename(data.root)}`,
    };
  },
  async loadEvalData(values, reader) {
    const data = await resolveData(values);
    const split = values.split === 'train' ? 'train' : 'test';
    const r = await readSplit(data.root, split, values, reader);
    const samples: AgeSample[] = r.samples;
    return { samples, notes: [data.note, `split: ${split}`, ...noteSkipped(split, r.skipped), ...noteDuplicates(split, r.duplicates, reader.duplicates)] };
  },
};

runExampleCli(spec, process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
