/**
 * The `ldl cv` command line (of @ldl/cli): k-fold cross validation of LDL algorithms on a data file, printing the
 * PyLDL-style table (mean ± std of the six measures over the folds).
 */
import { LDL_MEASURE_HIGHER_IS_BETTER, STANDARD_LDL_MEASURES, type LdlMeasureName } from '@ldl/core';
import { SingleBar } from 'cli-progress';
import { writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { AaKnn } from './aa-knn';
import { type CrossValidationResult, crossValidate } from './cv';
import { readLdlDataset } from './dataset';
import { DeepLdl } from './deep-ldl';
import type { LdlEstimator } from './estimator';
import { SaBfgs } from './sa-bfgs';

/** Algorithm names accepted by `--algorithm`, with the table label. */
export const ALGORITHMS = {
  'sa-bfgs': SaBfgs.className,
  'aa-knn': AaKnn.className,
  'deep-ldl': DeepLdl.className,
} as const;
type AlgorithmName = keyof typeof ALGORITHMS;

/** Usage text of `ldl cv`. */
export const USAGE = `Usage:
  ldl cv --data FILE [--algorithm sa-bfgs,aa-knn,deep-ldl] [--folds 10] [--repeats 1] [--seed 0]
         [--label-columns L] [--all-measures] [--save-folds FILE] [--json FILE] [--no-progress]
         [--k 5] [--max-iterations 500] [--l2 0]
         [--hidden 64] [--weight-decay 1e-3] [--dropout 0] [--learning-rate 1e-3] [--epochs 500]
         [--batch-size 32] [--validation-split 0.1] [--patience 50]
  Seeded k-fold cross validation (repeat r shuffles with seed + r) of each algorithm on FILE (.mat with
  'features' [n, d] and 'labels' [n, L]; .csv with a header, label columns named label_* or the last
  --label-columns; .json { features, labels }). Prints mean ± std (over all folds, ddof 0) of
  Chebyshev, Clark, Canberra, Kullback-Leibler, Cosine, Intersection (--all-measures adds Euclidean,
  Sørensen, squared χ², Fidelity, Jensen-Shannon) and the wall time of fit + predict.
  --save-folds writes the test indices of every fold (for tools/reference/ldl_cv_reference.py);
  --json writes every fold's measures. Options after --k apply to aa-knn, sa-bfgs and deep-ldl.
  deep-ldl runs on tfjs' cpu backend; --hidden takes comma-separated widths ('' for none).
`;

/** A command-line mistake: printed with the usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const OPTIONS = {
  data: { type: 'string' },
  algorithm: { type: 'string', default: 'sa-bfgs' },
  folds: { type: 'string', default: '10' },
  repeats: { type: 'string', default: '1' },
  seed: { type: 'string', default: '0' },
  'label-columns': { type: 'string' },
  'all-measures': { type: 'boolean', default: false },
  'save-folds': { type: 'string' },
  json: { type: 'string' },
  'no-progress': { type: 'boolean', default: false },
  k: { type: 'string' },
  'max-iterations': { type: 'string' },
  l2: { type: 'string' },
  hidden: { type: 'string' },
  'weight-decay': { type: 'string' },
  dropout: { type: 'string' },
  'learning-rate': { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  'validation-split': { type: 'string' },
  patience: { type: 'string' },
  help: { type: 'boolean', default: false },
} satisfies NonNullable<ParseArgsConfig['options']>;

const HEADERS: Record<LdlMeasureName, string> = {
  chebyshev: 'Chebyshev',
  clark: 'Clark',
  canberra: 'Canberra',
  kullbackLeibler: 'KL',
  cosine: 'Cosine',
  intersection: 'Intersection',
  euclidean: 'Euclidean',
  sorensen: 'Sørensen',
  squaredChi2: 'Squared χ²',
  fidelity: 'Fidelity',
  jensenShannon: 'Jensen-Shannon',
};

/** `.092` style (three decimals, no leading zero below 1), as the PyLDL README. */
export function formatMeasure(v: number): string {
  const s = v.toFixed(3);
  return Math.abs(v) < 1 ? s.replace(/^(-?)0\./, '$1.') : s;
}

/** The Markdown table of {@link runLdlCv}: one row per algorithm. */
export function formatTable(rows: { label: string; result: CrossValidationResult }[], measures: readonly LdlMeasureName[]): string {
  const head = measures.map((m) => `${HEADERS[m]} ${LDL_MEASURE_HIGHER_IS_BETTER[m] ? '↑' : '↓'}`);
  const lines = [`| algorithm | ${head.join(' | ')} | wall |`, `|---${'|---'.repeat(measures.length + 1)}|`];
  for (const { label, result } of rows) {
    const cells = measures.map((m) => `${formatMeasure(result.mean[m])} ± ${formatMeasure(result.std[m])}`);
    lines.push(`| ${label} | ${cells.join(' | ')} | ${result.seconds.toFixed(1)} s |`);
  }
  return lines.join('\n');
}

function num(values: Record<string, unknown>, name: string, check: (n: number) => boolean, what: string): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !check(n)) throw new UsageError(`--${name} must be ${what}, but got '${String(v)}'.`);
  return n;
}
const int = (min: number) => (n: number) => Number.isInteger(n) && n >= min;
const nonNegative = (n: number) => Number.isFinite(n) && n >= 0;

/** Builds the estimator factory of one algorithm from the command-line options. */
function factory(name: AlgorithmName, values: Record<string, unknown>): (seed: number) => LdlEstimator {
  if (name === 'aa-knn') {
    const k = num(values, 'k', int(1), 'an integer >= 1');
    return () => new AaKnn({ k });
  }
  if (name === 'sa-bfgs') {
    const maxIterations = num(values, 'max-iterations', int(1), 'an integer >= 1');
    const l2 = num(values, 'l2', nonNegative, 'a number >= 0');
    return (seed) => new SaBfgs({ maxIterations, l2, seed });
  }
  let hiddenSizes: number[] | undefined;
  if (typeof values.hidden === 'string') {
    hiddenSizes = values.hidden.trim() === '' ? [] : values.hidden.split(',').map(Number);
    if (hiddenSizes.some((h) => !int(1)(h))) throw new UsageError(`--hidden must be comma-separated integers >= 1, but got '${values.hidden}'.`);
  }
  const args = {
    hiddenSizes,
    weightDecay: num(values, 'weight-decay', nonNegative, 'a number >= 0'),
    dropout: num(values, 'dropout', (n) => n >= 0 && n < 1, 'a number in [0, 1)'),
    learningRate: num(values, 'learning-rate', (n) => n > 0, 'a number > 0'),
    epochs: num(values, 'epochs', int(1), 'an integer >= 1'),
    batchSize: num(values, 'batch-size', int(0), 'an integer >= 0'),
    validationSplit: num(values, 'validation-split', (n) => n >= 0 && n < 1, 'a number in [0, 1)'),
    patience: num(values, 'patience', int(1), 'an integer >= 1'),
  };
  return (seed) => new DeepLdl({ ...args, seed });
}

/**
 * Runs `ldl cv` with the given arguments (without the program name).
 * @returns the exit code: 0 on success, 2 on a usage error (printed with the usage text).
 */
export async function runLdlCv(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
    if (values.help) {
      out(USAGE);
      return 0;
    }
    if (typeof values.data !== 'string' || values.data === '') throw new UsageError('--data is required.');
  } catch (e) {
    err(`ldl cv: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  try {
    const folds = num(values, 'folds', int(2), 'an integer >= 2') as number;
    const repeats = num(values, 'repeats', int(1), 'an integer >= 1') as number;
    const seed = num(values, 'seed', int(0), 'an integer >= 0') as number;
    const labelColumns = num(values, 'label-columns', int(1), 'an integer >= 1');
    const names = String(values.algorithm).split(',').map((s) => s.trim());
    for (const n of names) {
      if (!(n in ALGORITHMS)) throw new UsageError(`--algorithm must be a comma-separated list of ${Object.keys(ALGORITHMS).join(', ')}, but got '${n}'.`);
    }
    const factories = names.map((n) => [n as AlgorithmName, factory(n as AlgorithmName, values)] as const);
    const data = await readLdlDataset(values.data as string, { labelColumns });
    const { rows: n, cols: d } = data.features;
    if (names.includes('deep-ldl')) {
      await import('@tensorflow/tfjs-backend-cpu');
      const tf = await import('@tensorflow/tfjs-core');
      await tf.setBackend('cpu');
    }
    out(`${basename(values.data as string)}: n=${n}, d=${d}, L=${data.labels.cols}; ${folds}-fold CV, ${repeats} repeat(s), seed ${seed}; mean ± std over folds`);
    const rows: { label: string; result: CrossValidationResult }[] = [];
    for (const [name, make] of factories) {
      const bar = values['no-progress'] ? undefined : new SingleBar({ format: `${name} [{bar}] {value}/{total} folds | {eta_formatted} left`, stream: process.stderr, hideCursor: false });
      bar?.start(folds * repeats, 0);
      const result = await crossValidate(data, (r, f) => make(seed + r * folds + f), { folds, repeats, seed, onFold: (done) => bar?.update(done) });
      bar?.stop();
      rows.push({ label: ALGORITHMS[name], result });
    }
    const measures = values['all-measures'] ? (Object.keys(HEADERS) as LdlMeasureName[]) : STANDARD_LDL_MEASURES;
    out(formatTable(rows, measures));
    if (typeof values['save-folds'] === 'string') {
      const r0 = rows[0].result;
      await writeFile(values['save-folds'], JSON.stringify({
        data: resolve(values.data as string),
        folds: r0.folds.map((f) => ({ repeat: f.repeat, fold: f.fold, test: f.testIndices })),
        seed,
      }) + '\n');
      out(`folds written to ${values['save-folds']}`);
    }
    if (typeof values.json === 'string') {
      await writeFile(values.json, JSON.stringify(rows.map(({ label, result }) => ({ algorithm: label, ...result, folds: result.folds.map(({ testIndices: _, ...f }) => f) })), null, 1) + '\n');
      out(`results written to ${values.json}`);
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`ldl cv: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}
