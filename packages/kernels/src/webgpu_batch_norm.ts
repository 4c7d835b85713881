import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

import { type BatchNormTrainingGradTensors, channels, epsilonOf, gradChannels } from './batch_norm_training';
import { LdlBatchNormTraining, LdlBatchNormTrainingGrad } from './ops/kernel_names';
import { runWgsl, type WgslKernel, type WgslUniform } from './webgpu_program';

/*
 * x is viewed as [M, C] rows (M = N·H·W). Each kernel is four dispatches: one shader writes partial
 * column sums over P row chunks, two reduce them over P to the two per-channel outputs, one is
 * elementwise. (The stock path takes ~20 ops per batch norm; a webgpu training step is bound by its
 * dispatch count.)
 */

/** Channels a partial-sums workgroup reads side by side (16 consecutive floats of a row: coalesced). */
const CHANNEL_LANES = 16;
/** Rows a partial-sums workgroup reads at a time. */
const ROW_LANES = 16;
const PARTIAL_WORKGROUP = CHANNEL_LANES * ROW_LANES;
/** At most this many row chunks (the reducing shaders loop over them). */
const MAX_CHUNKS = 128;
/** Chunks are added while the grid has fewer partial-sums workgroups than this (~8 per SM of an H100)… */
const TARGET_WORKGROUPS = 1024;
/** …and while chunks keep at least this many rows (16 a row lane); every chunk holds at most 4096. */
const MIN_CHUNK_ROWS = 256;
const MAX_CHUNK_ROWS = 4096;

/** `dims = (M, C, P, rows per chunk)`, the uniform every shader here reads. */
const DIMS: WgslUniform = { name: 'dims', type: 'vec4<i32>' };
const EPSILON: WgslUniform = { name: 'epsilon', type: 'f32' };
const UNPACK = `let rows = uniforms.dims.x; let chans = uniforms.dims.y; let chunks = uniforms.dims.z; let rowsPer = uniforms.dims.w;`;

interface Chunking {
  /** `P`, row chunks. */
  chunks: number;
  rowsPer: number;
  /** Workgroups of {@link CHANNEL_LANES} channels. */
  blocks: number;
}

function chunking(m: number, c: number): Chunking {
  const blocks = Math.ceil(c / CHANNEL_LANES);
  const wanted = Math.max(Math.ceil(m / MAX_CHUNK_ROWS), Math.min(Math.ceil(TARGET_WORKGROUPS / blocks), Math.ceil(m / MIN_CHUNK_ROWS)));
  const rowsPer = Math.ceil(m / Math.max(1, Math.min(MAX_CHUNKS, wanted)));
  return { chunks: Math.ceil(m / rowsPer), rowsPer, blocks };
}

/**
 * A partial-sums shader: workgroups of {@link CHANNEL_LANES} channels × {@link ROW_LANES} row lanes
 * over (channel blocks × P row chunks); `accumulate` adds row `r`'s element `i` of channel `ch` to
 * `a` and `b`, summed over the chunk into `[p, 0, ch]` and `[p, 1, ch]`; `before` runs first in live
 * lanes, `after` once a channel (chunk 0's lane) after the sums.
 */
function partialSums(name: string, inputs: readonly string[], uniforms: readonly WgslUniform[], accumulate: string, before = '', after = ''): WgslKernel {
  return {
    name,
    inputs,
    uniforms,
    workgroupSize: PARTIAL_WORKGROUP,
    body: `
  var<workgroup> sumA : array<f32, ${PARTIAL_WORKGROUP}>;
  var<workgroup> sumB : array<f32, ${PARTIAL_WORKGROUP}>;
  fn main(index : i32) {
    ${UNPACK}
    let lane = index % ${PARTIAL_WORKGROUP}; let wg = index / ${PARTIAL_WORKGROUP};
    let blocks = (chans + ${CHANNEL_LANES - 1}) / ${CHANNEL_LANES};
    let ch = (wg % blocks) * ${CHANNEL_LANES} + lane % ${CHANNEL_LANES}; let chunk = wg / blocks;
    let live = ch < chans && chunk < chunks;
    var a = 0.0; var b = 0.0;
    if (live) {
      ${before}
      let stop = min(rows, (chunk + 1) * rowsPer);
      for (var r = chunk * rowsPer + lane / ${CHANNEL_LANES}; r < stop; r += ${ROW_LANES}) {
        let i = r * chans + ch;
        ${accumulate}
      }
    }
    sumA[lane] = a; sumB[lane] = b;
    workgroupBarrier();
    for (var s = ${PARTIAL_WORKGROUP / 2}; s >= ${CHANNEL_LANES}; s = s >> 1u) {
      if (lane < s) { sumA[lane] = sumA[lane] + sumA[lane + s]; sumB[lane] = sumB[lane] + sumB[lane + s]; }
      workgroupBarrier();
    }
    if (lane < ${CHANNEL_LANES} && live) {
      setOutputAtIndex(2 * chunk * chans + ch, sumA[lane]);
      setOutputAtIndex((2 * chunk + 1) * chans + ch, sumB[lane]);
      if (chunk == 0) { ${after} }
    }
  }`,
  };
}

/** A shader with one invocation per channel: `body` sets `value` from `ch`, rows `rows`, chunks `chunks`. */
function perChannel(name: string, inputs: readonly string[], body: string): WgslKernel {
  return {
    name,
    inputs,
    uniforms: [DIMS],
    body: `
  fn main(index : i32) {
    ${UNPACK}
    if (index >= chans) { return; }
    let ch = index;
    ${body}
  }`,
  };
}

/** A shader with one invocation per element of `[rows, chans]`; `body` sees `ch` and sets `index`. */
function perElement(name: string, inputs: readonly string[], uniforms: readonly WgslUniform[], body: string): WgslKernel {
  return {
    name,
    inputs,
    uniforms,
    workgroupSize: 256,
    body: `
  fn main(index : i32) {
    ${UNPACK}
    if (index >= rows * chans) { return; }
    let ch = index % chans;
    ${body}
  }`,
  };
}

// Forward. Sums of (x − shift) and (x − shift)² with shift = x[0, c]: the variance stays accurate where the mean dwarfs the spread.

const FORWARD_PARTIALS = partialSums(
  'batch_norm_training_partials',
  ['x'],
  [DIMS],
  `let d = x[i] - shift; a = a + d; b = b + d * d;`,
  `let shift = x[ch];`,
);

const MEAN = perChannel(
  'batch_norm_training_mean',
  ['partials', 'x'],
  `var s1 = 0.0;
    for (var p = 0; p < chunks; p++) { s1 = s1 + partials[2 * p * chans + ch]; }
    setOutputAtIndex(ch, x[ch] + s1 / f32(rows));`,
);

/** The biased variance: E[(x − shift)²] − E[x − shift]². */
const VARIANCE = perChannel(
  'batch_norm_training_variance',
  ['partials'],
  `var s1 = 0.0; var s2 = 0.0;
    for (var p = 0; p < chunks; p++) { s1 = s1 + partials[2 * p * chans + ch]; s2 = s2 + partials[(2 * p + 1) * chans + ch]; }
    let d = s1 / f32(rows);
    setOutputAtIndex(ch, max(s2 / f32(rows) - d * d, 0.0));`,
);

const NORMALISE = perElement(
  'batch_norm_training_y',
  ['x', 'gamma', 'beta', 'mean', 'variance'],
  [DIMS, EPSILON],
  `setOutputAtIndex(index, (x[index] - mean[ch]) * inverseSqrt(variance[ch] + uniforms.epsilon) * gamma[ch] + beta[ch]);`,
);

// Gradient. The partials get 5 rows of per-channel constants after the 2·P sums (rows 2P..2P+4: mean,
// rstd, a = γ·rstd, 2·dvariance/M, dmean/M), so that the dx shader has 5 inputs: a shader may bind
// only 8 storage buffers (tfjs does not raise WebGPU's default limit), and the 7 inputs of the
// kernel plus dgamma, dbeta and the output would be 10.

/** Rows of per-channel constants after the sums in the gradient's partials. */
const GRAD_CONSTANTS = 5;

const GRAD_PARTIALS = partialSums(
  'batch_norm_training_grad_partials',
  ['x', 'dy', 'gamma', 'mean', 'variance', 'dmean', 'dvariance'],
  [DIMS, EPSILON],
  `let g = dy[i]; a = a + g; b = b + g * (x[i] - mu);`,
  `let mu = mean[ch];`,
  `let k = 2 * chunks * chans + ch; let rstd = inverseSqrt(variance[ch] + uniforms.epsilon);
        setOutputAtIndex(k, mean[ch]);
        setOutputAtIndex(k + chans, rstd);
        setOutputAtIndex(k + 2 * chans, gamma[ch] * rstd);
        setOutputAtIndex(k + 3 * chans, 2.0 * dvariance[ch] / f32(rows));
        setOutputAtIndex(k + 4 * chans, dmean[ch] / f32(rows));`,
);

/** dgamma = Σ dy·(x − mean) · rstd. */
const DGAMMA = perChannel(
  'batch_norm_training_grad_dgamma',
  ['partials'],
  `var s2 = 0.0;
    for (var p = 0; p < chunks; p++) { s2 = s2 + partials[(2 * p + 1) * chans + ch]; }
    setOutputAtIndex(ch, s2 * partials[(2 * chunks + 1) * chans + ch]);`,
);

/** dbeta = Σ dy. */
const DBETA = perChannel(
  'batch_norm_training_grad_dbeta',
  ['partials'],
  `var s1 = 0.0;
    for (var p = 0; p < chunks; p++) { s1 = s1 + partials[2 * p * chans + ch]; }
    setOutputAtIndex(ch, s1);`,
);

/**
 * dx = a·dy + (x − mean)·(2·dvariance/M − a·rstd·dgamma/M) + dmean/M − a·dbeta/M
 * (= γ·rstd·(dy − dbeta/M − x̂·dgamma/M) + dmean/M + 2·dvariance·(x − mean)/M).
 */
const DX = perElement(
  'batch_norm_training_grad_dx',
  ['x', 'dy', 'partials', 'dgamma', 'dbeta'],
  [DIMS],
  `let k = 2 * chunks * chans + ch;
    let mu = partials[k]; let rstd = partials[k + chans]; let a = partials[k + 2 * chans];
    let inv = 1.0 / f32(rows);
    let slope = partials[k + 3 * chans] - a * rstd * dgamma[ch] * inv;
    let offset = partials[k + 4 * chans] - a * dbeta[ch] * inv;
    setOutputAtIndex(index, a * dy[index] + (x[index] - mu) * slope + offset);`,
);

function requireFloat32(fn: string, tensors: Record<string, TensorInfo>): void {
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'float32') throw new Error(`Error in ${fn}: ${name} must be float32, but got ${t.dtype}.`);
  }
}

/** `t` viewed as `[m, c]` (same data): the shaders' keys and index maths do not depend on x's rank. */
function asRows(fn: string, t: TensorInfo, m: number, c: number): TensorInfo {
  if (m < 1) throw new Error(`Error in ${fn}: x must have at least one row, but got shape [${t.shape.join(', ')}].`);
  return { dataId: t.dataId, shape: [m, c], dtype: t.dtype };
}

/** {@link LdlBatchNormTraining} on webgpu: four compute shaders (partial sums, mean, variance, y). */
export const batchNormTrainingWebgpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const fn = LdlBatchNormTraining;
  const b = backend as KernelBackend;
  const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  const { m, c } = channels(fn, x, { gamma, beta });
  const eps = epsilonOf(fn, attrs);
  requireFloat32(fn, { x, gamma, beta });
  const rows = asRows(fn, x, m, c);
  const g = chunking(m, c);
  const dims = [m, c, g.chunks, g.rowsPer];
  const partials = runWgsl(b, FORWARD_PARTIALS, [rows], [2 * g.chunks, c], g.blocks * g.chunks * PARTIAL_WORKGROUP, [dims]);
  const mean = runWgsl(b, MEAN, [partials, rows], [c], c, [dims]);
  const variance = runWgsl(b, VARIANCE, [partials], [c], c, [dims]);
  b.disposeData(partials.dataId);
  const y = runWgsl(b, NORMALISE, [rows, gamma, beta, mean, variance], [m, c], m * c, [dims, eps]);
  return [{ ...y, shape: [...x.shape] }, mean, variance];
};

/** {@link LdlBatchNormTrainingGrad} on webgpu: four compute shaders (partial sums, dgamma, dbeta, dx). */
export const batchNormTrainingGradWebgpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const fn = LdlBatchNormTrainingGrad;
  const b = backend as KernelBackend;
  const t = inputs as BatchNormTrainingGradTensors;
  const { m, c } = gradChannels(fn, t);
  const eps = epsilonOf(fn, attrs);
  requireFloat32(fn, t);
  const x = asRows(fn, t.x, m, c);
  const dy = asRows(fn, t.dy, m, c);
  const g = chunking(m, c);
  const dims = [m, c, g.chunks, g.rowsPer];
  const partials = runWgsl(
    b,
    GRAD_PARTIALS,
    [x, dy, t.gamma, t.mean, t.variance, t.dmean, t.dvariance],
    [2 * g.chunks + GRAD_CONSTANTS, c],
    g.blocks * g.chunks * PARTIAL_WORKGROUP,
    [dims, eps],
  );
  const dgamma = runWgsl(b, DGAMMA, [partials], [c], c, [dims]);
  const dbeta = runWgsl(b, DBETA, [partials], [c], c, [dims]);
  const dx = runWgsl(b, DX, [x, dy, partials, dgamma, dbeta], [m, c], m * c, [dims]);
  b.disposeData(partials.dataId);
  return [{ ...dx, shape: [...t.x.shape] }, dgamma, dbeta];
};
