/**
 * Worker thread of `ldl cv --jobs N`: receives a {@link CvContext}, then tasks, and answers each with its
 * result (or the error's message). Started by `runCvTasks`.
 * @internal
 */
import { parentPort } from 'node:worker_threads';
import { type CvContext, type CvTask, prepareAlgorithm, runCvTask } from './cv-task';

let context: CvContext | undefined;
let ready: Promise<void> = Promise.resolve();
parentPort?.on('message', (msg: { context: CvContext } | { id: number; task: CvTask }) => {
  if ('context' in msg) {
    context = msg.context;
    ready = prepareAlgorithm(context.mode, context.algorithm);
    return;
  }
  void (async () => {
    try {
      await ready;
      parentPort?.postMessage({ id: msg.id, result: await runCvTask(context as CvContext, msg.task) });
    } catch (e) {
      parentPort?.postMessage({ id: msg.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
  })();
});
