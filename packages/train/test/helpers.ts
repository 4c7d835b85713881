import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

/** A fresh temp directory for one test. */
export function tempDir(prefix = 'ldl-train-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A small solid-colour JPEG. */
export async function jpeg(width = 8, height = 8, rgb: [number, number, number] = [120, 80, 40]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .jpeg()
    .toBuffer();
}

/** Writes a MegaAge-layout split with the given names/ages lines and one JPEG per name. */
export async function writeMegaAge(
  root: string,
  split: string,
  names: string[],
  ages: string[],
  { images = names }: { images?: string[] } = {},
): Promise<void> {
  mkdirSync(path.join(root, 'list'), { recursive: true });
  mkdirSync(path.join(root, split), { recursive: true });
  writeFileSync(path.join(root, 'list', `${split}_name.txt`), names.join('\n') + '\n');
  writeFileSync(path.join(root, 'list', `${split}_age.txt`), ages.join('\n') + '\n');
  const img = await jpeg();
  for (const name of images) writeFileSync(path.join(root, split, name), img);
}
