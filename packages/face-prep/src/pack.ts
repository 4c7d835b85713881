/**
 * `ldl prep pack`: aligned, margin-cropped faces and their labels as WebDataset-style tar files and a
 * `shards.json` index (the @ldl shard format v1, which `python/ldl_torch` and `webdataset` read).
 *
 * Each sample is two adjacent tar members with one key: `<key>.png` (or `.jpg`) and `<key>.json`
 * (`{"photo", "age", "gender", "ethnicity"}`). The key is the photo's relative path without its
 * extension, `/` and `.` replaced by `_`, plus `-` and the first 8 hex digits of SHA-256(photo) (so
 * `a/b.jpg` and `a_b.jpg` differ, and a key has no dot, which WebDataset would take for an extension).
 * Tar members have mtime 0, mode 0644 and no owner, so packing the same crops again gives the same bytes.
 *
 * Progress is kept in a partial manifest per shard job (`shards.shard-0002-of-0003.json`, the shard's
 * part; `shards.shard-0001-of-0001.json` without `--shard`), rewritten atomically after every finished
 * tar file: a killed job keeps its finished tar files and writes the one it was cut in again.
 * {@link mergePackManifests} (`ldl prep merge --out DIR/shards.json`) joins the parts into `shards.json`.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { type RgbImage, toSharp } from './image';
import { type Shard, selectShard, shardLabel, shardOf, shardPath } from './shard';
import { listSome, shardCountOf } from './shard-csv';

/** One labelled face to pack. */
export interface PackSample {
  /** Path relative to the image root, `/` separators (the `photo` of the sample's JSON; decides its shard). */
  photo: string;
  /** Split name (`train`, `test`, …). */
  split: string;
  /** Age in years. */
  age: number;
  /** `'male' | 'female'`, or `null` where the data set has none. */
  gender: string | null;
  /** Ethnicity class name, or `null`. */
  ethnicity: string | null;
  /** Decodes the aligned, margin-cropped face at the pack's image size (called once, while packing). */
  load(): Promise<RgbImage>;
}

/** The settings a pack records in `shards.json` (all shards of one pack must agree). */
export interface PackSettings {
  /** Side of the square crops, pixels. */
  imageSize: number;
  /** Margin ratio of `expandBox`. */
  margin: number;
  /** How faces without a box were fitted (as `preprocessor.json`'s `crop`). */
  crop: string;
  /** Encoding of the images in the tar files. */
  imageFormat: 'png' | 'jpg';
  /** Class names of the labels, `null` where the data set has none. */
  classes: { gender: string[] | null; ethnicity: string[] | null };
}

/** Options of {@link packShards}. */
export interface PackOptions extends PackSettings {
  /** The pack's folder (tar files, partial manifests, `shards.json`). */
  outDir: string;
  /** Every sample of the data (the shard's are picked here, by {@link selectShard}); one split's order is kept. */
  samples: readonly PackSample[];
  /** This job's shard. @default null (all samples; `shards.json` is written at the end) */
  shard?: Shard | null;
  /** Samples per tar file. @default 1000 */
  samplesPerTar?: number;
  /** Images decoded and encoded at once. @default 4 */
  concurrency?: number;
  /** Called after each sample, with the done and total counts of this job. */
  onProgress?: (done: number, total: number) => void;
}

/** One tar file of a pack: a `shards.json` entry. */
export interface TarEntry {
  file: string;
  samples: number;
  sha256: string;
}

/** A shard job's partial manifest: `shards.json`'s settings, its tar files with their photos, and whether it finished. */
interface PackPart extends PackSettings {
  format: 'ldl-shards-part';
  version: 1;
  shard: { index: number; count: number };
  /** Whether every sample of the shard was packed (or failed). */
  complete: boolean;
  splits: Record<string, (TarEntry & { photos: string[] })[]>;
  /** Samples whose image could not be made, with the reason (not in any tar file). */
  failed: { photo: string; split: string; message: string }[];
}

/** What {@link packShards} did. */
export interface PackSummary {
  /** Samples of this shard. */
  total: number;
  /** Samples in tar files finished by an earlier (interrupted) run, kept. */
  resumed: number;
  /** Samples packed now. */
  packed: number;
  /** Samples whose image failed (named in the partial manifest and here). */
  failed: { photo: string; message: string }[];
  /** The partial manifest of this job. */
  part: string;
  /** `shards.json`, written when the pack had no `shard`. */
  index?: string;
  /** Samples per split in this job's tar files. */
  counts: Record<string, number>;
}

/** The sample key of a photo (see the module's description). */
export function sampleKey(photo: string): string {
  const stem = photo.replace(/\.[^./]*$/, '');
  return `${stem.replace(/[/.]/g, '_')}-${createHash('sha256').update(photo, 'utf8').digest('hex').slice(0, 8)}`;
}

/** The partial manifest of a shard job in `outDir`. */
export const partPath = (outDir: string, shard: Shard | null): string => shardPath(join(outDir, 'shards.json'), shard ?? { index: 0, count: 1, source: '' });

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const SETTING_KEYS = ['imageSize', 'margin', 'crop', 'imageFormat', 'classes'] as const;

function readPart(file: string): PackPart {
  let part: PackPart;
  try {
    part = JSON.parse(readFileSync(file, 'utf8')) as PackPart;
  } catch (e) {
    throw new Error(`Error in ldl prep pack: ${file}: not a partial manifest (${(e as Error).message}); remove it to pack this shard again.`);
  }
  if (part?.format !== 'ldl-shards-part' || part.version !== 1 || typeof part.splits !== 'object' || !Array.isArray(part.failed)) {
    throw new Error(`Error in ldl prep pack: ${file}: must be an ldl-shards-part version 1 manifest, but its format, version, splits or failed field is wrong.`);
  }
  return part;
}

function differingSettings(a: PackSettings, b: PackSettings): string[] {
  return SETTING_KEYS.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).map((k) => `${k} (${JSON.stringify(a[k])} vs ${JSON.stringify(b[k])})`);
}

/** Writes one tar file of samples, images made `concurrency` at a time and written in order. */
async function writeTar(file: string, samples: readonly PackSample[], imageFormat: 'png' | 'jpg', concurrency: number, onSample: () => void): Promise<{ photos: string[]; failed: { photo: string; message: string }[] }> {
  const pack = tar.pack();
  const tmp = `${file}.tmp-${process.pid}`;
  const done = pipeline(pack, createWriteStream(tmp));
  const encode = async (s: PackSample): Promise<Buffer> => {
    const img = toSharp(await s.load());
    return imageFormat === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 95 }).toBuffer();
  };
  const header = (name: string, size: number) => ({ name, size, mtime: new Date(0), mode: 0o644, uid: 0, gid: 0, uname: '', gname: '' });
  const entry = (name: string, data: Buffer) => new Promise<void>((resolve, reject) => pack.entry(header(name, data.length), data, (err) => (err ? reject(err) : resolve())));
  const photos: string[] = [];
  const failed: { photo: string; message: string }[] = [];
  const inFlight = new Map<number, Promise<Buffer>>();
  const start = (i: number) => {
    if (i < samples.length) {
      const p = encode(samples[i]!);
      p.catch(() => undefined); // awaited in order below
      inFlight.set(i, p);
    }
  };
  for (let i = 0; i < Math.min(concurrency, samples.length); i++) start(i);
  try {
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i]!;
      let image: Buffer | undefined;
      try {
        image = await inFlight.get(i)!;
      } catch (e) {
        failed.push({ photo: s.photo, message: (e as Error).message.split('\n')[0]! });
      }
      inFlight.delete(i);
      start(i + concurrency);
      if (image) {
        const key = sampleKey(s.photo);
        await entry(`${key}.${imageFormat}`, image);
        await entry(`${key}.json`, Buffer.from(JSON.stringify({ photo: s.photo, age: s.age, gender: s.gender, ethnicity: s.ethnicity })));
        photos.push(s.photo);
      }
      onSample();
    }
    pack.finalize();
    await done;
  } catch (e) {
    pack.destroy();
    rmSync(tmp, { force: true });
    throw e;
  }
  if (photos.length === 0) rmSync(tmp, { force: true });
  else renameSync(tmp, file);
  return { photos, failed };
}

/**
 * Packs the samples of one shard (all of them without `shard`) into tar files of `samplesPerTar`
 * samples per split, streaming: at most `concurrency` images are in memory at once. Tar files are named
 * `<split>-00000.tar` (`<split>-s0002of0003-00000.tar` for shard 2/3). Resumes from the shard's partial
 * manifest (its settings must be the same). Without `shard`, `shards.json` is written at the end.
 *
 * @throws Error when an existing partial manifest was written with other settings (naming them), or a sample's photo is in two samples.
 */
export async function packShards(options: PackOptions): Promise<PackSummary> {
  const { outDir, shard = null, samplesPerTar = 1000, concurrency = 4, onProgress } = options;
  const settings: PackSettings = { imageSize: options.imageSize, margin: options.margin, crop: options.crop, imageFormat: options.imageFormat, classes: options.classes };
  if (!Number.isInteger(samplesPerTar) || samplesPerTar < 1) throw new Error(`Error in packShards: samplesPerTar must be an integer >= 1, but got ${samplesPerTar}.`);
  const seen = new Set<string>();
  const doubled = options.samples.filter((s) => (seen.has(s.photo) ? true : (seen.add(s.photo), false))).map((s) => s.photo);
  if (doubled.length > 0) throw new Error(`Error in packShards: each photo must be one sample, but ${doubled.length} appear twice: ${listSome(doubled)}.`);
  const mine = selectShard(options.samples, shard, (s) => s.photo);
  mkdirSync(outDir, { recursive: true });
  const part = partPath(outDir, shard);
  const { index, count } = shard ?? { index: 0, count: 1 };
  let state: PackPart = { format: 'ldl-shards-part', version: 1, shard: { index, count }, ...settings, complete: false, splits: {}, failed: [] };
  if (existsSync(part)) {
    const old = readPart(part);
    const diff = differingSettings(old, settings);
    if (diff.length > 0) throw new Error(`Error in ldl prep pack: ${part} was packed with other settings: ${diff.join(', ')}; pack into another folder or remove ${outDir}.`);
    state = { ...old, complete: false, failed: [] }; // failed samples are tried again
  }
  const packedBefore = new Set(Object.values(state.splits).flatMap((tars) => tars.flatMap((t) => t.photos)));
  const todo = mine.filter((s) => !packedBefore.has(s.photo));
  const summary: PackSummary = { total: mine.length, resumed: mine.length - todo.length, packed: 0, failed: [], part, counts: {} };
  const tag = shard ? `s${String(index + 1).padStart(4, '0')}of${String(count).padStart(4, '0')}-` : '';
  let done = 0;
  writeJsonAtomic(part, state);
  const splits = [...new Set(mine.map((s) => s.split))];
  for (const split of splits) {
    const rest = todo.filter((s) => s.split === split);
    const tars = (state.splits[split] ??= []);
    for (let i = 0; i < rest.length; i += samplesPerTar) {
      const file = `${split}-${tag}${String(tars.length).padStart(5, '0')}.tar`;
      const { photos, failed } = await writeTar(join(outDir, file), rest.slice(i, i + samplesPerTar), settings.imageFormat, concurrency, () => onProgress?.(++done, todo.length));
      if (photos.length > 0) tars.push({ file, samples: photos.length, sha256: await sha256Of(join(outDir, file)), photos });
      state.failed.push(...failed.map((f) => ({ ...f, split })));
      summary.packed += photos.length;
      summary.failed.push(...failed);
      writeJsonAtomic(part, state);
    }
  }
  state.complete = true;
  writeJsonAtomic(part, state);
  for (const [split, tars] of Object.entries(state.splits)) summary.counts[split] = tars.reduce((n, t) => n + t.samples, 0);
  if (!shard) summary.index = mergePackManifests({ out: join(outDir, 'shards.json'), count: 1 }).index;
  return summary;
}

/** Options of {@link mergePackManifests}. */
export interface MergePackOptions {
  /** `DIR/shards.json`; the partial manifests are beside it. */
  out: string;
  /** The number of shards N. @default the one N whose parts are present */
  count?: number;
  /** Every photo of the data: then a photo in no tar file and not failed is an error too. */
  photos?: readonly string[];
}

/**
 * Joins the partial manifests of shards 1/N … N/N into `shards.json` (the shard format v1): every part
 * present and complete, with the same settings; every tar file present; every photo in one sample only,
 * in the shard its hash assigns. Samples that failed in a shard are named in the message of the returned
 * summary, not in `shards.json`.
 *
 * @throws Error naming the missing or interrupted part, the differing setting, a missing tar file or the doubled photos.
 */
export function mergePackManifests(options: MergePackOptions): { index: string; files: string[]; samplesPerShard: number[]; counts: Record<string, number>; failed: PackPart['failed'] } {
  const { out, photos } = options;
  const count = shardCountOf(out, options.count, 'the partial manifests of `ldl prep pack --shard`');
  const files = Array.from({ length: count }, (_, index) => shardPath(out, { index, count, source: '' }));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) throw new Error(`Error in ldl prep merge: all ${count} partial manifests must be present, but ${missing.length} ${missing.length === 1 ? 'is' : 'are'} missing: ${listSome(missing)}.`);
  const parts = files.map(readPart);
  const where = new Map<string, string>();
  const doubled: string[] = [];
  const misplaced: string[] = [];
  const splits: Record<string, TarEntry[]> = {};
  const failed: PackPart['failed'] = [];
  parts.forEach((p, i) => {
    const label = shardLabel({ index: i, count, source: '' });
    if (!p.complete) throw new Error(`Error in ldl prep merge: ${files[i]} is not complete (the shard was interrupted): run shard ${label} of ldl prep pack again to finish it.`);
    const diff = differingSettings(parts[0]!, p);
    if (diff.length > 0) throw new Error(`Error in ldl prep merge: ${files[i]} must have the settings of ${files[0]}, but ${diff.join(', ')} differ.`);
    for (const [split, tars] of Object.entries(p.splits)) {
      for (const t of tars) {
        if (!existsSync(join(dirname(out), t.file))) throw new Error(`Error in ldl prep merge: ${join(dirname(out), t.file)} (listed in ${files[i]}) must exist, but it does not.`);
        (splits[split] ??= []).push({ file: t.file, samples: t.samples, sha256: t.sha256 });
        for (const photo of t.photos) {
          if (where.has(photo)) doubled.push(`${photo} (${where.get(photo)}, ${t.file})`);
          where.set(photo, t.file);
          if (shardOf(photo, count) !== i) misplaced.push(`${photo} (in ${t.file}, belongs to shard ${shardOf(photo, count) + 1}/${count})`);
        }
      }
    }
    failed.push(...p.failed);
  });
  if (doubled.length > 0) throw new Error(`Error in ldl prep merge: each photo must be in one sample, but ${doubled.length} ${doubled.length === 1 ? 'is' : 'are'} doubled: ${listSome(doubled)}.`);
  if (misplaced.length > 0) throw new Error(`Error in ldl prep merge: each photo must be in the shard its hash assigns, but ${misplaced.length} ${misplaced.length === 1 ? 'is' : 'are'} not: ${listSome(misplaced)}.`);
  if (photos) {
    const failedSet = new Set(failed.map((f) => f.photo));
    const absent = photos.filter((p) => !where.has(p) && !failedSet.has(p));
    if (absent.length > 0) throw new Error(`Error in ldl prep merge: every photo of the list must be packed, but ${absent.length} ${absent.length === 1 ? 'is' : 'are'} not: ${listSome(absent)}.`);
  }
  const counts = Object.fromEntries(Object.entries(splits).map(([k, tars]) => [k, tars.reduce((n, t) => n + t.samples, 0)]));
  const { imageSize, margin, crop, imageFormat, classes } = parts[0]!;
  writeJsonAtomic(out, { format: 'ldl-shards', version: 1, imageSize, margin, crop, imageFormat, classes, splits, counts });
  return { index: out, files: files.map((f) => basename(f)), samplesPerShard: parts.map((p) => Object.values(p.splits).flat().reduce((n, t) => n + t.samples, 0)), counts, failed };
}
