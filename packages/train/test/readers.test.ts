import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  DatasetError,
  describeSkipped,
  parseAlbum2Name,
  parseUtkFaceName,
  readAlignedCsv,
  readMegaAge,
  readMorphCsv,
  readUtkFaceDir,
  splitSamples,
} from '../src/data/readers';
import { describeDuplicates } from '../src/data/duplicates';
import { loadImage } from '../src/data/pipeline';
import { jpeg, tempDir, writeMegaAge } from './helpers';

describe('readMegaAge', () => {
  it('reads names and ages in order', async () => {
    const root = tempDir();
    await writeMegaAge(root, 'train', ['a.jpg', 'b.jpg'], ['3', '45']);
    const { samples, skipped } = await readMegaAge(root, 'train');
    expect(samples.map((s) => [path.basename(s.path), s.age, s.source.line])).toEqual([
      ['a.jpg', 3, 1],
      ['b.jpg', 45, 2],
    ]);
    expect(skipped).toEqual([]);
  });

  it.each([
    ['-1', 2],
    ['150', 2],
    ['abc', 2],
  ])('stops at age %s naming the age file and line, or skips it with a count', async (bad, line) => {
    const root = tempDir();
    await writeMegaAge(root, 'train', ['a.jpg', 'b.jpg', 'c.jpg'], ['3', bad, '7']);
    const ageFile = path.join(root, 'list', 'train_age.txt');
    await expect(readMegaAge(root, 'train')).rejects.toThrow(
      `Error in readMegaAge: ${ageFile} line ${line}: age must be a number in [0, 100], but got "${bad}"`,
    );
    const { samples, skipped } = await readMegaAge(root, 'train', { skipBad: true });
    expect(samples.map((s) => s.age)).toEqual([3, 7]);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ file: ageFile, line });
    expect(describeSkipped(skipped)).toContain(`skipped 1 bad row:\n  ${ageFile} line 2`);
  });

  it('names the missing image file and its list line', async () => {
    const root = tempDir();
    await writeMegaAge(root, 'train', ['a.jpg', 'gone.jpg'], ['3', '4'], { images: ['a.jpg'] });
    const err = await readMegaAge(root, 'train').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).line).toBe(2);
    expect((err as Error).message).toContain(`image ${path.join(root, 'train', 'gone.jpg')} does not exist`);
    const { samples, skipped } = await readMegaAge(root, 'train', { skipBad: true });
    expect(samples).toHaveLength(1);
    expect(skipped).toHaveLength(1);
  });

  it('rejects a corrupt JPEG by its header', async () => {
    const root = tempDir();
    await writeMegaAge(root, 'train', ['a.jpg', 'bad.jpg'], ['3', '4'], { images: ['a.jpg'] });
    writeFileSync(path.join(root, 'train', 'bad.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7]));
    await expect(readMegaAge(root, 'train')).rejects.toThrow(
      new RegExp(`train_name.txt line 2: image .*bad.jpg cannot be decoded`),
    );
    const { samples, skipped } = await readMegaAge(root, 'train', { skipBad: true });
    expect(samples.map((s) => path.basename(s.path))).toEqual(['a.jpg']);
    expect(skipped).toHaveLength(1);
  });

  it('catches a truncated JPEG only with verifyImages "decode"', async () => {
    const root = tempDir();
    await writeMegaAge(root, 'train', ['a.jpg', 'cut.jpg'], ['3', '4'], { images: ['a.jpg'] });
    const full = await jpeg(64, 64);
    writeFileSync(path.join(root, 'train', 'cut.jpg'), full.subarray(0, Math.floor(full.length / 2)));
    await expect(readMegaAge(root, 'train', { verifyImages: 'decode' })).rejects.toThrow(/line 2: image .*cut.jpg cannot be decoded/);
  });

  // Shared case c09-jpeg-warning: one decoding rule for the up-front check and the loader.
  it('decodes with the loader\'s rule: a JPEG that only warns is usable everywhere, a truncated one is reported up front with its own name', async () => {
    const root = tempDir();
    await writeMegaAge(root, 'train', ['a.jpg', 'extraneous_bytes.jpg', 'truncated.jpg', 'b.jpg'], ['3', '4', '5', '6'], { images: ['a.jpg', 'b.jpg'] });
    const full = await jpeg(96, 96, [200, 100, 50]);
    const sos = full.indexOf(Buffer.from([0xff, 0xda]));
    writeFileSync(path.join(root, 'train', 'extraneous_bytes.jpg'), Buffer.concat([full.subarray(0, sos), Buffer.from([1, 2, 3]), full.subarray(sos)]));
    writeFileSync(path.join(root, 'train', 'truncated.jpg'), full.subarray(0, Math.floor(full.length * 0.6)));
    const nameFile = path.join(root, 'list', 'train_name.txt');
    await expect(readMegaAge(root, 'train')).rejects.toThrow(
      new RegExp(`${nameFile} line 3: image ${path.join(root, 'train', 'truncated.jpg')} cannot be decoded \\(.*premature end`),
    );
    const { samples, skipped } = await readMegaAge(root, 'train', { skipBad: true });
    expect(samples.map((s) => path.basename(s.path))).toEqual(['a.jpg', 'extraneous_bytes.jpg', 'b.jpg']);
    expect(skipped).toHaveLength(1);
    expect(skipped[0].reason).toMatch(/^image \S*\/truncated.jpg cannot be decoded/);
    for (const s of samples) await expect(loadImage(s, { size: 8 })).resolves.toMatchObject({ width: 8 });
  });

  it('rejects an empty list even when skipping', async () => {
    const root = tempDir();
    await writeMegaAge(root, 'train', [], []);
    await expect(readMegaAge(root, 'train', { skipBad: true })).rejects.toThrow(
      `Error in readMegaAge: ${path.join(root, 'list', 'train_name.txt')} must list at least one image, but it is empty.`,
    );
  });

  // Shared case c18-blank-line: one blank line in one of two parallel lists shifts every later label.
  it.each([false, true])('stops on lists of different lengths with skipBad %s, naming both files and their line counts', async (skipBad) => {
    const root = tempDir();
    const names = ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg', 'e.jpg'];
    await writeMegaAge(root, 'train', names, ['3', '4', '', '5', '6', '7']);
    const [nameFile, ageFile] = ['name', 'age'].map((k) => path.join(root, 'list', `train_${k}.txt`));
    const err = (await readMegaAge(root, 'train', { skipBad }).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain(`Error in readMegaAge: ${nameFile} and ${ageFile} must have the same number of lines`);
    expect(err.message).toContain(`but ${nameFile} has 5 lines and ${ageFile} has 6`);
    expect(err.message).toContain(`The first line that is blank (or a comment) in one list only is ${ageFile} line 3.`);
    // the other way round: a list one line short
    await writeMegaAge(root, 'train', names, ['3', '4', '5', '6']);
    await expect(readMegaAge(root, 'train', { skipBad })).rejects.toThrow(`but ${nameFile} has 5 lines and ${ageFile} has 4`);
  });

  it('treats blank and comment lines alike in both lists: ignored where both have one, a bad row where one has', async () => {
    const root = tempDir();
    await writeMegaAge(root, 'train', ['# names', 'a.jpg', '', 'b.jpg', 'c.jpg', '#x.jpg'], ['# ages', '3', '', '', '5', '9'], { images: ['a.jpg', 'b.jpg', 'c.jpg'] });
    const [nameFile, ageFile] = ['name', 'age'].map((k) => path.join(root, 'list', `train_${k}.txt`));
    await expect(readMegaAge(root, 'train')).rejects.toThrow(`${ageFile} line 4: age must not be blank (or a comment) where ${nameFile} line 4 has "b.jpg"`);
    const { samples, skipped } = await readMegaAge(root, 'train', { skipBad: true });
    // line 5 lies between a blank in the ages only (line 4) and a blank in the names only (line 6): if each
    // list got an inserted line, c.jpg's age is 9, not 5, so it is not paired at all
    expect(samples.map((s) => [path.basename(s.path), s.age, s.source.line])).toEqual([['a.jpg', 3, 2]]);
    expect(skipped.map((b) => [b.file, b.line])).toEqual([
      [ageFile, 4],
      [nameFile, 5],
      [nameFile, 6],
    ]);
    expect(skipped[1].reason).toBe(
      `"c.jpg" (age "5") is not paired: ${ageFile} line 4 is blank where ${nameFile} has an entry, and ${nameFile} line 6 is blank where ${ageFile} has one: between them the two lists may be out of step by one line, so this line's pair is in doubt`,
    );
    expect(skipped[2].reason).toBe(`image name must not be blank (or a comment) where ${ageFile} line 6 has "9"`);
  });

  it('says which list file is missing', async () => {
    const root = tempDir();
    await expect(readMegaAge(root, 'test')).rejects.toThrow(/test_name.txt must be a readable file/);
  });
});

describe('readMorphCsv', () => {
  async function setup(csv: string): Promise<string> {
    const root = tempDir();
    mkdirSync(path.join(root, 'img'));
    const img = await jpeg();
    for (const n of ['1.jpg', '2.jpg', '306916_01M45.JPG']) writeFileSync(path.join(root, 'img', n), img);
    writeFileSync(path.join(root, 'labels.csv'), csv);
    return path.join(root, 'labels.csv');
  }

  it('reads photo, age, gender, race with UTKFace race names', async () => {
    const file = await setup('photo,age,gender,race\nimg/1.jpg,30,male,Asian\n"img/2.jpg",61,female,Others\n');
    const { samples } = await readMorphCsv(file);
    expect(samples.map((s) => [s.age, s.gender, s.ethnicity, s.source.line])).toEqual([
      [30, 0, 2, 2],
      [61, 1, 4, 3],
    ]);
  });

  it('takes configurable columns and MORPH race letters', async () => {
    const file = await setup('file,years,sex,ethnic\nimg/1.jpg,30,M,H\n');
    const { samples } = await readMorphCsv(file, {
      columns: { photo: 'file', age: 'years', gender: 'sex', race: 'ethnic' },
      raceClasses: ['B', 'W', 'A', 'H', 'O'],
    });
    expect(samples[0]).toMatchObject({ age: 30, gender: 0, ethnicity: 3 });
  });

  it('takes age and gender from Album2 names when there is no age column', async () => {
    const file = await setup('photo,race\nimg/306916_01M45.JPG,Black\nimg/1.jpg,White\n');
    await expect(readMorphCsv(file)).rejects.toThrow(/labels.csv line 3: .*labels.csv has no age column \(columns photo,race\): without it the photo name must be a MORPH Album2 name/);
    const { samples, skipped } = await readMorphCsv(file, { skipBad: true });
    expect(samples[0]).toMatchObject({ age: 45, gender: 0, ethnicity: 1 });
    expect(skipped).toHaveLength(1);
  });

  it('names file and line for bad age, gender, race and field count', async () => {
    const file = await setup('photo,age,gender,race\nimg/1.jpg,abc,male,White\nimg/1.jpg,3,x,White\nimg/1.jpg,3,male,Martian\nimg/1.jpg,3\nimg/2.jpg,4,f,w\n');
    await expect(readMorphCsv(file)).rejects.toThrow(/labels.csv line 2: age must be a number in \[0, 100\], but got "abc"/);
    const { samples, skipped } = await readMorphCsv(file, { skipBad: true });
    expect(samples).toHaveLength(1);
    expect(skipped.map((s) => s.line)).toEqual([2, 3, 4, 5]);
    expect(skipped[1].reason).toContain('gender must be male/female');
    expect(skipped[2].reason).toContain('race must be one of White/Black/Asian/Indian/Others, but got "Martian"');
    expect(skipped[3].reason).toBe('row must have 4 fields like the header, but got 2');
  });

  it('reads quoted names with commas and line breaks, CRLF and a BOM, and names the line a bad row starts on', async () => {
    const file = await setup('\uFEFFphoto,age\r\n"img/a,\nb.jpg",30\r\n\r\nimg/1.jpg,abc\r\n');
    writeFileSync(path.join(path.dirname(file), 'img', 'a,\nb.jpg'), await jpeg());
    await expect(readMorphCsv(file)).rejects.toThrow(/labels.csv line 5: age must be a number/);
    const { samples, skipped } = await readMorphCsv(file, { skipBad: true });
    expect(samples.map((s) => [path.basename(s.path), s.age, s.source.line])).toEqual([['a,\nb.jpg', 30, 2]]);
    expect(skipped.map((s) => s.line)).toEqual([5]);
  });

  it('rejects an empty CSV', async () => {
    const file = await setup('photo,age\n');
    await expect(readMorphCsv(file)).rejects.toThrow(/must have a header and at least one row, but it is empty/);
  });
});

describe('readAlignedCsv', () => {
  it('reads deg and the box', async () => {
    const root = tempDir();
    writeFileSync(path.join(root, 'a.jpg'), await jpeg());
    writeFileSync(path.join(root, 'aligned.csv'), 'photo,age,deg,box1,box2,box3,box4\na.jpg,20,-3.5,1,2,7,8\na.jpg,20,x,1,2,7,8\na.jpg,20,0,5,2,1,8\n');
    await expect(readAlignedCsv(path.join(root, 'aligned.csv'))).rejects.toThrow(/line 3: deg must be a decimal number, but got "x"/);
    const { samples, skipped } = await readAlignedCsv(path.join(root, 'aligned.csv'), { skipBad: true });
    expect(samples[0]).toMatchObject({ age: 20, deg: -3.5, box: [1, 2, 7, 8] });
    expect(skipped.map((s) => s.line)).toEqual([3, 4]);
  });

  // Shared case c08-box-outside-image: a box the loader cannot crop is found when the rows are read.
  it('checks every box against the (rotated) image when reading: partly outside is clamped, entirely outside is a bad row', async () => {
    const root = tempDir();
    writeFileSync(path.join(root, 'a.jpg'), await jpeg(96, 96));
    const csv = path.join(root, 'aligned.csv');
    const rows = ['a.jpg,20,0,20,20,76,76', 'a.jpg,17,5,-10,-15,60,70', 'a.jpg,30,0,20,20,76,76', 'a.jpg,63,0,200,200,260,260', 'a.jpg,40,30,-50,0,-2,40', 'a.jpg,40,30,100,10,120,40'];
    writeFileSync(csv, `photo,age,deg,box1,box2,box3,box4\n${rows.join('\n')}\n`);
    await expect(readAlignedCsv(csv)).rejects.toThrow(
      `Error in readAlignedCsv: ${csv} line 5: box [200, 200, 260, 260] must overlap the 96x96 image, but it lies entirely outside it`,
    );
    const { samples, skipped } = await readAlignedCsv(csv, { skipBad: true });
    expect(samples.map((s) => s.source.line)).toEqual([2, 3, 4, 7]); // x 100..120 lies inside the 132 px wide frame of a 30° turn
    expect(skipped.map((b) => [b.line, b.reason.split(' must')[0]])).toEqual([
      [5, 'box [200, 200, 260, 260]'],
      [6, 'box [-50, 0, -2, 40]'],
    ]);
    expect(skipped[1].reason).toContain('must overlap the 132x132 image (96x96 rotated by 30°)');
    // the loader can crop every row that was kept
    for (const s of samples) await expect(loadImage(s, { size: 16, margin: 0.4 })).resolves.toMatchObject({ width: 16 });
    // header-only checking still checks the boxes
    await expect(readAlignedCsv(csv, { verifyImages: 'header' })).rejects.toThrow('line 5: box');
  });

  it('checks boxes, and the loader crops, in the EXIF-oriented frame of a photo stored sideways', async () => {
    const root = tempDir();
    // upright 40 wide x 96 high, stored as 96 x 40 with Orientation 6
    await sharp(await jpeg(40, 96, [10, 200, 10])).rotate(270).withMetadata({ orientation: 6 }).jpeg().toFile(path.join(root, 's.jpg'));
    const csv = path.join(root, 'aligned.csv');
    writeFileSync(csv, 'photo,age,deg,box1,box2,box3,box4\ns.jpg,20,0,5,60,35,90\ns.jpg,20,0,50,5,90,35\n');
    for (const verifyImages of ['decode', 'header'] as const) {
      await expect(readAlignedCsv(csv, { verifyImages })).rejects.toThrow('line 3: box [50, 5, 90, 35] must overlap the 40x96 image');
    }
    const { samples } = await readAlignedCsv(csv, { skipBad: true });
    expect(samples).toHaveLength(1);
    await expect(loadImage(samples[0], { size: 8 })).resolves.toMatchObject({ width: 8, height: 8 });
  });

  // Shared case c17-align-csv-no-age: the faces.csv of ldl prep align feeds training.
  it("reads ldl prep align's faces.csv with ages joined from the data set's labels, and says what is missing without them", async () => {
    const root = tempDir();
    await writeMegaAge(root, 'train', ['p1.jpg', 'p2.jpg', 'p3.jpg'], ['21', '35', '60']);
    const faces = path.join(root, 'faces.csv');
    writeFileSync(
      faces,
      'photo,deg,box1,box2,box3,box4,left_eye_x,left_eye_y,right_eye_x,right_eye_y,status\n' +
        'train/p1.jpg,1.5,1,1,7,7,2,3,5,3,ok\np2.jpg,0,0,0,8,8,2,3,5,3,ok\ntrain/p3.jpg,,,,,,,,,,no_face\ntrain/p9.jpg,0,0,0,8,8,2,3,5,3,ok\n',
    );
    const err = (await readAlignedCsv(faces).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain(`Error in readAlignedCsv: ${faces} is the faces.csv of ldl prep align (photo,deg,box1,`);
    expect(err.message).toContain("ages must come from the data set's own labels joined by photo name");
    expect(err.message).not.toContain('Album2');
    const labels = async () => (await readMegaAge(root, 'train')).samples;
    await expect(readAlignedCsv(faces, { labels })).rejects.toThrow(`${faces} line 4: status must be ok`);
    const { samples, skipped } = await readAlignedCsv(faces, { labels, skipBad: true });
    expect(samples.map((s) => [path.relative(root, s.path), s.age, s.deg, s.box])).toEqual([
      ['train/p1.jpg', 21, 1.5, [1, 1, 7, 7]],
      ['train/p2.jpg', 35, 0, [0, 0, 8, 8]], // p2.jpg: joined by its file name, which only one labelled image has
    ]);
    expect(skipped.map((b) => b.line)).toEqual([4, 5]);
    expect(skipped[1].reason).toContain(`the data set's labels have no image ${path.join(root, 'train/p9.jpg')}`);
  });
});

describe('UTKFace and Album2 names', () => {
  it('parses names', () => {
    expect(parseUtkFaceName('26_1_2_20170116174525125.jpg.chip.jpg')).toEqual({ age: 26, gender: 1, race: 2 });
    expect(parseUtkFaceName('39_1_20170116174525125.jpg.chip.jpg')).toBeNull();
    expect(parseAlbum2Name('306916_01M45.JPG')).toEqual({ subject: '306916', index: 1, gender: 0, age: 45 });
    expect(parseAlbum2Name('x.jpg')).toBeNull();
  });

  it('reads a UTKFace directory and skips bad names', async () => {
    const root = tempDir();
    const img = await jpeg();
    for (const n of ['26_1_2_20170116174525125.jpg.chip.jpg', '39_1_20170116174525125.jpg.chip.jpg', '110_0_0_20170116174525125.jpg.chip.jpg']) {
      writeFileSync(path.join(root, n), img);
    }
    await expect(readUtkFaceDir(root)).rejects.toThrow(/110_0_0.*age must be a number in \[0, 100\], but got "110"/);
    const { samples, skipped } = await readUtkFaceDir(root, { skipBad: true });
    expect(samples.map((s) => [s.age, s.gender, s.ethnicity])).toEqual([[26, 1, 2]]);
    expect(skipped).toHaveLength(2);
  });
});

describe('duplicates', () => {
  it('reports paths listed twice and byte-identical copies with their labels, and keeps, merges or drops them', async () => {
    const root = tempDir();
    // a.jpg listed twice (ages 20 and 30), c.jpg a byte-identical copy of b.jpg (same age), d.jpg unique
    await writeMegaAge(root, 'train', ['a.jpg', 'b.jpg', 'a.jpg', 'c.jpg', 'd.jpg'], ['20', '40', '30', '40', '50'], { images: [] });
    writeFileSync(path.join(root, 'train', 'a.jpg'), await jpeg(8, 8, [1, 2, 3]));
    writeFileSync(path.join(root, 'train', 'b.jpg'), await jpeg(8, 8, [200, 2, 3]));
    writeFileSync(path.join(root, 'train', 'c.jpg'), await jpeg(8, 8, [200, 2, 3]));
    writeFileSync(path.join(root, 'train', 'd.jpg'), await jpeg(8, 8, [2, 200, 3]));
    const keep = await readMegaAge(root, 'train');
    expect(keep.samples).toHaveLength(5);
    expect(keep.duplicates.map((g) => [g.kind, g.conflicting, g.samples.map((s) => s.source.line)])).toEqual([
      ['path', true, [1, 3]],
      ['content', false, [2, 4]],
    ]);
    const text = describeDuplicates(keep.duplicates);
    expect(text).toContain('2 duplicated images in 4 rows (1 with conflicting labels):');
    expect(text).toContain(`${path.join(root, 'train', 'a.jpg')} listed 2 times with CONFLICTING labels (${path.join(root, 'list', 'train_name.txt')} line 1: age 20; `);
    expect(text).toContain(`byte-identical images ${path.join(root, 'train', 'b.jpg')}, ${path.join(root, 'train', 'c.jpg')}`);
    const merged = await readMegaAge(root, 'train', { duplicates: 'merge' });
    expect(merged.samples.map((s) => [path.basename(s.path), s.age])).toEqual([['a.jpg', 25], ['b.jpg', 40], ['d.jpg', 50]]);
    const dropped = await readMegaAge(root, 'train', { duplicates: 'drop' });
    expect(dropped.samples.map((s) => [path.basename(s.path), s.age])).toEqual([['a.jpg', 20], ['b.jpg', 40], ['d.jpg', 50]]);
    // every seeded split keeps each group on one side
    for (let seed = 0; seed < 20; seed++) {
      const { train, test } = splitSamples(keep.samples, seed, 0.4);
      const sides = (name: string) => new Set([...train.map((s) => ['train', s] as const), ...test.map((s) => ['test', s] as const)].filter(([, s]) => path.basename(s.path) === name).map(([side]) => side));
      expect(sides('a.jpg').size).toBe(1);
      expect(new Set([...sides('b.jpg'), ...sides('c.jpg')]).size).toBe(1);
    }
  });
});

describe('splitSamples', () => {
  it('is a seeded disjoint 80/20 split', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i);
    const a = splitSamples(xs, 1);
    expect(a.test).toHaveLength(20);
    expect([...a.train, ...a.test].sort((x, y) => x - y)).toEqual(xs);
    expect(splitSamples(xs, 1)).toEqual(a);
    expect(splitSamples(xs, 2).test).not.toEqual(a.test);
  });
});
