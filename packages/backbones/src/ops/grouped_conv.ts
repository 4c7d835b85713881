import {
  concat,
  conv2d,
  customGrad,
  depthwiseConv2d,
  engine,
  getBackend,
  getKernel,
  matMul,
  mul,
  pad as padOp,
  reshape,
  slice,
  split,
  sum,
  tensor,
  tidy,
  transpose,
  type GradSaveFunc,
  type NamedTensorMap,
  type Tensor,
  type Tensor4D,
} from '@tensorflow/tfjs-core';

/**
 * How {@link groupedConv2d} computes a grouped convolution (TF.js has no `groups` argument).
 *
 * - `'split'`: split input and filter into `groups` parts, one `conv2d` each, `concat`.
 * - `'blockDiagonal'`: expand the filter to a dense `[k, k, in, out]` block-diagonal filter (zeros
 *   outside the groups) and run ONE `conv2d` (`groups`× the arithmetic, one kernel launch).
 * - `'im2col'`: pad, take the `k·k` strided windows by `slice`, reshape to `[groups, N·Ho·Wo, k·k·in/groups]`
 *   and run ONE `batchMatMul` against `[groups, k·k·in/groups, out/groups]`. Its gradient is made of
 *   `batchMatMul`/`slice`/`pad` gradients only, so it trains on backends without
 *   `Conv2DBackpropFilter` (wasm in TF.js 4.22).
 * - `'depthwise'`: one `depthwiseConv2d` with channel multiplier `out/groups`, then a sum over the
 *   `in/groups` inputs of each group (intermediate of `in·out/groups` channels).
 * - `'native'`: ONE `Conv2D` kernel call with the grouped filter (input depth `in/groups`), as
 *   TensorFlow's kernels take it, and its gradient through `Conv2DBackpropInput`/`Conv2DBackpropFilter`
 *   with the same filter. Only backends whose kernels accept grouped filters run it: `tensorflow`
 *   (tfjs-node), wasm and cpu once `@ldl/kernels`' `enableFastKernels()` registered its
 *   WebAssembly SIMD grouped convolution there, webgpu once it registered its grouped-convolution
 *   shaders ({@link nativeGroupedConvAvailable}).
 * - `'auto'`: the per-backend choice measured by `bench/grouped-conv.ts`, for inference or training
 *   ({@link AUTO_STRATEGY}); `'native'` wherever it is available.
 *
 * Dilations > 1: TF.js's `conv2d`/`depthwiseConv2d` gradients reject them, so only `'im2col'` can be
 * differentiated there.
 */
export type GroupedConvStrategy = 'split' | 'blockDiagonal' | 'im2col' | 'depthwise' | 'native' | 'auto';

/** A concrete strategy (anything but `'auto'`). */
export type ConcreteGroupedConvStrategy = Exclude<GroupedConvStrategy, 'auto'>;

/** Every concrete strategy (everything but `'auto'`), in the order the benchmark prints them. */
export const GROUPED_CONV_STRATEGIES: readonly ConcreteGroupedConvStrategy[] = [
  'split',
  'blockDiagonal',
  'im2col',
  'depthwise',
  'native',
];

/** Strategies in order of preference for one backend. */
export interface AutoStrategyPreferences {
  /** Used when no gradient is being recorded. */
  inference: ConcreteGroupedConvStrategy[];
  /** Used inside a gradient tape (`tf.grads`, `variableGrads`, `fit`). */
  training: ConcreteGroupedConvStrategy[];
}

/**
 * Preference lists `'auto'` picks from, per backend (fallback `default`): `inference` when no gradient
 * is being recorded, `training` inside `tf.grads`/`variableGrads`/`fit`. The first strategy whose
 * kernels (forward, plus backward when training) are registered on the backend wins, so e.g. wasm uses
 * `'depthwise'` for training once `@ldl/kernels` registered depthwise gradients there, and `'im2col'`
 * (matMul/slice gradients only) before that. Orders from `pnpm --filter @ldl/backbones bench`
 * (numbers in the README).
 */
export const AUTO_STRATEGY: Readonly<Record<string, AutoStrategyPreferences>> = {
  tensorflow: { inference: ['native'], training: ['native'] },
  cpu: { inference: ['native', 'depthwise', 'split'], training: ['native', 'depthwise', 'split'] },
  wasm: { inference: ['native', 'depthwise', 'split'], training: ['native', 'depthwise', 'im2col'] },
  default: { inference: ['native', 'split'], training: ['native', 'split', 'im2col'] },
};

/** Kernels each strategy needs: forward, and additionally for gradients. */
const KERNELS: Record<ConcreteGroupedConvStrategy, { forward: string[]; backward: string[] }> = {
  split: { forward: ['Conv2D', 'SplitV', 'Concat'], backward: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'] },
  blockDiagonal: { forward: ['Conv2D', 'Multiply'], backward: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'] },
  im2col: { forward: ['BatchMatMul', 'Slice', 'Concat', 'Transpose'], backward: ['SplitV', 'PadV2'] },
  depthwise: { forward: ['DepthwiseConv2dNative', 'Sum'], backward: ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'] },
  native: { forward: ['Conv2D'], backward: ['Conv2DBackpropInput', 'Conv2DBackpropFilter'] },
};

const NATIVE_KERNELS = ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'] as const;
/** Probe results per backend, with the kernel registrations they were made with. */
const nativeProbes = new Map<string, { kernels: unknown[]; available: boolean }>();

/**
 * Runs the three kernels on a 2-group, 1-pixel case whose right answers an ungrouped kernel cannot
 * produce: `x = [1, 2]`, filter `[3, 5]` (one input channel per group) → `y = [3, 10]`; `dy = [1, 1]` →
 * `dx = [3, 5]`, `df = [1, 2]`.
 */
function probeNativeKernels(): boolean {
  const attrs = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] };
  const kernel = (name: string, inputs: NamedTensorMap, extra: Record<string, unknown> = {}) =>
    Array.from((engine().runKernel(name, inputs, { ...attrs, ...extra } as unknown as Record<string, never>) as Tensor).dataSync());
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) < 1e-6);
  try {
    return tidy(() => {
      const x = tensor([1, 2], [1, 1, 1, 2]);
      const f = tensor([3, 5], [1, 1, 1, 2]);
      const dy = tensor([1, 1], [1, 1, 1, 2]);
      return (
        same(kernel('Conv2D', { x, filter: f }), [3, 10]) &&
        same(kernel('Conv2DBackpropInput', { dy, filter: f }, { inputShape: [1, 1, 1, 2] }), [3, 5]) &&
        same(kernel('Conv2DBackpropFilter', { x, dy }, { filterShape: [1, 1, 1, 2] }), [1, 2])
      );
    });
  } catch {
    return false; // a dense kernel may reject the filter outright
  }
}

/** Property that `@ldl/kernels` sets on kernel functions that take grouped filters (its `GROUPED_CONV_KERNEL`). */
const GROUPED_CONV_KERNEL = Symbol.for('@ldl/kernels/grouped-conv');

/**
 * Whether `backend`'s `Conv2D`, `Conv2DBackpropInput` and `Conv2DBackpropFilter` kernels compute
 * grouped convolutions (filter input depth `in/groups`), i.e. whether strategy `'native'` runs there:
 * always on `tensorflow`; where all three kernel functions carry `@ldl/kernels`' mark
 * (`Symbol.for('@ldl/kernels/grouped-conv')`, set by its `enableFastKernels()` on wasm, cpu and webgpu);
 * elsewhere found out by running the kernels once on a tiny case (cached until a kernel is
 * re-registered; only the active backend can be probed, another one reports false; webgpu cannot be,
 * having no synchronous read in Node).
 */
export function nativeGroupedConvAvailable(backend: string): boolean {
  if (backend === 'tensorflow') return true;
  const kernels = NATIVE_KERNELS.map((k) => getKernel(k, backend));
  if (kernels.some((k) => k === undefined)) return false;
  if (kernels.every((k) => (k!.kernelFunc as unknown as Record<symbol, unknown>)[GROUPED_CONV_KERNEL] === true)) return true;
  if (backend === 'webgpu') return false;
  const cached = nativeProbes.get(backend);
  if (cached !== undefined && cached.kernels.every((k, i) => k === kernels[i])) return cached.available;
  if (backend !== getBackend()) return false;
  const available = probeNativeKernels();
  nativeProbes.set(backend, { kernels, available });
  return available;
}

/** Whether `strategy` can run on `backend` (with gradients when `training`), judged by its registered kernels. */
export function strategySupported(strategy: ConcreteGroupedConvStrategy, backend: string, training: boolean): boolean {
  if (strategy === 'native') return nativeGroupedConvAvailable(backend);
  const { forward, backward } = KERNELS[strategy];
  return [...forward, ...(training ? backward : [])].every((k) => getKernel(k, backend) !== undefined);
}

let globalStrategy: GroupedConvStrategy = 'auto';

/** Sets the strategy used by every {@link groupedConv2d} call (and layer) that does not name its own. */
export function setGroupedConvStrategy(strategy: GroupedConvStrategy): void {
  assertStrategy('setGroupedConvStrategy', strategy);
  globalStrategy = strategy;
}

/** The global strategy set by {@link setGroupedConvStrategy} (default `'auto'`). */
export function getGroupedConvStrategy(): GroupedConvStrategy {
  return globalStrategy;
}

/**
 * Resolves `'auto'` (and the global default) to the concrete strategy for the current backend and
 * whether a gradient tape is recording (see {@link AUTO_STRATEGY}).
 */
export function resolveGroupedConvStrategy(strategy: GroupedConvStrategy = globalStrategy): ConcreteGroupedConvStrategy {
  const s = strategy === 'auto' ? globalStrategy : strategy;
  if (s !== 'auto') return s;
  const backend = getBackend();
  const training = engine().state.gradientDepth > 0;
  const prefs = (AUTO_STRATEGY[backend] ?? AUTO_STRATEGY.default!)[training ? 'training' : 'inference'];
  const chosen = prefs.find((p) => strategySupported(p, backend, training));
  if (chosen === undefined) {
    throw new Error(`Error in groupedConv2d: backend '${backend}' must register the kernels of one of ${prefs.join(', ')}${training ? ' (with gradients)' : ''}, but has none.`);
  }
  return chosen;
}

/** Options of {@link groupedConv2d}. */
export interface GroupedConv2dOptions {
  /** Number of groups; `in` and `out` channels must both be divisible by it. @default 1 */
  groups?: number;
  /** Stride `s` or `[sH, sW]`. @default 1 */
  strides?: number | [number, number];
  /**
   * Symmetric zero padding as in PyTorch's `padding`: `p` or `[pH, pW]` pixels on each side.
   * (TF's `'same'` pads stride-2 layers asymmetrically, which changes pretrained outputs.) @default 0
   */
  pad?: number | [number, number];
  /** Dilation `d` or `[dH, dW]`. @default 1 */
  dilations?: number | [number, number];
  /** Implementation; `'auto'` defers to {@link setGroupedConvStrategy}. @default 'auto' */
  strategy?: GroupedConvStrategy;
}

interface ResolvedGeometry {
  n: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  groups: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  ho: number;
  wo: number;
}

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

function assertStrategy(fn: string, strategy: string): void {
  if (strategy !== 'auto' && !(GROUPED_CONV_STRATEGIES as readonly string[]).includes(strategy)) {
    throw new Error(
      `Error in ${fn}: strategy must be one of 'auto', ${GROUPED_CONV_STRATEGIES.map((s) => `'${s}'`).join(', ')}, but got ${JSON.stringify(strategy)}.`,
    );
  }
}

function geometry(x: Tensor4D, filter: Tensor4D, options: GroupedConv2dOptions): ResolvedGeometry {
  const fn = 'groupedConv2d';
  if (x.rank !== 4) throw new Error(`Error in ${fn}: x must be rank 4 [N, H, W, C], but got shape [${x.shape.join(', ')}].`);
  if (filter.rank !== 4) {
    throw new Error(`Error in ${fn}: filter must be rank 4 [k, k, in/groups, out], but got shape [${filter.shape.join(', ')}].`);
  }
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`Error in ${fn}: groups must be a positive integer, but got ${groups}.`);
  const [n, h, w, cin] = x.shape;
  const [kh, kw, cg, cout] = filter.shape;
  if (cin % groups !== 0 || cin / groups !== cg) {
    throw new Error(`Error in ${fn}: filter.shape[2] must be in/groups = ${cin}/${groups}, but got ${cg}.`);
  }
  if (cout % groups !== 0) throw new Error(`Error in ${fn}: filter.shape[3] (out) must be divisible by groups = ${groups}, but got ${cout}.`);
  const [sh, sw] = pair(options.strides ?? 1);
  const [ph, pw] = pair(options.pad ?? 0);
  const [dh, dw] = pair(options.dilations ?? 1);
  for (const [name, v, min] of [
    ['strides', sh, 1],
    ['strides', sw, 1],
    ['dilations', dh, 1],
    ['dilations', dw, 1],
    ['pad', ph, 0],
    ['pad', pw, 0],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new Error(`Error in ${fn}: ${name} must be integers >= ${min}, but got ${v}.`);
  }
  const ho = Math.floor((h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const wo = Math.floor((w + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  if (ho < 1 || wo < 1) throw new Error(`Error in ${fn}: x spatial size must fit the kernel, but got ${h}x${w} for kernel ${kh}x${kw}.`);
  return { n, h, w, cin, cout, kh, kw, groups, sh, sw, ph, pw, dh, dw, ho, wo };
}

function padInput(x: Tensor4D, g: ResolvedGeometry, extraH = 0, extraW = 0): Tensor4D {
  if (g.ph === 0 && g.pw === 0 && extraH === 0 && extraW === 0) return x;
  return padOp(x, [
    [0, 0],
    [g.ph, g.ph + extraH],
    [g.pw, g.pw + extraW],
    [0, 0],
  ]);
}

function convValid(x: Tensor4D, filter: Tensor4D, g: ResolvedGeometry): Tensor4D {
  return conv2d(padInput(x, g), filter, [g.sh, g.sw], 'valid', 'NHWC', [g.dh, g.dw]);
}

function splitStrategy(x: Tensor4D, filter: Tensor4D, g: ResolvedGeometry): Tensor4D {
  const xs = split(padInput(x, g), g.groups, 3) as Tensor4D[];
  const fs = split(filter, g.groups, 3) as Tensor4D[];
  const noPad = { ...g, ph: 0, pw: 0 };
  return concat(
    xs.map((xi, i) => convValid(xi, fs[i]!, noPad)),
    3,
  );
}

/** `[k, k, in/G, out]` → block-diagonal `[k, k, in, out]` (zeros where input and output groups differ). */
function blockDiagonalFilter(filter: Tensor4D, groups: number): Tensor4D {
  const [kh, kw, cg, cout] = filter.shape;
  const og = cout / groups;
  const f = reshape(filter, [kh, kw, 1, cg, groups, og]);
  const eye = new Float32Array(groups * groups);
  for (let i = 0; i < groups; i++) eye[i * groups + i] = 1;
  const mask = tensor(eye, [1, 1, groups, 1, groups, 1]);
  return reshape(mul(f, mask), [kh, kw, groups * cg, cout]);
}

function blockDiagonalStrategy(x: Tensor4D, filter: Tensor4D, g: ResolvedGeometry): Tensor4D {
  return convValid(x, blockDiagonalFilter(filter, g.groups), g);
}

/**
 * Windows of the padded input for kernel tap `(i, j)`: `[N, Ho, Wo, C]`, built from `slice` + `reshape`
 * only (no `stridedSlice`, which has no gradient in TF.js). Strides keep every slice rank 4: the
 * `[N, Ho·sH, Wo·sW, C]` window viewed as `[N·Ho, sH, Wo, sW·C]` keeps row 0 and the first `C` columns
 * (a rank-6 slice took 5.6 s instead of milliseconds on wasm).
 */
function tap(xp: Tensor4D, g: ResolvedGeometry, i: number, j: number): Tensor4D {
  const { n, ho, wo, sh, sw, cin } = g;
  const window = slice(xp, [0, i * g.dh, j * g.dw, 0], [n, ho * sh, wo * sw, cin]);
  if (sh === 1 && sw === 1) return window;
  const strided = slice(reshape(window, [n * ho, sh, wo, sw * cin]), [0, 0, 0, 0], [n * ho, 1, wo, cin]);
  return reshape(strided, [n, ho, wo, cin]);
}

function im2colStrategy(x: Tensor4D, filter: Tensor4D, g: ResolvedGeometry): Tensor4D {
  const { n, ho, wo, kh, kw, cin, cout, groups } = g;
  const cg = cin / groups;
  const og = cout / groups;
  const kk = kh * kw;
  // Extra bottom/right zeros so that every tap's [Ho·s, Wo·s] window lies inside the tensor; only the
  // first row/column of each stride block is kept, so the extra zeros are never read into the output.
  const needH = (kh - 1) * g.dh + ho * g.sh;
  const needW = (kw - 1) * g.dw + wo * g.sw;
  const xp = padInput(x, g, Math.max(0, needH - (g.h + 2 * g.ph)), Math.max(0, needW - (g.w + 2 * g.pw)));
  const taps: Tensor4D[] = [];
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) taps.push(tap(xp, g, i, j));
  // [N, Ho, Wo, kk, G, Cg] → [G, N·Ho·Wo, kk·Cg]
  const cols = reshape(concat(taps, 3), [n * ho * wo, kk, groups, cg]); // = stack on axis 3; concat's gradient (slices) is much faster than unstack on wasm
  const lhs = reshape(transpose(cols, [2, 0, 1, 3]), [groups, n * ho * wo, kk * cg]);
  // [kh, kw, Cg, G·Og] → [G, kk·Cg, Og]
  const rhs = reshape(transpose(reshape(filter, [kk * cg, groups, og]), [1, 0, 2]), [groups, kk * cg, og]);
  const out = matMul(lhs, rhs); // [G, N·Ho·Wo, Og]
  return reshape(transpose(out, [1, 0, 2]), [n, ho, wo, cout]);
}

function depthwiseStrategy(x: Tensor4D, filter: Tensor4D, g: ResolvedGeometry): Tensor4D {
  const { n, ho, wo, kh, kw, cin, cout, groups } = g;
  const cg = cin / groups;
  const og = cout / groups;
  // dw[kh, kw, g·Cg + j, m] = filter[kh, kw, j, g·Og + m]
  const dwFilter = reshape(transpose(reshape(filter, [kh, kw, cg, groups, og]), [0, 1, 3, 2, 4]), [kh, kw, cin, og]);
  const y = depthwiseConv2d(padInput(x, g), dwFilter as Tensor4D, [g.sh, g.sw], 'valid', 'NHWC', [g.dh, g.dw]);
  return reshape(sum(reshape(y, [n, ho, wo, groups, cg, og]), 4), [n, ho, wo, cout]);
}

/**
 * One `Conv2D` kernel call with the grouped filter, as TensorFlow's kernels take it (the high-level
 * `conv2d` op rejects a filter whose input depth is `in/groups`, so this goes through `runKernel`).
 * Its gradient runs `Conv2DBackpropInput` / `Conv2DBackpropFilter` with the grouped filter too (TF.js's
 * registered `Conv2D` gradient assumes ungrouped filters). Backends: see {@link nativeGroupedConvAvailable}.
 * TensorFlow's backprop kernels ignore dilations, so dilated grouped convolutions train with
 * `'im2col'` there.
 */
function nativeStrategy(x: Tensor4D, filter: Tensor4D, g: ResolvedGeometry): Tensor4D {
  const backend = getBackend();
  if (!nativeGroupedConvAvailable(backend)) {
    throw new Error(
      `Error in groupedConv2d: strategy 'native' needs a backend whose Conv2D kernels accept grouped filters (tensorflow, or wasm/cpu/webgpu after @ldl/kernels' enableFastKernels()), but got '${backend}'.`,
    );
  }
  if (backend === 'tensorflow' && engine().state.gradientDepth > 0 && (g.dh !== 1 || g.dw !== 1)) return im2colStrategy(x, filter, g);
  // Explicit padding where the kernels take it (@ldl/kernels'); TensorFlow's get a padded input.
  const explicit = backend !== 'tensorflow';
  const pad = explicit ? [[0, 0], [g.ph, g.ph], [g.pw, g.pw], [0, 0]] : 'valid';
  const attrs = { strides: [g.sh, g.sw], pad, dataFormat: 'NHWC', dilations: [g.dh, g.dw] };
  const kernel = (name: string, inputs: NamedTensorMap, extra: Record<string, unknown> = {}) =>
    engine().runKernel(name, inputs, { ...attrs, ...extra } as unknown as Record<string, never>) as Tensor4D;
  const run = customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const [xi, fi, save] = args as [Tensor4D, Tensor4D, GradSaveFunc];
    const xp = explicit ? xi : padInput(xi, g);
    save([xp, fi]);
    return {
      value: kernel('Conv2D', { x: xp, filter: fi }),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [xpSaved, fSaved] = saved as [Tensor4D, Tensor4D];
        const dxp = kernel('Conv2DBackpropInput', { dy, filter: fSaved }, { inputShape: xpSaved.shape });
        const dx = explicit ? dxp : slice(dxp, [0, g.ph, g.pw, 0], [g.n, g.h, g.w, g.cin]);
        const df = kernel('Conv2DBackpropFilter', { x: xpSaved, dy }, { filterShape: fSaved.shape });
        return [dx, df];
      },
    };
  });
  return run(x, filter) as Tensor4D;
}

const STRATEGY_FNS: Record<ConcreteGroupedConvStrategy, (x: Tensor4D, f: Tensor4D, g: ResolvedGeometry) => Tensor4D> = {
  split: splitStrategy,
  blockDiagonal: blockDiagonalStrategy,
  im2col: im2colStrategy,
  depthwise: depthwiseStrategy,
  native: nativeStrategy,
};

/**
 * Grouped 2-D convolution (PyTorch `Conv2d(groups=G)`), built from standard TF.js ops so that faster
 * kernels registered for them (e.g. by `@ldl/kernels`) apply.
 *
 * @param x input `[N, H, W, in]` (NHWC).
 * @param filter `[k_h, k_w, in/groups, out]` — PyTorch's `[out, in/groups, k_h, k_w]` transposed
 *   `(2, 3, 1, 0)`; output channel `o` reads input group `floor(o / (out/groups))`.
 * @param options groups, strides, symmetric padding, dilations, strategy (see {@link GroupedConvStrategy}).
 * @returns `[N, Ho, Wo, out]` with `Ho = floor((H + 2p - d(k-1) - 1)/s) + 1`.
 */
export function groupedConv2d(x: Tensor4D, filter: Tensor4D, options: GroupedConv2dOptions = {}): Tensor4D {
  const strategy = options.strategy ?? 'auto';
  assertStrategy('groupedConv2d', strategy);
  const g = geometry(x, filter, options);
  const resolved = resolveGroupedConvStrategy(strategy);
  // One group is an ordinary convolution: every strategy would only add overhead.
  if (g.groups === 1) return tidy(() => convValid(x, filter, g));
  return tidy(() => STRATEGY_FNS[resolved](x, filter, g));
}
