import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { layers, type LayerVariable } from '@tensorflow/tfjs-layers';
import { disableFastKernels, enableFastKernels, LdlBatchNormTraining, LdlGroupedConv2D } from '@ldl/kernels';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdaptiveAvgPool2D, adaptiveAvgPool2d } from './adaptive_avg_pool';
import { BasicBlock } from './basic_block';
import { BatchNorm } from './batch_norm';
import { Bottleneck } from './bottleneck';
import { GroupedConv2D } from './grouped_conv2d_layer';
import { makeDivisible, SqueezeExcite } from './squeeze_excite';

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
const weight = (layer: { weights: LayerVariable[] }, name: string) => layer.weights.find((w) => w.originalName.endsWith(name))!;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('layer getConfig round trips', () => {
  const cases: [string, () => InstanceType<typeof layers.Layer>][] = [
    ['GroupedConv2D', () => new GroupedConv2D({ name: 'g', filters: 8, kernelSize: 3, groups: 4, strides: 2, padding: 1, useBias: true })],
    ['BatchNorm', () => new BatchNorm({ name: 'bn', momentum: 0.99, epsilon: 1e-3 })],
    ['SqueezeExcite', () => new SqueezeExcite({ name: 'se', reduction: 8, divisor: 4 })],
    ['Bottleneck', () => new Bottleneck({ name: 'b', planes: 4, stride: 2, cardinality: 2, baseWidth: 32, attention: 'se', zeroInitLast: false })],
    ['Bottleneck (Keras v1)', () => new Bottleneck({ name: 'k', planes: 4, stride: 2, strideIn1x1: true, convBias: true, bnEpsilon: 1e-3 })],
    ['BasicBlock', () => new BasicBlock({ name: 'bb', planes: 8, stride: 2, attention: 'se', convBias: true, bnEpsilon: 1e-3, zeroInitLast: false })],
    ['AdaptiveAvgPool2D', () => new AdaptiveAvgPool2D({ name: 'p', outputSize: [7, 5] })],
  ];
  it.each(cases)('%s', (_, make) => {
    const layer = make();
    const cls = layer.constructor as typeof GroupedConv2D;
    const copy = cls.fromConfig(cls, layer.getConfig()) as InstanceType<typeof layers.Layer>;
    expect(copy.getConfig()).toEqual(layer.getConfig());
    expect(copy.getClassName()).toBe(cls.className);
  });
});

describe('GroupedConv2D', () => {
  it('with useBias adds a zero-initialised bias [filters]', () => {
    const layer = new GroupedConv2D({ filters: 4, kernelSize: 1, useBias: true });
    const x = tf.randomNormal([1, 2, 2, 3]);
    const y = layer.apply(x) as tf.Tensor;
    expect(layer.weights.map((w) => w.shape)).toEqual([[1, 1, 3, 4], [4]]);
    weight(layer, 'bias').write(tf.tensor1d([1, 2, 3, 4]));
    expect(maxDiff(layer.apply(x) as tf.Tensor, tf.add(y, tf.tensor1d([1, 2, 3, 4])))).toBeLessThan(1e-6);
  });

  it('has one kernel [k, k, in/groups, out] and computes PyTorch output sizes', () => {
    const layer = new GroupedConv2D({ filters: 12, kernelSize: 3, groups: 4, strides: 2, padding: 1 });
    const y = layer.apply(tf.randomNormal([2, 9, 8, 8])) as tf.Tensor;
    expect(layer.weights.map((w) => w.shape)).toEqual([[3, 3, 2, 12]]);
    expect(y.shape).toEqual([2, 5, 4, 12]);
    expect(layer.computeOutputShape([null, 9, 8, 8])).toEqual([null, 5, 4, 12]);
    expect(() => new GroupedConv2D({ filters: 10, kernelSize: 3, groups: 4 })).toThrow('Error in GroupedConv2D: filters must be divisible by groups = 4, but got 10.');
  });
});

describe('SqueezeExcite', () => {
  it('hidden width follows timm make_divisible(C/16, 8)', () => {
    expect([256, 512, 1024, 2048, 32].map((c) => makeDivisible(c / 16))).toEqual([16, 32, 64, 128, 8]);
  });

  it('scales each channel by sigmoid(fc2(relu(fc1(mean))))', () => {
    const layer = new SqueezeExcite({ reduction: 2, divisor: 1 });
    const x = tf.randomNormal([2, 3, 3, 4], 0, 1, 'float32', 5);
    const y = layer.apply(x) as tf.Tensor;
    const [k1, b1, k2, b2] = ['fc1/kernel', 'fc1/bias', 'fc2/kernel', 'fc2/bias'].map((n) => weight(layer, n).read());
    const s = tf.mean(x, [1, 2]);
    const gate = tf.sigmoid(tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(s, k1 as tf.Tensor2D), b1!)) as tf.Tensor2D, k2 as tf.Tensor2D), b2!));
    expect(k1!.shape).toEqual([4, 2]);
    expect(maxDiff(y, tf.mul(x, tf.reshape(gate, [2, 1, 1, 4])))).toBeLessThan(1e-6);
  });
});

describe('Bottleneck', () => {
  it('adds a downsample shortcut only when stride or width changes; SE weights named like timm', () => {
    const a = new Bottleneck({ planes: 4, attention: 'se' });
    a.apply(tf.zeros([1, 4, 4, 16]));
    expect(a.weights.some((w) => w.originalName.includes('downsample'))).toBe(false);
    expect(a.weights.map((w) => w.originalName.split('/').slice(1).join('/'))).toContain('se/fc1/kernel');
    const b = new Bottleneck({ planes: 4, stride: 2, cardinality: 2, baseWidth: 32 });
    const y = b.apply(tf.zeros([1, 5, 5, 8])) as tf.Tensor;
    expect(y.shape).toEqual([1, 3, 3, 16]);
    expect(weight(b, 'conv2/kernel').shape).toEqual([3, 3, 2, 4]);
    expect(weight(b, 'downsample/0/kernel').shape).toEqual([1, 1, 8, 16]);
    expect(b.trainableWeights.some((w) => w.originalName.endsWith('moving_mean'))).toBe(false);
  });

  it('training mode updates moving statistics with the TF momentum (PyTorch 0.1 ⇒ 0.9)', () => {
    const b = new Bottleneck({ planes: 2, expansion: 2 });
    const x = tf.randomNormal([2, 3, 3, 4], 3, 1, 'float32', 9);
    b.apply(x, { training: true });
    const batchMean = tf.mean(tf.conv2d(x as tf.Tensor4D, weight(b, 'conv1/kernel').read() as tf.Tensor4D, 1, 'valid'), [0, 1, 2]);
    expect(maxDiff(weight(b, 'bn1/moving_mean').read(), tf.mul(batchMean, 0.1))).toBeLessThan(1e-5);
  });

  it("trains the same with @ldl/kernels' batch-norm and grouped-convolution kernels as with tfjs ops", () => {
    const x = tf.randomNormal([2, 5, 5, 16], 1, 2, 'float32', 4);
    const dy = tf.randomNormal([2, 3, 3, 32], 0, 1, 'float32', 5);
    // One block and one training step: output, every trainable gradient, moving statistics after.
    const step = () => {
      const b = new Bottleneck({ planes: 8, stride: 2, cardinality: 4, baseWidth: 16, attention: 'se', zeroInitLast: false });
      b.build([2, 5, 5, 16]);
      b.setWeights(b.weights.map((w, i) => tf.abs(tf.randomNormal(w.shape as number[], 0.5, 0.3, 'float32', 100 + i))));
      const vars = b.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(b.apply(x, { training: true }) as tf.Tensor, dy)) as tf.Scalar, vars);
      return [value, ...vars.map((v) => grads[v.name]!), ...b.nonTrainableWeights.map((w) => w.read())];
    };
    disableFastKernels();
    const stock = step();
    enableFastKernels({ backends: ['cpu'] });
    try {
      expect(tf.getKernel(LdlBatchNormTraining, 'cpu')).toBeDefined();
      expect(tf.getKernel(LdlGroupedConv2D, 'cpu')).toBeDefined();
      const fast = step();
      expect(fast.length).toBe(stock.length);
      fast.forEach((t, i) => expect(maxDiff(t, stock[i]!) / Math.max(1e-6, tf.max(tf.abs(stock[i]!)).dataSync()[0]!), `tensor ${i}`).toBeLessThan(1e-4));
    } finally {
      disableFastKernels();
    }
  });
});

describe('BatchNorm', () => {
  /** A BatchNorm and a tfjs-layers BatchNormalization with the same random weights, built for `shape`. */
  function pair(shape: number[]) {
    const ours = new BatchNorm({ momentum: 0.9, epsilon: 1e-3 });
    const theirs = layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 });
    ours.build(shape);
    theirs.build(shape);
    const values = theirs.weights.map((w, i) => (w.originalName.endsWith('moving_variance') ? tf.randomUniform(w.shape as number[], 0.5, 1.5, 'float32', i) : tf.randomNormal(w.shape as number[], 0, 0.5, 'float32', i)));
    theirs.setWeights(values);
    ours.setWeights(values);
    return { ours, theirs };
  }

  it("has tfjs-layers BatchNormalization's weight names and equals it in training and inference, any rank", () => {
    for (const shape of [
      [3, 4, 5, 6],
      [8, 6],
    ]) {
      const { ours, theirs } = pair(shape);
      expect(ours.weights.map((w) => w.originalName.split('/').at(-1))).toEqual(theirs.weights.map((w) => w.originalName.split('/').at(-1)));
      expect(ours.trainableWeights.length).toBe(2);
      const x = tf.randomNormal(shape, 2, 3, 'float32', 9);
      for (const training of [false, true]) {
        const a = ours.apply(x, { training }) as tf.Tensor;
        const b = theirs.apply(x, { training }) as tf.Tensor;
        expect(maxDiff(a, b), `${shape} training ${training}`).toBeLessThan(1e-5);
      }
      // One training call updated the moving statistics of both the same way.
      ours.weights.forEach((w, i) => expect(maxDiff(w.read(), theirs.weights[i]!.read()), w.originalName).toBeLessThan(1e-6));
    }
  });

  it('runs in inference mode when frozen: moving statistics used and left unchanged', () => {
    const { ours } = pair([2, 3, 3, 6]);
    ours.trainable = false;
    const x = tf.randomNormal([2, 3, 3, 6], 2, 3, 'float32', 10);
    const before = ours.weights.map((w) => w.read().clone());
    expect(maxDiff(ours.apply(x, { training: true }) as tf.Tensor, ours.apply(x, { training: false }) as tf.Tensor)).toBe(0);
    ours.weights.forEach((w, i) => expect(maxDiff(w.read(), before[i]!), w.originalName).toBe(0));
  });

  it('rejects bad arguments', () => {
    expect(() => new BatchNorm({ momentum: 2 })).toThrow('Error in BatchNorm: momentum must be a number in [0, 1], but got 2.');
    expect(() => new BatchNorm({ epsilon: 0 })).toThrow('Error in BatchNorm: epsilon must be a positive number, but got 0.');
  });
});

/** Random values for every weight of a built layer (positive variances), so every term of the forward pass matters. */
function randomizeWeights(layer: InstanceType<typeof layers.Layer>, seed: number): void {
  layer.setWeights(layer.weights.map((w, i) => (w.originalName.endsWith('moving_variance') ? tf.randomUniform(w.shape as number[], 0.5, 1.5, 'float32', seed + i) : tf.randomNormal(w.shape as number[], 0, 0.5, 'float32', seed + i))));
}

/** Eval-mode batch-norm from the named weights of `layer` (`${prefix}/gamma`, …), written out for the tests. */
function refBn(layer: { weights: LayerVariable[] }, prefix: string, x: tf.Tensor4D, epsilon: number): tf.Tensor4D {
  const p = (n: string) => weight(layer, `${prefix}/${n}`).read() as tf.Tensor1D;
  return tf.add(tf.mul(tf.div(tf.sub(x, p('moving_mean')), tf.sqrt(tf.add(p('moving_variance'), epsilon))), p('gamma')), p('beta'));
}

/** `conv2d` with PyTorch's symmetric zero padding `pad` and, where the layer has one, the bias `${prefix}/bias`. */
function refConv(layer: { weights: LayerVariable[] }, prefix: string, x: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D {
  const y = tf.conv2d(tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]), weight(layer, `${prefix}/kernel`).read() as tf.Tensor4D, stride, 'valid');
  const bias = layer.weights.find((w) => w.originalName.endsWith(`/${prefix}/bias`));
  return bias ? tf.add(y, bias.read()) : y;
}

describe('BasicBlock', () => {
  it("equals timm's BasicBlock forward (3×3 stride → BN → ReLU → 3×3 → BN, + 1×1/BN shortcut, ReLU) with PyTorch weight names", () => {
    const b = new BasicBlock({ planes: 6, stride: 2 });
    const x = tf.randomNormal([2, 7, 7, 4], 0, 1, 'float32', 21) as tf.Tensor4D;
    b.apply(x);
    expect(b.weights.map((w) => `${w.originalName.split('/').slice(1).join('/')} [${w.shape.join(',')}]`).sort()).toEqual([
      'conv1/kernel [3,3,4,6]',
      ...['gamma', 'beta', 'moving_mean', 'moving_variance'].map((p) => `bn1/${p} [6]`),
      'conv2/kernel [3,3,6,6]',
      ...['gamma', 'beta', 'moving_mean', 'moving_variance'].map((p) => `bn2/${p} [6]`),
      'downsample/0/kernel [1,1,4,6]',
      ...['gamma', 'beta', 'moving_mean', 'moving_variance'].map((p) => `downsample/1/${p} [6]`),
    ].sort());
    // timm zero_init_last: a new block's residual branch is zero (bn2 gamma 0).
    expect(weight(b, 'bn2/gamma').read().dataSync().every((v) => v === 0)).toBe(true);
    randomizeWeights(b, 30);
    const y = b.apply(x) as tf.Tensor;
    const r = tf.relu(refBn(b, 'bn1', refConv(b, 'conv1', x, 2, 1), 1e-5));
    const residual = refBn(b, 'bn2', refConv(b, 'conv2', r, 1, 1), 1e-5);
    const shortcut = refBn(b, 'downsample/1', refConv(b, 'downsample/0', x, 2, 0), 1e-5);
    expect(y.shape).toEqual([2, 4, 4, 6]);
    expect(b.computeOutputShape([null, 7, 7, 4])).toEqual([null, 4, 4, 6]);
    expect(maxDiff(y, tf.relu(tf.add(residual, shortcut)))).toBeLessThan(1e-5);
    // Same width and stride 1: identity shortcut, no downsample weights.
    const same = new BasicBlock({ planes: 4 });
    same.apply(x);
    expect(same.weights.some((w) => w.originalName.includes('downsample'))).toBe(false);
    expect(() => new BasicBlock({ planes: 4, stride: 0 })).toThrow('Error in BasicBlock: stride must be a positive integer, but got 0.');
  });
});

describe('Bottleneck (Keras / Caffe ResNet v1 options)', () => {
  it('strideIn1x1 strides conv1 instead of conv2; convBias adds a bias to every conv; bnEpsilon is used', () => {
    const b = new Bottleneck({ planes: 3, stride: 2, strideIn1x1: true, convBias: true, bnEpsilon: 1e-3 });
    const x = tf.randomNormal([2, 7, 7, 5], 0, 1, 'float32', 41) as tf.Tensor4D;
    b.apply(x);
    expect(b.weights.filter((w) => w.originalName.endsWith('/bias')).map((w) => w.originalName.split('/').slice(1).join('/'))).toEqual([
      'conv1/bias',
      'conv2/bias',
      'conv3/bias',
      'downsample/0/bias',
    ]);
    randomizeWeights(b, 50);
    const y = b.apply(x) as tf.Tensor;
    const eps = 1e-3;
    let r = tf.relu(refBn(b, 'bn1', refConv(b, 'conv1', x, 2, 0), eps));
    r = tf.relu(refBn(b, 'bn2', refConv(b, 'conv2', r, 1, 1), eps));
    const residual = refBn(b, 'bn3', refConv(b, 'conv3', r, 1, 0), eps);
    const shortcut = refBn(b, 'downsample/1', refConv(b, 'downsample/0', x, 2, 0), eps);
    expect(y.shape).toEqual([2, 4, 4, 12]);
    expect(maxDiff(y, tf.relu(tf.add(residual, shortcut)))).toBeLessThan(1e-5);
    // The timm placement (stride on the 3×3) of the same weights is another function.
    const timm = new Bottleneck({ planes: 3, stride: 2, convBias: true, bnEpsilon: 1e-3 });
    timm.apply(x);
    timm.setWeights(b.getWeights());
    expect(maxDiff(timm.apply(x) as tf.Tensor, y)).toBeGreaterThan(1e-3);
  });
});

describe('adaptiveAvgPool2d', () => {
  it('equals PyTorch bins: identity, 2×2 average, and overlapping 2 → 7 bins', () => {
    const x = tf.randomNormal([1, 4, 4, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    expect(maxDiff(adaptiveAvgPool2d(x, [4, 4]), x)).toBeLessThan(1e-6);
    expect(maxDiff(adaptiveAvgPool2d(x, [2, 2]), tf.avgPool(x, 2, 2, 'valid'))).toBeLessThan(1e-6);
    const small = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    // torch.nn.functional.adaptive_avg_pool2d(torch.tensor([[1., 2.], [3., 4.]])[None, None], 7)[0, 0, 3]
    expect(Array.from(tf.slice(adaptiveAvgPool2d(small, [7, 7]), [0, 3, 0, 0], [1, 1, 7, 1]).dataSync())).toEqual([2, 2, 2, 2.5, 3, 3, 3]);
  });
});

describe('frozen residual blocks', () => {
  it('a block with trainable false normalises with its moving statistics and leaves them unchanged in training', () => {
    const block = new Bottleneck({ name: 'frozen', planes: 2, stride: 1, zeroInitLast: false });
    const x = tf.randomNormal([2, 4, 4, 8], 3, 2, 'float32', 5);
    block.apply(x); // build
    const inference = block.apply(x, { training: false }) as tf.Tensor;
    block.trainable = false;
    const before = weight(block, 'bn1/moving_mean').read().dataSync().slice();
    const frozen = block.apply(x, { training: true }) as tf.Tensor;
    expect(maxDiff(frozen, inference)).toBe(0);
    expect(Array.from(weight(block, 'bn1/moving_mean').read().dataSync())).toEqual(Array.from(before));
    block.trainable = true;
    const training = block.apply(x, { training: true }) as tf.Tensor;
    expect(maxDiff(training, inference)).toBeGreaterThan(1e-3);
    tf.dispose([x, inference, frozen, training]);
  });
});
