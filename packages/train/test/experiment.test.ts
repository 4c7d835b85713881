import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { constantBaseline, evaluateSaved, type ExperimentReport, loadSavedModel, predictImage, runExperiment } from '../src/experiment';
import { readMegaAge } from '../src/readers';
import { generateSyntheticMegaAge } from '../src/synthetic';
import { tempDir } from './helpers';

describe('runExperiment', () => {
  it('trains, reports test metrics against the training-mean baseline, and the saved model evaluates and predicts', async () => {
    const root = path.join(tempDir(), 'syn');
    await generateSyntheticMegaAge(root, { trainCount: 20, testCount: 6, size: 32 });
    const train = (await readMegaAge(root, 'train')).samples;
    const test = (await readMegaAge(root, 'test')).samples;
    const runDir = path.join(tempDir(), 'run');
    const report = await runExperiment({
      title: 'tiny', runDir, train, test, backend: 'cpu', epochs: 1, batchSize: 10, accumulationSteps: 2, saveSamples: true,
      model: { backbone: 'resnet50', widthScale: 1 / 16, depthScale: 0.34, imageSize: 32 }, notes: ['synthetic'],
    });
    const json = JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')) as ExperimentReport;
    expect(json.backend).toBe('cpu');
    expect(json.counts).toEqual({ train: 18, val: 2, test: 6 });
    expect(json.baseline.trainMean).toBeGreaterThan(1);
    expect(json.baseline.trainMean).toBeLessThan(80);
    const truth = test.map((s) => s.age);
    expect(json.baseline.mae).toBeCloseTo(constantBaseline(json.baseline.trainMean, truth).mae, 10);
    expect(json.test.mae).toBe(report.test.mae);
    for (const f of ['report.md', 'error-by-age.png', 'curves.png', 'metrics.csv', 'samples.png', 'train.log']) expect(existsSync(path.join(runDir, f))).toBe(true);
    expect(readFileSync(path.join(runDir, 'report.md'), 'utf8')).toContain('baseline: always');

    const saved = await loadSavedModel(runDir);
    const ev = await evaluateSaved(saved, test, { runDir });
    expect(ev.metrics.mae).toBeCloseTo(json.test.mae, 4);
    const p = await predictImage(saved, test[0].path, 3);
    expect(p.top).toHaveLength(3);
    expect(p.top[0].p).toBeGreaterThanOrEqual(p.top[1].p);
    expect(p.age).toBeGreaterThanOrEqual(0);
    expect(p.age).toBeLessThanOrEqual(100);
    await expect(loadSavedModel(root)).rejects.toThrow(/must be a run directory, its best\/ directory or a checkpoint directory/);
  });
});
