/**
 * `ldl predict` on many inputs: files, folders (expanded recursively) and `--list` files; printed, or
 * written to a resumable CSV (`--out`), in shards (`--shard i/N | auto`).
 */
import { existsSync, statSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { csvLine, IMAGE_EXTENSIONS, listImages, openResumableCsv, parseShard, readImageList, selectShard, shardLabel, shardPath } from '@ldl/face-prep';
import { parseCsv } from '@ldl/core/node';
import { predictImage, type Prediction, type SavedModel } from '@ldl/train';
import type { Settings } from './options';

/** One image to predict: `photo` names it in the output (and decides its shard), `file` is where it is. */
export interface PredictInput {
  photo: string;
  file: string;
}

/**
 * The images of `ldl predict`'s arguments: a file as given; a folder expanded to its images (recursively,
 * {@link IMAGE_EXTENSIONS}, symbolic links followed), each named `folder/relative/path`; and the lines of
 * `list`, relative to `root` (default: the list's folder), named as listed.
 * @throws Error for a folder without images or a missing list file.
 */
export function expandInputs(args: readonly string[], list: string | undefined, root: string | undefined, log: (line: string) => void): PredictInput[] {
  const inputs: PredictInput[] = [];
  for (const arg of args) {
    if (existsSync(arg) && statSync(arg).isDirectory()) {
      const found = listImages(arg, { onLoop: (p, target) => log(`predict: ${path.join(arg, p)} is a link back to ${target} (a loop): not followed again`) });
      if (found.length === 0) throw new Error(`Error in ldl predict: the folder ${arg} must hold images (${IMAGE_EXTENSIONS.join(' ')}, searched recursively), but it holds none.`);
      log(`predict: ${arg}: ${found.length} images`);
      for (const rel of found) inputs.push({ photo: path.posix.join(arg.split(path.sep).join('/'), rel), file: path.join(arg, rel) });
    } else {
      inputs.push({ photo: arg, file: arg });
    }
  }
  if (list !== undefined) {
    if (!existsSync(list)) throw new Error(`Error in ldl predict: --list ${list} must be a file of image paths, but it does not exist.`);
    const base = root ?? path.dirname(list);
    for (const photo of readImageList(list)) inputs.push({ photo, file: path.join(base, photo) });
  }
  return inputs;
}

const num = (x: number, digits: number) => String(Number(x.toFixed(digits)));
const best = (xs: { label: string; p: number }[] | undefined) => (xs ? xs.reduce((a, b) => (b.p > a.p ? b : a)).label : '');

/** The CSV columns of `ldl predict --out` for a model (gender and ethnicity for multi-task models). */
export function predictColumns(multiTask: boolean): string[] {
  return ['photo', 'status', 'age', 'top', ...(multiTask ? ['gender', 'ethnicity'] : []), 'error'];
}

function csvRow(photo: string, p: Prediction | Error, multiTask: boolean): string {
  if (p instanceof Error) return csvLine([photo, 'error', '', '', ...(multiTask ? ['', ''] : []), p.message]);
  const top = p.top.map((t) => `${t.age}:${num(t.p, 4)}`).join(';');
  return csvLine([photo, 'ok', num(p.age, 3), top, ...(multiTask ? [best(p.gender), best(p.ethnicity)] : []), '']);
}

/**
 * Predicts every input; a file that cannot be read is reported (and, with `--out`, written as a row with
 * status `error`) and the others go on. With `--out` the rows are appended as they are done, rows already
 * in the file are kept and skipped, and a row cut by a kill is done again; with `--shard` only the shard's
 * inputs are done, into the shard's own file (`faces.csv` → `faces.shard-0002-of-0003.csv`).
 * @returns the number of inputs that failed (in this run, or in the rows of the output).
 */
export async function predictMany(saved: SavedModel, inputs: readonly PredictInput[], s: Settings, log: (line: string) => void): Promise<{ failed: number; total: number }> {
  const shard = parseShard(s.shard as string | undefined, s.shardCount as number | undefined);
  const outFlag = s.out as string | undefined;
  if (shard && !outFlag) throw new Error(`Error in ldl predict: --shard needs --out FILE.csv (each shard writes its own output), but got --shard ${shardLabel(shard)} alone.`);
  const topK = (s.top as number | undefined) ?? 5;
  const multiTask = Boolean(saved.preprocessor.genderClasses && saved.preprocessor.ethnicityClasses);
  const mine = selectShard(inputs, shard, (i) => i.photo);
  if (!outFlag) {
    const pct = (xs: { label: string; p: number }[]) => xs.map((x) => `${x.label} ${(100 * x.p).toFixed(1)} %`).join(', ');
    let failed = 0;
    for (const { file } of mine) {
      try {
        const p = await predictImage(saved, file, topK);
        log(`${file}: age ${p.age.toFixed(1)}`);
        log(`top of the distribution: ${p.top.map((t) => `${t.age} (${(100 * t.p).toFixed(1)} %)`).join(', ')}`);
        if (p.gender && p.ethnicity) log(`gender: ${pct(p.gender)}; ethnicity: ${pct(p.ethnicity)}`);
      } catch (e) {
        failed++;
        log(`error: ${file}: ${(e as Error).message}`);
      }
    }
    return { failed, total: mine.length };
  }
  const out = shardPath(outFlag, shard);
  const header = csvLine(predictColumns(multiTask));
  const statusOf = new Map<string, string>();
  const { fd, done, droppedPartial } = openResumableCsv(out, header, (text) =>
    parseCsv(text, out).rows.map(({ fields }) => {
      statusOf.set(fields[0]!, fields[1]!);
      return fields[0]!;
    }),
  );
  const todo = mine.filter((i) => !done.has(i.photo));
  log(
    `predict: ${shard ? `shard ${shardLabel(shard)} (${shard.source}): ${mine.length} of ${inputs.length} images` : `${inputs.length} images`} → ${out}` +
      `${done.size > 0 ? ` (${mine.length - todo.length} already there${droppedPartial ? ', a cut last row dropped' : ''})` : ''}`,
  );
  let failed = mine.filter((i) => statusOf.get(i.photo) === 'error').length;
  try {
    for (const input of todo) {
      let p: Prediction | Error;
      try {
        p = await predictImage(saved, input.file, topK);
      } catch (e) {
        p = e as Error;
        failed++;
        log(`error: ${input.file}: ${p.message}`);
      }
      writeSync(fd, csvRow(input.photo, p, multiTask));
    }
  } finally {
    closeSync(fd);
  }
  log(`predict: wrote ${todo.length} rows to ${out} (${mine.length} in all, ${failed} with status error)`);
  return { failed, total: mine.length };
}
