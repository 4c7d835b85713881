/**
 * MORPH-style training run of Liu 2020 (DLDL-v2 + SE-ResNeXt-50 32x4d; optionally the multi-task
 * age + gender + ethnicity model), on @ldl/train. Data: a CSV with photo, age, gender, race (column
 * names configurable; MORPH Album2 names such as `306916_01M45.JPG` supply age and gender when the
 * CSV has no age column), split 80/20 at random with `--split-seed` as in the MORPH protocol.
 *
 *   tsx src/cli.ts train [--preset small] [--csv FILE] [--multi-task] [--skip-bad] …
 *   tsx src/cli.ts eval --checkpoint RUN_DIR [--csv FILE] [--split-seed N]
 *   tsx src/cli.ts predict --checkpoint RUN_DIR face.jpg
 *
 * Default CSV: `../shared/datasets/utkface/utkface.csv` beside the repository (UTKFace stands in for
 * MORPH, which cannot be shipped).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type CliValues,
  type CsvReaderOptions,
  type ExampleSpec,
  noteDuplicates,
  noteSkipped,
  type ReaderOptions,
  readAlignedCsv,
  readMorphCsv,
  runExampleCli,
  splitSamples,
  transferPresets,
  UTKFACE_RACES,
} from '@ldl/train';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** Default CSV: UTKFace in a MORPH-style table, beside the repository. */
export const SHARED_CSV = path.resolve(repoRoot, '../shared/datasets/utkface/utkface.csv');
/** Extra training data of the pretrained presets where present: All-Age-Faces' training split (MegaAge-Asian layout). */
export const SHARED_AAF = path.resolve(repoRoot, '../shared/datasets/aaf-megaage');

async function readAll(values: CliValues, reader: ReaderOptions) {
  const csv = path.resolve(String(values.csv ?? SHARED_CSV));
  const options: CsvReaderOptions = {
    ...reader,
    imageRoot: values['image-root'] ? path.resolve(String(values['image-root'])) : undefined,
    raceClasses: values['race-classes'] ? String(values['race-classes']).split(',') : UTKFACE_RACES,
    columns: {
      photo: (values['photo-col'] as string | undefined) ?? 'photo',
      age: (values['age-col'] as string | undefined) ?? 'age',
      gender: (values['gender-col'] as string | undefined) ?? 'gender',
      race: (values['race-col'] as string | undefined) ?? 'race',
    },
  };
  // --faces: the faces.csv of `ldl-face-prep align` (no ages); labels come from --csv, joined by photo name.
  const faces = values.faces ? path.resolve(String(values.faces)) : undefined;
  const labels = async () => (await readMorphCsv(csv, { ...options, skipBad: true, verifyImages: 'none', duplicates: 'keep' })).samples;
  const result = faces
    ? await readAlignedCsv(faces, { ...options, columns: undefined, labels }) // faces.csv's own column names
    : values.aligned
      ? await readAlignedCsv(csv, options)
      : await readMorphCsv(csv, options);
  const seed = Number(values['split-seed'] ?? 0);
  if (!Number.isInteger(seed)) throw new Error(`Error in --split-seed: must be an integer, but got ${JSON.stringify(values['split-seed'])}.`);
  const split = splitSamples(result.samples, seed, 0.2);
  const notes = [
    `data: ${csv}${csv === SHARED_CSV ? ' (UTKFace standing in for MORPH)' : ''}${faces ? `, boxes from ${faces}` : ''}; ${result.samples.length} rows, 80/20 split with --split-seed ${seed}`,
    ...noteSkipped('csv', result.skipped),
    ...noteDuplicates('csv', result.duplicates, reader.duplicates),
  ];
  return { csv, split, notes };
}

const spec: ExampleSpec = {
  name: 'morph',
  repoRoot,
  presets: {
    paper: {
      description: 'SE-ResNeXt-50 32x4d, 224 px, batch 128, 80 epochs, Adam 1e-3, StepLR(20, 0.2), margin 0.2, augmentation',
      model: { backbone: 'seresnext50_32x4d', imageSize: 224 },
      epochs: 80,
      batchSize: 128,
      margin: 0.2,
      bestBy: 'mae',
    },
    small: {
      description: 'CPU-sized: ResNet-50 family at width x0.25, depth x0.34 ([1,1,2,1] blocks), 64 px, batch 32, 6 epochs',
      model: { backbone: 'resnet50', widthScale: 0.25, depthScale: 0.34, imageSize: 64 },
      epochs: 6,
      stepSize: 4,
      batchSize: 32,
      margin: 0.2,
      bestBy: 'mae',
    },
    ...transferPresets([SHARED_AAF]),
  },
  adjust(preset, values) {
    if (!values['multi-task']) return preset;
    const classes = values['race-classes'] ? String(values['race-classes']).split(',').length : UTKFACE_RACES.length;
    return { ...preset, model: { ...preset.model, multiTask: true, numEthnicities: classes } };
  },
  flags: {
    csv: { type: 'string', description: 'MORPH-style CSV (default ../shared/datasets/utkface/utkface.csv)' },
    'image-root': { type: 'string', description: "directory photo paths are relative to (default: the CSV's)" },
    faces: { type: 'string', description: 'faces.csv of ldl-face-prep align (photo,deg,box…,status): crops by its boxes, ages from --csv joined by photo name' },
    aligned: { type: 'boolean', description: 'the CSV is the aligned one (photo,age,deg,box1..box4,gender,race)' },
    'split-seed': { type: 'string', description: 'seed of the 80/20 train/test split (default 0)' },
    'multi-task': { type: 'boolean', description: 'age + gender + ethnicity model (multiTaskAgeModel + multiTaskLoss)' },
    'race-classes': { type: 'string', description: 'race labels in class order (default White,Black,Asian,Indian,Others; MORPH: B,W,A,H,O)' },
    'photo-col': { type: 'string', description: 'photo column (default photo)' },
    'age-col': { type: 'string', description: 'age column (default age; absent: from Album2 names)' },
    'gender-col': { type: 'string', description: 'gender column (default gender)' },
    'race-col': { type: 'string', description: 'race column (default race)' },
    split: { type: 'string', description: 'eval: train or test (default test)' },
  },
  async loadData(values, reader) {
    const { csv, split, notes } = await readAll(values, reader);
    return { train: split.train, test: split.test, notes, title: `MORPH-style example on ${path.basename(csv)}${values['multi-task'] ? ' (multi-task)' : ''}` };
  },
  async loadEvalData(values, reader) {
    const { split, notes } = await readAll(values, reader);
    const which = values.split === 'train' ? 'train' : 'test';
    return { samples: split[which], notes: [...notes, `split: ${which}`] };
  },
};

runExampleCli(spec, process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
