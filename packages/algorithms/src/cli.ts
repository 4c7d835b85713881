/**
 * The `ldl cv` command line (of @ldl/cli): k-fold cross validation of LDL algorithms on a data file, printing the
 * PyLDL-style table (mean ± std of the six measures over the folds).
 */
import { LDL_MEASURE_HIGHER_IS_BETTER, STANDARD_LDL_MEASURES, type LdlMeasureName } from '@ldl/core';
import { SingleBar } from 'cli-progress';
import { writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type CrossValidationResult, crossValidate } from './cv';
import { readLdlDataset } from './dataset';
import type { LdlEstimator } from './estimator';
import { ALGORITHM_REGISTRY, type AlgorithmEntry, type AlgorithmName, createAlgorithm, resolveAlgorithm } from './registry';

/** Algorithm names accepted by `--algorithm`, with the table label (from {@link ALGORITHM_REGISTRY}). */
export const ALGORITHMS = Object.fromEntries(Object.entries(ALGORITHM_REGISTRY).map(([n, e]) => [n, e.label])) as Record<AlgorithmName, string>;

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Every hyper-parameter flag of the registry: `--kebab-name` → camelCase name, rule, doc, algorithms. */
const PARAM_FLAGS = (() => {
  const flags = new Map<string, { name: string; list: boolean; algorithms: string[]; entry: AlgorithmEntry }>();
  for (const [algorithm, entry] of Object.entries(ALGORITHM_REGISTRY) as [AlgorithmName, AlgorithmEntry][]) {
    for (const name of [...Object.keys(entry.params), ...Object.keys(entry.lists ?? {})]) {
      if (name === 'seed') continue; // --seed seeds the folds and, per fold, every randomised algorithm
      const flag = kebab(name);
      const known = flags.get(flag);
      if (known) known.algorithms.push(algorithm);
      else flags.set(flag, { name, list: name in (entry.lists ?? {}), algorithms: [algorithm], entry });
    }
  }
  return flags;
})();

/** Usage text of `ldl cv`. */
export const USAGE = `Usage:
  ldl cv --data FILE [--algorithm sa-bfgs[,aa-knn,…]] [--folds 10] [--repeats 1] [--seed 0]
         [--label-columns L] [--all-measures] [--save-folds FILE] [--json FILE] [--no-progress]
         [hyper-parameters, below]
  Seeded k-fold cross validation (repeat r shuffles with seed + r) of each algorithm on FILE (.mat with
  'features' [n, d] and 'labels' [n, L]; .csv with a header, label columns named label_* or the last
  --label-columns; .json { features, labels }). Prints mean ± std (over all folds, ddof 0) of
  Chebyshev, Clark, Canberra, Kullback-Leibler, Cosine, Intersection (--all-measures adds Euclidean,
  Sørensen, squared χ², Fidelity, Jensen-Shannon) and the wall time of fit + predict.
  --save-folds writes the test indices of every fold (for tools/reference/ldl_cv_reference.py);
  --json writes every fold's measures. deep-ldl runs on tfjs' cpu backend.
  Algorithms (aliases in brackets): ${Object.entries(ALGORITHM_REGISTRY)
    .map(([n, e]) => n + ((e as AlgorithmEntry).aliases ? ` [${(e as AlgorithmEntry).aliases?.join(', ')}]` : ''))
    .join(', ')}.
  Hyper-parameters, with each algorithm's default (PyLDL's); what a shared name means per algorithm is in
  the README of @ldl/algorithms and each class's \`params\`:
${[...PARAM_FLAGS.entries()]
  .map(([flag, f]) => {
    const groups = new Map<string, string[]>();
    for (const a of f.algorithms) {
      const e: AlgorithmEntry = ALGORITHM_REGISTRY[a as AlgorithmName];
      const def = f.list ? (e.lists?.[f.name].default.join(',') ?? '') : String(e.params[f.name].default);
      groups.set(def, [...(groups.get(def) ?? []), a]);
    }
    const defaults = [...groups].map(([def, algs]) => `${algs.join(', ')} = ${def === '' ? "''" : def}`).join('; ');
    const doc = f.list ? f.entry.lists?.[f.name].doc : f.entry.params[f.name].doc;
    return `    --${flag}: ${doc}\n        ${defaults}`;
  })
  .join('\n')}
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
  ...Object.fromEntries([...PARAM_FLAGS.keys()].map((flag) => [flag, { type: 'string' as const }])),
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

/** The registry hyper-parameters given on the command line, parsed (each algorithm's constructor checks its rules). */
function hyperParameters(values: Record<string, unknown>): Record<string, number | number[] | undefined> {
  const out: Record<string, number | number[] | undefined> = {};
  for (const [flag, { name, list }] of PARAM_FLAGS) {
    const v = values[flag];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new UsageError(`--${flag} must be a number, but got '${String(v)}'.`);
    if (list) {
      const items = v.trim() === '' ? [] : v.split(',').map(Number);
      if (items.some((h) => !int(1)(h))) throw new UsageError(`--${flag} must be comma-separated integers >= 1, but got '${v}'.`);
      out[name] = items;
    } else {
      const n = Number(v);
      if (v.trim() === '' || Number.isNaN(n)) throw new UsageError(`--${flag} must be a number, but got '${v}'.`);
      out[name] = n;
    }
  }
  return out;
}

/** Builds the estimator factory of one algorithm; builds one at once so that a bad hyper-parameter fails before any data is read. */
function factory(name: AlgorithmName, values: Record<string, unknown>): (seed: number) => LdlEstimator {
  const params = hyperParameters(values);
  try {
    createAlgorithm(name, params, 0);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  return (seed) => createAlgorithm(name, params, seed);
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
    const names = String(values.algorithm).split(',').map((s) => {
      const n = resolveAlgorithm(s);
      if (!n) throw new UsageError(`--algorithm must be a comma-separated list of ${Object.keys(ALGORITHMS).join(', ')}, but got '${s.trim()}'.`);
      return n;
    });
    const factories = names.map((n) => [n, factory(n, values)] as const);
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
