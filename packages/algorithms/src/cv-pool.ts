// `ldl cv --jobs N`: the tasks of one algorithm's run spread over N worker threads (node:worker_threads),
// or run in this thread for N = 1. Works from the TypeScript sources under tsx (`pnpm ldl`) and from the
// built package (dist/cv-worker.js).
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { type CvContext, type CvTask, type CvTaskResult, prepareAlgorithm, runCvTask } from './cv-task';

/** Starts one worker: dist/cv-worker.js, or src/cv-worker.ts through tsx's loader when running the sources. */
function startWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./cv-worker.js', here));
  // Under tsx (`pnpm ldl`, vitest): a worker does not inherit the loader; register it there first.
  // import.meta.resolve where the runner has it; else require's answer (the .cjs twin of tsx's ESM entry).
  const tsx = typeof import.meta.resolve === 'function' ? import.meta.resolve('tsx/esm/api') : createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs');
  const file = new URL('./cv-worker.ts', here).href;
  const href = tsx.startsWith('file:') ? tsx : new URL(`file://${tsx}`).href;
  return new Worker(`import(${JSON.stringify(href)}).then(({ register }) => { register(); return import(${JSON.stringify(file)}); })`, { eval: true });
}

/**
 * Runs `tasks` with up to `jobs` worker threads; resolves to the results in task order.
 * @param onDone called as each task finishes (for progress bars).
 * @throws the first task's error, naming the algorithm, repeat and fold.
 */
export async function runCvTasks(
  context: CvContext,
  tasks: readonly CvTask[],
  jobs: number,
  onDone?: (done: number, result: CvTaskResult) => void,
): Promise<CvTaskResult[]> {
  const results: CvTaskResult[] = new Array(tasks.length);
  let done = 0;
  const where = (t: CvTask) => `Error in ldl cv: ${context.algorithm}, repeat ${t.repeat}, ${context.mode === 'le' ? 'run' : `fold ${t.fold}`}`;
  if (jobs <= 1 || tasks.length <= 1) {
    await prepareAlgorithm(context.mode, context.algorithm);
    for (let i = 0; i < tasks.length; i++) {
      try {
        results[i] = await runCvTask(context, tasks[i]);
      } catch (e) {
        throw new Error(`${where(tasks[i])}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      onDone?.(++done, results[i]);
    }
    return results;
  }
  const workers = Array.from({ length: Math.min(jobs, tasks.length) }, startWorker);
  try {
    let next = 0;
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const give = () => {
              if (next >= tasks.length) return resolve();
              const id = next++;
              w.postMessage({ id, task: tasks[id] });
            };
            w.on('message', (msg: { id: number; result?: CvTaskResult; error?: string }) => {
              if (msg.error !== undefined) return reject(new Error(`${where(tasks[msg.id])} (worker thread): ${msg.error}`));
              results[msg.id] = msg.result as CvTaskResult;
              onDone?.(++done, results[msg.id]);
              give();
            });
            w.on('error', reject);
            w.on('exit', (code) => {
              if (next < tasks.length || done < tasks.length) reject(new Error(`Error in ldl cv: a worker thread exited (code ${code}) with tasks left.`));
            });
            w.postMessage({ context });
            give();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
