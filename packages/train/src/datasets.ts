/**
 * Several datasets in one run: each named on the command line by its path and read by its own reader
 * (MegaAge-Asian lists, a MORPH-style CSV, a folder of UTKFace-named photos).
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { type ReaderOptions, type ReadResult, readMegaAge, readMorphCsv, readUtkFaceDir } from './readers';

/** The format {@link readDataset} chose for a path. */
export type DatasetFormat = 'megaage' | 'morph-csv' | 'utkface-dir';

/**
 * Reads one dataset named by `spec`, choosing the reader from what is there:
 * - `FILE.csv` → a MORPH-style CSV (`photo,age[,gender,race]`, photos relative to the CSV; UTKFace's
 *   `utkface.csv`);
 * - `DIR` with `list/train_name.txt` → the MegaAge-Asian layout, its `train` split (`DIR:test` for another);
 * - any other `DIR` → UTKFace-named photos (`age_gender_race_date.jpg`).
 * @throws Error naming the spec when the path does not exist, or the reader's error for a bad row.
 */
export async function readDataset(spec: string, reader: ReaderOptions = {}): Promise<ReadResult & { format: DatasetFormat; path: string }> {
  const match = /^(.*?)(?::(train|test|[A-Za-z0-9_-]+))?$/.exec(spec);
  const file = path.resolve(match?.[2] && !existsSync(spec) ? match[1]! : spec);
  const split = match?.[2] && !existsSync(spec) ? match[2] : 'train';
  if (!existsSync(file)) throw new Error(`Error in readDataset: ${spec} must be a MegaAge-Asian folder, a MORPH-style CSV or a folder of UTKFace photos, but ${file} does not exist.`);
  if (statSync(file).isFile()) {
    if (!file.toLowerCase().endsWith('.csv')) throw new Error(`Error in readDataset: ${spec} must be a .csv file (MORPH-style) or a folder, but got another file.`);
    return { ...(await readMorphCsv(file, reader)), format: 'morph-csv', path: file };
  }
  if (existsSync(path.join(file, 'list', `${split}_name.txt`))) return { ...(await readMegaAge(file, split, reader)), format: 'megaage', path: file };
  return { ...(await readUtkFaceDir(file, reader)), format: 'utkface-dir', path: file };
}
