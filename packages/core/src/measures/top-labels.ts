// Measures of the top labels, as PyLDL's `pyldl/metrics.py` (python-ldl 0.1.2): 0/1 loss and error probability
// of the arg-max label (LDL for classification: LDL4C, LDL-HR, LDLM), match-m and top-k of the m / k
// largest degrees, and the ROC AUC of the one-hot arg-max. Arg-max ties go to the first label (NumPy).
import { fail } from '../validate';
import { type DistributionsLike, readPair } from './read';

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < v.length; j++) if (v[j] > v[best]) best = j;
  return best;
}

/**
 * The indices of the `m` largest values of `v`: the last `m` of an ascending sort, ties in index order
 * (NumPy's `argsort(v)[-m:]`, which for L ≤ 16 sorts stably).
 */
function topIndices(v: ArrayLike<number>, m: number): Set<number> {
  const order = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a] - v[b] || a - b);
  return new Set(order.slice(Math.max(0, order.length - m)));
}

/**
 * 0/1 loss ↓: the fraction of samples whose predicted arg-max label is not the true arg-max label
 * (PyLDL `metrics.zero_one_loss`; 1 − accuracy of the arg-max).
 * @param yTrue true distributions `[N, L]`; @param yPred predicted distributions `[N, L]`.
 * @throws `Error in zeroOneLoss: …` for a shape mismatch, an empty or ragged input, or a non-finite value.
 */
export function zeroOneLoss(yTrue: DistributionsLike, yPred: DistributionsLike): number {
  const [t, p] = readPair('zeroOneLoss', yTrue, yPred);
  return t.reduce((s, u, i) => s + (argmax(u) === argmax(p[i]) ? 0 : 1), 0) / t.length;
}

/**
 * Error probability ↓ `1 − u_{argmax v}`: the true degree missing from the predicted arg-max label,
 * averaged over samples (PyLDL `metrics.error_probability`; Wang & Geng, LDL4C).
 * @throws `Error in errorProbability: …` for a shape mismatch, an empty or ragged input, or a non-finite value.
 */
export function errorProbability(yTrue: DistributionsLike, yPred: DistributionsLike): number {
  const [t, p] = readPair('errorProbability', yTrue, yPred);
  return t.reduce((s, u, i) => s + 1 - u[argmax(p[i])], 0) / t.length;
}

function checkM(fn: string, arg: string, m: number): void {
  if (!Number.isInteger(m) || m < 1) fail(fn, arg, 'an integer >= 1', m);
}

/**
 * Match-m ↑: `|top_m(u) ∩ top_m(v)| / min(m, L)`, the share of the m largest true degrees that are among the
 * m largest predicted ones, averaged over samples (PyLDL `metrics.match_m`, whose default evaluates
 * m = 1, 2, 3, 4 and returns the list; here one m per call).
 * @param m number of top labels, an integer >= 1. @default 1
 * @throws `Error in matchM: m must be an integer >= 1, …`, or for bad distributions.
 */
export function matchM(yTrue: DistributionsLike, yPred: DistributionsLike, m = 1): number {
  checkM('matchM', 'm', m);
  const [t, p] = readPair('matchM', yTrue, yPred);
  let sum = 0;
  for (let i = 0; i < t.length; i++) {
    const a = topIndices(t[i], m);
    let hit = 0;
    for (const j of topIndices(p[i], m)) if (a.has(j)) hit++;
    sum += hit / Math.min(m, t[i].length);
  }
  return sum / t.length;
}

/** What {@link topK} reports. */
export type TopKMode = 'f1_score' | 'precision' | 'recall';

/**
 * Top-k ↑ (PyLDL `metrics.top_k`): with `h = |top_k(u) ∩ top_k(v)|`, precision `h / k`, recall `h / L`
 * (PyLDL divides by the number of labels L, not by k) and their F1 (0 when both are 0); averaged over samples.
 * PyLDL's default evaluates k = 1, 2, 3, 4 and returns the list; here one k per call.
 * @param k number of top labels, an integer >= 1. @default 1
 * @param mode `'f1_score'` (default), `'precision'` or `'recall'`.
 * @throws `Error in topK: …` for a bad k or mode, or bad distributions.
 */
export function topK(yTrue: DistributionsLike, yPred: DistributionsLike, k = 1, mode: TopKMode = 'f1_score'): number {
  checkM('topK', 'k', k);
  if (mode !== 'f1_score' && mode !== 'precision' && mode !== 'recall') fail('topK', 'mode', "'f1_score', 'precision' or 'recall'", mode);
  const [t, p] = readPair('topK', yTrue, yPred);
  let sum = 0;
  for (let i = 0; i < t.length; i++) {
    const a = topIndices(t[i], k);
    let hit = 0;
    for (const j of topIndices(p[i], k)) if (a.has(j)) hit++;
    const precision = hit / k;
    const recall = hit / t[i].length;
    sum += mode === 'precision' ? precision : mode === 'recall' ? recall : precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  }
  return sum / t.length;
}

/**
 * ROC AUC ↑ of the one-hot arg-max prediction against the one-hot arg-max truth, all N·L entries pooled
 * (PyLDL `metrics.max_roc_auc`, scikit-learn `roc_auc_score`). With binary scores this is
 * `(1 + TPR − FPR) / 2`, `TPR` the arg-max accuracy and `FPR = (1 − TPR) / (L − 1)`.
 * @throws `Error in maxRocAuc: …` for L < 2 (no negatives), or bad distributions.
 */
export function maxRocAuc(yTrue: DistributionsLike, yPred: DistributionsLike): number {
  const [t, p] = readPair('maxRocAuc', yTrue, yPred);
  const labels = t[0].length;
  if (labels < 2) fail('maxRocAuc', 'yTrue.cols', '>= 2 (a one-hot row of one label has no negative)', labels);
  const tpr = 1 - zeroOneLoss(t, p);
  return (1 + tpr - (1 - tpr) / (labels - 1)) / 2;
}
