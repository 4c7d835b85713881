/**
 * The photos a batch command works on: the images of a folder (symbolic links followed) or the lines of a list file.
 */
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

/** File extensions {@link listImages} picks up. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.bmp', '.tif', '.tiff', '.gif'];

/** Options of {@link listImages}. */
export interface ListImagesOptions {
  /** Called for each symbolic link that leads back into a folder being walked (a loop), which is not entered again. */
  onLoop?: (path: string, target: string) => void;
}

/**
 * Image files under `dir` (recursively), as sorted `/`-separated paths relative to `dir`. Symbolic links
 * are followed, to files and to folders; a link back into a folder being walked (a loop, found by
 * `realpath`) is not entered again and is reported through `onLoop`. A broken link with an image extension
 * is listed, so the command that reads it reports it as unreadable.
 *
 * @throws Error when `dir` does not exist or is not a folder.
 */
export function listImages(dir: string, options: ListImagesOptions = {}): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`Error in listImages: dir must be an existing folder, but got '${dir}'.`);
  const out: string[] = [];
  const isImage = (name: string) => IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
  const walk = (abs: string, rel: string, ancestors: Set<string>) => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const path = join(abs, e.name);
      const relPath = rel === '' ? e.name : `${rel}/${e.name}`;
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        const target = statSync(path, { throwIfNoEntry: false });
        if (!target) {
          if (isImage(e.name)) out.push(relPath); // broken link: the reader reports it
          continue;
        }
        isDir = target.isDirectory();
        isFile = target.isFile();
      }
      if (isFile && isImage(e.name)) out.push(relPath);
      else if (isDir) {
        const real = realpathSync(path);
        if (ancestors.has(real)) {
          options.onLoop?.(relPath, real);
          continue;
        }
        walk(path, relPath, new Set([...ancestors, real]));
      }
    }
  };
  walk(dir, '', new Set([realpathSync(dir)]));
  return out.sort();
}

/** Photo paths from a list file: one per line, blank lines ignored (the MegaAge `*_name.txt` layout). */
export function readImageList(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

