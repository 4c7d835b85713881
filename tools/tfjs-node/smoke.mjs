// Smoke check of the tfjs-node package built by tools/tfjs-node/build.sh (run by it at the end).
//
//   LDL_TFJS_NODE=/abs/path/to/build/node_modules/@tensorflow/tfjs-node node tools/tfjs-node/smoke.mjs
//
// 1. Loads the workspace's @tensorflow/tfjs-core (and tfjs-backend-cpu) first, then tfjs-node the way the
//    team's loader does (`createRequire(import.meta.url)(process.env.LDL_TFJS_NODE)`), and checks that
//    both copies of tfjs-core are 4.22.0 and share one engine, so the workspace's tfjs-core runs on the
//    'tensorflow' backend.
// 2. conv2d forward and gradients on 'tensorflow' against the pure-JS 'cpu' backend.
// 3. TensorFlow's native grouped Conv2D (filter depth = in/groups) through
//    `engine().runKernel('Conv2D' | 'Conv2DBackpropInput' | 'Conv2DBackpropFilter')`, forward and
//    gradients, against a split-into-groups reference computed on 'cpu'.
// Prints one `SMOKE ...` line per check; exits 1 if a required check fails.
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const TOL = 1e-4;
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkgPath = process.env.LDL_TFJS_NODE;
if (!pkgPath) {
  console.error('Error in smoke.mjs: LDL_TFJS_NODE must be the absolute path of the built tfjs-node package, but got nothing.');
  process.exit(2);
}

let failures = 0;
function report(check, ok, details, required = true) {
  if (!ok && required) failures += 1;
  const status = ok ? 'ok' : required ? 'FAIL' : 'no';
  console.log(`SMOKE check=${check} ${status}${details ? ` ${details}` : ''}`);
}

// --- 1. one engine for the workspace's tfjs-core and tfjs-node's own copy ----------------------------
const workspaceRequire = createRequire(join(REPO, 'packages/kernels/package.json'));
const importFrom = (specifier) => import(pathToFileURL(workspaceRequire.resolve(specifier)).href);
const tf = await importFrom('@tensorflow/tfjs-core');
await importFrom('@tensorflow/tfjs-backend-cpu');

const warnings = [];
const warn = console.warn;
console.warn = (...args) => warnings.push(args.join(' '));
const t0 = performance.now();
const tfn = createRequire(import.meta.url)(pkgPath);
const loadMs = performance.now() - t0;
console.warn = warn;

const coreFile = workspaceRequire.resolve('@tensorflow/tfjs-core');
const nodeCoreFile = createRequire(join(pkgPath, 'package.json')).resolve('@tensorflow/tfjs-core');
report('load', true, `ms=${loadMs.toFixed(0)} tfjs-node=${tfn.version['tfjs-node']} libtensorflow=${tfn.backend().binding.TF_Version} ` +
  `duplicate-registration-warnings=${warnings.length}`);
report('versions', tf.version_core === '4.22.0' && tfn.version['tfjs-core'] === '4.22.0',
  `workspace-tfjs-core=${tf.version_core} tfjs-node-tfjs-core=${tfn.version['tfjs-core']} separate-copies=${coreFile !== nodeCoreFile}`);
const probe = tf.add(tf.ones([2]), 1);
report('shared-engine', tf.engine() === tfn.engine() && tf.getBackend() === 'tensorflow' &&
  tf.getKernel('Conv2D', 'tensorflow') !== undefined && probe instanceof tfn.Tensor &&
  tf.engine().state.tensorInfo.get(probe.dataId).backend === tfn.backend(),
  `workspace getBackend()=${tf.getBackend()} same-engine=${tf.engine() === tfn.engine()}`);
probe.dispose();

// --- helpers -----------------------------------------------------------------------------------------
/** Deterministic values in [-1, 1) (same on every backend). */
function values(n, seed) {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}
const size = (shape) => shape.reduce((a, b) => a * b, 1);
const input = (shape, seed) => tf.tensor(values(size(shape), seed), shape);

/** Runs `fn` on `backend` and returns the data of the tensors it returns. */
async function on(backend, fn) {
  await tf.setBackend(backend);
  const out = fn();
  const data = await Promise.all(out.map((t) => t.data()));
  tf.dispose(out);
  await tf.setBackend('tensorflow');
  return data;
}

function relErr(actual, expected) {
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return actual.length === expected.length ? diff / scale : Infinity;
}

function compare(check, actual, expected, names) {
  const errs = names.map((n, i) => `${n}=${relErr(actual[i], expected[i]).toExponential(1)}`);
  const ok = names.every((_, i) => relErr(actual[i], expected[i]) <= TOL);
  report(check, ok, `max-rel-err ${errs.join(' ')} (tol ${TOL})`);
}

// --- 2. plain conv2d forward + gradients: 'tensorflow' vs 'cpu' --------------------------------------
{
  const xs = [2, 9, 9, 3];
  const fs = [3, 3, 3, 4];
  const run = () => {
    const x = input(xs, 1);
    const f = input(fs, 2);
    const w = input([2, 5, 5, 4], 3);
    const loss = (a, b) => tf.sum(tf.mul(tf.conv2d(a, b, 2, 'same'), w));
    const y = tf.conv2d(x, f, 2, 'same');
    const [dx, df] = tf.grads(loss)([x, f]);
    return [y, dx, df];
  };
  compare('conv2d', await on('tensorflow', run), await on('cpu', run), ['y', 'dx', 'dfilter']);
}

// --- 3. native grouped Conv2D ----------------------------------------------------------------------
function splitReference(x, f, groups, strides, pad, dilations) {
  const xs = tf.split(x, groups, 3);
  const fs = tf.split(f, groups, 3);
  return tf.concat(xs.map((xi, i) => tf.conv2d(xi, fs[i], strides, pad, 'NHWC', dilations)), 3);
}

function nativeForward(x, f, strides, pad, dilations) {
  return tf.engine().runKernel('Conv2D', { x, filter: f },
    { strides, pad, dataFormat: 'NHWC', dilations, dimRoundingMode: undefined });
}

/** Native grouped conv whose gradient runs TensorFlow's own backprop kernels on the grouped filter. */
function nativeGrouped(strides, pad) {
  return tf.customGrad((x, f, save) => {
    save([x, f]);
    return {
      value: nativeForward(x, f, strides, pad, [1, 1]),
      gradFunc: (dy, [xs, fs]) => {
        const attrs = { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
        return [
          tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: fs }, { ...attrs, inputShape: xs.shape }),
          tf.engine().runKernel('Conv2DBackpropFilter', { x: xs, dy }, { ...attrs, filterShape: fs.shape }),
        ];
      },
    };
  });
}

const cases = [
  { name: 'grouped-s2-same', xs: [2, 9, 9, 8], fs: [3, 3, 2, 12], groups: 4, strides: [2, 2], pad: 'same' },
  { name: 'grouped-s1-valid', xs: [1, 8, 7, 6], fs: [3, 2, 2, 9], groups: 3, strides: [1, 1], pad: 'valid' },
  { name: 'grouped-1x1-s2', xs: [2, 6, 6, 32], fs: [1, 1, 1, 32], groups: 32, strides: [2, 2], pad: 'valid' },
];
for (const c of cases) {
  const withGrads = (conv) => {
    const x = input(c.xs, 4);
    const f = input(c.fs, 5);
    const y = conv(x, f);
    const w = input(y.shape, 6);
    const [dx, df] = tf.grads((a, b) => tf.sum(tf.mul(conv(a, b), w)))([x, f]);
    return [y, dx, df];
  };
  const reference = await on('cpu', () => withGrads((a, b) => splitReference(a, b, c.groups, c.strides, c.pad, [1, 1])));
  let native;
  try {
    native = await on('tensorflow', () => withGrads(nativeGrouped(c.strides, c.pad)));
  } catch (e) {
    await tf.setBackend('tensorflow');
    report(c.name, false, `x=[${c.xs}] filter=[${c.fs}] groups=${c.groups}: ${e.message.split('\n')[0]}`);
    continue;
  }
  compare(`${c.name} x=[${c.xs}] filter=[${c.fs}] groups=${c.groups} strides=[${c.strides}] pad=${c.pad}`,
    native, reference, ['y', 'dx(Conv2DBackpropInput)', 'dfilter(Conv2DBackpropFilter)']);
}

// Dilated grouped forward (tfjs-node's backprop kernels always pass dilations 1, so forward only).
{
  const xs = [1, 10, 10, 6];
  const fs = [3, 3, 2, 6];
  const args = [[1, 1], 'valid', [2, 2]];
  const ref = await on('cpu', () => [splitReference(input(xs, 7), input(fs, 8), 3, ...args)]);
  const nat = await on('tensorflow', () => [nativeForward(input(xs, 7), input(fs, 8), ...args)]);
  compare(`grouped-dilated-forward x=[${xs}] filter=[${fs}] groups=3 dilations=[2,2]`, nat, ref, ['y']);
}

// Informational: TF.js's stock Conv2D gradient assumes an ungrouped filter, so tf.grad straight through
// runKernel('Conv2D') with a grouped filter is expected to fail; a grouped op needs its own gradient
// (customGrad as above).
try {
  tf.tidy(() => tf.grads((a, b) => tf.sum(nativeForward(a, b, [1, 1], 'same', [1, 1])))([input([1, 4, 4, 4], 9), input([3, 3, 2, 4], 10)]));
  report('stock-gradient-through-grouped-runKernel', true, 'works', false);
} catch (e) {
  report('stock-gradient-through-grouped-runKernel', false, `fails as expected: ${e.message.split('\n')[0]}`, false);
}

if (failures > 0) {
  console.error(`smoke.mjs: ${failures} check(s) failed`);
  process.exit(1);
}
console.log('SMOKE all required checks passed');
