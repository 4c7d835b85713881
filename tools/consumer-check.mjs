#!/usr/bin/env node
// Consumer check: proves `npm install @ldl/core` (and the other published packages) works outside the workspace.
// Builds every package, `pnpm pack`s it, installs the tarballs into a scratch project in the OS temp dir with npm,
// then imports each package from ESM and from CJS and computes an LDL loss on the cpu backend, and runs the installed
// `ldl` command: --help, a tiny training on synthetic faces, and a prediction with the model it saved.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const packages = ['core', 'algorithms', 'backbones', 'face-prep', 'kernels', 'train', 'cli'];
const run = (cmd, args, cwd) => {
  console.log(`$ ${cmd} ${args.join(' ')}   (in ${cwd})`);
  execFileSync(cmd, args, { cwd, stdio: 'inherit' });
};

const scratch = mkdtempSync(join(tmpdir(), 'ldl-consumer-'));
const tarballs = join(scratch, 'tarballs');
try {
  run('pnpm', ['-r', '--filter', './packages/**', 'run', 'build'], root);
  for (const name of packages) {
    run('pnpm', ['pack', '--pack-destination', tarballs], join(root, 'packages', name));
  }
  const files = readdirSync(tarballs);
  const tarballOf = (name) => {
    const file = files.find((f) => f.startsWith(`ldl-${name}-`) && f.endsWith('.tgz'));
    if (!file) throw new Error(`consumer-check: no tarball for @ldl/${name} in ${tarballs}: ${files.join(', ')}`);
    return `file:${join(tarballs, file)}`;
  };
  const ldlDeps = Object.fromEntries(packages.map((n) => [`@ldl/${n}`, tarballOf(n)]));
  const trainPeers = JSON.parse(readFileSync(join(root, 'packages/train/package.json'), 'utf8')).peerDependencies;
  const tf = trainPeers['@tensorflow/tfjs-core'];
  const app = join(scratch, 'app');
  run('mkdir', ['-p', app], scratch);
  writeFileSync(join(app, 'package.json'), JSON.stringify({
    name: 'ldl-consumer-check', private: true, version: '0.0.0',
    dependencies: {
      ...ldlDeps,
      '@tensorflow/tfjs-core': tf, '@tensorflow/tfjs-layers': tf, '@tensorflow/tfjs-backend-cpu': tf,
      // The weights of the pretrained check below: an optional peer of @ldl/backbones and @ldl/train, installed by the user.
      '@vladmandic/face-api': trainPeers['@vladmandic/face-api'],
    },
    // Workspace deps were rewritten by pnpm pack to plain versions; point them at the local tarballs too.
    overrides: ldlDeps,
  }, null, 2));
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], app);
  // The face detector's stack is @ldl/face-prep's optional peers: installing every @ldl package must not pull it in.
  for (const name of ['@vladmandic/human', '@tensorflow/tfjs', '@tensorflow/tfjs-converter']) {
    if (existsSync(join(app, 'node_modules', name))) throw new Error(`consumer-check: installing the @ldl packages installed ${name}, which only face detection needs (an optional peer of @ldl/face-prep).`);
  }
  console.log('consumer-check: no face-detector stack installed (@vladmandic/human, @tensorflow/tfjs, tfjs-converter absent)');

  const esm = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ldlLoss, expectedAge, mae } from '@ldl/core';
import * as backbones from '@ldl/backbones';
import * as facePrep from '@ldl/face-prep';
import * as kernels from '@ldl/kernels';
import * as train from '@ldl/train';
import { SaBfgs } from '@ldl/algorithms';
import { parseCsv } from '@ldl/core/node';
import { groupedConv2d } from '@ldl/kernels/ops';
import { exportOnnx, readOnnxModel } from '@ldl/backbones/onnx';
if (typeof groupedConv2d !== 'function') throw new Error('ESM: @ldl/kernels/ops has no groupedConv2d');
await tf.setBackend('cpu');
// The ONNX export entry (protobufjs inside), from the tarball.
const onnxInfo = readOnnxModel(exportOnnx(backbones.resnet18({ inputShape: [32, 32, 3], numClasses: 3, widthScale: 0.125 }), { metadata: { k: 'v' } }));
if (onnxInfo.opsets[''] !== 17 || onnxInfo.metadata.k !== 'v') throw new Error('ESM: @ldl/backbones/onnx exportOnnx wrote ' + JSON.stringify(onnxInfo));
const csv = parseCsv('\\ufeffpath,age\\r\\n"a,\\nb.jpg",31\\n', 'check.csv');
if (csv.rows.length !== 1 || csv.rows[0].fields[0] !== 'a,\\nb.jpg' || csv.header[0] !== 'path') throw new Error('ESM: @ldl/core/node parseCsv misread a quoted field');
const logits = tf.randomNormal([4, 101], 0, 1, 'float32', 7);
const loss = ldlLoss(logits, [3, 25.5, 60, 99]).dataSync()[0];
if (!Number.isFinite(loss) || loss <= 0) throw new Error('ESM: bad loss ' + loss);
// Gradients: tfjs-core registers none in Node; @ldl/backbones imports tfjs-layers, whose Node bundle does.
const grad = tf.grad((x) => ldlLoss(x, [3, 25.5, 60, 99]))(logits);
if (!Array.from(grad.dataSync()).every(Number.isFinite)) throw new Error('ESM: non-finite gradient');
const pred = Array.from(expectedAge(logits).dataSync());
for (const [name, mod] of Object.entries({ backbones, facePrep, kernels, train })) {
  if (Object.keys(mod).length === 0) throw new Error('ESM: @ldl/' + name + ' exports nothing');
}
const sa = new SaBfgs({ maxIterations: 20 }).fit([[1, 0], [0, 1], [1, 1]], [[0.7, 0.3], [0.2, 0.8], [0.5, 0.5]]).predict([[1, 0]]);
if (Math.abs(sa[0][0] + sa[0][1] - 1) > 1e-9) throw new Error('ESM: SaBfgs prediction does not sum to 1');
// Pretrained weights from an installed npm package (@vladmandic/face-api, installed above), resolved from the tarball.
const net = await backbones.createModel('facerec_resnet34', { pretrained: true, includeTop: false });
if (net.loadReport.missing.length !== 0 || net.outputs[0].shape[1] !== 256) throw new Error('ESM: facerec_resnet34 weights did not load');
console.log('ESM ok: ldlLoss =', loss.toFixed(6), 'MAE =', mae(pred, [3, 25.5, 60, 99]).toFixed(3), '; createModel facerec_resnet34.faceapi:', net.loadReport.loaded.length, 'weights');
`;
  const cjs = `
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const { ldlLoss } = require('@ldl/core');
if (require('@ldl/core/node').parseCsv('path,age\\n"x.jpg",3\\n', 'check.csv').rows[0].fields[1] !== '3') throw new Error('CJS: @ldl/core/node parseCsv failed');
for (const name of ['@ldl/algorithms', '@ldl/backbones', '@ldl/backbones/onnx', '@ldl/face-prep', '@ldl/kernels', '@ldl/train']) {
  if (Object.keys(require(name)).length === 0) throw new Error('CJS: ' + name + ' exports nothing');
}
tf.setBackend('cpu').then(async () => {
  const loss = ldlLoss(tf.randomNormal([4, 101], 0, 1, 'float32', 7), [3, 25.5, 60, 99]).dataSync()[0];
  if (!Number.isFinite(loss) || loss <= 0) throw new Error('CJS: bad loss ' + loss);
  const net = await require('@ldl/backbones').createModel('facerec_resnet34', { pretrained: true });
  if (net.loadReport.missing.length !== 0) throw new Error('CJS: facerec_resnet34 weights did not load');
  console.log('CJS ok: ldlLoss =', loss.toFixed(6), '; createModel facerec_resnet34.faceapi loaded');
});
`;
  writeFileSync(join(app, 'check.mjs'), esm);
  writeFileSync(join(app, 'check.cjs'), cjs);
  run('node', ['check.mjs'], app);
  run('node', ['check.cjs'], app);

  // The published command, from node_modules/.bin as `npm install @ldl/cli` leaves it.
  const ldl = (...args) => {
    console.log(`$ ldl ${args.join(' ')}   (in ${app})`);
    return execFileSync(join(app, 'node_modules', '.bin', 'ldl'), args, { cwd: app, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  };
  const help = ldl('--help');
  for (const command of ['train', 'eval', 'predict', 'preprocessor', 'prep', 'cv']) {
    if (!help.includes(`  ${command} `)) throw new Error(`consumer-check: 'ldl --help' does not list ${command}:\n${help}`);
  }
  console.log(help);
  // Tiny and fast: 32 px, 1/16 of the channels, one epoch on the generated synthetic faces, one wasm thread.
  const tiny = ['--image-size', '32', '--width-scale', '0.0625', '--backend', 'wasm', '--wasm-threads', '1', '--runs-dir', 'runs'];
  const trained = ldl('train', '--preset', 'small', '--synthetic', '--epochs', '1', '--run-dir', 'run', ...tiny);
  console.log(trained.trim().split('\n').slice(-3).join('\n'));
  const config = JSON.parse(readFileSync(join(app, 'run', 'config.json'), 'utf8'));
  if (config.preset !== 'small' || config.epochs !== 1) throw new Error(`consumer-check: run/config.json is not the resolved settings: ${JSON.stringify(config)}`);
  // The saved preprocessing, read through the browser-safe subpath the demo uses.
  writeFileSync(join(app, 'preprocessor.mjs'), `
import { readFileSync } from 'node:fs';
import { parsePreprocessorConfig } from '@ldl/train/preprocessor';
const p = parsePreprocessorConfig(JSON.parse(readFileSync('run/best/preprocessor.json', 'utf8')), 'run/best/preprocessor.json');
if (p.inputSize !== 32 || p.numClasses !== 101) throw new Error('preprocessor.json: unexpected ' + JSON.stringify(p));
console.log('preprocessor.json ok:', p.inputSize, 'px,', p.colorOrder, ', heads', p.heads.join(','));
`);
  run('node', ['preprocessor.mjs'], app);
  const predicted = ldl('predict', '--checkpoint', 'run', join('runs', 'synthetic-megaage', 'test', 'test_00000.jpg'), '--backend', 'wasm', '--wasm-threads', '1');
  if (!/test_00000\.jpg: age \d+\.\d\ntop of the distribution: /.test(predicted)) throw new Error(`consumer-check: ldl predict printed no age:\n${predicted}`);
  console.log(predicted.trim());
  console.log('consumer-check: passed');
} finally {
  if (!process.env.KEEP_SCRATCH) rmSync(scratch, { recursive: true, force: true });
}
