/**
 * `ldl prep pack`: the faces of a data set (as `ldl train` reads it: MegaAge lists, a MORPH-style CSV, UTKFace
 * names, with `ldl prep align`'s boxes) cropped as training crops them, with their labels, as WebDataset tar
 * files and `shards.json` (@ldl/face-prep's `packShards`, the shard format v1) for PyTorch.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseCsv } from '@ldl/core/node';
import path from 'node:path';
import { type PackSample, packShards, parseShard, shardLabel } from '@ldl/face-prep';
import { type DataOptions, GENDER_CLASSES, loadImage, loadTrainTestData, type AgeSample, UTKFACE_RACES } from '@ldl/train';
import { dataOptions, readerOptions } from './commands';
import type { Settings } from './options';

/** The folder a data set's photo paths are relative to: the MegaAge or UTKFace folder, or a CSV's `--image-root` (default: its folder). */
function imageRootOf(source: DataOptions): string {
  const file = path.resolve(source.path);
  if (!statSync(file).isFile()) return file;
  return path.resolve(source.imageRoot ?? path.dirname(file));
}

/**
 * `--split-col`: each sample's split from a column of the data CSV (joined by the photo's path), in the CSV's row order.
 * @throws Error when the data is not a CSV, the column is absent, or a photo has no split (naming the first).
 */
function bySplitColumn(samples: readonly AgeSample[], source: DataOptions, column: string, photoCol: string, root: string): [AgeSample, string][] {
  const file = path.resolve(source.path);
  if (!statSync(file).isFile()) throw new Error(`Error in ldl prep pack: --split-col needs --data to be a CSV (morph-csv), but ${file} is a folder.`);
  const { header, rows } = parseCsv(readFileSync(file, 'utf8'), file);
  for (const c of [photoCol, column]) if (!header.includes(c)) throw new Error(`Error in ldl prep pack: ${file} line 1 must have the column ${JSON.stringify(c)} (--${c === column ? 'split-col' : 'photo-col'}), but got ${header.join(',')}.`);
  const [p, k] = [header.indexOf(photoCol), header.indexOf(column)];
  const splitOf = new Map(rows.map((r) => [path.resolve(root, r.fields[p] ?? ''), { split: r.fields[k] ?? '', line: r.line }]));
  const missing = samples.filter((x) => !splitOf.get(x.path)?.split);
  if (missing.length > 0) {
    throw new Error(`Error in ldl prep pack: every photo must have a split in ${file}'s column ${column}, but ${missing.length} ${missing.length === 1 ? 'has' : 'have'} none (first: ${missing[0]!.path}).`);
  }
  return samples.map((x) => [x, splitOf.get(x.path)!] as const).sort((a, b) => a[1].line - b[1].line).map(([x, v]) => [x, v.split]);
}

/**
 * Packs the train and test splits of `--data` (or `--synthetic`) into `--out`: crops of `--image-size`
 * pixels with `--margin`, as training loads them (`loadImage`). With `--shard` only the shard's photos, into
 * its own tar files and partial manifest (`ldl prep merge --out DIR/shards.json` writes `shards.json`).
 * @returns the exit code: 0, or 1 when some images could not be made (named in the log).
 */
export async function packCommand(s: Settings, log: (line: string) => void): Promise<number> {
  const out = s.out as string | undefined;
  if (!out) throw new Error('Error in ldl prep pack: --out DIR is required (the folder of the tar files and shards.json).');
  const shard = parseShard(s.shard as string | undefined, s.shardCount as number | undefined);
  const source = await dataOptions(s, 'prep pack');
  // Each image is decoded once, when it is packed (a failure is reported there): no up-front pass over every
  // image of the data set, which a shard job would otherwise make for the photos of all shards.
  const data = await loadTrainTestData(source, readerOptions({ ...s, verifyImages: s.verifyImages ?? 'none' }));
  data.notes.forEach((n) => log(n));
  const root = imageRootOf(source);
  const imageSize = (s.imageSize as number | undefined) ?? 224;
  const margin = (s.margin as number | undefined) ?? 0.4;
  const crop = (s.crop as 'stretch' | 'square-center' | 'square-bottom' | undefined) ?? 'stretch';
  const all = [...data.train, ...data.test];
  const splitCol = s.splitCol as string | undefined;
  const raceClasses = (s.raceClasses as string[] | undefined) ?? [...UTKFACE_RACES];
  const classes = {
    gender: all.some((x) => x.gender !== undefined) ? [...GENDER_CLASSES] : null,
    ethnicity: all.some((x) => x.ethnicity !== undefined) ? raceClasses : null,
  };
  const sample = (x: AgeSample, split: string): PackSample => {
    const photo = path.relative(root, x.path).split(path.sep).join('/');
    if (photo.startsWith('../') || path.isAbsolute(photo)) throw new Error(`Error in ldl prep pack: every photo must be inside ${root} (--image-root), but ${x.path} is not.`);
    return {
      photo,
      split,
      age: x.age,
      gender: x.gender === undefined ? null : GENDER_CLASSES[x.gender]!,
      ethnicity: x.ethnicity === undefined ? null : (raceClasses[x.ethnicity] ?? null),
      load: () => loadImage(x, { size: imageSize, margin, crop }),
    };
  };
  const samples = splitCol ? bySplitColumn(all, source, splitCol, (s.photoCol as string | undefined) ?? 'photo', root).map(([x, split]) => sample(x, split)) : [...data.train.map((x) => sample(x, 'train')), ...data.test.map((x) => sample(x, 'test'))];
  if (shard) log(`pack: shard ${shardLabel(shard)} (${shard.source})`);
  const summary = await packShards({
    outDir: out,
    samples,
    shard,
    imageSize,
    margin,
    crop,
    imageFormat: (s.imageFormat as 'png' | 'jpg' | undefined) ?? 'png',
    classes,
    samplesPerTar: s.samplesPerTar as number | undefined,
  });
  for (const f of summary.failed) log(`error: ${f.photo}: ${f.message}`);
  const counts = Object.entries(summary.counts).map(([k, v]) => `${k} ${v}`).join(', ');
  log(
    `pack: ${summary.total} samples${shard ? ` of ${samples.length}` : ''}: ${summary.packed} packed now, ${summary.resumed} already in finished tar files, ${summary.failed.length} failed; ` +
      `${counts || 'no samples'} in ${summary.part}${summary.index ? `; index ${summary.index}` : `; when every shard is done: ldl prep merge --out ${path.join(out, 'shards.json')}`}`,
  );
  return summary.failed.length > 0 ? 1 : 0;
}
