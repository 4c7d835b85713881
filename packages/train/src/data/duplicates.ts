/**
 * Duplicates in a labelled list: the same path listed more than once, or byte-identical files under
 * different names (found by the SHA-256 the readers take while checking each image). They are reported
 * (count, first few, conflicting labels shown), kept on one side of every seeded split
 * (`splitSamples` groups by {@link duplicateKey}), and kept, merged or dropped as the user decides.
 */
import type { AgeSample } from './readers';

/** What to do with duplicates: keep every row, merge each group into one row (mean age), or keep only the first row of each group. */
export type DuplicatePolicy = 'keep' | 'merge' | 'drop';

/** The duplicate policies, for argument checks. */
export const DUPLICATE_POLICIES: readonly DuplicatePolicy[] = ['keep', 'merge', 'drop'];

/** Rows that show the same image. */
export interface DuplicateGroup {
  /** `'path'`: one file listed more than once; `'content'`: byte-identical files under different paths. */
  kind: 'path' | 'content';
  /** The rows, in list order. */
  samples: AgeSample[];
  /** Whether the rows disagree on age (or gender, or race). */
  conflicting: boolean;
}

/** The identity of a sample's image: its content hash when it was read, else its path. */
export function duplicateKey(sample: Pick<AgeSample, 'path' | 'contentHash'>): string {
  return sample.contentHash ? `sha256:${sample.contentHash}` : `path:${sample.path}`;
}

/** Groups of two or more samples with the same {@link duplicateKey}, in order of first appearance. */
export function findDuplicates(samples: readonly AgeSample[]): DuplicateGroup[] {
  const byKey = new Map<string, AgeSample[]>();
  for (const s of samples) {
    const key = duplicateKey(s);
    const list = byKey.get(key);
    if (list) list.push(s);
    else byKey.set(key, [s]);
  }
  return [...byKey.values()]
    .filter((g) => g.length > 1)
    .map((g) => ({
      kind: new Set(g.map((s) => s.path)).size === 1 ? 'path' : 'content',
      samples: g,
      conflicting: new Set(g.map((s) => `${s.age}|${s.gender}|${s.ethnicity}`)).size > 1,
    }));
}

/**
 * Applies a {@link DuplicatePolicy}: `'keep'` returns `samples` as they are; `'drop'` keeps the first row
 * of each group; `'merge'` keeps the first row with the group's mean age. Order is kept.
 */
export function applyDuplicatePolicy(samples: readonly AgeSample[], groups: readonly DuplicateGroup[], policy: DuplicatePolicy): AgeSample[] {
  if (policy === 'keep' || groups.length === 0) return [...samples];
  const replace = new Map<AgeSample, AgeSample | null>();
  for (const g of groups) {
    const [first, ...rest] = g.samples;
    const age = g.samples.reduce((s, x) => s + x.age, 0) / g.samples.length;
    replace.set(first, policy === 'merge' ? { ...first, age } : first);
    for (const r of rest) replace.set(r, null);
  }
  const out: AgeSample[] = [];
  for (const s of samples) {
    const r = replace.has(s) ? replace.get(s) : s;
    if (r) out.push(r);
  }
  return out;
}

const where = (s: AgeSample) => `${s.source.file}${s.source.line > 0 ? ` line ${s.source.line}` : ''}`;

/** Formats duplicate groups for a log: the count and the first few, with lines and conflicting labels. */
export function describeDuplicates(groups: readonly DuplicateGroup[], max = 5): string {
  if (groups.length === 0) return 'no duplicates';
  const rows = groups.reduce((n, g) => n + g.samples.length, 0);
  const conflicting = groups.filter((g) => g.conflicting).length;
  const head = groups.slice(0, max).map((g) => {
    const what = g.kind === 'path' ? `${g.samples[0].path} listed ${g.samples.length} times` : `byte-identical images ${g.samples.map((s) => s.path).join(', ')}`;
    const labels = g.samples.map((s) => `${where(s)}: age ${s.age}`).join('; ');
    return `  ${what}${g.conflicting ? ' with CONFLICTING labels' : ''} (${labels})`;
  });
  const more = groups.length > max ? [`  … and ${groups.length - max} more`] : [];
  return [`${groups.length} duplicated image${groups.length === 1 ? '' : 's'} in ${rows} rows (${conflicting} with conflicting labels):`, ...head, ...more].join('\n');
}

/** Samples of `b` whose image is also in `a` (e.g. test images identical to training images). */
export function sharedImages(a: readonly AgeSample[], b: readonly AgeSample[]): AgeSample[] {
  const keys = new Set(a.map(duplicateKey));
  return b.filter((s) => keys.has(duplicateKey(s)));
}
