// ONNX export parity: onnxruntime-node (CPU) against tfjs (cpu backend), max |Δ| < 1e-4 on every output, for
// every backbone variant, the multi-task model and the face-api networks, at batch 1 and 5, in both layouts,
// with and without the probabilities / expected-age outputs. Each case prints its max |Δ|.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { input, layers, model as functionalModel, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ageGenderNet,
  backbones,
  createModel,
  faceRecognitionNet,
  importPyTorchWeights,
  multiTaskAgeModel,
  readSafetensors,
  resnet,
  ResizeBilinear,
  vgg,
  type BackboneName,
  type ResNetConfig,
  type VggConfig,
  type WeightSource,
} from '@ldl/backbones';
import { exportOnnx, ONNX_IR_VERSION, ONNX_OPSET, readOnnxModel, tritonConfig, writeTritonRepository, type OnnxLayout } from '@ldl/backbones/onnx';
import { useCpu } from './helpers';

beforeAll(useCpu);

const TOLERANCE = 1e-4;
// expected_age is in years (0…100): Σ (minAge + k)·p_k turns a 1e-5 logit difference into up to ~1e-3 years.
const TOLERANCE_YEARS = 1e-3;
const results: string[] = [];
afterAll(() => {
  if (results.length) console.log(`ONNX parity (onnxruntime-node ${ort.env.versions.common} vs tfjs cpu), max |Δ| over batch 1 and 5, NHWC and NCHW, every output:\n${results.join('\n')}`);
});

/**
 * Every weight drawn again from a seed, so that a case is the same on every run: kernels normal with std
 * `1/√fan-in` (activations keep their scale through deep stacks), batch-norm statistics and biases uniform
 * (fresh blocks have a zero last gamma, which would hide their residual branch).
 */
function randomizeWeights(model: LayersModel, seed: number): void {
  let s = seed;
  for (const w of model.weights) {
    const name = w.originalName;
    const leaf = name.slice(name.lastIndexOf('/') + 1);
    const shape = w.shape as number[];
    const around1 = ['gamma', 'moving_variance', 'weights'].includes(leaf);
    const around0 = ['beta', 'moving_mean', 'bias', 'biases'].includes(leaf);
    const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    w.write(
      tf.tidy(() =>
        around1 || around0 ? tf.randomUniform(shape, around1 ? 0.5 : -0.2, around1 ? 1.5 : 0.2, 'float32', s++) : tf.randomNormal(shape, 0, 1 / Math.sqrt(fanIn), 'float32', s++),
      ),
    );
  }
}

/** Input `[n, H, W, C]`, seeded, roughly normalised pixels. */
const images = (n: number, shape: readonly (number | null)[], seed: number) => tf.randomNormal([n, ...(shape.slice(1) as number[])], 0, 1, 'float32', seed) as tf.Tensor;

async function maxDiff(a: Float32Array, b: Float32Array): Promise<number> {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** tfjs reference of the extra outputs: softmax of the age logits and Σ (minAge + k)·p_k. */
function extras(age: tf.Tensor2D, minAge: number): { probabilities: Float32Array; expected_age: Float32Array } {
  return tf.tidy(() => {
    const p = tf.softmax(age);
    const k = tf.add(tf.range(0, age.shape[1], 1, 'float32'), minAge);
    return { probabilities: p.dataSync() as Float32Array, expected_age: tf.sum(tf.mul(p, k), 1).dataSync() as Float32Array };
  });
}

/**
 * Exports `model` four ways (NHWC/NCHW × with/without extras), runs each in onnxruntime at batch 1 and 5 and
 * compares every output with tfjs' `predict`; returns the largest |Δ|.
 */
async function parity(label: string, model: LayersModel, opts: { ageOutput?: string; extras?: boolean; minAge?: number } = {}): Promise<number> {
  const outputNames = model.outputs.map((o) => o.sourceLayer.name.replace(/[^A-Za-z0-9_.]/g, '_'));
  const withExtras = opts.extras ?? true;
  const minAge = opts.minAge ?? 0;
  const ageIndex = opts.ageOutput ? outputNames.indexOf(opts.ageOutput) : outputNames.includes('age') ? outputNames.indexOf('age') : 0;
  let worst = 0;
  let worstYears = 0;
  const perBatch: Record<number, { x: tf.Tensor; expected: Record<string, Float32Array> }> = {};
  for (const n of [1, 5]) {
    const x = images(n, model.inputs[0]!.shape, 17 + n);
    const ys = model.predict(x) as tf.Tensor | tf.Tensor[];
    const list = Array.isArray(ys) ? ys : [ys];
    const expected: Record<string, Float32Array> = {};
    list.forEach((y, i) => (expected[outputNames[i]!] = y.dataSync() as Float32Array));
    if (withExtras) Object.assign(expected, extras(list[ageIndex] as tf.Tensor2D, minAge));
    list.forEach((y) => y.dispose());
    perBatch[n] = { x, expected };
  }
  for (const layout of ['nhwc', 'nchw'] as OnnxLayout[]) {
    for (const extra of withExtras ? [false, true] : [false]) {
      const bytes = exportOnnx(model, { layout, probabilities: extra, expectedAge: extra, minAge, ...(opts.ageOutput ? { ageOutput: model.outputs[ageIndex]!.sourceLayer.name } : {}) });
      const session = await ort.InferenceSession.create(bytes);
      expect(session.outputNames).toEqual([...outputNames, ...(extra ? ['probabilities', 'expected_age'] : [])]);
      for (const n of [1, 5]) {
        const { x, expected } = perBatch[n]!;
        const xl = layout === 'nchw' ? tf.transpose(x, [0, 3, 1, 2]) : x;
        const feed = new ort.Tensor('float32', xl.dataSync() as Float32Array, xl.shape);
        if (xl !== x) xl.dispose();
        const out = await session.run({ [session.inputNames[0]!]: feed });
        for (const name of session.outputNames) {
          const d = await maxDiff(out[name]!.data as Float32Array, expected[name]!);
          const years = name === 'expected_age';
          expect(d, `${label} ${layout} batch ${n} output ${name}`).toBeLessThan(years ? TOLERANCE_YEARS : TOLERANCE);
          if (years) worstYears = Math.max(worstYears, d);
          else worst = Math.max(worst, d);
        }
      }
      await session.release();
    }
  }
  Object.values(perBatch).forEach(({ x }) => x.dispose());
  const line = `${label}: max |Δ| = ${worst.toExponential(2)}${withExtras ? ` (outputs and probabilities), expected_age ${worstYears.toExponential(2)} years` : ''}`;
  results.push(`  ${line}`);
  console.log(`onnx parity ${line}`);
  return worst;
}

// The timm parity fixtures (tools/reference/backbones_parity.py): timm's weights and random BN statistics.
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const meta = JSON.parse(readFileSync(fixture('parity.json'), 'utf8')) as {
  cases: Record<string, { family: 'resnet' | 'vgg'; source: WeightSource; tfjsConfig: ResNetConfig | VggConfig }>;
};

describe('exportOnnx: onnxruntime-node equals tfjs (max |Δ| < 1e-4)', () => {
  it.each(Object.entries(meta.cases))('tiny %s (timm parity fixture weights)', async (name, c) => {
    const model = c.family === 'vgg' ? vgg(c.tfjsConfig as VggConfig) : resnet(c.tfjsConfig as ResNetConfig);
    importPyTorchWeights(model, readSafetensors(readFileSync(fixture(`${name}.safetensors`))), { source: c.source, strict: true });
    await parity(name, model);
    model.dispose();
  });

  const variants: [BackboneName, number, number][] = [
    ['resnet18', 0.25, 64],
    ['resnet34', 0.25, 64],
    ['resnet50', 0.25, 64],
    ['resnext50_32x4d', 0.25, 64],
    ['seresnext50_32x4d', 0.25, 64],
    ['vgg16bn', 0.125, 32],
  ];
  it.each(variants)('%s (full depth, width ×%s, %s px, seeded random weights)', async (name, widthScale, size) => {
    const model = backbones[name]({ widthScale, numClasses: 101, inputShape: [size, size, 3] });
    randomizeWeights(model, 3);
    await parity(`${name} w${widthScale} ${size}px`, model);
    model.dispose();
  }, 300_000);

  it('the multi-task model (age + gender + ethnicity heads on SE-ResNeXt-50)', async () => {
    const model = multiTaskAgeModel({ backbone: 'seresnext50_32x4d', widthScale: 0.125, depthScale: 0.34, inputShape: [64, 64, 3] });
    randomizeWeights(model, 5);
    await parity('multitask seresnext50_32x4d w0.125', model, { minAge: 16 });
    model.dispose();
  });

  it("the face-recognition ResNet (dlib's, face-api.js weights) and a 1-conv Keras ResNet v1 stem", async () => {
    const facerec = await createModel('facerec_resnet34', { pretrained: true });
    await parity('facerec_resnet34 (face-api weights) 150px', facerec, { extras: false });
    facerec.dispose();
    // Keras' ResNet-50 v1 settings (conv biases, stride on the 1×1, eps 1e-3), small.
    const keras = resnet({ depths: [1, 1, 1, 1], strideIn1x1: true, convBias: true, bnEpsilon: 1e-3, widthScale: 0.125, numClasses: 7, inputShape: [48, 48, 3] });
    randomizeWeights(keras, 9);
    await parity('resnet v1 (Keras settings) tiny', keras);
    keras.dispose();
  }, 300_000);

  it("AgeGenderNet (face-api.js's TinyXception: separable convs, 'same' max-pools, flatten, softmax head)", async () => {
    const net = await createModel('agegender_tinyxception', { pretrained: true });
    await parity('agegender_tinyxception (face-api weights) 112px', net, { extras: false });
    net.dispose();
  }, 300_000);

  it("HSE FaceRes' MobileNet v1 (ReLU6 as Clip, depthwise convolutions with bias, two heads), Human's faceres-deep weights at 96 px", async () => {
    // Random weights make ReLU6 outputs vanish (a max |Δ| of 1e-27 proves nothing): the real weights, as createModel loads them.
    const net = await createModel('faceres_mobilenet', { pretrained: true, inputShape: [96, 96, 3] });
    await parity('faceres_mobilenet (faceres-deep weights) 96px', net, { ageOutput: 'age_pred' });
    net.dispose();
  }, 300_000);

  it('a preset-shaped age model: a nested backbone behind a bilinear resize, pooled stages, batch-normalised head', async () => {
    const trunk = faceRecognitionNet({ inputShape: [104, 104, 3], includeTop: false });
    const inner = ageGenderNet({ inputShape: [97, 97, 3], includeTop: false, name: 'agegender_inner' });
    const x = trunk.inputs[0] as SymbolicTensor;
    const mid = layers.globalAveragePooling2d({ name: 'layer3_pool' }).apply(trunk.getLayer('conv128_2').output as SymbolicTensor) as SymbolicTensor;
    const resized = new ResizeBilinear({ height: 97, width: 97, name: 'resize' }).apply(x) as SymbolicTensor;
    const extra = inner.apply(resized) as SymbolicTensor;
    const joined = layers.concatenate({ name: 'head_concat' }).apply([mid, trunk.outputs[0] as SymbolicTensor, extra]) as SymbolicTensor;
    const normed = layers.batchNormalization({ name: 'head_norm' }).apply(joined) as SymbolicTensor;
    const hidden = layers.dropout({ rate: 0.3, name: 'head_dropout' }).apply(layers.dense({ units: 32, activation: 'relu', name: 'head_hidden' }).apply(normed) as SymbolicTensor) as SymbolicTensor;
    const age = layers.dense({ units: 101, name: 'age' }).apply(hidden) as SymbolicTensor;
    const model = functionalModel({ inputs: x, outputs: age, name: 'ensemble_age' });
    randomizeWeights(model, 11);
    await parity('ensemble-shaped age model (facerec 104px + TinyXception resized to 97px)', model, { minAge: 0 });
    model.dispose();
  }, 300_000);
  it("tfjs-layers' layers and settings no model here uses (depthwise ×2 with bias, dilation, 'same' average pool, BatchNormalization, activations)", async () => {
    const x = input({ shape: [19, 17, 4], name: 'input' });
    const apply = (l: { apply: (t: SymbolicTensor) => unknown }, t: SymbolicTensor) => l.apply(t) as SymbolicTensor;
    let y = apply(layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same', useBias: true, activation: 'elu', name: 'dw' }), x);
    y = apply(layers.conv2d({ filters: 6, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'tanh', name: 'dilated' }), y);
    y = apply(layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'avg' }), y);
    y = apply(layers.batchNormalization({ epsilon: 1e-3, name: 'bn' }), y);
    // Zero padding then a max-pool on negative values, the pad as wide as the window: onnxruntime's PadFusion
    // would turn the zeros into −∞ (and refuse the pad), were the export not padding with −0.
    y = apply(layers.zeroPadding2d({ padding: [[1, 0], [0, 2]], name: 'pad' }), y);
    y = apply(layers.maxPooling2d({ poolSize: 2, padding: 'valid', name: 'max' }), y);
    y = apply(layers.activation({ activation: 'softplus', name: 'softplus' }), y);
    y = apply(layers.flatten({ name: 'flat' }), y);
    y = apply(layers.dense({ units: 9, activation: 'sigmoid', name: 'age' }), y);
    const model = functionalModel({ inputs: x, outputs: y, name: 'assorted' });
    randomizeWeights(model, 13);
    // BatchNormalization's beta well below zero: the padded max-pool sees negative values.
    const beta = model.getLayer('bn').weights.find((w) => w.originalName.endsWith('beta'))!;
    beta.write(tf.fill(beta.shape as number[], -3));
    await parity('assorted tfjs-layers layers', model, { extras: false });
    model.dispose();
  });

  it('a zero-padded max-pool of negative values (onnxruntime would fuse the zeros into −∞ padding)', async () => {
    const x = input({ shape: [6, 6, 2], name: 'input' });
    let y = layers.batchNormalization({ name: 'bn' }).apply(x) as SymbolicTensor;
    y = layers.zeroPadding2d({ padding: 1, name: 'pad' }).apply(y) as SymbolicTensor;
    y = layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'max' }).apply(y) as SymbolicTensor;
    const model = functionalModel({ inputs: x, outputs: layers.flatten({ name: 'flat' }).apply(y) as SymbolicTensor });
    const beta = model.getLayer('bn').weights.find((w) => w.originalName.endsWith('beta'))!;
    beta.write(tf.fill(beta.shape as number[], -5));
    await parity('zero pad + max-pool, negative values', model, { extras: false });
    model.dispose();
  });
});

describe('exportOnnx: the file', () => {
  const tiny = () => resnet({ depths: [1], widthScale: 0.125, numClasses: 5, inputShape: [32, 32, 3] });

  it('is opset 17, IR 8, with a dynamic batch, the layout asked for and metadata_props round-tripped', () => {
    const model = tiny();
    const preprocessor = JSON.stringify({ format: 'ldl-preprocessor', version: 2, inputSize: 32, note: 'ünïcode ✓' });
    const nhwc = readOnnxModel(exportOnnx(model, { metadata: { 'preprocessor.json': preprocessor, other: '' } }));
    expect(nhwc.irVersion).toBe(ONNX_IR_VERSION);
    expect(nhwc.opsets).toEqual({ '': ONNX_OPSET });
    expect(nhwc.metadata).toEqual({ 'preprocessor.json': preprocessor, other: '' });
    expect(nhwc.inputs).toEqual([{ name: 'input', shape: ['batch', 32, 32, 3] }]);
    expect(nhwc.outputs).toEqual([{ name: 'fc', shape: ['batch', 5] }]);
    const nchw = readOnnxModel(exportOnnx(model, { layout: 'nchw', probabilities: true, expectedAge: true, inputName: 'pixel_values' }));
    expect(nchw.inputs).toEqual([{ name: 'pixel_values', shape: ['batch', 3, 32, 32] }]);
    expect(nchw.outputs).toEqual([
      { name: 'fc', shape: ['batch', 5] },
      { name: 'probabilities', shape: ['batch', 5] },
      { name: 'expected_age', shape: ['batch', 1] },
    ]);
    expect(nchw.metadata).toEqual({});
    model.dispose();
  });

  it('names an unsupported layer class or setting, never skips it', () => {
    const x = input({ shape: [8, 8, 3], name: 'input' });
    const up = layers.upSampling2d({ size: [2, 2], name: 'up' }).apply(x) as SymbolicTensor;
    const m1 = functionalModel({ inputs: x, outputs: layers.globalAveragePooling2d({ name: 'pool' }).apply(up) as SymbolicTensor });
    expect(() => exportOnnx(m1)).toThrow(/^Error in exportOnnx: layer 'up' \(class UpSampling2D\) {2}is not supported/);
    const leaky = layers.leakyReLU({ alpha: 0.1, name: 'leaky' }).apply(x) as SymbolicTensor;
    const m2 = functionalModel({ inputs: x, outputs: layers.flatten({ name: 'flat' }).apply(leaky) as SymbolicTensor });
    expect(() => exportOnnx(m2)).toThrow(/^Error in exportOnnx: layer 'leaky' \(class LeakyReLU\) .*is not supported/);
    const selu = layers.dense({ units: 2, activation: 'selu', name: 'head' }).apply(layers.flatten({ name: 'flat' }).apply(x) as SymbolicTensor) as SymbolicTensor;
    expect(() => exportOnnx(functionalModel({ inputs: x, outputs: selu }))).toThrow("layer 'head' (class Dense) with activation 'selu' is not supported");
  });

  it('refuses bad options, naming them', () => {
    const model = multiTaskAgeModel({ backbone: 'resnet18', widthScale: 0.125, depthScale: 0.5, inputShape: [32, 32, 3] });
    expect(() => exportOnnx(model, { layout: 'NCHW' as OnnxLayout })).toThrow(`Error in exportOnnx: layout must be 'nhwc' or 'nchw', but got "NCHW".`);
    expect(() => exportOnnx(model, { expectedAge: true, ageOutput: 'nope' })).toThrow(/ageOutput must name one of the output layers \(age, gender, ethnicity\)/);
    const ag = ageGenderNet({ inputShape: [97, 97, 3] });
    expect(() => exportOnnx(ag, { probabilities: true, ageOutput: 'fc/gender' })).toThrow(/ends in a softmax already/);
    expect(() => exportOnnx(ag, { probabilities: true, ageOutput: 'fc/age' })).not.toThrow();
    model.dispose();
    ag.dispose();
  });

  const python = join(fileURLToPath(new URL('../../../tools/reference/.venv/bin/python', import.meta.url)));
  it.skipIf(!existsSync(python))("passes onnx.checker.check_model(full_check=True) (tools/reference's venv; skipped without it)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ldl-onnx-'));
    try {
      const model = multiTaskAgeModel({ backbone: 'seresnext50_32x4d', widthScale: 0.125, depthScale: 0.34, inputShape: [32, 32, 3] });
      const file = join(dir, 'm.onnx');
      writeFileSync(file, exportOnnx(model, { layout: 'nchw', probabilities: true, expectedAge: true }));
      const out = execFileSync(python, ['-c', 'import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print("ok", m.ir_version, m.opset_import[0].version)', file], { encoding: 'utf8' });
      expect(out.trim()).toBe(`ok ${ONNX_IR_VERSION} ${ONNX_OPSET}`);
      model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Triton model repository', () => {
  it('writes config.pbtxt (onnxruntime_onnx, dims without the batch, dynamic batching) and 1/model.onnx', async () => {
    const model = multiTaskAgeModel({ backbone: 'resnet18', widthScale: 0.125, depthScale: 0.5, numEthnicities: 5, inputShape: [32, 32, 3] });
    const bytes = exportOnnx(model, { layout: 'nchw', expectedAge: true });
    const dir = mkdtempSync(join(tmpdir(), 'ldl-triton-'));
    try {
      const files = await writeTritonRepository(dir, 'age', bytes, { maxBatchSize: 32, preferredBatchSizes: [8, 16], maxQueueDelayMicroseconds: 100, instanceKind: 'cpu', instanceCount: 2 });
      expect(files).toEqual({ config: join(dir, 'age', 'config.pbtxt'), model: join(dir, 'age', '1', 'model.onnx') });
      expect(readFileSync(files.model).equals(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))).toBe(true);
      const text = readFileSync(files.config, 'utf8');
      expect(text).toBe(
        [
          'name: "age"',
          'platform: "onnxruntime_onnx"',
          'max_batch_size: 32',
          'input [',
          '  {\n    name: "input"\n    data_type: TYPE_FP32\n    dims: [ 3, 32, 32 ]\n  }',
          ']',
          'output [',
          '  {\n    name: "age"\n    data_type: TYPE_FP32\n    dims: [ 101 ]\n  },',
          '  {\n    name: "gender"\n    data_type: TYPE_FP32\n    dims: [ 2 ]\n  },',
          '  {\n    name: "ethnicity"\n    data_type: TYPE_FP32\n    dims: [ 5 ]\n  },',
          '  {\n    name: "expected_age"\n    data_type: TYPE_FP32\n    dims: [ 1 ]\n  }',
          ']',
          'dynamic_batching {\n  preferred_batch_size: [ 8, 16 ]\n  max_queue_delay_microseconds: 100\n}',
          'instance_group [\n  {\n    count: 2\n    kind: KIND_CPU\n  }\n]',
          '',
        ].join('\n'),
      );
      expect(tritonConfig('age', bytes)).toContain('max_batch_size: 64\n');
      expect(() => tritonConfig('../x', bytes)).toThrow(/name must be a folder name/);
      expect(() => tritonConfig('age', bytes, { maxBatchSize: 4, preferredBatchSizes: [8] })).toThrow(/preferredBatchSizes must be at most maxBatchSize = 4/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      model.dispose();
    }
  });
});
