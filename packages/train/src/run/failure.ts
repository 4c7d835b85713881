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

/** Appends lines to `runDir/train.log` with the timestamp format of `runLogger`. */
export function appendRunLog(runDir: string, text: string): void {
  mkdirSync(runDir, { recursive: true });
  const stamp = new Date().toISOString();
  appendFileSync(path.join(runDir, 'train.log'), text.split('\n').map((l) => `${stamp} ${l}\n`).join(''));
}

/**
 * Records a fatal error of the run in `runDir`: appends `FATAL <message>` to `train.log` and writes
 * `report.json` (`status: 'failed'`). Each error is recorded once, however many callers see it.
 * Does not print (the caller reports the error to the user).
 */
export async function recordFailure(runDir: string, error: unknown, info: { title?: string } = {}): Promise<FailedReport> {
  const e = error instanceof Error ? error : new Error(String(error));
  const report: FailedReport = { status: 'failed', reason: e.message, error: e.name, ...(info.title ? { title: info.title } : {}), failedAt: new Date().toISOString() };
  if (typeof error === 'object' && error !== null) {
    if (recorded.has(error)) return report;
    recorded.add(error);
  }
  appendRunLog(runDir, `FATAL ${e.message}`);
  await writeFileAtomic(path.join(runDir, 'report.json'), JSON.stringify(report, null, 2));
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
