/**
 * Duplicates in a labelled list: the same path listed more than once, byte-identical files under
 * different names (found by the SHA-256 the readers take while checking each image), and near-duplicates
 * — the same photo re-encoded, resized or recompressed — found by a perceptual hash ({@link perceptualHash},
 * taken from the pixels the readers decode anyway). They are reported (count, first few, conflicting
 * labels shown), kept on one side of every seeded split (`splitSamples` groups by {@link duplicateKey}),
 * and kept, merged or dropped as the user decides.
 */
import type { RgbImage } from '@ldl/face-prep';
import type { AgeSample } from './readers';

/** Side of the perceptual hash's difference grid: {@link perceptualHash} has `PERCEPTUAL_HASH_SIDE²` = 256 bits. */
export const PERCEPTUAL_HASH_SIDE = 16;

/**
 * Most bits (of 256) in which two {@link perceptualHash}es of near-duplicates differ. Measured on 12 photos
 * each of `aaf-megaage` (aligned faces, the hardest case: every face in the same place) and UTKFace: JPEG
 * re-encodes at quality 60 differ from their originals in 0–9 bits; copies shrunk to 48 px and re-encoded
 * in 14–39 (so a copy shrunk that much is mostly missed). The 44,850 pairs of 300 different AAF photos
 * differ in 34 bits or more. Among 300 UTKFace photos, the pairs within 7 bits are the same photo
 * recoloured, with different ages (10 and 12): the conflicts this check exists for.
 */
export const NEAR_DUPLICATE_BITS = 16;

/**
 * A difference hash (dHash, Krawetz 2013) of an image, 256 bits as 64 hex digits: the image in greyscale
 * (Rec. 601 luma), box-averaged to 17 × 16 cells, and one bit per horizontally adjacent pair of cells (left
 * darker than right). It survives re-encoding, recompression, resizing and small colour changes, not crops
 * or flips. Computed in JavaScript from pixels already decoded (no second decode, no libvips call that could
 * clear the error of a concurrent failing read). `image`: any size, RGB, 8 bits.
 */
/** Grey levels (of 255) by which a cell must be darker than its right neighbour to set a bit: flat areas give 0 bits, not noise. */
const FLAT = 2;

export function perceptualHash(image: RgbImage): string {
  const n = PERCEPTUAL_HASH_SIDE;
  const gw = n + 1;
  const { data, width, height } = image;
  // Each cell averages the pixels of its share of the image (at least one: images smaller than the grid too).
  const span = (k: number, cells: number, size: number) => {
    const a = Math.min(size - 1, Math.floor((k * size) / cells));
    return [a, Math.max(a + 1, Math.floor(((k + 1) * size) / cells))];
  };
  const mean = new Float64Array(gw * n);
  for (let r = 0; r < n; r++) {
    const [y0, y1] = span(r, n, height);
    for (let c = 0; c < gw; c++) {
      const [x0, x1] = span(c, gw, width);
      let sum = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0, i = (y * width + x0) * 3; x < x1; x++, i += 3) sum += 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
      }
      mean[r * gw + c] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  let hex = '';
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x += 4) {
      let nibble = 0;
      for (let k = 0; k < 4; k++) {
        const a = y * gw + x + k;
        nibble = (nibble << 1) | (mean[a + 1] - mean[a] > FLAT ? 1 : 0);
      }
      hex += nibble.toString(16);
    }
  }
  return hex;
}

const words = (hex: string) => Uint32Array.from({ length: hex.length / 8 }, (_, k) => Number.parseInt(hex.slice(8 * k, 8 * k + 8), 16));

function popcount(v: number): number {
  let x = v - ((v >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Bits in which two words arrays differ, or `limit + 1` as soon as more than `limit` do. */
function distanceWithin(a: Uint32Array, b: Uint32Array, limit: number): number {
  let d = 0;
  for (let k = 0; k < a.length && d <= limit; k++) d += popcount(a[k] ^ b[k]);
  return d;
}

/**
 * Fewest set bits for a hash to take part in the near-duplicate check: a flat (or nearly flat) image has
 * few or no edges, so its hash says nothing about what it shows (every blank image would match).
 */
const MIN_HASH_BITS = 16;

/**
 * A hash ready to compare: its words and the most bits in which a near-duplicate may differ from it —
 * {@link NEAR_DUPLICATE_BITS}, or fewer for an image with few edges (a sixth of its set bits, at least 2):
 * drawings with large flat areas (the synthetic faces) differ in few bits even when they show different
 * faces. Null when it is too flat to compare (fewer than {@link MIN_HASH_BITS} set bits).
 */
function comparable(hex: string | undefined): { w: Uint32Array; limit: number } | null {
  if (!hex) return null;
  const w = words(hex);
  const set = w.reduce((n, x) => n + popcount(x), 0);
  return set >= MIN_HASH_BITS ? { w, limit: Math.min(NEAR_DUPLICATE_BITS, Math.max(2, Math.floor(set / 6))) } : null;
}

/** Whether two comparable hashes are near-duplicates, and the bits in which they differ. */
function near(a: { w: Uint32Array; limit: number }, b: { w: Uint32Array; limit: number }): number | null {
  const limit = Math.min(a.limit, b.limit);
  const d = distanceWithin(a.w, b.w, limit);
  return d <= limit ? d : null;
}

/** Bits in which two {@link perceptualHash}es differ (0..256). */
export function hashDistance(a: string, b: string): number {
  return distanceWithin(words(a), words(b), Number.POSITIVE_INFINITY);
}

/** What to do with duplicates: keep every row, merge each group into one row (mean age), or keep only the first row of each group. */
export type DuplicatePolicy = 'keep' | 'merge' | 'drop';

/** The duplicate policies, for argument checks. */
export const DUPLICATE_POLICIES: readonly DuplicatePolicy[] = ['keep', 'merge', 'drop'];

/** Rows that show the same image. */
export interface DuplicateGroup {
  /**
   * `'path'`: one file listed more than once; `'content'`: byte-identical files under different paths;
   * `'near'`: images whose perceptual hashes differ in at most {@link NEAR_DUPLICATE_BITS} bits (one row
   * for each image: rows of the same file or bytes form their own group).
   */
  kind: 'path' | 'content' | 'near';
  /** The rows, in list order. */
  samples: AgeSample[];
  /** Whether the rows disagree on age (or gender, or race). */
  conflicting: boolean;
  /** `'near'`: the most bits in which a member's perceptual hash differs from the group's nearest other member. */
  bits?: number;
}

/**
 * The identity of a sample's image: its near-duplicate group's when it has one (`nearDuplicateOf`), else
 * its content hash when it was read, else its path.
 */
export function duplicateKey(sample: Pick<AgeSample, 'path' | 'contentHash' | 'nearDuplicateOf'>): string {
  if (sample.nearDuplicateOf) return sample.nearDuplicateOf;
  return sample.contentHash ? `sha256:${sample.contentHash}` : `path:${sample.path}`;
}

const exactKey = (s: AgeSample) => duplicateKey({ path: s.path, contentHash: s.contentHash });

/**
 * Pairs of samples (one per exact image: first rows of different {@link duplicateKey}s; nearly flat images
 * left out) whose perceptual
 * hashes differ in at most {@link NEAR_DUPLICATE_BITS} bits, grouped (single linkage), in order of first
 * appearance. All pairs are compared (a comparison stops at the first words that differ in more bits: about
 * 2 of 8 words for different photos): about 3 s for 10,000 images on a busy 2-core machine.
 */
function nearGroups(samples: readonly AgeSample[]): { members: AgeSample[]; bits: number }[] {
  const reps: AgeSample[] = [];
  const hashes: { w: Uint32Array; limit: number }[] = [];
  const seen = new Set<string>();
  for (const s of samples) {
    const key = exactKey(s);
    const h = comparable(s.perceptualHash);
    if (h && !seen.has(key)) {
      seen.add(key);
      reps.push(s);
      hashes.push(h);
    }
  }
  const parent = reps.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const bits = new Map<number, number>();
  for (let i = 0; i < reps.length; i++) {
    for (let j = i + 1; j < reps.length; j++) {
      const d = near(hashes[i], hashes[j]);
      if (d === null) continue;
      const [a, b] = [find(i), find(j)];
      const root = Math.min(a, b);
      parent[Math.max(a, b)] = root;
      bits.set(root, Math.max(d, bits.get(a) ?? 0, bits.get(b) ?? 0));
    }
  }
  const groups = new Map<number, AgeSample[]>();
  reps.forEach((s, i) => {
    const r = find(i);
    groups.set(r, [...(groups.get(r) ?? []), s]);
  });
  return [...groups.entries()].filter(([, g]) => g.length > 1).map(([r, members]) => ({ members, bits: bits.get(r) ?? 0 }));
}

/**
 * Groups of two or more samples with the same {@link duplicateKey} (kinds `'path'`, `'content'`), then
 * groups of near-duplicate images (kind `'near'`, samples with a `perceptualHash`), in order of first
 * appearance.
 */
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
    .map((g): DuplicateGroup => ({
      kind: new Set(g.map((s) => s.path)).size === 1 ? 'path' : 'content',
      samples: g,
      conflicting: conflicting(g),
    }))
    .concat(nearGroups(samples).map(({ members, bits }) => ({ kind: 'near', samples: members, conflicting: conflicting(members), bits })));
}

const conflicting = (g: readonly AgeSample[]) => new Set(g.map((s) => `${s.age}|${s.gender}|${s.ethnicity}`)).size > 1;

/**
 * Marks the members of each near-duplicate group with the group's key (`nearDuplicateOf`, the first
 * member's exact key), so that {@link duplicateKey} — and the seeded splits — treat them as one image.
 * Returns new samples; `samples` is left as it is.
 */
export function markNearDuplicates(samples: readonly AgeSample[], groups: readonly DuplicateGroup[]): AgeSample[] {
  const keyOf = new Map<string, string>();
  for (const g of groups) {
    if (g.kind !== 'near') continue;
    const key = `near:${exactKey(g.samples[0])}`;
    for (const s of g.samples) keyOf.set(exactKey(s), key);
  }
  if (keyOf.size === 0) return [...samples];
  return samples.map((s) => (keyOf.has(exactKey(s)) ? { ...s, nearDuplicateOf: keyOf.get(exactKey(s)) } : s));
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
    const what =
      g.kind === 'path'
        ? `${g.samples[0].path} listed ${g.samples.length} times`
        : g.kind === 'content'
          ? `byte-identical images ${g.samples.map((s) => s.path).join(', ')}`
          : `near-duplicate images (perceptual hash within ${g.bits} of 256 bits) ${g.samples.map((s) => s.path).join(', ')}`;
    const labels = g.samples.map((s) => `${where(s)}: age ${s.age}`).join('; ');
    return `  ${what}${g.conflicting ? ' with CONFLICTING labels' : ''} (${labels})`;
  });
  const more = groups.length > max ? [`  … and ${groups.length - max} more`] : [];
  return [`${groups.length} duplicated image${groups.length === 1 ? '' : 's'} in ${rows} rows (${conflicting} with conflicting labels):`, ...head, ...more].join('\n');
}

/**
 * Samples of `b` whose image is also in `a` (e.g. test images identical to training images): the same
 * path, the same bytes, or a near-duplicate (perceptual hashes within {@link NEAR_DUPLICATE_BITS} bits).
 */
export function sharedImages(a: readonly AgeSample[], b: readonly AgeSample[]): AgeSample[] {
  const keys = new Set(a.map(exactKey));
  const hashed = a.map((s) => comparable(s.perceptualHash)).filter((h) => h !== null);
  return b.filter((s) => {
    if (keys.has(exactKey(s))) return true;
    const h = comparable(s.perceptualHash);
    if (!h) return false;
    return hashed.some((x) => near(x, h) !== null);
  });
}
