import * as tf from '@tensorflow/tfjs-core';
import { layers, model as functionalModel, input, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { faceRecognitionNet, multiTaskAgeModel, resnet, splitModel } from '@ldl/backbones';
import { maxAbsDiff, useCpu } from './helpers';

beforeAll(useCpu);

describe('splitModel', () => {
  it('suffix(prefix(x)) equals model(x), and the halves share the weights', async () => {
    const net = faceRecognitionNet({ inputShape: [112, 112, 3], includeTop: false });
    // A head that also reads the cut itself (multi-level pooling), as the fine-tuning presets build.
    const cut = net.getLayer('conv128_2').output as SymbolicTensor;
    const mid = layers.globalAveragePooling2d({ name: 'layer3_pool' }).apply(cut) as SymbolicTensor;
    const joined = layers.concatenate({ name: 'features' }).apply([mid, net.outputs[0]!]) as SymbolicTensor;
    const age = layers.dense({ units: 7, name: 'age' }).apply(joined) as SymbolicTensor;
    const model = functionalModel({ inputs: net.inputs, outputs: age });
    const { prefix, suffix } = splitModel(model, 'layer3');
    expect(prefix.outputs[0]!.shape).toEqual([null, 6, 6, 128]);
    expect(suffix.inputs[0]!.shape).toEqual([null, 6, 6, 128]);
    const x = tf.randomUniform([2, 112, 112, 3], -1, 1, 'float32', 3);
    const whole = model.predict(x) as tf.Tensor;
    const parts = suffix.predict(prefix.predict(x) as tf.Tensor) as tf.Tensor;
    expect(await maxAbsDiff(whole, parts)).toBeLessThan(1e-5);
    // Training the suffix trains the model: the same variables.
    const ids = new Set(model.trainableWeights.map((w) => w.read().id));
    expect(suffix.trainableWeights.every((w) => ids.has(w.read().id))).toBe(true);
    expect(suffix.trainableWeights.some((w) => w.originalName.startsWith('conv256_down/'))).toBe(true);
    expect(suffix.trainableWeights.some((w) => w.originalName.startsWith('conv128_2/'))).toBe(false);
    tf.dispose([x, whole, parts]);
  });

  it('works on the ResNet family and refuses a cut that a branch jumps over', () => {
    const net = resnet({ depths: [1, 1, 1, 1], widthScale: 1 / 16, inputShape: [32, 32, 3], numClasses: 3 });
    expect(splitModel(net, 'layer2').suffix.outputs[0]!.shape).toEqual([null, 3]);
    const multi = multiTaskAgeModel({ backbone: 'resnet50', widthScale: 1 / 16, depthScale: 0.34, inputShape: [32, 32, 3] });
    expect(() => splitModel(multi, 'layer3')).toThrow(/layer 'layer2_pool' reads .* from before 'layer3\.\d'; cut earlier/);
    const x = input({ shape: [4] });
    const lone = functionalModel({ inputs: x, outputs: layers.dense({ units: 2, name: 'd' }).apply(x) as SymbolicTensor });
    expect(() => splitModel(lone, 'nope')).toThrow(/names must be layers/);
  });
});
