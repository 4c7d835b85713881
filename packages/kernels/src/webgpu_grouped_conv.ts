import { Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput, type KernelBackend, type TensorInfo } from '@tensorflow/tfjs-core';

import type { GroupedConvGeometry } from './grouped_conv';
import { runWgsl, workgroupSum, type WgslKernel, type WgslUniform } from './webgpu_program';

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

/** Lanes of a workgroup that reduce one filter-gradient element. */
const FILTER_LANES = 64;

/**
 * `df[ky, kx, ci, co]`, one workgroup each: its {@link FILTER_LANES} lanes stride over the
 * `n·ho·wo` output pixels, then sum in workgroup memory.
 */
const BACKPROP_FILTER: WgslKernel = {
  name: 'grouped_conv_backprop_filter',
  inputs: ['x', 'dy'],
  uniforms: GEOMETRY_UNIFORMS,
  workgroupSize: FILTER_LANES,
  body: `
  var<workgroup> partial : array<f32, ${FILTER_LANES}>;
  fn main(index : i32) {
    ${UNPACK}
    let cell = index / ${FILTER_LANES}; let lane = index % ${FILTER_LANES};
    var acc = 0.0;
    if (cell < uniforms.count) {
      let co = cell % cout; let t = cell / cout; let cl = t % cg; let t2 = t / cg; let kx = t2 % kw; let ky = t2 / kw;
      let ci = (co / og) * cg + cl;
      let pixels = n * ho * wo;
      for (var r = lane; r < pixels; r += ${FILTER_LANES}) {
        let ox = r % wo; let t3 = r / wo; let oy = t3 % ho; let b = t3 / ho;
        let iy = oy * sh - pt + ky * dh; let ix = ox * sw - pl + kx * dw;
        if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
          acc = acc + x[((b * h + iy) * w + ix) * cin + ci] * dy[r * cout + co];
        }
      }
    }
    ${workgroupSum(FILTER_LANES, 'lane', 'acc')}
    if (lane == 0 && cell < uniforms.count) { setOutputAtIndex(cell, partial[0]); }
  }`,
};

/** Each grouped kernel's shader, inputs and output. */
const SHADERS: Record<string, { kernel: WgslKernel; outShape: (g: GroupedConvGeometry) => number[]; lanes: number }> = {
  [Conv2D]: { kernel: FORWARD, outShape: (g) => [g.n, g.ho, g.wo, g.cout], lanes: 1 },
  [Conv2DBackpropInput]: { kernel: BACKPROP_INPUT, outShape: (g) => [g.n, g.h, g.w, g.cin], lanes: 1 },
  [Conv2DBackpropFilter]: { kernel: BACKPROP_FILTER, outShape: (g) => [g.kh, g.kw, g.cin / g.groups, g.cout], lanes: FILTER_LANES },
};

/**
 * Runs grouped `kernelName` (`Conv2D`: inputs `[x, filter]`; `Conv2DBackpropInput`: `[dy, filter]`;
 * `Conv2DBackpropFilter`: `[x, dy]`) on the webgpu backend as one compute shader.
 */
export function webgpuGroupedConv(kernelName: string, backend: KernelBackend, g: GroupedConvGeometry, inputs: [TensorInfo, TensorInfo]): TensorInfo {
  const shader = SHADERS[kernelName];
  if (shader == null) throw new Error(`Error in webgpuGroupedConv: kernelName must be Conv2D, Conv2DBackpropInput or Conv2DBackpropFilter, but got ${kernelName}.`);
  const outShape = shader.outShape(g);
  const count = outShape.reduce((a, b) => a * b, 1);
  return runWgsl(backend, shader.kernel, inputs, outShape, count * shader.lanes, [
    [g.n, g.h, g.w, g.cin],
    [g.ho, g.wo, g.cout, g.groups],
    [g.kh, g.kw, g.sh, g.sw],
    [g.dh, g.dw, g.pt, g.pl],
    count,
  ]);
}
