import {
  add,
  div,
  exp,
  expandDims,
  greater,
  log,
  logSoftmax,
  mean,
  mul,
  neg,
  oneHot,
  onesLike,
  range,
  sign,
  square,
  sub,
  sum,
  tensor1d,
  tidy,
  where,
  type Scalar,
  type Tensor2D,
} from '@tensorflow/tfjs-core';
import { expectation } from './decode';
import { gaussianMatrix, resolveLabelOptions } from './labels';
import {
  type AgesLike,
  type SigmaLike,
  checkBoolean,
  checkMatrix,
  checkFinite,
  checkNonNegative,
  checkOneOf,
  fail,
  readAges,
  readClassIndices,
  readSigma,
} from './validate';

/**
 * Reduction of {@link klDivergenceLoss}, as in PyTorch's `KLDivLoss`: `'batchmean'` divides the
 * total by the batch size N (the mathematically correct KL per sample), `'sum'` keeps the total,
 * `'mean'` divides by every element (N·C).
 */
export type KlReduction = 'batchmean' | 'sum' | 'mean';
const KL_REDUCTIONS: readonly KlReduction[] = ['batchmean', 'sum', 'mean'];

/** Options of {@link klDivergenceLoss}. */
export interface KlDivergenceOptions {
  /**
   * How the element-wise terms are reduced to a scalar.
   * @default 'batchmean'
   */
  reduction?: KlReduction;
}

/** Options of {@link expectationL1Loss} and {@link crossEntropyLoss}. */
export interface AgeClassOptions {
  /**
   * Age of class 0; class `k` stands for age `minAge + k`.
   * @default 0
   */
  minAge?: number;
}

/** Options of {@link ldlLoss}. */
export interface LdlLossOptions {
  /**
   * Standard deviation of the Gaussian target in years: one number, or one per sample (array or
   * `Tensor1D [N]`). Every value must be > 0.
   * @default 2
   */
  sigma?: SigmaLike;
  /**
   * Weight λ of the expectation L1 term.
   * @default 1
   */
  lambda?: number;
  /**
   * Normalise each target row to sum 1 (DLDL-v2); the paper's seed does not.
   * @default false
   */
  normalize?: boolean;
  /**
   * Reduction of the KL term.
   * @default 'batchmean'
   */
  klReduction?: KlReduction;
  /**
   * Expected number of classes; when given, `logits.shape[1]` must equal it. When omitted,
   * `logits.shape[1]` is used.
   */
  numClasses?: number;
  /**
   * Age of class 0; class `k` stands for age `minAge + k`.
   * @default 0
   */
  minAge?: number;
  /**
   * Target values below `floor` are raised to it (see {@link gaussianLabels}).
   * @default 1e-15
   */
  floor?: number;
}

/** Options of {@link meanVarianceLoss}. */
export interface MeanVarianceLossOptions {
  /**
   * Weight λ₁ of the mean loss `½·(E[p] − age)²` (Pan et al. use 0.2).
   * @default 0.2
   */
  lambdaMean?: number;
  /**
   * Weight λ₂ of the variance loss `Σ_k p_k·(minAge + k − E[p])²` (Pan et al. use 0.05).
   * @default 0.05
   */
  lambdaVariance?: number;
  /**
   * Add the softmax cross-entropy on the rounded age (the paper's full loss `L_s + λ₁L_m + λ₂L_v`).
   * Set `false` to get only `λ₁L_m + λ₂L_v`, e.g. to combine it with another classification loss.
   * @default true
   */
  includeSoftmax?: boolean;
  /**
   * Age of class 0; class `k` stands for age `minAge + k`.
   * @default 0
   */
  minAge?: number;
}

/** Logits of the multi-task model (the paper's age + gender + ethnicity heads). */
export interface MultiTaskOutputs {
  /** Age logits, `Tensor2D [N, numClasses]`. */
  age: Tensor2D;
  /** Gender logits, `Tensor2D [N, numGenders]`. */
  gender: Tensor2D;
  /** Ethnicity logits, `Tensor2D [N, numEthnicities]`. */
  ethnicity: Tensor2D;
}

/** Targets of {@link multiTaskLoss}. */
export interface MultiTaskTargets {
  /** Ages, `number[]` or `Tensor1D [N]`. */
  ages: AgesLike;
  /** Gender class indices in `[0, numGenders - 1]`, `number[]` or `Tensor1D [N]`. */
  gender: AgesLike;
  /** Ethnicity class indices in `[0, numEthnicities - 1]`, `number[]` or `Tensor1D [N]`. */
  ethnicity: AgesLike;
}

/** Options of {@link multiTaskLoss}: the task weights plus the {@link LdlLossOptions} of the age head. */
export interface MultiTaskLossOptions extends LdlLossOptions {
  /**
   * Weight of the age (LDL) loss.
   * @default 1
   */
  ageWeight?: number;
  /**
   * Weight of the gender cross-entropy.
   * @default 1
   */
  genderWeight?: number;
  /**
   * Weight of the ethnicity cross-entropy.
   * @default 1
   */
  ethnicityWeight?: number;
}

/** Argument names used in error messages (they differ when a loss is part of {@link multiTaskLoss}). */
interface Names {
  fn: string;
  logits: string;
  ages: string;
}

/** `Σ target·(log target − logp)` with `0·log 0 = 0`, reduced. Internal: inputs are trusted. */
function klFromLogProbs(logp: Tensor2D, target: Tensor2D, reduction: KlReduction): Scalar {
  const safeTarget = where(greater(target, 0), target, onesLike(target));
  const total = sum(mul(target, sub(log(safeTarget), logp)));
  if (reduction === 'sum') return total as Scalar;
  const [n, c] = logp.shape;
  return div(total, reduction === 'batchmean' ? n : n * c) as Scalar;
}

/**
 * `mean_i |E[p_i] − age_i|`. `|d|` is written `sign(d)·d` so its gradient at `d = 0` is 0, as in
 * PyTorch (tfjs' `abs` gradient is −1 there). Internal: inputs are trusted.
 */
function expectationL1(logp: Tensor2D, ages: readonly number[], minAge: number): Scalar {
  const d = sub(expectation(exp(logp), minAge), tensor1d(ages as number[]));
  return mean(mul(sign(d), d)) as Scalar;
}

/** Mean cross-entropy `−mean_i logp[i, classes_i]`. Internal: inputs are trusted. */
function classCrossEntropy(logp: Tensor2D, classes: readonly number[]): Scalar {
  const targets = oneHot(tensor1d(classes as number[], 'int32'), logp.shape[1]);
  return neg(mean(sum(mul(targets, logp), 1))) as Scalar;
}

/** Validates an LDL loss call; returns the computation (to be run inside `tidy`). */
function prepareLdl(names: Names, logits: unknown, ages: unknown, options: LdlLossOptions): () => Scalar {
  const { fn } = names;
  checkMatrix(fn, names.logits, logits);
  const [n, c] = logits.shape;
  if (options.numClasses !== undefined && options.numClasses !== c) {
    fail(fn, `${names.logits}.shape[1]`, `numClasses = ${String(options.numClasses)}`, c);
  }
  const o = resolveLabelOptions(fn, c, options);
  const { lambda = 1, klReduction = 'batchmean', sigma = 2 } = options;
  checkNonNegative(fn, 'lambda', lambda);
  checkOneOf(fn, 'klReduction', klReduction, KL_REDUCTIONS);
  const ageValues = readAges(fn, names.ages, ages, { n, ...o });
  const sigmas = readSigma(fn, sigma, n);
  return () => {
    const logp = logSoftmax(logits);
    const kl = klFromLogProbs(logp, gaussianMatrix(ageValues, sigmas, o), klReduction);
    if (lambda === 0) return kl;
    return add(kl, mul(expectationL1(logp, ageValues, o.minAge), lambda)) as Scalar;
  };
}

/** Class index of an age for the cross-entropy losses: `round(age − minAge)`, halves rounded up. */
function ageClass(age: number, minAge: number): number {
  return Math.round(age - minAge);
}

/**
 * Kullback–Leibler divergence `KL(target ‖ softmax(logits))`, i.e. PyTorch's
 * `KLDivLoss(reduction)(log_softmax(logits), target)` with the convention `0·log 0 = 0`, computed
 * with `logSoftmax` so extreme logits give no NaN/Infinity.
 *
 * @param logits `Tensor2D [N, C]`, float32.
 * @param target `Tensor2D [N, C]`, float32, non-negative (e.g. {@link gaussianLabels}).
 * @returns Scalar loss.
 */
export function klDivergenceLoss(logits: Tensor2D, target: Tensor2D, options: KlDivergenceOptions = {}): Scalar {
  const fn = 'klDivergenceLoss';
  const { reduction = 'batchmean' } = options;
  checkMatrix(fn, 'logits', logits);
  checkMatrix(fn, 'target', target);
  if (target.shape[0] !== logits.shape[0] || target.shape[1] !== logits.shape[1]) {
    fail(fn, 'target.shape', `equal to logits.shape [${logits.shape.join(',')}]`, `[${target.shape.join(',')}]`);
  }
  checkOneOf(fn, 'reduction', reduction, KL_REDUCTIONS);
  return tidy(() => klFromLogProbs(logSoftmax(logits), target, reduction));
}

/**
 * Expectation L1 loss `mean_i |E[p_i] − age_i|` with `E[p] = Σ_k softmax(logits)_k·(minAge + k)`
 * (PyTorch's `L1Loss(reduction='mean')` of the expected age).
 *
 * @param logits `Tensor2D [N, numClasses]`, float32.
 * @param ages `number[]` or `Tensor1D [N]`, within `[minAge, minAge + numClasses - 1]`.
 * @returns Scalar loss in years.
 */
export function expectationL1Loss(logits: Tensor2D, ages: AgesLike, options: AgeClassOptions = {}): Scalar {
  const fn = 'expectationL1Loss';
  const { minAge = 0 } = options;
  checkMatrix(fn, 'logits', logits);
  checkFinite(fn, 'minAge', minAge);
  const values = readAges(fn, 'ages', ages, { n: logits.shape[0], minAge, numClasses: logits.shape[1] });
  return tidy(() => expectationL1(logSoftmax(logits), values, minAge));
}

/**
 * The paper's LDL loss (DLDL-v2 with its seed's defaults):
 * `KL(gaussianLabels(ages) ‖ softmax(logits)) + λ·mean|E[p] − age|`, where the target is the
 * unnormalised Gaussian (σ = 2) floored at 1e-15 and the KL uses `'batchmean'`. Equal to the
 * seed's PyTorch value but computed with `logSoftmax`, so logits of ±1e4 give finite values and
 * gradients. Differentiable w.r.t. `logits` (use it inside `optimizer.minimize`).
 *
 * @param logits `Tensor2D [N, numClasses]`, float32, e.g. `model.predict(x)`.
 * @param ages `number[]` or `Tensor1D [N]` of ages in `[minAge, minAge + numClasses - 1]`.
 * @returns Scalar loss.
 * @throws `Error in ldlLoss: ...` for a NaN or out-of-range age, `sigma <= 0`, a length mismatch
 *   between `ages`/`sigma` and the rows of `logits`, a non-2D or non-float32 `logits`, or a bad option.
 *
 * @example
 * ```ts
 * optimizer.minimize(() => ldlLoss(model.predict(images) as tf.Tensor2D, [23, 41.5, 67]));
 * ```
 */
export function ldlLoss(logits: Tensor2D, ages: AgesLike, options: LdlLossOptions = {}): Scalar {
  const compute = prepareLdl({ fn: 'ldlLoss', logits: 'logits', ages: 'ages' }, logits, ages, options);
  return tidy(compute);
}

/**
 * Softmax cross-entropy on the age class `round(age − minAge)` (`Math.round`, halves round up): the
 * paper's classification baseline. Equal to PyTorch's `CrossEntropyLoss()` (mean over the batch).
 *
 * @param logits `Tensor2D [N, numClasses]`, float32.
 * @param ages `number[]` or `Tensor1D [N]` of ages in `[minAge, minAge + numClasses - 1]`.
 * @returns Scalar loss.
 */
export function crossEntropyLoss(logits: Tensor2D, ages: AgesLike, options: AgeClassOptions = {}): Scalar {
  const fn = 'crossEntropyLoss';
  const { minAge = 0 } = options;
  checkMatrix(fn, 'logits', logits);
  checkFinite(fn, 'minAge', minAge);
  const [n, c] = logits.shape;
  const classes = readAges(fn, 'ages', ages, { n, minAge, numClasses: c }).map((a) => ageClass(a, minAge));
  return tidy(() => classCrossEntropy(logSoftmax(logits), classes));
}

/**
 * Mean-variance loss (Pan et al., CVPR 2018). With `p = softmax(logits)`, `m_i = E[p_i]`:
 * mean loss `L_m = mean_i ½(m_i − age_i)²`, variance loss `L_v = mean_i Σ_k p_ik (minAge + k − m_i)²`.
 * Returns `L_s + λ₁·L_m + λ₂·L_v` where `L_s` is {@link crossEntropyLoss} on the rounded age
 * (drop it with `includeSoftmax: false` to add your own classification loss instead).
 *
 * @param logits `Tensor2D [N, numClasses]`, float32.
 * @param ages `number[]` or `Tensor1D [N]` of ages in `[minAge, minAge + numClasses - 1]`.
 * @returns Scalar loss.
 */
export function meanVarianceLoss(logits: Tensor2D, ages: AgesLike, options: MeanVarianceLossOptions = {}): Scalar {
  const fn = 'meanVarianceLoss';
  const { lambdaMean = 0.2, lambdaVariance = 0.05, includeSoftmax = true, minAge = 0 } = options;
  checkMatrix(fn, 'logits', logits);
  checkNonNegative(fn, 'lambdaMean', lambdaMean);
  checkNonNegative(fn, 'lambdaVariance', lambdaVariance);
  checkBoolean(fn, 'includeSoftmax', includeSoftmax);
  checkFinite(fn, 'minAge', minAge);
  const [n, c] = logits.shape;
  const values = readAges(fn, 'ages', ages, { n, minAge, numClasses: c });
  const classes = values.map((a) => ageClass(a, minAge));
  return tidy(() => {
    const logp = logSoftmax(logits);
    const p = exp(logp);
    const m = expectation(p, minAge);
    const meanLoss = mul(mean(mul(square(sub(m, tensor1d(values))), 0.5)), lambdaMean);
    const centred = sub(expandDims(range(minAge, minAge + c, 1, 'float32'), 0), expandDims(m, 1));
    const varianceLoss = mul(mean(sum(mul(p, square(centred)), 1)), lambdaVariance);
    const mv = add(meanLoss, varianceLoss);
    return (includeSoftmax ? add(mv, classCrossEntropy(logp, classes)) : mv) as Scalar;
  });
}

/**
 * Loss of the paper's multi-task model: `ageWeight·ldlLoss(outputs.age, targets.ages)
 * + genderWeight·CE(outputs.gender, targets.gender) + ethnicityWeight·CE(outputs.ethnicity, targets.ethnicity)`,
 * with CE the mean softmax cross-entropy on integer class indices.
 *
 * @param outputs Logits `{ age: [N, numClasses], gender: [N, G], ethnicity: [N, E] }`, float32.
 * @param targets `{ ages, gender, ethnicity }`, each `number[]` or `Tensor1D [N]`.
 * @returns Scalar loss.
 *
 * @example
 * ```ts
 * const [age, gender, ethnicity] = model.predict(x) as tf.Tensor2D[];
 * const loss = multiTaskLoss({ age, gender, ethnicity }, { ages, gender: g, ethnicity: e }, { genderWeight: 0.5 });
 * ```
 */
export function multiTaskLoss(
  outputs: MultiTaskOutputs,
  targets: MultiTaskTargets,
  options: MultiTaskLossOptions = {},
): Scalar {
  const fn = 'multiTaskLoss';
  if (typeof outputs !== 'object' || outputs === null) fail(fn, 'outputs', 'an object { age, gender, ethnicity }', outputs);
  if (typeof targets !== 'object' || targets === null) fail(fn, 'targets', 'an object { ages, gender, ethnicity }', targets);
  const { ageWeight = 1, genderWeight = 1, ethnicityWeight = 1, ...ldlOptions } = options;
  checkNonNegative(fn, 'ageWeight', ageWeight);
  checkNonNegative(fn, 'genderWeight', genderWeight);
  checkNonNegative(fn, 'ethnicityWeight', ethnicityWeight);
  const ldl = prepareLdl({ fn, logits: 'outputs.age', ages: 'targets.ages' }, outputs.age, targets.ages, ldlOptions);
  const n = outputs.age.shape[0];
  const heads = (['gender', 'ethnicity'] as const).map((head) => {
    const logits: unknown = outputs[head];
    checkMatrix(fn, `outputs.${head}`, logits);
    if (logits.shape[0] !== n) fail(fn, `outputs.${head}.shape[0]`, `${n} (the rows of outputs.age)`, logits.shape[0]);
    const classes = readClassIndices(fn, `targets.${head}`, targets[head], n, logits.shape[1]);
    return { logits, classes };
  });
  const weights = [genderWeight, ethnicityWeight];
  return tidy(() =>
    heads.reduce<Scalar>(
      (total, { logits, classes }, i) => add(total, mul(classCrossEntropy(logSoftmax(logits), classes), weights[i])),
      mul(ldl(), ageWeight),
    ),
  );
}

