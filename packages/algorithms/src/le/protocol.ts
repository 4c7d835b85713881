// The label enhancement protocol of the LE literature (Xu et al., TKDE 2021; PyLDL's `BaseLE.score`):
// binarise an LDL set's distributions into logical labels, recover distributions from the features and
// those labels alone, and score the recovered distributions against the true ones.
import { ldlMeasures, type LdlMeasures } from '@ldl/core';
import { summarizeMeasures } from '../cv';
import type { LdlDataset } from '../dataset';
import { fail, toRows } from '../matrix';
import { binarize, type BinarizeOptions } from './binarize';
import type { LabelEnhancer } from './enhancer';

/** Options of {@link evaluateEnhancer}. */
export interface EnhancementOptions {
  /** How the distributions are binarised (PyLDL `binaryzation`). @default threshold 0.5 */
  binarize?: BinarizeOptions;
  /** Runs (each a fresh enhancer from `create(run)`; for the randomised methods). @default 1 */
  repeats?: number;
  /** Called after each run. */
  onRun?: (done: number, total: number) => void;
}

/** One run of {@link evaluateEnhancer}. */
export interface EnhancementRun {
  repeat: number;
  measures: LdlMeasures;
  /** Wall time of fit + transform. */
  seconds: number;
}

/** Result of {@link evaluateEnhancer}: the measures of each run, their mean and std (ddof 0), wall time. */
export interface EnhancementResult {
  runs: EnhancementRun[];
  mean: LdlMeasures;
  std: LdlMeasures;
  seconds: number;
}

/**
 * Scores a label enhancer on an LDL set: `L = binarize(labels)`, `D̂ = create(r).fit(features, L).transform()`,
 * and the LDL measures of `D̂` against the true `labels` (all samples; LE is transductive).
 *
 * @example
 * ```ts
 * const data = await readLdlDataset('SJAFFE.mat');
 * const { mean } = await evaluateEnhancer(data, () => new LabelPropagation());
 * ```
 */
export async function evaluateEnhancer(
  data: LdlDataset,
  create: (repeat: number) => LabelEnhancer,
  options: EnhancementOptions = {},
): Promise<EnhancementResult> {
  const { repeats = 1, onRun } = options;
  if (!Number.isInteger(repeats) || repeats < 1) fail('evaluateEnhancer', 'repeats', 'an integer >= 1', repeats);
  const logical = binarize(data.labels, options.binarize);
  const truth = toRows(data.labels);
  const start = performance.now();
  const runs: EnhancementRun[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const enhancer = await create(r).fit(data.features, logical);
    const measures = ldlMeasures(truth, enhancer.transform());
    runs.push({ repeat: r, measures, seconds: (performance.now() - t0) / 1000 });
    onRun?.(runs.length, repeats);
  }
  return { runs, ...summarizeMeasures(runs.map((r) => r.measures)), seconds: (performance.now() - start) / 1000 };
}
