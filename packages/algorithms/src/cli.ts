/**
 * The `ldl cv` command line (of @ldl/cli): k-fold cross validation of LDL algorithms on a data file, printing the
 * PyLDL-style table (mean ± std of the six measures over the folds).
 */
import { averageRanks, LDL_MEASURE_HIGHER_IS_BETTER, STANDARD_LDL_MEASURES, type LdlMeasureName } from '@ldl/core';
import { SingleBar } from 'cli-progress';
import { writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type CrossValidationResult, kFoldIndices, summarizeMeasures } from './cv';
import { runCvTasks } from './cv-pool';
import type { CvContext, CvTask } from './cv-task';
import { readLdlDataset } from './dataset';
import { binarize, type BinarizeOptions } from './le/binarize';
import { type AlgorithmEntry, algorithmsOf, type CvMode, LDL_ALGORITHMS, LE_ALGORITHMS, type ParamValue, resolveAlgorithm } from './registry';

/** LDL algorithm names accepted by `--algorithm`, with the table label (from {@link LDL_ALGORITHMS}). */
export const ALGORITHMS: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(LDL_ALGORITHMS).map(([k, v]) => [k, v.label]));

/** Usage text of `ldl cv`. */
export const USAGE = `Usage:
  ldl cv --data FILE [--mode ldl|le] [--algorithm NAME,...|all] [--folds 10] [--repeats 1] [--seed 0] [--jobs 1]
         [--param [ALGORITHM.]NAME=VALUE ...] [--label-columns L] [--all-measures]
         [--format table|csv|json] [--out FILE] [--save-folds FILE] [--json FILE] [--no-progress]
         [--binarize-method threshold|topk] [--binarize-param P]
  --mode ldl (default): seeded k-fold cross validation (repeat r shuffles with seed + r; --repeats 10 is the
  10x10-fold protocol) of each LDL algorithm on FILE (.mat with 'features' [n, d] and 'labels' [n, L]; .csv
  with a header, label columns named label_* or the last --label-columns; .json { features, labels }).
  --mode le: the label enhancement protocol: the distributions are binarised (PyLDL's binaryzation,
  --binarize-method/--binarize-param), each LE algorithm recovers distributions from the features and
  those logical labels, scored against the true ones; --repeats runs the randomised ones with seeds
  seed, seed + 1, ... (--folds is not used).
  Algorithms: ldl: ${Object.keys(LDL_ALGORITHMS).join(', ')}; le: ${Object.keys(LE_ALGORITHMS).join(', ')}; 'all' for every one
  (names are case-insensitive; aliases: ${aliasList()}).
  Prints mean ± std (over all folds of all repeats, ddof 0) of Chebyshev, Clark, Canberra, Kullback-Leibler,
  Cosine, Intersection (--all-measures adds Euclidean, Sørensen, squared χ², Fidelity, Jensen-Shannon), each
  with the algorithm's rank on that measure (1 = best; ties share the mean rank), the mean rank, and the wall
  time. --format csv|json prints the results in that form instead of the Markdown table; --out FILE writes
  them to FILE. --jobs N runs the folds in N worker threads.
  --param NAME=VALUE sets a hyper-parameter (the constructor option's name) of every selected algorithm that
  has it, ALGORITHM.NAME=VALUE of one; repeat it for several; lists are comma-separated (hiddenSizes=64,32).
  Parameters, with their defaults (PyLDL's; what each means is in each class's \`params\` and the README):
${paramList()}
  Shorthands: --k --max-iterations --l2 --hidden --weight-decay --dropout --learning-rate --epochs
  --batch-size --validation-split --patience set k, maxIterations, l2, hiddenSizes, weightDecay, dropout,
  learningRate, epochs, batchSize, validationSplit, patience. deep-ldl runs on tfjs' cpu backend.
  --save-folds writes the test indices of every fold (for tools/reference/ldl_cv_reference.py);
  --json writes every fold's measures.
`;

function aliasList(): string {
  return Object.entries(LDL_ALGORITHMS)
    .flatMap(([name, e]) => (e.aliases ?? []).map((a) => `${a} = ${name}`))
    .join(', ');
}

/** One line per algorithm: `name: param=default, …` (a list default comma-separated, in brackets). */
function paramList(): string {
  const all: [string, AlgorithmEntry<unknown>][] = [...Object.entries(LDL_ALGORITHMS), ...Object.entries(LE_ALGORITHMS)];
  return all
    .filter(([, e]) => Object.keys(e.params).length > 0)
    .map(([name, e]) => {
      const list = Object.entries(e.params).map(([k, p]) => (p.default === undefined ? k : `${k}=${typeof p.default === 'number' ? p.default : `[${p.default.join(',')}]`}`));
      return `    ${name}: ${list.join(', ')}`;
    })
    .join('\n');
}

/** A command-line mistake: printed with the usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const OPTIONS = {
  data: { type: 'string' },
  mode: { type: 'string', default: 'ldl' },
  algorithm: { type: 'string' },
  jobs: { type: 'string', default: '1' },
  param: { type: 'string', multiple: true },
  format: { type: 'string', default: 'table' },
  out: { type: 'string' },
  'binarize-method': { type: 'string' },
  'binarize-param': { type: 'string' },
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

/** One row of the `ldl cv` results: an algorithm's result, with its ranks among the rows. */
export interface CvRow {
  /** The registry name (`--algorithm`). */
  name: string;
  /** The table label (PyLDL's name). */
  label: string;
  /** The hyper-parameters set on the command line (the rest are the defaults). */
  params: Record<string, ParamValue>;
  result: CrossValidationResult;
}

/**
 * Per-measure ranks of the rows' means (1 = best, by each measure's direction; ties share the mean rank, as
 * SciPy's `rankdata`), and each row's mean rank over `measures`.
 */
export function rankRows(rows: readonly CvRow[], measures: readonly LdlMeasureName[]): { ranks: Record<LdlMeasureName, number>[]; mean: number[] } {
  const ranks = rows.map(() => ({}) as Record<LdlMeasureName, number>);
  for (const m of measures) {
    const sign = LDL_MEASURE_HIGHER_IS_BETTER[m] ? -1 : 1;
    const r = averageRanks(rows.map((row) => sign * row.result.mean[m]));
    rows.forEach((_, i) => (ranks[i][m] = r[i]));
  }
  return { ranks, mean: ranks.map((r) => measures.reduce((s, m) => s + r[m], 0) / measures.length) };
}

const formatRank = (r: number) => (Number.isInteger(r) ? String(r) : r.toFixed(1));

/** The Markdown table of {@link runLdlCv}: one row per algorithm, `mean ± std (rank)` per measure. */
export function formatTable(rows: readonly CvRow[], measures: readonly LdlMeasureName[]): string {
  const head = measures.map((m) => `${HEADERS[m]} ${LDL_MEASURE_HIGHER_IS_BETTER[m] ? '↑' : '↓'}`);
  const ranked = rows.length > 1;
  const { ranks, mean } = rankRows(rows, measures);
  const lines = [
    `| algorithm | ${head.join(' | ')} |${ranked ? ' mean rank |' : ''} wall |`,
    `|---${'|---'.repeat(measures.length + (ranked ? 2 : 1))}|`,
  ];
  rows.forEach(({ label, result }, i) => {
    const cells = measures.map((m) => `${formatMeasure(result.mean[m])} ± ${formatMeasure(result.std[m])}${ranked ? ` (${formatRank(ranks[i][m])})` : ''}`);
    lines.push(`| ${label} | ${cells.join(' | ')} |${ranked ? ` ${mean[i].toFixed(2)} |` : ''} ${result.seconds.toFixed(1)} s |`);
  });
  return lines.join('\n');
}

/** CSV of the results: one line per algorithm; `<measure>_mean`, `_std`, `_rank` columns, full precision. */
export function formatCsv(rows: readonly CvRow[], measures: readonly LdlMeasureName[]): string {
  const { ranks, mean } = rankRows(rows, measures);
  const head = ['algorithm', 'label', ...measures.flatMap((m) => [`${m}_mean`, `${m}_std`, `${m}_rank`]), 'mean_rank', 'seconds', 'runs'];
  const lines = [head.join(',')];
  rows.forEach(({ name, label, result }, i) => {
    lines.push([name, label, ...measures.flatMap((m) => [result.mean[m], result.std[m], ranks[i][m]]), mean[i], result.seconds, result.folds.length].join(','));
  });
  return lines.join('\n');
}

/** JSON of the results: the run's settings and, per algorithm, mean, std, ranks and each fold's measures. */
export function formatJson(rows: readonly CvRow[], measures: readonly LdlMeasureName[], settings: Record<string, unknown>): string {
  const { ranks, mean } = rankRows(rows, measures);
  return JSON.stringify(
    {
      ...settings,
      measures,
      results: rows.map(({ name, label, params, result }, i) => ({
        algorithm: name,
        label,
        params,
        mean: result.mean,
        std: result.std,
        ranks: ranks[i],
        meanRank: mean[i],
        seconds: result.seconds,
        runs: result.folds.map(({ testIndices: _, ...f }) => f),
      })),
    },
    null,
    1,
  );
}

function num(values: Record<string, unknown>, name: string, check: (n: number) => boolean, what: string): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !check(n)) throw new UsageError(`--${name} must be ${what}, but got '${String(v)}'.`);
  return n;
}
const int = (min: number) => (n: number) => Number.isInteger(n) && n >= min;

/** The shorthand flags and the parameter each sets. */
const SHORTHANDS: Record<string, string> = {
  k: 'k',
  'max-iterations': 'maxIterations',
  l2: 'l2',
  hidden: 'hiddenSizes',
  'weight-decay': 'weightDecay',
  dropout: 'dropout',
  'learning-rate': 'learningRate',
  epochs: 'epochs',
  'batch-size': 'batchSize',
  'validation-split': 'validationSplit',
  patience: 'patience',
};

/**
 * The hyper-parameters of each selected algorithm from `--param` and the shorthand flags, each checked by
 * building the algorithm once (its constructor's range checks).
 */
function parseParams(mode: CvMode, names: readonly string[], values: Record<string, unknown>): Record<string, Record<string, ParamValue>> {
  const registry = algorithmsOf(mode);
  const out: Record<string, Record<string, ParamValue>> = Object.fromEntries(names.map((n) => [n, {}]));
  const settings: { flag: string; scope?: string; key: string; raw: string }[] = [];
  for (const [flag, key] of Object.entries(SHORTHANDS)) {
    if (typeof values[flag] === 'string') settings.push({ flag: `--${flag}`, key, raw: values[flag] as string });
  }
  for (const p of (values.param as string[] | undefined) ?? []) {
    const m = /^(?:([a-z0-9-]+)\.)?([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(p);
    if (!m) throw new UsageError(`--param must be NAME=VALUE or ALGORITHM.NAME=VALUE, but got '${p}'.`);
    settings.push({ flag: `--param ${p}`, scope: m[1], key: m[2], raw: m[3] });
  }
  for (const { flag, scope, key, raw } of settings) {
    const scoped = scope === undefined ? undefined : (resolveAlgorithm(scope, mode) ?? scope);
    if (scoped !== undefined && !names.includes(scoped)) {
      throw new UsageError(`${flag}: '${scope}' is not a selected algorithm (${names.join(', ')}).`);
    }
    const targets = (scoped !== undefined ? [scoped] : names).filter((n) => key in registry[n].params);
    if (targets.length === 0) {
      const known = names.map((n) => `${n}: ${Object.keys(registry[n].params).join(', ') || 'none'}`).join('; ');
      throw new UsageError(`${flag}: no selected algorithm has a parameter '${key}' (${known}).`);
    }
    for (const n of targets) {
      const { type } = registry[n].params[key];
      const list = raw.trim() === '' ? [] : raw.split(',').map((v) => Number(v.trim()));
      if (list.some((v) => !Number.isFinite(v)) || (type === 'number' && list.length !== 1)) {
        throw new UsageError(`${flag}: ${key} must be ${type === 'number' ? 'a number' : 'comma-separated numbers'}, but got '${raw}'.`);
      }
      out[n][key] = type === 'number' ? list[0] : list;
    }
  }
  for (const n of names) {
    try {
      registry[n].create(out[n], 0);
    } catch (e) {
      const set = Object.entries(out[n]).map(([k, v]) => `${k}=${String(v)}`).join(' ');
      throw new UsageError(`a hyper-parameter of ${n} is out of range (${set}): ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return out;
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
    const mode = values.mode as CvMode;
    if (mode !== 'ldl' && mode !== 'le') throw new UsageError(`--mode must be 'ldl' or 'le', but got '${String(values.mode)}'.`);
    const registry = algorithmsOf(mode);
    const folds = num(values, 'folds', int(2), 'an integer >= 2') as number;
    const repeats = num(values, 'repeats', int(1), 'an integer >= 1') as number;
    const seed = num(values, 'seed', int(0), 'an integer >= 0') as number;
    const jobs = num(values, 'jobs', int(1), 'an integer >= 1') as number;
    const labelColumns = num(values, 'label-columns', int(1), 'an integer >= 1');
    const format = values.format as string;
    if (!['table', 'csv', 'json'].includes(format)) throw new UsageError(`--format must be table, csv or json, but got '${format}'.`);
    const requested = typeof values.algorithm === 'string' ? values.algorithm : mode === 'le' ? 'all' : 'sa-bfgs';
    const names =
      requested.trim() === 'all'
        ? Object.keys(registry)
        : requested.split(',').map((s) => {
            const n = resolveAlgorithm(s, mode);
            if (n === undefined) throw new UsageError(`--algorithm must be 'all' or a comma-separated list of ${Object.keys(registry).join(', ')} (--mode ${mode}), but got '${s.trim()}'.`);
            return n;
          });
    const params = parseParams(mode, names, values);
    let binarizeOptions: BinarizeOptions | undefined;
    if (values['binarize-method'] !== undefined || values['binarize-param'] !== undefined) {
      const method = (values['binarize-method'] ?? 'threshold') as BinarizeOptions['method'];
      const param = values['binarize-param'] === undefined ? undefined : Number(values['binarize-param']);
      binarizeOptions = { method, param };
      try {
        binarize([[0.5, 0.3, 0.2]], method === 'topk' ? { method } : binarizeOptions); // the method's checks
        if (param !== undefined && method === 'topk' && !(Number.isInteger(param) && param >= 1)) throw new Error(`param must be an integer >= 1, but got ${param}.`);
      } catch (e) {
        throw new UsageError(`--binarize-method/--binarize-param: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (mode === 'le' && values['save-folds'] !== undefined) throw new UsageError('--save-folds applies to --mode ldl (the LE protocol has no folds).');
    const file = values.data as string;
    const data = await readLdlDataset(file, { labelColumns, onNote: (note) => err(`ldl cv: ${note}`) });
    const { rows: n, cols: d } = data.features;
    if (mode === 'ldl' && folds > n) throw new UsageError(`--folds ${folds} is more than the ${n} samples of ${file}; use --folds <= ${n}.`);
    const logical = mode === 'le' ? binarize(data.labels, binarizeOptions) : undefined;
    const protocol = mode === 'le' ? `label enhancement protocol, ${repeats} run(s)` : `${folds}-fold CV, ${repeats} repeat(s)`;
    (format === 'table' && values.out === undefined ? out : err)(`${basename(file)}: n=${n}, d=${d}, L=${data.labels.cols}; ${protocol}, seed ${seed}, ${jobs} job(s); mean ± std over ${mode === 'le' ? 'runs' : 'folds'}`);
    // The same folds for every algorithm: repeat r shuffles with seed + r.
    const splits = mode === 'le' ? [] : Array.from({ length: repeats }, (_, r) => kFoldIndices(n, folds, seed + r));
    const tasks: CvTask[] =
      mode === 'le'
        ? Array.from({ length: repeats }, (_, r) => ({ repeat: r, fold: 0, seed: seed + r }))
        : splits.flatMap((split, r) =>
            split.map((test, f) => {
              const inTest = new Uint8Array(n);
              for (const i of test) inTest[i] = 1;
              return { repeat: r, fold: f, seed: seed + r * folds + f, test, train: Array.from({ length: n }, (_, i) => i).filter((i) => !inTest[i]) };
            }),
          );
    const rows: CvRow[] = [];
    for (const name of names) {
      const bar = values['no-progress'] ? undefined : new SingleBar({ format: `${name} [{bar}] {value}/{total} ${mode === 'le' ? 'runs' : 'folds'} | {eta_formatted} left`, stream: process.stderr, hideCursor: false });
      bar?.start(tasks.length, 0);
      const context: CvContext = { mode, algorithm: name, params: params[name], features: data.features, labels: data.labels, logical };
      const start = performance.now();
      const results = await runCvTasks(context, tasks, jobs, (done) => bar?.update(done));
      bar?.stop();
      const result: CrossValidationResult = { folds: results, ...summarizeMeasures(results.map((r) => r.measures)), seconds: (performance.now() - start) / 1000 };
      rows.push({ name, label: registry[name].label, params: params[name], result });
    }
    const measures = values['all-measures'] ? (Object.keys(HEADERS) as LdlMeasureName[]) : STANDARD_LDL_MEASURES;
    const settings = { data: resolve(file), mode, folds: mode === 'le' ? undefined : folds, repeats, seed, jobs, binarize: mode === 'le' ? (binarizeOptions ?? { method: 'threshold', param: 0.5 }) : undefined };
    const text = format === 'csv' ? formatCsv(rows, measures) : format === 'json' ? formatJson(rows, measures, settings) : formatTable(rows, measures);
    if (typeof values.out === 'string') {
      await writeFile(values.out, `${text}\n`);
      if (format !== 'table') out(formatTable(rows, measures));
      out(`results written to ${values.out}`);
    } else {
      out(text);
    }
    if (typeof values['save-folds'] === 'string') {
      await writeFile(values['save-folds'], JSON.stringify({
        data: resolve(file),
        folds: rows[0].result.folds.map((f) => ({ repeat: f.repeat, fold: f.fold, test: f.testIndices })),
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
