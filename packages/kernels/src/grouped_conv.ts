import {
  backend_util,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  type KernelBackend,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

import { callWasm, readFloat32, writeFloat32 } from './wasm_module';

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

// The *View functions return views of the module's memory, valid until its next call (the kernels
// copy them straight into their output tensors); the exported functions return copies.

function forwardView(g: GroupedConvGeometry, x: ArrayLike<number>, f: ArrayLike<number>): Float32Array {
  const fn = 'groupedConvForward';
  checkGeometry(fn, g);
  const s = sizes(g);
  checkLength(fn, 'x', x, s.x);
  checkLength(fn, 'f', f, s.f);
  const [y] = callWasm({ ints: geometryInts(g), inputs: [x, f], outputs: [s.y] }, (m, at) =>
    m.grouped_conv_forward(at.ints, at.inputs[0]!, at.inputs[1]!, at.outputs[0]!),
  );
  return y!;
}

function backpropInputView(g: GroupedConvGeometry, dy: ArrayLike<number>, f: ArrayLike<number>): Float32Array {
  const fn = 'groupedConvBackpropInput';
  checkGeometry(fn, g);
  const s = sizes(g);
  checkLength(fn, 'dy', dy, s.y);
  checkLength(fn, 'f', f, s.f);
  const [dx] = callWasm({ ints: geometryInts(g), inputs: [dy, f], outputs: [s.x, s.f] }, (m, at) =>
    m.grouped_conv_backprop_input(at.ints, at.inputs[0]!, at.inputs[1]!, at.outputs[0]!, at.outputs[1]!),
  );
  return dx!;
}

function backpropFilterView(g: GroupedConvGeometry, x: ArrayLike<number>, dy: ArrayLike<number>): Float32Array {
  const fn = 'groupedConvBackpropFilter';
  checkGeometry(fn, g);
  const s = sizes(g);
  checkLength(fn, 'x', x, s.x);
  checkLength(fn, 'dy', dy, s.y);
  const [df] = callWasm({ ints: geometryInts(g), inputs: [x, dy], outputs: [s.f] }, (m, at) =>
    m.grouped_conv_backprop_filter(at.ints, at.inputs[0]!, at.inputs[1]!, at.outputs[0]!),
  );
  return df!;
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
  return forwardView(g, x, f).slice();
}

/** Input gradient of {@link groupedConvForward}: `dx` `[n, h, w, cin]` from `dy` `[n, ho, wo, cout]`. */
export function groupedConvBackpropInput(g: GroupedConvGeometry, dy: ArrayLike<number>, f: ArrayLike<number>): Float32Array {
  return backpropInputView(g, dy, f).slice();
}

/** Filter gradient of {@link groupedConvForward}: `df` `[kh, kw, cin/groups, cout]` from `x` and `dy`. */
export function groupedConvBackpropFilter(g: GroupedConvGeometry, x: ArrayLike<number>, dy: ArrayLike<number>): Float32Array {
  return backpropFilterView(g, x, dy).slice();
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

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
 * (on the wasm and cpu backends; any other call goes to `dense` unchanged).
 */
export function withGroupedConv(kernelName: string, dense: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as KernelBackend;
    const attrs = args.attrs as unknown as ConvAttrs & { inputShape?: number[]; filterShape?: number[] };
    const fn = `${kernelName} (@ldl/kernels grouped convolution)`;
    if (kernelName === Conv2D) {
      const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
      const g = groupedGeometry(kernelName, x.shape, filter.shape, attrs);
      if (g == null) return dense(args);
      const y = forwardView(g, readFloat32(fn, backend, x), readFloat32(fn, backend, filter));
      return writeFloat32(backend, [g.n, g.ho, g.wo, g.cout], y);
    }
    if (kernelName === Conv2DBackpropInput) {
      const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
      const inputShape = attrs.inputShape as number[];
      const g = groupedGeometry(kernelName, inputShape, filter.shape, attrs);
      if (g == null) return dense(args);
      const dx = backpropInputView(g, readFloat32(fn, backend, dy), readFloat32(fn, backend, filter));
      return writeFloat32(backend, inputShape, dx);
    }
    if (kernelName === Conv2DBackpropFilter) {
      const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
      const filterShape = attrs.filterShape as number[];
      const g = groupedGeometry(kernelName, x.shape, filterShape, attrs);
      if (g == null) return dense(args);
      const df = backpropFilterView(g, readFloat32(fn, backend, x), readFloat32(fn, backend, dy));
      return writeFloat32(backend, filterShape, df);
    }
    throw new Error(`Error in withGroupedConv: kernelName must be Conv2D, Conv2DBackpropInput or Conv2DBackpropFilter, but got ${kernelName}.`);
  };
}
