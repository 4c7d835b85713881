/**
 * Worker thread of `alignImages`: owns one tfjs instance and detector, aligns the photos it is sent.
 * @internal
 */
import { parentPort } from 'node:worker_threads';
import { type AlignOptions, alignFace } from './align';
import type { WorkerReply, WorkerRequest } from './batch';
import { type FaceDetector, createDefaultDetector } from './detector';

const port = parentPort;
if (!port) throw new Error('align-worker must run in a worker thread');

let detector: FaceDetector | undefined;
let alignOptions: AlignOptions = {};
const reply = (msg: WorkerReply) => port.postMessage(msg);

port.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'init') {
    alignOptions = msg.alignOptions;
    createDefaultDetector(msg.detectorOptions).then(
      (d) => {
        detector = d;
        reply({ type: 'ready' });
      },
      (err: unknown) => reply({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
    );
    return;
  }
  const d = detector;
  if (!d) {
    reply({ type: 'error', id: msg.id, message: 'align worker got a job before its detector was ready' });
    return;
  }
  alignFace(d, msg.path, alignOptions).then(
    (result) => reply({ type: 'result', id: msg.id, result }),
    (err: unknown) => reply({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) }),
  );
});
