import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeSafetensors } from '@ldl/backbones';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { constantBaseline, type ExperimentReport, runExperiment } from '../src/run/experiment';
import { evaluateSaved, predictImage } from '../src/saved/inference';
import { loadSavedModel } from '../src/saved/load';
import { readMegaAge } from '../src/data/readers';
import { generateSyntheticMegaAge } from '../src/data/synthetic';
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
    // No preprocessor.json, no guess: the error names the folder and the command that writes the file.
    const bare = path.join(tempDir(), 'bare');
    cpSync(path.join(runDir, 'best'), bare, { recursive: true });
    rmSync(path.join(bare, 'preprocessor.json'));
    await expect(loadSavedModel(bare)).rejects.toThrow(`Error in readPreprocessorConfig: ${bare} must hold preprocessor.json`);
    await expect(loadSavedModel(bare)).rejects.toThrow("'ldl preprocessor --upgrade DIR'");
    // A file that disagrees with the model is refused too.
    const pre = JSON.parse(readFileSync(path.join(runDir, 'best', 'preprocessor.json'), 'utf8')) as { inputSize: number };
    writeFileSync(path.join(bare, 'preprocessor.json'), JSON.stringify({ ...pre, inputSize: 48 }));
    await expect(loadSavedModel(bare)).rejects.toThrow(`${path.join(bare, 'preprocessor.json')}: inputSize must match the model's input [32, 32, 3], but got 48.`);
  });

  it('a state dict that does not match the model stops the run (strict), listing the missing and unexpected keys', async () => {
    const root = path.join(tempDir(), 'syn');
    await generateSyntheticMegaAge(root, { trainCount: 4, testCount: 2, size: 32 });
    const train = (await readMegaAge(root, 'train')).samples;
    const test = (await readMegaAge(root, 'test')).samples;
    const stateDict = path.join(tempDir(), 'w.safetensors');
    writeFileSync(stateDict, writeSafetensors({ 'conv1.weight': { shape: [4, 3, 7, 7], data: new Float32Array(4 * 3 * 49) }, 'bogus.weight': { shape: [1], data: new Float32Array(1) } }));
    const runDir = path.join(tempDir(), 'run');
    await expect(
      runExperiment({ title: 'strict', runDir, train, test, valFraction: 0.5, backend: 'cpu', epochs: 1, batchSize: 2, pretrained: stateDict, model: { backbone: 'resnet50', widthScale: 1 / 16, depthScale: 0.34, imageSize: 32 } }),
    ).rejects.toThrow(/Error in importPyTorchWeights: the state dict must match model '.*' \(strict\), but got missing \[bn1\.weight, .*\] and unexpected \[bogus\.weight\]/);
    expect(JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8'))).toMatchObject({ status: 'failed' });
  });
});
