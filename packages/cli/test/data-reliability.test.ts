/**
 * Issue 20, the kinds about data, labels and evaluation, each as the user meets it at `ldl train|eval`:
 * lists read together line by line (1), photos joined to labels by path (2), a partial faces.csv (3),
 * eval reading only its split with its flip TTA (8), late decode failures (11), skipped.csv and decimal-only
 * boxes (12). Inputs are generated here the way `../shared/cases` made them (synthetic faces); where
 * `../shared/cases` exists, its copies run through the same checks.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSyntheticMegaAge, loadTrainTestData } from '@ldl/train';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { ldl } from './helpers';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ldl-data-'));
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CASES = path.resolve(repoRoot, '../shared/cases');
const HAVE_CASES = existsSync(CASES);
if (!HAVE_CASES) console.warn(`skipping the ../shared/cases copies: ${CASES} is absent (the generated inputs still run)`);


const TINY = ['--preset', 'small', '--image-size', '32', '--width-scale', '0.0625', '--backend', 'cpu', '--batch-size', '8', '--epochs', '1'];
const lines = (file: string) => readFileSync(file, 'utf8').split('\n');
const csvRows = (file: string) => readFileSync(file, 'utf8').trim().split('\n').slice(1);

/** The base set of the cases: 24 train / 8 test synthetic faces; `truth` maps image file name → age. */
const base = { root: '', truth: new Map<string, number>() };
beforeAll(async () => {
  base.root = path.join(dir, 'base');
  await generateSyntheticMegaAge(base.root, { trainCount: 24, testCount: 8, size: 64, seed: 20 });
  for (const split of ['train', 'test']) {
    const names = lines(path.join(base.root, 'list', `${split}_name.txt`)).filter(Boolean);
    const ages = lines(path.join(base.root, 'list', `${split}_age.txt`)).filter(Boolean);
    names.forEach((n, i) => base.truth.set(`${split}/${n}`, Number(ages[i])));
  }
}, 60_000);

/** A copy of the base set in `dir/name`. */
function copyOfBase(name: string): string {
  const root = path.join(dir, name);
  cpSync(base.root, root, { recursive: true });
  return root;
}

/** Inserts an empty line before 1-based `line` of a list file. */
function insertBlank(file: string, line: number): void {
  const l = lines(file);
  l.splice(line - 1, 0, '');
  writeFileSync(file, l.join('\n'));
}

describe('kind 1: MegaAge lists read together, line by line (c20-two-offset-blanks)', () => {
  /** Checks one c20-like folder: the error without --skip-bad, and no wrong label with it. */
  async function check(root: string, truthOf: (file: string) => number | undefined) {
    const nameFile = path.join(root, 'list', 'train_name.txt');
    const ageFile = path.join(root, 'list', 'train_age.txt');
    const refused = await ldl('train', ...TINY, '--data', root, '--run-dir', path.join(root, '..', `${path.basename(root)}-refused`));
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(`Error in readMegaAge: ${nameFile} line 5: image name must not be blank (or a comment) where ${ageFile} line 5 has "`);

    const data = await loadTrainTestData({ path: root }, { skipBad: true });
    expect(data.train.length).toBe(17); // lines 1-4 and 13-25: lines 5 and 12 are one-sided blanks, 6-11 lie between them
    for (const s of data.train) expect(s.age, s.path).toBe(truthOf(s.path));
    expect(data.skipped?.map((b) => b.line)).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);

    const runDir = path.join(root, '..', `${path.basename(root)}-run`);
    const run = await ldl('train', ...TINY, '--data', root, '--skip-bad', '--run-dir', runDir);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain('train: skipped 8 bad rows (--skip-bad)');
    const skipped = csvRows(path.join(runDir, 'skipped.csv'));
    expect(skipped.length).toBe(8);
    expect(skipped[0]).toContain(`${nameFile},5,"image name must not be blank (or a comment) where ${ageFile} line 5 has ""`);
    expect(skipped[1]).toContain(`is not paired: ${nameFile} line 5 is blank where ${ageFile} has an entry, and ${ageFile} line 12 is blank where ${nameFile} has one`);
    expect(skipped[7]).toContain(`${ageFile},12,"age must not be blank (or a comment) where ${nameFile} line 12 has ""train_00010.jpg""`);
  }

  it('one blank line in each list at different lines: an error naming both files and the line; --skip-bad pairs no line in doubt', { timeout: 120_000 }, async () => {
    const root = copyOfBase('c20');
    insertBlank(path.join(root, 'list', 'train_name.txt'), 5);
    insertBlank(path.join(root, 'list', 'train_age.txt'), 12);
    await check(root, (file) => base.truth.get(`train/${path.basename(file)}`));
  });

  it.skipIf(!HAVE_CASES)('../shared/cases/c20-two-offset-blanks', { timeout: 120_000 }, async () => {
    const root = path.join(dir, 'shared-c20');
    cpSync(path.join(CASES, 'c20-two-offset-blanks'), root, { recursive: true });
    const names = lines(path.join(CASES, 'base-synthetic/list/train_name.txt'));
    const ages = lines(path.join(CASES, 'base-synthetic/list/train_age.txt'));
    const truth = new Map(names.map((n, i) => [n, Number(ages[i])]));
    await check(path.join(root, 'data'), (file) => truth.get(path.basename(file)));
  });

  it('a line blank in one list only (same lengths): an error naming both files; --skip-bad skips only that pair', { timeout: 60_000 }, async () => {
    const root = copyOfBase('one-blank');
    const ageFile = path.join(root, 'list', 'train_age.txt');
    const ages = lines(ageFile);
    ages[6] = '';
    writeFileSync(ageFile, ages.join('\n'));
    const nameFile = path.join(root, 'list', 'train_name.txt');
    const refused = await ldl('train', ...TINY, '--data', root, '--run-dir', path.join(dir, 'one-blank-refused'));
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(`Error in readMegaAge: ${ageFile} line 7: age must not be blank (or a comment) where ${nameFile} line 7 has "train_00006.jpg"`);
    const data = await loadTrainTestData({ path: root }, { skipBad: true });
    expect(data.train.length).toBe(23);
    for (const s of data.train) expect(s.age).toBe(base.truth.get(`train/${path.basename(s.path)}`));
    expect(data.skipped?.map((b) => b.line)).toEqual([7]);
  });
});

/** A faces.csv row covering the whole 64-px synthetic image. */
const faceRow = (photo: string, status = 'ok') => (status === 'ok' ? `${photo},0,4,4,60,60,20,28,44,28,ok` : `${photo},,,,,,,,,,${status}`);
const FACES_HEADER = 'photo,deg,box1,box2,box3,box4,left_eye_x,left_eye_y,right_eye_x,right_eye_y,status';

describe('kind 2: photos joined to labels by their path relative to the data root (c21-same-names)', () => {
  /** Checks a c21-like folder whose faces.csv covers train/ and test/ with the same file names. */
  async function check(root: string, faces: string, truth: Map<string, number>, missing: number) {
    const data = await loadTrainTestData({ path: root, trainCsv: faces }, { skipBad: true });
    expect(data.train.length).toBeGreaterThan(0);
    for (const s of data.train) {
      expect(path.relative(root, s.path)).toMatch(/^train\//);
      expect(s.age, s.path).toBe(truth.get(path.relative(root, s.path)));
    }
    expect(data.notes.join('\n')).toContain(`${faces}: 4 rows left out, photos of another split (${path.join(root, 'test')})`);
    const r = await ldl('train', ...TINY, '--data', root, '--train-csv', faces, '--skip-bad', '--run-dir', path.join(root, '..', `${path.basename(root)}-run`));
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('4 rows left out, photos of another split');
    if (missing > 0) expect(r.out).toContain(`${missing} of 12 labelled photos have no row in ${faces}`);
  }

  it('train/1.jpg and test/1.jpg in one faces.csv: each takes its own split\'s label', { timeout: 120_000 }, async () => {
    const root = path.join(dir, 'c21', 'data');
    const truth = new Map<string, number>();
    for (const split of ['train', 'test'] as const) {
      const count = split === 'train' ? 12 : 4;
      mkdirSync(path.join(root, split), { recursive: true });
      mkdirSync(path.join(root, 'list'), { recursive: true });
      const names: string[] = [];
      const ages: number[] = [];
      for (let i = 1; i <= count; i++) {
        const from = `${split}/${split}_${String(i - 1).padStart(5, '0')}.jpg`;
        cpSync(path.join(base.root, from), path.join(root, split, `${i}.jpg`));
        names.push(`${i}.jpg`);
        ages.push(base.truth.get(from)!);
        truth.set(`${split}/${i}.jpg`, base.truth.get(from)!);
      }
      writeFileSync(path.join(root, 'list', `${split}_name.txt`), `${names.join('\n')}\n`);
      writeFileSync(path.join(root, 'list', `${split}_age.txt`), `${ages.join('\n')}\n`);
    }
    const photos = [...truth.keys()];
    const faces = path.join(dir, 'c21', 'faces.csv');
    writeFileSync(faces, `${[FACES_HEADER, ...photos.map((p) => faceRow(p))].join('\n')}\n`);
    await check(root, faces, truth, 0);
    // the same without --skip-bad: the test rows are another split's, not bad rows
    const plain = await ldl('train', ...TINY, '--data', root, '--train-csv', faces, '--run-dir', path.join(dir, 'c21-plain'));
    expect(plain.code, plain.out).toBe(0);
  });

  it.skipIf(!HAVE_CASES)('../shared/cases/c21-same-names (its faces.csv has the ok rows only: 2 photos without a row are reported)', { timeout: 120_000 }, async () => {
    const root = path.join(dir, 'shared-c21');
    cpSync(path.join(CASES, 'c21-same-names'), root, { recursive: true });
    const truth = new Map<string, number>();
    for (const split of ['train', 'test']) {
      const names = lines(path.join(root, 'data/list', `${split}_name.txt`)).filter(Boolean);
      const ages = lines(path.join(root, 'data/list', `${split}_age.txt`)).filter(Boolean);
      names.forEach((n, i) => truth.set(`${split}/${n}`, Number(ages[i])));
    }
    await check(path.join(root, 'data'), path.join(root, 'faces.csv'), truth, 2);
  });

  it('a photo name that could mean two labelled photos is an error listing both', { timeout: 60_000 }, async () => {
    const root = path.join(dir, 'ambiguous');
    for (const sub of ['a', 'b']) {
      mkdirSync(path.join(root, sub), { recursive: true });
      cpSync(path.join(base.root, `train/train_0000${sub === 'a' ? 0 : 1}.jpg`), path.join(root, sub, '1.jpg'));
    }
    for (let i = 2; i < 8; i++) cpSync(path.join(base.root, `train/train_0000${i}.jpg`), path.join(root, 'a', `${i}.jpg`));
    const csv = path.join(root, 'labels.csv');
    writeFileSync(csv, ['photo,age', 'a/1.jpg,30', 'b/1.jpg,60', ...[2, 3, 4, 5, 6, 7].map((i) => `a/${i}.jpg,${20 + i}`)].join('\n'));
    const faces = path.join(root, 'faces.csv');
    writeFileSync(faces, `${[FACES_HEADER, faceRow('1.jpg'), faceRow('b/1.jpg'), ...[2, 3, 4, 5, 6, 7].map((i) => faceRow(`a/${i}.jpg`))].join('\n')}\n`);
    const r = await ldl('train', ...TINY, '--data', csv, '--faces', faces, '--run-dir', path.join(dir, 'ambiguous-run'));
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      `Error in readAlignedCsv: ${faces} line 2: photo "1.jpg" must name one labelled image, but it could be any of 2: ${path.join(root, 'a/1.jpg')} (${csv} line 2), ${path.join(root, 'b/1.jpg')} (${csv} line 3)`,
    );
  });
});

describe('kind 3: a partial faces.csv (align interrupted)', () => {
  it('is an error giving the count and the first names; --skip-bad reports the count', { timeout: 120_000 }, async () => {
    const root = copyOfBase('partial');
    const names = lines(path.join(root, 'list', 'train_name.txt')).filter(Boolean);
    const faces = path.join(dir, 'partial-faces.csv');
    // 10 of 24 photos have a row (2 of them no face), as when align stops early
    writeFileSync(faces, `${[FACES_HEADER, ...names.slice(0, 10).map((n, i) => faceRow(`train/${n}`, i < 8 ? 'ok' : 'no_face'))].join('\n')}\n`);
    const refused = await ldl('train', ...TINY, '--data', root, '--train-csv', faces, '--run-dir', path.join(dir, 'partial-refused'));
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(
      `Error in readAlignedCsv: every labelled photo must have a row, but 14 of 24 labelled photos have no row in ${faces} (ldl prep align was interrupted, or rows were removed: it writes one row per photo, status ok or not); first: train/train_00010.jpg, train/train_00011.jpg, train/train_00012.jpg, train/train_00013.jpg, train/train_00014.jpg, …`,
    );
    const runDir = path.join(dir, 'partial-run');
    const r = await ldl('train', ...TINY, '--data', root, '--train-csv', faces, '--skip-bad', '--run-dir', runDir);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`train: 14 of 24 labelled photos have no row in ${faces}`);
    expect(r.out).toContain('train: skipped 16 bad rows (--skip-bad)');
    expect(csvRows(path.join(runDir, 'skipped.csv')).length).toBe(16);
  });
});

describe('kind 12: honest messages', () => {
  it('a box value 0x14 is an error (decimal numbers only), not 20', { timeout: 60_000 }, async () => {
    const root = copyOfBase('hex-box');
    const names = lines(path.join(root, 'list', 'train_name.txt')).filter(Boolean);
    const ages = lines(path.join(root, 'list', 'train_age.txt')).filter(Boolean);
    const aligned = path.join(root, 'aligned.csv');
    writeFileSync(aligned, ['photo,age,deg,box1,box2,box3,box4', ...names.map((n, i) => `train/${n},${ages[i]},0,${i === 2 ? '0x14' : '4'},4,60,60`)].join('\n'));
    const r = await ldl('train', ...TINY, '--data', root, '--train-csv', aligned, '--run-dir', path.join(dir, 'hex-run'));
    expect(r.code).toBe(1);
    expect(r.out).toContain(`Error in readAlignedCsv: ${aligned} line 4: box1 must be a decimal number, but got "0x14"`);
  });
});

describe('kind 11: an image that fails to decode during training', () => {
  it('is skipped under --skip-bad with its own decoder message, and written to skipped.csv', { timeout: 120_000 }, async () => {
    const root = copyOfBase('late');
    const bad = path.join(root, 'train', 'train_00003.jpg');
    const png = await sharp(bad).png({ compressionLevel: 0 }).toBuffer();
    writeFileSync(bad, png.subarray(0, Math.floor(png.length * 0.6))); // cut inside the image data: the header passes
    const runDir = path.join(dir, 'late-run');
    const r = await ldl('train', ...TINY, '--data', root, '--skip-bad', '--verify-images', 'header', '--run-dir', runDir);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(new RegExp(`WARNING skipped \\(--skip-bad\\): Error in loadImage: cannot load ${bad} \\(${path.join(root, 'list', 'train_name.txt')} line 4\\): Cannot read image ${bad}: pngload: `));
    expect(r.out).not.toContain('Unknown error');
    const skipped = csvRows(path.join(runDir, 'skipped.csv'));
    expect(skipped.length).toBe(1);
    expect(skipped[0]).toMatch(/,4,Error in loadImage: .*pngload: /);
    // without --skip-bad the run stops, with the decoder's message
    const stopped = await ldl('train', ...TINY, '--data', root, '--verify-images', 'header', '--run-dir', path.join(dir, 'late-stopped'));
    expect(stopped.code).toBe(1);
    expect(stopped.out).toMatch(/Cannot read image .*train_00003\.jpg: pngload: /);
  });
});

describe('kind 14: near-duplicates by perceptual hash, under the --duplicates policy', () => {
  it('a re-encoded JPEG copy with another age is reported as a conflict, a re-encoded train photo in test as leakage; --duplicates drop drops it', { timeout: 120_000 }, async () => {
    const root = copyOfBase('near');
    // the cartoon faces share large flat areas (some differ in 8 of 256 hash bits): a seeded blocky texture
    // per image makes them as different as photos of different people (AAF: 30 bits or more)
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (const split of ['train', 'test']) {
      for (const n of lines(path.join(root, 'list', `${split}_name.txt`)).filter(Boolean)) {
        const blocks = Buffer.alloc(64 * 64 * 3);
        for (let by = 0; by < 8; by++) for (let bx = 0; bx < 8; bx++) {
          const v = Math.floor(rand() * 255);
          for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) blocks.fill(v, ((by * 8 + y) * 64 + bx * 8 + x) * 3, ((by * 8 + y) * 64 + bx * 8 + x) * 3 + 3);
        }
        const file = path.join(root, split, n);
        const texture = await sharp(blocks, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
        writeFileSync(file, await sharp(file).composite([{ input: texture, blend: 'overlay' }]).jpeg({ quality: 92 }).toBuffer());
      }
    }
    const original = path.join(root, 'train', 'train_00007.jpg');
    writeFileSync(path.join(root, 'train', 'copy.jpg'), await sharp(original).jpeg({ quality: 60 }).toBuffer());
    writeFileSync(path.join(root, 'test', 'leak.jpg'), await sharp(path.join(root, 'train', 'train_00002.jpg')).resize(56).jpeg({ quality: 70 }).toBuffer());
    const age = base.truth.get('train/train_00007.jpg')!;
    const other = age > 50 ? age - 41 : age + 41;
    for (const [split, name, a] of [['train', 'copy.jpg', other], ['test', 'leak.jpg', 33]] as const) {
      writeFileSync(path.join(root, 'list', `${split}_name.txt`), `${readFileSync(path.join(root, 'list', `${split}_name.txt`), 'utf8')}${name}\n`);
      writeFileSync(path.join(root, 'list', `${split}_age.txt`), `${readFileSync(path.join(root, 'list', `${split}_age.txt`), 'utf8')}${a}\n`);
    }
    const kept = await ldl('train', ...TINY, '--data', root, '--run-dir', path.join(dir, 'near-keep'));
    expect(kept.code, kept.out).toBe(0);
    expect(kept.out).toMatch(
      new RegExp(`WARNING train: 1 duplicated image in 2 rows \\(1 with conflicting labels\\); all rows kept \\(--duplicates keep\\)[^\\n]*\\n +near-duplicate images \\(perceptual hash within \\d+ of 256 bits\\) ${original}, ${path.join(root, 'train', 'copy.jpg')} with CONFLICTING labels \\([^)]*line 8: age ${age}; [^)]*line 25: age ${other}\\)`),
    );
    expect(kept.out).toContain(`WARNING: 1 test image is also in the training data (same path, byte-identical or a near-duplicate by perceptual hash), so test figures are optimistic; first: ${path.join(root, 'test', 'leak.jpg')}`);
    const counts = (out: string) => /data: train (\d+), validation (\d+), test (\d+)/.exec(out)!.slice(1).map(Number);
    const [keptTrain, keptVal] = counts(kept.out);
    expect(keptTrain + keptVal).toBe(25);
    const dropped = await ldl('train', ...TINY, '--data', root, '--duplicates', 'drop', '--run-dir', path.join(dir, 'near-drop'));
    expect(dropped.code, dropped.out).toBe(0);
    expect(dropped.out).toContain('all but the first row dropped (--duplicates drop)');
    const [droppedTrain, droppedVal] = counts(dropped.out);
    expect(droppedTrain + droppedVal).toBe(24);
  });

  it.skipIf(!existsSync(path.resolve(repoRoot, '../shared/datasets/aaf-megaage')))(
    'real faces (aaf-megaage, aligned alike): none among 300 different train faces; in test, one photo listed twice (ages 42 and 43)',
    { timeout: 120_000 },
    async () => {
      const aaf = path.resolve(repoRoot, '../shared/datasets/aaf-megaage');
      const data = await loadTrainTestData({ path: aaf }, { limit: 300 });
      const near = data.notes.filter((n) => n.includes('near-duplicate images'));
      expect(near).toHaveLength(1);
      expect(near[0]).toMatch(/^WARNING test: 1 duplicated image in 2 rows \(1 with conflicting labels\)/);
      expect(near[0]).toContain(`${path.join(aaf, 'test/05587A42.jpg')}, ${path.join(aaf, 'test/05699A43.jpg')} with CONFLICTING labels`);
    },
  );
});

describe('kind 8: ldl eval reads only the split it scores, with the run\'s flip TTA (printed) or the flag\'s', () => {
  it('TTA defaults to the run\'s and is printed; --flip-tta / --no-flip-tta reach the evaluator; a test-only set and a broken train image', { timeout: 240_000 }, async () => {
    const root = copyOfBase('eval');
    // asymmetric marks, so that the mirror changes the prediction
    for (const split of ['train', 'test']) {
      for (const n of lines(path.join(root, 'list', `${split}_name.txt`)).filter(Boolean)) {
        const file = path.join(root, split, n);
        const img = await sharp(file).composite([{ input: { create: { width: 20, height: 64, channels: 3, background: { r: 255, g: 0, b: 0 } } }, left: 0, top: 0 }]).jpeg().toBuffer();
        writeFileSync(file, img);
      }
    }
    const runDir = path.join(dir, 'eval-run');
    const trained = await ldl('train', ...TINY, '--data', root, '--flip-tta', '--run-dir', runDir);
    expect(trained.code, trained.out).toBe(0);
    const report = JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')) as { test: { mae: number }; config: { flipTta: boolean } };
    expect(report.config.flipTta).toBe(true);

    const byRun = await ldl('eval', '--checkpoint', runDir, '--data', root, '--backend', 'cpu');
    expect(byRun.code, byRun.out).toBe(0);
    expect(byRun.out).toContain(`flip TTA: on (each image and its mirror averaged) (the run's setting in ${path.join(runDir, 'config.json')})`);
    expect(byRun.out).toContain(`eval on 8 images (flip TTA): MAE ${report.test.mae.toFixed(3)}`);
    const off = await ldl('eval', '--checkpoint', runDir, '--data', root, '--backend', 'cpu', '--no-flip-tta');
    expect(off.out).toContain('flip TTA: off (--no-flip-tta)');
    const mae = (out: string) => Number(/MAE (\d+\.\d+)/.exec(out.slice(out.indexOf('eval on')))?.[1]);
    expect(mae(off.out)).not.toBe(mae(byRun.out));
    const on = await ldl('eval', '--checkpoint', runDir, '--data', root, '--backend', 'cpu', '--flip-tta');
    expect(on.out).toContain('flip TTA: on (each image and its mirror averaged) (--flip-tta)');
    expect(mae(on.out)).toBe(mae(byRun.out));

    // a broken train image does not stop the test's evaluation; the train split is not read
    writeFileSync(path.join(root, 'train', 'train_00001.jpg'), 'not an image');
    const broken = await ldl('eval', '--checkpoint', runDir, '--data', root, '--backend', 'cpu');
    expect(broken.code, broken.out).toBe(0);
    expect(broken.out).toContain('split: test (the only split read)');
    // a test-only set: empty train lists, then none at all (still MegaAge, not UTKFace)
    for (const f of ['train_name.txt', 'train_age.txt']) writeFileSync(path.join(root, 'list', f), '');
    const empty = await ldl('eval', '--checkpoint', runDir, '--data', root, '--backend', 'cpu');
    expect(empty.code, empty.out).toBe(0);
    expect(empty.out).toContain(`eval on 8 images (flip TTA): MAE ${report.test.mae.toFixed(3)}`);
    for (const f of ['train_name.txt', 'train_age.txt']) writeFileSync(path.join(root, 'list', f), '');
    cpSync(root, path.join(dir, 'test-only'), { recursive: true, filter: (p) => !p.includes(`${path.sep}train`) });
    const testOnly = await ldl('eval', '--checkpoint', runDir, '--data', path.join(dir, 'test-only'), '--backend', 'cpu');
    expect(testOnly.code, testOnly.out).toBe(0);
    expect(testOnly.out).toContain(`data: ${path.join(dir, 'test-only')} (megaage)`);
    expect(testOnly.out).toContain(`eval on 8 images (flip TTA): MAE ${report.test.mae.toFixed(3)}`);
  });
});
