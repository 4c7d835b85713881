import { backend_util, type KernelBackend, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';

import { padOrCrop } from './conv2d';
import { withContext } from './kernel_context';
import {
  LdlGroupedConv2D,
  LdlGroupedConv2DBackpropFilter,
  LdlGroupedConv2DBackpropInput,
  type GroupedConv2DAttrs,
} from './ops/kernel_names';
import { callWasm, readFloat32, writeFloat32, type LdlKernelsWasm } from './wasm_module';
import { webgpuGroupedConv } from './webgpu_grouped_conv';

/**
 * Geometry of a grouped convolution, NHWC: `x [n, h, w, cin]`, filter `[kh, kw, cin/groups, cout]`,
 * `y [n, ho, wo, cout]`; `pt`/`pl` are the top/left zero padding (bottom/right follow from `ho`/`wo`).
 * The field order is the C struct's in `wasm/ldl_kernels.c`.
 */
export interface GroupedConvGeometry {
  n: number;
  h: number;
  w: number;
  cin: number;
  ho: number;
  wo: number;
  cout: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
  groups: number;
}

const GEOMETRY_FIELDS = ['n', 'h', 'w', 'cin', 'ho', 'wo', 'cout', 'kh', 'kw', 'sh', 'sw', 'dh', 'dw', 'pt', 'pl', 'groups'] as const;

const geometryInts = (g: GroupedConvGeometry) => GEOMETRY_FIELDS.map((k) => g[k]);

function checkGeometry(fn: string, g: GroupedConvGeometry): void {
  for (const k of GEOMETRY_FIELDS) {
    const v = g[k];
    const min = k === 'pt' || k === 'pl' ? Number.NEGATIVE_INFINITY : 1;
    if (!Number.isInteger(v) || v < min) throw new Error(`Error in ${fn}: geometry.${k} must be an integer >= ${min}, but got ${v}.`);
  }
  if (g.cin % g.groups !== 0 || g.cout % g.groups !== 0) {
    throw new Error(`Error in ${fn}: geometry.groups must divide cin = ${g.cin} and cout = ${g.cout}, but got ${g.groups}.`);
  }
}

function checkLength(fn: string, name: string, a: ArrayLike<number>, expected: number): void {
  if (a.length !== expected) throw new Error(`Error in ${fn}: ${name} must have ${expected} elements, but got ${a.length}.`);
}

const sizes = (g: GroupedConvGeometry) => ({
  x: g.n * g.h * g.w * g.cin,
  y: g.n * g.ho * g.wo * g.cout,
  f: g.kh * g.kw * (g.cin / g.groups) * g.cout,
});

type Operand = 'x' | 'y' | 'f';
type Input = readonly [arg: string, kernelInput: string, operand: Operand];

/**
 * One of the module's three grouped-convolution functions: its two inputs,
 * its output, scratch space, the C call, and where its kernel keeps its operands.
 */
interface GroupedOp {
  fn: string;
  /** Argument name (errors of the array API), the kernel's input name, operand. */
  inputs: readonly [Input, Input];
  output: Operand;
  scratch?: Operand;
  call: (m: LdlKernelsWasm, geometry: number, a: number, b: number, out: number, scratch: number) => void;
  /** The kernel's x shape, filter shape and output shape from its inputs and attrs. */
  shapes: (t: Record<string, TensorInfo>, attrs: KernelAttrs) => { xShape: number[]; filterShape: number[]; outShape: (g: GroupedConvGeometry) => number[] };
}

const OPS: Record<string, GroupedOp> = {
  [LdlGroupedConv2D]: {
    fn: 'groupedConvForward',
    inputs: [['x', 'x', 'x'], ['f', 'filter', 'f']],
    output: 'y',
    call: (m, g, x, f, y) => m.grouped_conv_forward(g, x, f, y),
    shapes: (t) => ({ xShape: t.x!.shape, filterShape: t.filter!.shape, outShape: (g) => [g.n, g.ho, g.wo, g.cout] }),
  },
  [LdlGroupedConv2DBackpropInput]: {
    fn: 'groupedConvBackpropInput',
    inputs: [['dy', 'dy', 'y'], ['f', 'filter', 'f']],
    output: 'x',
    scratch: 'f',
    call: (m, g, dy, f, dx, scratch) => m.grouped_conv_backprop_input(g, dy, f, dx, scratch),
    shapes: (t, attrs) => ({ xShape: attrs.inputShape!, filterShape: t.filter!.shape, outShape: () => attrs.inputShape! }),
  },
  [LdlGroupedConv2DBackpropFilter]: {
    fn: 'groupedConvBackpropFilter',
    inputs: [['x', 'x', 'x'], ['dy', 'dy', 'y']],
    output: 'f',
    call: (m, g, x, dy, df) => m.grouped_conv_backprop_filter(g, x, dy, df),
    shapes: (t, attrs) => ({ xShape: t.x!.shape, filterShape: attrs.filterShape!, outShape: () => attrs.filterShape! }),
  },
};

/**
 * Runs `op` on plain arrays; returns a view of the module's memory, valid until its next call (the
 * kernels copy it straight into their output tensors; the exported functions return copies).
 */
function runView(op: GroupedOp, g: GroupedConvGeometry, a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  checkGeometry(op.fn, g);
  const s = sizes(g);
  const [[argA, , operandA], [argB, , operandB]] = op.inputs;
  checkLength(op.fn, argA, a, s[operandA]);
  checkLength(op.fn, argB, b, s[operandB]);
  const outputs = op.scratch ? [s[op.output], s[op.scratch]] : [s[op.output]];
  const [out] = callWasm({ ints: geometryInts(g), inputs: [a, b], outputs }, (m, at) =>
    op.call(m, at.ints, at.inputs[0]!, at.inputs[1]!, at.outputs[0]!, at.outputs[1] ?? 0),
  );
  return out!;
}

/**
 * Grouped convolution `y = conv(x, f)` on plain arrays: the WebAssembly SIMD kernel behind the
 * `LdlGroupedConv2D` kernel that `enableFastKernels()` registers on wasm and cpu.
 *
 * @param g geometry (see {@link GroupedConvGeometry}).
 * @param x `[n, h, w, cin]`, row-major.
 * @param f `[kh, kw, cin/groups, cout]`.
 * @returns `y` `[n, ho, wo, cout]`.
 */
export function groupedConvForward(g: GroupedConvGeometry, x: ArrayLike<number>, f: ArrayLike<number>): Float32Array {
  return runView(OPS[LdlGroupedConv2D]!, g, x, f).slice();
}

/** Input gradient of {@link groupedConvForward}: `dx` `[n, h, w, cin]` from `dy` `[n, ho, wo, cout]`. */
export function groupedConvBackpropInput(g: GroupedConvGeometry, dy: ArrayLike<number>, f: ArrayLike<number>): Float32Array {
  return runView(OPS[LdlGroupedConv2DBackpropInput]!, g, dy, f).slice();
}

/** Filter gradient of {@link groupedConvForward}: `df` `[kh, kw, cin/groups, cout]` from `x` and `dy`. */
export function groupedConvBackpropFilter(g: GroupedConvGeometry, x: ArrayLike<number>, dy: ArrayLike<number>): Float32Array {
  return runView(OPS[LdlGroupedConv2DBackpropFilter]!, g, x, dy).slice();
}

/** Attrs of the three kernels (`inputShape`: the input gradient's, `filterShape`: the filter gradient's). */
type KernelAttrs = GroupedConv2DAttrs & { inputShape?: number[]; filterShape?: number[] };

/** The geometry of a grouped-convolution kernel call (one group is allowed: a dense filter). */
function groupedGeometry(kernel: string, xShape: number[], filterShape: number[], attrs: KernelAttrs): GroupedConvGeometry {
  const fn = kernel;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') throw new Error(`Error in ${fn}: dataFormat must be 'NHWC', but got '${attrs.dataFormat}'.`);
  const cin = xShape[3] as number;
  const cg = filterShape[2] as number;
  if (!(cg >= 1) || cin % cg !== 0) throw new Error(`Error in ${fn}: the filter's input depth must divide the input channels ${cin}, but got ${cg}.`);
  const groups = cin / cg;
  const cout = filterShape[3] as number;
  if (cout % groups !== 0) throw new Error(`Error in ${fn}: the filter's output depth must be divisible by groups = ${groups}, but got ${cout}.`);
  // computeConv2DInfo reads the output depth from filterShape[3] and never compares filterShape[2] with x.
  const info = backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  return {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    cin,
    ho: info.outHeight,
    wo: info.outWidth,
    cout,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    pt: info.padInfo.top,
    pl: info.padInfo.left,
    groups,
  };
}

/** The operands of one kernel call: its geometry, its two inputs in the op's order, its output shape. */
function operands(kernelName: string, args: Parameters<KernelFunc>[0]): { op: GroupedOp; g: GroupedConvGeometry; a: TensorInfo; b: TensorInfo; outShape: number[] } {
  const op = OPS[kernelName]!;
  const attrs = args.attrs as unknown as KernelAttrs;
  const t = args.inputs as Record<string, TensorInfo>;
  const { xShape, filterShape, outShape } = op.shapes(t, attrs);
  const g = groupedGeometry(kernelName, xShape, filterShape, attrs);
  const [[, a], [, b]] = op.inputs;
  return { op, g, a: t[a]!, b: t[b]!, outShape: outShape(g) };
}

function checkKernelName(fn: string, kernelName: string): void {
  if (OPS[kernelName] == null) {
    throw new Error(`Error in ${fn}: kernelName must be ${Object.keys(OPS).join(', ')}, but got ${kernelName}.`);
  }
}

/**
 * The kernel function of `kernelName` ({@link LdlGroupedConv2D} or one of its two gradients) on
 * `backendName`: the WebAssembly SIMD grouped convolution on wasm and cpu, one compute shader (two
 * for a filter gradient over many pixels) on webgpu.
 */
export function groupedConvKernel(kernelName: string, backendName: 'wasm' | 'cpu' | 'webgpu'): KernelFunc {
  checkKernelName('groupedConvKernel', kernelName);
  return (args) => {
    const backend = args.backend as KernelBackend;
    const { op, g, a, b, outShape } = operands(kernelName, args);
    if (backendName === 'webgpu') return webgpuGroupedConv(kernelName, backend, g, [a, b]);
    const out = runView(op, g, readFloat32(kernelName, backend, a), readFloat32(kernelName, backend, b));
    return writeFloat32(backend, outShape, out);
  };
}

/** Stock TensorFlow kernels (which take grouped filters) of the three grouped-convolution kernels. */
const TENSORFLOW_KERNELS: Record<string, string> = {
  [LdlGroupedConv2D]: 'Conv2D',
  [LdlGroupedConv2DBackpropInput]: 'Conv2DBackpropInput',
  [LdlGroupedConv2DBackpropFilter]: 'Conv2DBackpropFilter',
};

/**
 * The kernel function of `kernelName` on tfjs-node (`tensorflow`): TensorFlow's own `Conv2D`,
 * `Conv2DBackpropInput` and `Conv2DBackpropFilter`, which take grouped filters, on the explicitly
 * padded input with `'valid'` padding (the input gradient cropped back). TensorFlow's backprop
 * kernels ignore dilations: the two gradients throw for dilations > 1.
 */
export function groupedConvTensorflowKernel(kernelName: string): KernelFunc {
  checkKernelName('groupedConvTensorflowKernel', kernelName);
  const stock = TENSORFLOW_KERNELS[kernelName]!;
  return (args) =>
    withContext('tensorflow', args.backend as KernelBackend, (ctx) => {
      const { g, a, b } = operands(kernelName, args);
      if (kernelName !== LdlGroupedConv2D && (g.dh !== 1 || g.dw !== 1)) {
        throw new Error(`Error in ${kernelName}: dilations must be 1 on tensorflow (its backprop kernels ignore them), but got [${g.dh}, ${g.dw}].`);
      }
      const pb = (g.ho - 1) * g.sh + (g.kh - 1) * g.dh + 1 - g.h - g.pt;
      const pr = (g.wo - 1) * g.sw + (g.kw - 1) * g.dw + 1 - g.w - g.pl;
      const paddedShape = [g.n, g.h + g.pt + pb, g.w + g.pl + pr, g.cin];
      const attrs = { strides: [g.sh, g.sw], pad: 'valid', dataFormat: 'NHWC', dilations: [g.dh, g.dw] };
      const pad = (x: TensorInfo) => padOrCrop(ctx, x, g.pt, pb, g.pl, pr);
      if (kernelName === LdlGroupedConv2D) return ctx.run(stock, { x: pad(a), filter: b }, attrs);
      if (kernelName === LdlGroupedConv2DBackpropFilter) {
        return ctx.run(stock, { x: pad(a), dy: b }, { ...attrs, filterShape: [g.kh, g.kw, g.cin / g.groups, g.cout] });
      }
      const dxp = ctx.run(stock, { dy: a, filter: b }, { ...attrs, inputShape: paddedShape });
      return padOrCrop(ctx, dxp, -g.pt, -pb, -g.pl, -pr);
    });
}
