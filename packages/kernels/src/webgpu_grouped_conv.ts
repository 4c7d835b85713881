import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

import type { GroupedConvGeometry } from './grouped_conv';
import { LdlGroupedConv2D, LdlGroupedConv2DBackpropFilter, LdlGroupedConv2DBackpropInput } from './ops/kernel_names';
import { runWgsl, type WgslKernel, type WgslUniform } from './webgpu_program';

/**
 * Geometry uniforms shared by the three shaders, unpacked into `let`s by {@link UNPACK}:
 * `inDims (n, h, w, cin)`, `outDims (ho, wo, cout, groups)`, `taps (kh, kw, sh, sw)`, `dilPad (dh, dw, pt, pl)`.
 */
const GEOMETRY_UNIFORMS: readonly WgslUniform[] = [
  { name: 'inDims', type: 'vec4<i32>' },
  { name: 'outDims', type: 'vec4<i32>' },
  { name: 'taps', type: 'vec4<i32>' },
  { name: 'dilPad', type: 'vec4<i32>' },
  { name: 'count', type: 'i32' },
];

const UNPACK = `
    let n = uniforms.inDims.x; let h = uniforms.inDims.y; let w = uniforms.inDims.z; let cin = uniforms.inDims.w;
    let ho = uniforms.outDims.x; let wo = uniforms.outDims.y; let cout = uniforms.outDims.z; let groups = uniforms.outDims.w;
    let kh = uniforms.taps.x; let kw = uniforms.taps.y; let sh = uniforms.taps.z; let sw = uniforms.taps.w;
    let dh = uniforms.dilPad.x; let dw = uniforms.dilPad.y; let pt = uniforms.dilPad.z; let pl = uniforms.dilPad.w;
    let cg = cin / groups; let og = cout / groups;`;

/** `y[n, oy, ox, co]`, one invocation each: the `cin/groups` inputs of `co`'s group under every tap. */
const FORWARD: WgslKernel = {
  name: 'grouped_conv_forward',
  inputs: ['x', 'W'],
  uniforms: GEOMETRY_UNIFORMS,
  body: `
  fn main(index : i32) {
    if (index >= uniforms.count) { return; }
    ${UNPACK}
    let co = index % cout; let t = index / cout; let ox = t % wo; let t2 = t / wo; let oy = t2 % ho; let b = t2 / ho;
    let c0 = (co / og) * cg;
    var acc = 0.0;
    for (var ky = 0; ky < kh; ky++) {
      let iy = oy * sh - pt + ky * dh;
      if (iy < 0 || iy >= h) { continue; }
      for (var kx = 0; kx < kw; kx++) {
        let ix = ox * sw - pl + kx * dw;
        if (ix < 0 || ix >= w) { continue; }
        let xBase = ((b * h + iy) * w + ix) * cin + c0;
        let fBase = (ky * kw + kx) * cg * cout + co;
        for (var ci = 0; ci < cg; ci++) { acc = acc + x[xBase + ci] * W[fBase + ci * cout]; }
      }
    }
    setOutputAtIndex(index, acc);
  }`,
};

/** `dx[n, iy, ix, ci]`, one invocation each: the `cout/groups` outputs of `ci`'s group it fed under every tap. */
const BACKPROP_INPUT: WgslKernel = {
  name: 'grouped_conv_backprop_input',
  inputs: ['dy', 'W'],
  uniforms: GEOMETRY_UNIFORMS,
  body: `
  fn main(index : i32) {
    if (index >= uniforms.count) { return; }
    ${UNPACK}
    let ci = index % cin; let t = index / cin; let ix = t % w; let t2 = t / w; let iy = t2 % h; let b = t2 / h;
    let grp = ci / cg; let cl = ci - grp * cg; let co0 = grp * og;
    var acc = 0.0;
    for (var ky = 0; ky < kh; ky++) {
      let ty = iy + pt - ky * dh;
      if (ty < 0 || ty % sh != 0 || ty / sh >= ho) { continue; }
      let oy = ty / sh;
      for (var kx = 0; kx < kw; kx++) {
        let tx = ix + pl - kx * dw;
        if (tx < 0 || tx % sw != 0 || tx / sw >= wo) { continue; }
        let ox = tx / sw;
        let dyBase = ((b * ho + oy) * wo + ox) * cout + co0;
        let fBase = ((ky * kw + kx) * cg + cl) * cout + co0;
        for (var co = 0; co < og; co++) { acc = acc + dy[dyBase + co] * W[fBase + co]; }
      }
    }
    setOutputAtIndex(index, acc);
  }`,
};

/** Filter-gradient cells (consecutive output channels) a workgroup computes, one per lane. */
const CELLS_PER_WORKGROUP = 64;
/** About this many workgroups in the filter gradient's first pass (pixel chunks × cell blocks). */
const TARGET_WORKGROUPS = 2048;

/**
 * Pass 1 of `df[ky, kx, ci, co]` (split over pixels): `partial[chunk, cell]` = the cell's sum over one
 * chunk of the `n·ho·wo` output pixels. Lanes take consecutive cells, i.e. consecutive output channels:
 * their `dy` reads are contiguous and their `x` reads shared within a group.
 */
const BACKPROP_FILTER_PARTIAL: WgslKernel = {
  name: 'grouped_conv_backprop_filter_partial',
  inputs: ['x', 'dy'],
  uniforms: [...GEOMETRY_UNIFORMS, { name: 'chunk', type: 'i32' }],
  workgroupSize: CELLS_PER_WORKGROUP,
  body: `
  fn main(index : i32) {
    ${UNPACK}
    let cells = kh * kw * cg * cout;
    let blocks = (cells + ${CELLS_PER_WORKGROUP - 1}) / ${CELLS_PER_WORKGROUP};
    let wg = index / ${CELLS_PER_WORKGROUP};
    let part = wg / blocks;
    let cell = (wg % blocks) * ${CELLS_PER_WORKGROUP} + index % ${CELLS_PER_WORKGROUP};
    if (cell >= cells) { return; }
    let co = cell % cout; let t = cell / cout; let cl = t % cg; let t2 = t / cg; let kx = t2 % kw; let ky = t2 / kw;
    let ci = (co / og) * cg + cl;
    let first = part * uniforms.chunk;
    let last = min(first + uniforms.chunk, n * ho * wo);
    var ox = first % wo; var oy = (first / wo) % ho; var b = first / (wo * ho);
    var acc = 0.0;
    for (var r = first; r < last; r++) {
      let iy = oy * sh - pt + ky * dh; let ix = ox * sw - pl + kx * dw;
      if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
        acc = acc + x[((b * h + iy) * w + ix) * cin + ci] * dy[r * cout + co];
      }
      ox = ox + 1;
      if (ox == wo) { ox = 0; oy = oy + 1; if (oy == ho) { oy = 0; b = b + 1; } }
    }
    setOutputAtIndex(part * cells + cell, acc);
  }`,
};

/** Pass 2: `df[cell]` = the sum of its `parts` partial sums (one invocation a cell, contiguous reads). */
const SUM_PARTS: WgslKernel = {
  name: 'grouped_conv_backprop_filter_sum',
  inputs: ['partial'],
  uniforms: [
    { name: 'count', type: 'i32' },
    { name: 'parts', type: 'i32' },
  ],
  workgroupSize: 256,
  body: `
  fn main(index : i32) {
    if (index >= uniforms.count) { return; }
    var acc = 0.0;
    for (var p = 0; p < uniforms.parts; p++) { acc = acc + partial[p * uniforms.count + index]; }
    setOutputAtIndex(index, acc);
  }`,
};

const geometryValues = (g: GroupedConvGeometry, count: number) => [
  [g.n, g.h, g.w, g.cin],
  [g.ho, g.wo, g.cout, g.groups],
  [g.kh, g.kw, g.sh, g.sw],
  [g.dh, g.dw, g.pt, g.pl],
  count,
];

/**
 * The filter gradient in one dispatch where one chunk of pixels gives enough workgroups, else two:
 * partial sums over pixel chunks (about {@link TARGET_WORKGROUPS} workgroups), then their sum.
 */
function backpropFilter(backend: KernelBackend, g: GroupedConvGeometry, inputs: [TensorInfo, TensorInfo]): TensorInfo {
  const outShape = [g.kh, g.kw, g.cin / g.groups, g.cout];
  const cells = outShape.reduce((a, b) => a * b, 1);
  const pixels = g.n * g.ho * g.wo;
  const blocks = Math.ceil(cells / CELLS_PER_WORKGROUP);
  const parts = Math.max(1, Math.min(Math.ceil(TARGET_WORKGROUPS / blocks), Math.ceil(pixels / 32)));
  const chunk = Math.ceil(pixels / parts);
  const used = Math.ceil(pixels / chunk);
  const invocations = used * blocks * CELLS_PER_WORKGROUP;
  const values = [...geometryValues(g, cells), chunk];
  if (used === 1) return runWgsl(backend, BACKPROP_FILTER_PARTIAL, inputs, outShape, invocations, values);
  const partial = runWgsl(backend, BACKPROP_FILTER_PARTIAL, inputs, [used, cells], invocations, values);
  const df = runWgsl(backend, SUM_PARTS, [partial], outShape, cells, [cells, used]);
  backend.disposeData(partial.dataId);
  return df;
}

/** The forward and input-gradient shaders: inputs and output of each. */
const SHADERS: Record<string, { kernel: WgslKernel; outShape: (g: GroupedConvGeometry) => number[] }> = {
  [LdlGroupedConv2D]: { kernel: FORWARD, outShape: (g) => [g.n, g.ho, g.wo, g.cout] },
  [LdlGroupedConv2DBackpropInput]: { kernel: BACKPROP_INPUT, outShape: (g) => [g.n, g.h, g.w, g.cin] },
};

/**
 * Runs `kernelName` (`LdlGroupedConv2D`: inputs `[x, filter]`; `LdlGroupedConv2DBackpropInput`: `[dy, filter]`;
 * `LdlGroupedConv2DBackpropFilter`: `[x, dy]`) on the webgpu backend: one compute shader (two for a filter
 * gradient over many pixels).
 */
export function webgpuGroupedConv(kernelName: string, backend: KernelBackend, g: GroupedConvGeometry, inputs: [TensorInfo, TensorInfo]): TensorInfo {
  if (kernelName === LdlGroupedConv2DBackpropFilter) return backpropFilter(backend, g, inputs);
  const shader = SHADERS[kernelName];
  if (shader == null) throw new Error(`Error in webgpuGroupedConv: kernelName must be ${LdlGroupedConv2D}, ${LdlGroupedConv2DBackpropInput} or ${LdlGroupedConv2DBackpropFilter}, but got ${kernelName}.`);
  const outShape = shader.outShape(g);
  const count = outShape.reduce((a, b) => a * b, 1);
  return runWgsl(backend, shader.kernel, inputs, outShape, count, geometryValues(g, count));
}
