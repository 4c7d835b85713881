/**
 * One training per run directory: `RUN_DIR/run.lock` holds the pid, host and start time of the process
 * that trains there. A second training into the same directory is refused with the lock's content; a
 * lock whose process is gone (same host, no such pid) is stale: it is reported and taken over. A lock
 * from another host cannot be checked from here and is refused (its content shown, and how to remove it).
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The lock file's name inside a run directory. */
export const LOCK_FILE = 'run.lock';

/** What `run.lock` holds. */
export interface RunLockInfo {
  /** Process id of the training. */
  pid: number;
  /** `os.hostname()` of its machine. */
  host: string;
  /** When it took the lock (ISO 8601). */
  startedAt: string;
  /** Its command line. */
  command: string;
}

/** Another training holds the run directory (or its lock cannot be read). */
export class RunLockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunLockedError';
  }
}

/** A held lock: `release()` removes the lock file (once; also done at process exit). */
export interface RunLock {
  /** The lock file. */
  file: string;
  /** A stale lock that was taken over, described; `null` otherwise. */
  tookOver: string | null;
  /** Removes the lock (only if it is still this process's); nested takes need as many releases, unless `force`. */
  release(force?: boolean): void;
}

/**
 * Whether `pid` is a running process. A killed process whose parent has not reaped it (a zombie: a training
 * killed with its launcher, in a container whose init does not reap orphans) still answers `kill(pid, 0)`, so on
 * Linux its state in `/proc/<pid>/stat` is read too: `Z` (zombie) or `X` (dead) is not running.
 */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
  try {
    // "pid (comm) state …": the state follows the last ')' (comm may hold spaces and parentheses).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc (not Linux): kill(pid, 0) is all there is
  }
};

const heldHere = new Map<string, { count: number; lock: RunLock }>();

function readLock(file: string): { info: RunLockInfo | null; text: string } {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { info: null, text: '' };
  }
  try {
    const info = JSON.parse(text) as RunLockInfo;
    return Number.isInteger(info?.pid) && typeof info.host === 'string' ? { info, text } : { info: null, text };
  } catch {
    return { info: null, text };
  }
}

/**
 * Takes `runDir/run.lock` for this process (the directory must exist). Taking it again in the same
 * process nests (the last `release()` removes it).
 * @throws RunLockedError naming the holder (pid, host, start, command) when another live training holds
 *   it, when it comes from another host, or when it cannot be read.
 */
export function acquireRunLock(runDir: string): RunLock {
  const file = path.join(path.resolve(runDir), LOCK_FILE);
  const mine = heldHere.get(file);
  if (mine) {
    mine.count += 1;
    return mine.lock;
  }
  const info: RunLockInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), command: process.argv.slice(1).join(' ') };
  let tookOver: string | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${JSON.stringify(info, null, 2)}\n`);
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw e;
    }
    const { info: other, text } = readLock(file);
    const shown = text.trim() ? text.trim().replace(/\s*\n\s*/g, ' ') : '(empty)';
    if (!other) {
      throw new RunLockedError(
        `Error in acquireRunLock: ${runDir} must be free of another training, but its lock ${file} cannot be read: ${shown}. If no training runs in it, delete ${file}.`,
      );
    }
    const holder = `pid ${other.pid} on ${other.host}, since ${other.startedAt}${other.command ? `: ${other.command}` : ''}`;
    if (other.host !== info.host) {
      throw new RunLockedError(
        `Error in acquireRunLock: ${runDir} is locked by a training on another host (${holder}; ${file}), which cannot be checked from ${info.host}. ` +
          `Wait for it to end; if it is no longer running, delete ${file}.`,
      );
    }
    if (other.pid === process.pid || alive(other.pid)) {
      throw new RunLockedError(
        `Error in acquireRunLock: ${runDir} is in use by another training (${holder}; ${file}). Wait for it to end, or train in another run directory.`,
      );
    }
    tookOver = `a stale lock (${holder}; that process is gone) was taken over`;
    rmSync(file, { force: true });
  }
  let released = false;
  const onExit = () => {
    if (readLock(file).info?.pid === process.pid) rmSync(file, { force: true });
  };
  const lock: RunLock = {
    file,
    tookOver,
    release(force = false) {
      const entry = heldHere.get(file);
      if (entry && --entry.count > 0 && !force) return;
      if (released) return;
      released = true;
      heldHere.delete(file);
      process.off('exit', onExit);
      if (readLock(file).info?.pid === process.pid) rmSync(file, { force: true });
    },
  };
  heldHere.set(file, { count: 1, lock });
  process.on('exit', onExit);
  return lock;
}
