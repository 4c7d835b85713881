/** Tensor layouts between TF.js weights and PyTorch state-dict tensors, both directions. */
import type { SafetensorsEntry } from './safetensors.js';

/** `data` of `shape` with its axes permuted (`out.shape[d] = shape[perm[d]]`), row-major. */
function permute(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  const out = new Float32Array(data.length);
  const rank = shape.length;
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const outShape = perm.map((p) => shape[p]!);
  const strides = perm.map((p) => inStrides[p]!); // input stride of each output axis
  // Rank ≤ 4 (every weight): nested loops, pad to 4 axes of extent 1.
  if (rank <= 4) {
    const pad = 4 - rank;
    const [n0, n1, n2, n3] = [...new Array<number>(pad).fill(1), ...outShape] as [number, number, number, number];
    const [s0, s1, s2, s3] = [...new Array<number>(pad).fill(0), ...strides] as [number, number, number, number];
    let o = 0;
    for (let a = 0; a < n0; a++) {
      for (let b = 0; b < n1; b++) {
        for (let c = 0; c < n2; c++) {
          const base = a * s0 + b * s1 + c * s2;
          for (let d = 0; d < n3; d++) out[o++] = data[base + d * s3]!;
        }
      }
    }
    return out;
  }
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src += idx[d]! * strides[d]!;
    out[o] = data[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < outShape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Converts a PyTorch tensor to the layout of a TF.js weight of shape `target`, or returns `null` when
 * the shapes are incompatible: conv `[o, i, kH, kW]` → `[kH, kW, i, o]`; linear `[o, i]` → `[i, o]`;
 * 1×1 conv `[o, i, 1, 1]` → dense `[i, o]`; linear `[o, i·kH·kW]` → conv `[kH, kW, i, o]` (torchvision
 * VGG classifier); 1-D unchanged. The inverse is {@link toTorchLayout}.
 */
export function toTfLayout(entry: Pick<SafetensorsEntry, 'shape' | 'data'>, target: number[]): Float32Array | null {
  const s = entry.shape;
  let data = entry.data;
  let shape = s;
  if (s.length === 4 && target.length === 2 && s[2] === 1 && s[3] === 1) shape = [s[0]!, s[1]!];
  if (s.length === 2 && target.length === 4) {
    const [kh, kw, i, o] = target as [number, number, number, number];
    if (s[0] !== o || s[1] !== i * kh * kw) return null;
    shape = [o, i, kh, kw];
  }
  if (shape.length !== target.length) return null;
  if (shape.length === 4) {
    data = permute(data, shape, [2, 3, 1, 0]);
    shape = [shape[2]!, shape[3]!, shape[1]!, shape[0]!];
  } else if (shape.length === 2) {
    data = permute(data, shape, [1, 0]);
    shape = [shape[1]!, shape[0]!];
  }
  return sameShape(shape, target) ? data : null;
}

/** The PyTorch form a TF.js weight is written in (see {@link toTorchLayout}). */
export type TorchForm = 'native' | 'conv1x1' | 'linear';

/**
 * Converts a TF.js weight of shape `shape` to PyTorch's layout, the inverse of {@link toTfLayout}: conv
 * `[kH, kW, i, o]` → `[o, i, kH, kW]` (OIHW; `'linear'`: flattened to `[o, i·kH·kW]`, an `nn.Linear` on
 * NCHW features); dense `[i, o]` → `[o, i]` (`'conv1x1'`: `[o, i, 1, 1]`); 1-D unchanged.
 */
export function toTorchLayout(data: Float32Array, shape: readonly number[], form: TorchForm = 'native'): { shape: number[]; data: Float32Array } {
  if (shape.length === 4) {
    const [kh, kw, i, o] = shape as [number, number, number, number];
    const out = permute(data, [...shape], [3, 2, 0, 1]);
    return { shape: form === 'linear' ? [o, i * kh * kw] : [o, i, kh, kw], data: out };
  }
  if (shape.length === 2) {
    const [i, o] = shape as [number, number];
    return { shape: form === 'conv1x1' ? [o, i, 1, 1] : [o, i], data: permute(data, [...shape], [1, 0]) };
  }
  return { shape: [...shape], data: data.slice() };
}
