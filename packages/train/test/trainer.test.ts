import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Rng } from '@ldl/core';
import { selectBackend } from '../src/run/backend';
import { latestCheckpoint } from '../src/run/checkpoint';
import { buildModel, withSeededRandom } from '../src/model/build';
import { type Batch, DataLoader } from '../src/data/pipeline';
import { readMegaAge } from '../src/data/readers';
import type { EpochRecord } from '../src/run/report';
import { generateSyntheticMegaAge } from '../src/data/synthetic';
import { Trainer, type TrainerOptions } from '../src/run/trainer';
import { tempDir } from './helpers';

// A tiny ResNet-family model on 32 px synthetic faces: 24 training images, batch 8 → 3 steps per epoch.
const tiny = { backbone: 'resnet50' as const, widthScale: 1 / 16, depthScale: 0.34, imageSize: 32 };
let data: { train: DataLoader; val: DataLoader; multiTrain: DataLoader; multiVal: DataLoader };

beforeAll(async () => {
  await selectBackend('cpu');
  const root = path.join(tempDir(), 'syn');
  await generateSyntheticMegaAge(root, { trainCount: 24, testCount: 8, size: 32 });
  const train = (await readMegaAge(root, 'train')).samples;
  const val = (await readMegaAge(root, 'test')).samples;
  const withLabels = <T extends { age: number }>(xs: T[]) => xs.map((s, i) => ({ ...s, gender: i % 2, ethnicity: i % 5 }));
  const opts = { size: 32, batchSize: 8 };
  data = {
    train: new DataLoader(train, { ...opts, shuffle: true, augment: {}, cache: true }),
    val: new DataLoader(val, { ...opts, cache: true }),
    multiTrain: new DataLoader(withLabels(train), { ...opts, shuffle: true, augment: {} }),
    multiVal: new DataLoader(withLabels(val), opts),
  };
});

const strip = (h: EpochRecord[]) => h.map(({ seconds: _s, imagesPerSecond: _i, ...rest }) => rest);
const weightsOf = async (t: Trainer) => Promise.all(t.model.getWeights().map((w) => w.data()));

function trainer(runDir: string, extra: Partial<TrainerOptions> = {}): Trainer {
  const model = withSeededRandom(7, () => buildModel(tiny));
  return new Trainer(model, { runDir, epochs: 3, stepSize: 2, seed: 3, progress: false, log: () => undefined, ...extra });
}

describe('Trainer', () => {
  it('resumes an interrupted run to exactly the uninterrupted result', async () => {
    const full = trainer(path.join(tempDir(), 'full'));
    const a = await full.fit(data.train, data.val);
    expect(a.history).toHaveLength(3);
    expect(a.steps).toBe(9);

    // A random step inside epoch 2 (3 steps: after step 1 or 2), printed so that a failure can be replayed.
    const killAt = 1 + Math.floor(Math.random() * 2);
    console.log(`trainer resume test: interrupting epoch 2 after step ${killAt} of 3`);
    const runDir = path.join(tempDir(), 'cut');
    const interrupted = trainer(runDir, {
      onStep: ({ epoch, stepInEpoch }) => {
        if (epoch === 2 && stepInEpoch === killAt) throw new Error('simulated kill');
      },
    });
    await expect(interrupted.fit(data.train, data.val)).rejects.toThrow('simulated kill');
    expect((await latestCheckpoint(runDir))?.state.epoch).toBe(1);

    const resumed = trainer(runDir, { resume: true });
    const b = await resumed.fit(data.train, data.val);
    expect(strip(b.history)).toEqual(strip(a.history));
    expect(b.steps).toBe(9);
    expect(b.best).toEqual(a.best);
    const [wa, wb] = [await weightsOf(full), await weightsOf(resumed)];
    wa.forEach((w, i) => expect(Array.from(wb[i])).toEqual(Array.from(w)));

    // step LR: epochs 1-2 at 1e-3, epoch 3 at 2e-4
    expect(a.history.map((r) => r.lr)).toEqual([1e-3, 1e-3, 1e-3 * 0.2]);
    expect(readFileSync(path.join(runDir, 'metrics.csv'), 'utf8').split('\n')[0]).toBe(
      'epoch,lr,trainLoss,valLoss,mae,ca3,ca5,ca7,genderAcc,ethnicityAcc,seconds,imagesPerSecond',
    );
    expect(existsSync(path.join(runDir, 'curves.png'))).toBe(true);
    expect(existsSync(path.join(runDir, 'best', 'model.json'))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(runDir, 'best', 'meta.json'), 'utf8')).epoch).toBe(b.best.epoch);
  });

  // Shared case "--lr 1e8": divergence is one clear error, not a late AgeMetrics error.
  it('stops a diverging run with the epoch, step, loss and advice, and without a checkpoint to name', async () => {
    const runDir = path.join(tempDir(), 'div');
    const t = trainer(runDir, { learningRate: 1e8, epochs: 2 });
    const err = (await t.fit(data.train, data.val).catch((e: unknown) => e)) as Error;
    t.model.dispose();
    expect(err.name).toBe('TrainingDivergedError');
    expect(err.message).toMatch(/^Error in Trainer\.fit: training diverged at epoch 1, step \d+ \(loss [^)]+\): lower --lr \(learning rate 100000000; try 10000000\)\./);
    expect(err.message).toContain('No epoch finished');
    expect(err.message).not.toContain('AgeMetrics');
  });

  it('keeps the last good checkpoint when the loss turns NaN mid-run, and resumes from it with a lower learning rate', async () => {
    // A loader whose second epoch feeds NaN pixels in its second batch: the loss becomes NaN there.
    class PoisonedLoader extends DataLoader {
      calls = 0;
      override epoch(rng?: Rng): AsyncGenerator<Batch> {
        const inner = super.epoch(rng);
        const poison = ++this.calls === 2;
        return (async function* () {
          let i = 0;
          for await (const b of inner) {
            if (poison && ++i === 2) b.images.fill(Number.NaN);
            yield b;
          }
        })();
      }
    }
    const train = new PoisonedLoader(data.train.samples, { size: 32, batchSize: 8, shuffle: true, augment: {}, cache: true });
    const runDir = path.join(tempDir(), 'nan');
    const logs: string[] = [];
    const [first, refused, resumed] = [trainer(runDir), trainer(runDir, { resume: true, sigma: 3 }), trainer(runDir, { resume: true, learningRate: 1e-4, log: (l) => logs.push(l) })];
    const err = (await first.fit(train, data.val).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/training diverged at epoch 2, step 2 \(loss NaN\): lower --lr/);
    expect(err.message).toContain(`The last good checkpoint, ${path.join(runDir, 'checkpoints', 'epoch-0001')}, is kept`);
    expect((await latestCheckpoint(runDir))?.state.epoch).toBe(1);
    expect(readdirSync(runDir)).toContain('diverged.json');
    // another setting than the learning rate is still refused; a lower learning rate continues
    await expect(refused.fit(data.train, data.val)).rejects.toThrow(/changed since .*: sigma \(checkpoint 2, now 3\)\. Put it back/);
    const r = await resumed.fit(data.train, data.val);
    for (const t of [first, refused, resumed]) t.model.dispose();
    expect(r.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(logs.join('\n')).toContain('the run had diverged at learning rate 0.001; continuing at 0.0001');
    expect(readdirSync(runDir)).not.toContain('diverged.json');
  });

  it('refuses to resume without a checkpoint or with other settings', async () => {
    const runDir = path.join(tempDir(), 'r');
    await expect(trainer(runDir, { resume: true }).fit(data.train, data.val)).rejects.toThrow(/resume needs a checkpoint/);
    await trainer(runDir, { epochs: 1 }).fit(data.train, data.val);
    await expect(trainer(runDir, { resume: true, sigma: 3 }).fit(data.train, data.val)).rejects.toThrow(
      /resume must keep the settings that define the model, data, preprocessing and optimisation, but this one changed since .*: sigma \(checkpoint 2, now 3\)\./,
    );
  });

  it('trains the multi-task model with gradient accumulation and reports gender/ethnicity accuracy', async () => {
    const model = withSeededRandom(1, () => buildModel({ ...tiny, multiTask: true }));
    const t = new Trainer(model, { runDir: path.join(tempDir(), 'mt'), epochs: 1, accumulationSteps: 2, progress: false, log: () => undefined });
    const r = await t.fit(data.multiTrain, data.multiVal);
    expect(r.steps).toBe(2); // 3 micro-batches → steps of 2 + 1
    expect(r.history[0].genderAcc).toBeGreaterThanOrEqual(0);
    expect(r.history[0].ethnicityAcc).toBeLessThanOrEqual(100);
    expect(Number.isFinite(r.history[0].valLoss)).toBe(true);
    expect(() => new Trainer(model, { runDir: 'x', loss: 'ce' })).toThrow("loss must be 'ldl' for a multi-task model, but got 'ce'");
  });

  it('trains with the classification and mean-variance baselines', async () => {
    for (const loss of ['ce', 'mean-variance'] as const) {
      const t = trainer(path.join(tempDir(), loss), { epochs: 1, loss });
      const r = await t.fit(data.train, data.val);
      expect(Number.isFinite(r.history[0].trainLoss)).toBe(true);
    }
    expect(tf.memory().numTensors).toBeLessThan(2000);
  });
});
