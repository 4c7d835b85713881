/**
 * Disk faults in plain words: a write that fails because a folder is read-only or the disk is full
 * becomes one error that names the folder, the cause and what to do, instead of a bare
 * `ENOSPC: no space left on device, write` without a path.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';

/** Error codes of a write that cannot succeed until the user acts (space, permissions). */
const CAUSES: Record<string, string> = {
  ENOSPC: 'is on a full disk (ENOSPC: no space left on device)',
  EDQUOT: 'is over its disk quota (EDQUOT)',
  EROFS: 'is on a read-only file system (EROFS)',
  EACCES: 'is read-only for this user (EACCES: permission denied)',
  EPERM: 'is read-only for this user (EPERM: operation not permitted)',
};

/** A write into the run directory failed for a reason the user must fix (space, permissions). */
export class DiskError extends Error {
  /** The errno code (`ENOSPC`, `EROFS`, `EACCES`, …). */
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'DiskError';
    this.code = code;
  }
}

/**
 * `e` as a {@link DiskError} naming what could not be written (the error's own path, else `target`) and
 * the folder that holds it, when its code is a disk fault; otherwise `e` unchanged.
 * @param fn The function named in the message (`Error in <fn>: …`).
 * @param advice What the user can do afterwards (e.g. how to resume).
 */
export function explainDiskError(e: unknown, fn: string, target: string, advice = ''): unknown {
  if (e instanceof DiskError) return e;
  const err = e as NodeJS.ErrnoException;
  let code = err?.code;
  if (code === 'ENOENT' && err.syscall === 'mkdir' && err.path) {
    // Node's recursive mkdir answers ENOENT where the folder cannot be made: ask the nearest existing folder why.
    let up = path.dirname(err.path);
    while (!existsSync(up) && path.dirname(up) !== up) up = path.dirname(up);
    try {
      accessSync(up, constants.W_OK);
    } catch (denied) {
      code = (denied as NodeJS.ErrnoException).code;
    }
  }
  const cause = typeof code === 'string' ? CAUSES[code] : undefined;
  if (!cause) return e;
  const file = err.path ?? target;
  // The folder the user fixes (frees, makes writable): the one that holds what could not be written.
  const folder = path.dirname(file);
  return new DiskError(`Error in ${fn}: cannot write ${file}: the folder ${folder} ${cause}.${advice ? ` ${advice}` : ''}`, code!);
}
