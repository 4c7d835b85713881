// One unit of `ldl cv` work — fit on some samples and score on others (LDL), or one run of the label
// enhancement protocol (LE) — run alike in the main thread and in the worker threads of `--jobs`.
import { ldlMeasures, type LdlMeasures } from '@ldl/core';
import type { LdlEstimator } from './estimator';
import type { LabelEnhancer } from './le/enhancer';
import { type Matrix, takeRows, toRows } from './matrix';
import { algorithmsOf, type CvMode, type ParamValues } from './registry';

/** What every task of one algorithm's run shares (sent once to each worker). */
export interface CvContext {
  mode: CvMode;
  /** The registry name (`--algorithm`). */
  algorithm: string;
  params: ParamValues;
  features: Matrix;
  /** The true distributions `[n, L]`. */
  labels: Matrix;
  /** LE mode: the binarised labels `[n, L]` the enhancer sees. */
  logical?: number[][];
}

/** One fold (LDL: `train`/`test` indices) or one run (LE: all samples). */
export interface CvTask {
  repeat: number;
  fold: number;
  seed: number;
  train?: number[];
  test?: number[];
}

/** The measures of one task and its wall time (fit + predict or fit + transform). */
export interface CvTaskResult {
  repeat: number;
  fold: number;
  testIndices: number[];
  measures: LdlMeasures;
  seconds: number;
}

/** Sets up tfjs' cpu backend when the algorithm runs on tfjs (once per thread). */
export async function prepareAlgorithm(mode: CvMode, algorithm: string): Promise<void> {
  if (!algorithmsOf(mode)[algorithm]?.tfjs) return;
  await import('@tensorflow/tfjs-backend-cpu');
  const tf = await import('@tensorflow/tfjs-core');
  await tf.setBackend('cpu');
}

/** Runs one task. */
export async function runCvTask(ctx: CvContext, task: CvTask): Promise<CvTaskResult> {
  const entry = algorithmsOf(ctx.mode)[ctx.algorithm];
  const t0 = performance.now();
  let measures: LdlMeasures;
  let testIndices: number[];
  if (ctx.mode === 'le') {
    const enhancer = await (entry.create(ctx.params, task.seed) as LabelEnhancer).fit(ctx.features, ctx.logical as number[][]);
    measures = ldlMeasures(toRows(ctx.labels), enhancer.transform());
    testIndices = [];
  } else {
    const train = task.train as number[];
    testIndices = task.test as number[];
    const model = await (entry.create(ctx.params, task.seed) as LdlEstimator).fit(takeRows(ctx.features, train), takeRows(ctx.labels, train));
    measures = ldlMeasures(toRows(takeRows(ctx.labels, testIndices)), model.predict(takeRows(ctx.features, testIndices)));
  }
  return { repeat: task.repeat, fold: task.fold, testIndices, measures, seconds: (performance.now() - t0) / 1000 };
}
