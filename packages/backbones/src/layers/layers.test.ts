import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { layers, type LayerVariable } from '@tensorflow/tfjs-layers';
import { disableFastKernels, enableFastKernels } from '@ldl/kernels';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdaptiveAvgPool2D, adaptiveAvgPool2d } from './adaptive_avg_pool';
import { Bottleneck } from './bottleneck';
import { GroupedConv2D } from './grouped_conv2d_layer';
import { resolveGroupedConvStrategy } from '../ops/grouped_conv';
import { makeDivisible, SqueezeExcite } from './squeeze_excite';

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
const weight = (layer: { weights: LayerVariable[] }, name: string) => layer.weights.find((w) => w.originalName.endsWith(name))!;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('layer getConfig round trips', () => {
  const cases: [string, () => InstanceType<typeof layers.Layer>][] = [
    ['GroupedConv2D', () => new GroupedConv2D({ name: 'g', filters: 8, kernelSize: 3, groups: 4, strides: 2, padding: 1, useBias: true, strategy: 'split' })],
    ['SqueezeExcite', () => new SqueezeExcite({ name: 'se', reduction: 8, divisor: 4 })],
    ['Bottleneck', () => new Bottleneck({ name: 'b', planes: 4, stride: 2, cardinality: 2, baseWidth: 32, attention: 'se', zeroInitLast: false })],
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
      expect(tf.getKernel('LdlBatchNormTraining', 'cpu')).toBeDefined();
      expect(resolveGroupedConvStrategy()).toBe('native');
      const fast = step();
      expect(fast.length).toBe(stock.length);
      fast.forEach((t, i) => expect(maxDiff(t, stock[i]!) / Math.max(1e-6, tf.max(tf.abs(stock[i]!)).dataSync()[0]!), `tensor ${i}`).toBeLessThan(1e-4));
    } finally {
      disableFastKernels();
    }
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
