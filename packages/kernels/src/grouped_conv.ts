import {
  backend_util,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  type KernelBackend,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

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
 * its output, scratch space, the C call, and where a `Conv2D`-family kernel keeps its operands.
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
  [Conv2D]: {
    fn: 'groupedConvForward',
    inputs: [['x', 'x', 'x'], ['f', 'filter', 'f']],
    output: 'y',
    call: (m, g, x, f, y) => m.grouped_conv_forward(g, x, f, y),
    shapes: (t) => ({ xShape: t.x!.shape, filterShape: t.filter!.shape, outShape: (g) => [g.n, g.ho, g.wo, g.cout] }),
  },
  [Conv2DBackpropInput]: {
    fn: 'groupedConvBackpropInput',
    inputs: [['dy', 'dy', 'y'], ['f', 'filter', 'f']],
    output: 'x',
    scratch: 'f',
    call: (m, g, dy, f, dx, scratch) => m.grouped_conv_backprop_input(g, dy, f, dx, scratch),
    shapes: (t, attrs) => ({ xShape: attrs.inputShape!, filterShape: t.filter!.shape, outShape: () => attrs.inputShape! }),
  },
  [Conv2DBackpropFilter]: {
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
 * grouped `Conv2D` that {@link enableFastKernels} registers on wasm and cpu.
 *
 * @param g geometry (see {@link GroupedConvGeometry}).
 * @param x `[n, h, w, cin]`, row-major.
 * @param f `[kh, kw, cin/groups, cout]`.
 * @returns `y` `[n, ho, wo, cout]`.
 */
export function groupedConvForward(g: GroupedConvGeometry, x: ArrayLike<number>, f: ArrayLike<number>): Float32Array {
  return runView(OPS[Conv2D]!, g, x, f).slice();
}

/** Input gradient of {@link groupedConvForward}: `dx` `[n, h, w, cin]` from `dy` `[n, ho, wo, cout]`. */
export function groupedConvBackpropInput(g: GroupedConvGeometry, dy: ArrayLike<number>, f: ArrayLike<number>): Float32Array {
  return runView(OPS[Conv2DBackpropInput]!, g, dy, f).slice();
}

/** Filter gradient of {@link groupedConvForward}: `df` `[kh, kw, cin/groups, cout]` from `x` and `dy`. */
export function groupedConvBackpropFilter(g: GroupedConvGeometry, x: ArrayLike<number>, dy: ArrayLike<number>): Float32Array {
  return runView(OPS[Conv2DBackpropFilter]!, g, x, dy).slice();
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Attrs of the three kernels (`inputShape`: Conv2DBackpropInput's, `filterShape`: Conv2DBackpropFilter's). */
type KernelAttrs = ConvAttrs & { inputShape?: number[]; filterShape?: number[] };

/** The grouped geometry of a `Conv2D`-family call, or null where the filter is not grouped (`in/groups == in`). */
function groupedGeometry(kernel: string, xShape: number[], filterShape: number[], attrs: ConvAttrs): GroupedConvGeometry | null {
  const fn = `${kernel} (@ldl/kernels grouped convolution)`;
  const cin = (attrs.dataFormat === 'NCHW' ? xShape[1] : xShape[3]) as number;
  const cg = filterShape[2] as number;
  if (cg === cin) return null;
  if (cin % cg !== 0) throw new Error(`Error in ${fn}: the filter's input depth must divide the input channels ${cin}, but got ${cg}.`);
  const groups = cin / cg;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') {
    throw new Error(`Error in ${fn}: dataFormat must be 'NHWC' for a grouped filter, but got '${attrs.dataFormat}'.`);
  }
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

/**
 * Wraps the dense kernel `dense` of `kernelName` (`Conv2D`, `Conv2DBackpropInput`,
 * `Conv2DBackpropFilter`) so that calls with a grouped filter — input depth `in/groups`, as
 * TensorFlow's own kernels accept — run the WebAssembly SIMD grouped convolution instead
 * (`backendName` wasm or cpu) or one compute shader (webgpu); any other call goes to `dense` unchanged.
 */
export function withGroupedConv(kernelName: string, dense: KernelFunc, backendName: string): KernelFunc {
  const op = OPS[kernelName];
  if (op == null) {
    throw new Error(`Error in withGroupedConv: kernelName must be Conv2D, Conv2DBackpropInput or Conv2DBackpropFilter, but got ${kernelName}.`);
  }
  const fn = `${kernelName} (@ldl/kernels grouped convolution)`;
  const kernel: KernelFunc = (args) => {
    const backend = args.backend as KernelBackend;
    const attrs = args.attrs as unknown as KernelAttrs;
    const t = args.inputs as Record<string, TensorInfo>;
    const { xShape, filterShape, outShape } = op.shapes(t, attrs);
    const g = groupedGeometry(kernelName, xShape, filterShape, attrs);
    if (g == null) return dense(args);
    const [[, a], [, b]] = op.inputs;
    if (backendName === 'webgpu') return webgpuGroupedConv(kernelName, backend, g, [t[a]!, t[b]!]);
    const out = runView(op, g, readFloat32(fn, backend, t[a]!), readFloat32(fn, backend, t[b]!));
    return writeFloat32(backend, outShape(g), out);
  };
  return Object.assign(kernel, { [GROUPED_CONV_KERNEL]: true });
}

/**
 * Property (`Symbol.for('@ldl/kernels/grouped-conv')`, value `true`) of the `kernelFunc`s that
 * {@link enableFastKernels} registers for `Conv2D`, `Conv2DBackpropInput` and `Conv2DBackpropFilter`:
 * they take grouped filters. `@ldl/backbones` reads it where it cannot run its probe (webgpu has no
 * synchronous read in Node).
 */
export const GROUPED_CONV_KERNEL: unique symbol = Symbol.for('@ldl/kernels/grouped-conv');
