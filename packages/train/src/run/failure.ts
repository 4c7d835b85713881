/**
 * What a failed run leaves behind: the fatal error in the run's `train.log` (beside every line the run
 * logged) and a `report.json` with `status: 'failed'` and the reason, so that a run directory always
 * says how its run ended. Warnings printed while a run is active go to `train.log` too.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';

/** `report.json` of a run that stopped with an error. */
export interface FailedReport {
  /** Always `'failed'` (a finished run's report says `'completed'`). */
  status: 'failed';
  /** The error message (it names the file and line, the epoch and step, … where they are known). */
  reason: string;
  /** The error's class name (`DatasetError`, `TrainingDivergedError`, …). */
  error: string;
  /** Run title, when known. */
  title?: string;
  /** When it failed (ISO 8601). */
  failedAt: string;
}

const recorded = new WeakSet<object>();

const held = new Map<string, string[]>();

/**
 * Holds back what is logged for `runDir` (its `train.log` lines) until {@link releaseRunLog}: a resume
 * that is refused before it starts must leave the run's files as they were, its log included.
 * {@link discardRunLog} drops the held lines. Holding a held run again does nothing.
 */
export function holdRunLog(runDir: string): void {
  const key = path.resolve(runDir);
  if (!held.has(key)) held.set(key, []);
}

/** Writes the lines held for `runDir` to its `train.log` and stops holding. */
export function releaseRunLog(runDir: string): void {
  const key = path.resolve(runDir);
  const lines = held.get(key);
  if (!lines) return;
  held.delete(key);
  if (lines.length > 0) {
    mkdirSync(runDir, { recursive: true });
    appendFileSync(path.join(runDir, 'train.log'), lines.join(''));
  }
}

/** Drops the lines held for `runDir` (the run did not start); returns whether any were held. */
export function discardRunLog(runDir: string): boolean {
  return held.delete(path.resolve(runDir));
}

/** Appends lines to `runDir/train.log` with the timestamp format of `runLogger` (held back while {@link holdRunLog} holds it). */
export function appendRunLog(runDir: string, text: string): void {
  const stamp = new Date().toISOString();
  const lines = text.split('\n').map((l) => `${stamp} ${l}\n`).join('');
  const buffer = held.get(path.resolve(runDir));
  if (buffer) {
    buffer.push(lines);
    return;
  }
  mkdirSync(runDir, { recursive: true });
  appendFileSync(path.join(runDir, 'train.log'), lines);
}

/**
 * Records a fatal error of the run in `runDir`: appends `FATAL <message>` to `train.log` and writes
 * `report.json` (`status: 'failed'`). Each error is recorded once, however many callers see it.
 * Does not print (the caller reports the error to the user), and never throws: where the run directory
 * cannot be written (a full disk, a read-only folder) the error itself is what the user gets.
 *
 * Never call it for a run that did not start (a refused resume): that would overwrite a finished run's report.
 */
export async function recordFailure(runDir: string, error: unknown, info: { title?: string } = {}): Promise<FailedReport> {
  const e = error instanceof Error ? error : new Error(String(error));
  const report: FailedReport = { status: 'failed', reason: e.message, error: e.name, ...(info.title ? { title: info.title } : {}), failedAt: new Date().toISOString() };
  if (typeof error === 'object' && error !== null) {
    if (recorded.has(error)) return report;
    recorded.add(error);
  }
  try {
    appendRunLog(runDir, `FATAL ${e.message}`);
    await writeFileAtomic(path.join(runDir, 'report.json'), JSON.stringify(report, null, 2));
  } catch {
    // the disk refuses: the caller reports the error itself
  }
  return report;
}

/**
 * Copies what `console.warn` prints into `runDir/train.log` (as `WARNING …` lines) until the returned
 * function is called; the warnings are still printed.
 */
export function teeWarnings(runDir: string): () => void {
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    original(...args);
    try {
      appendRunLog(runDir, `WARNING ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`);
    } catch {
      // the log is best effort; the warning was printed
    }
  };
  return () => {
    console.warn = original;
  };
}
