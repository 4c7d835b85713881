// Issue 20 kind 15: a damaged model.json or weight shard gets `Error in loadModel: <file>: …` (was: TF.js's
// "the tensor should have 147456 values but has 19584" without a file), within bounded time and memory.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { damagedCopies } from '@ldl/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel, saveModel } from '@ldl/backbones';
import { useCpu } from './helpers';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ldl-model-fuzz-'));
const saved = path.join(dir, 'model');
let json = new Uint8Array();
let bin = new Uint8Array();

beforeAll(async () => {
  await useCpu();
  const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [6], units: 5, activation: 'relu' }), tfl.layers.dense({ units: 3 })] });
  await saveModel(model, saved);
  model.dispose();
  json = readFileSync(path.join(saved, 'model.json'));
  bin = readFileSync(path.join(saved, 'group1-shard1of1.bin'));
});

/** Loads the model folder `files` make; returns 'ok' or 'error' and fails on an error not of loadModel's form. */
async function outcome(files: { json: Uint8Array; bin: Uint8Array }, what: string): Promise<string> {
  const d = mkdtempSync(path.join(dir, 'm-'));
  writeFileSync(path.join(d, 'model.json'), files.json);
  writeFileSync(path.join(d, 'group1-shard1of1.bin'), files.bin);
  try {
    (await loadModel(d)).dispose();
    return 'ok';
  } catch (e) {
    expect(e, what).toBeInstanceOf(Error);
    expect((e as Error).message, what).toMatch(new RegExp(`^Error in loadModel: ${d.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/(model\\.json|group1-shard1of1\\.bin): \\S`));
    return 'error';
  }
}

describe('loadModel on damaged files', () => {
  it('names a cut weight shard and its size', async () => {
    expect(await outcome({ json, bin }, 'intact')).toBe('ok');
    const d = mkdtempSync(path.join(dir, 'cut-'));
    writeFileSync(path.join(d, 'model.json'), json);
    writeFileSync(path.join(d, 'group1-shard1of1.bin'), bin.subarray(0, 20));
    await expect(loadModel(d)).rejects.toThrow(`Error in loadModel: ${d}/group1-shard1of1.bin: the weight shards must hold the ${bin.length} bytes model.json's weights need, but hold 20 (cut or overwritten).`);
  });

  it('100 mutants of model.json and 100 of the shard: only its own errors, in bounded time and memory', { timeout: 60_000 }, async () => {
    const t0 = performance.now();
    const mem0 = process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed;
    let errors = 0;
    for (const m of damagedCopies(json, 100, 3)) errors += (await outcome({ json: m.bytes, bin }, `model.json ${m.kind}: ${m.detail}`)) === 'error' ? 1 : 0;
    for (const m of damagedCopies(bin, 100, 4)) errors += (await outcome({ json, bin: m.bytes }, `shard ${m.kind}: ${m.detail}`)) === 'error' ? 1 : 0;
    expect(errors).toBeGreaterThan(60);
    expect(performance.now() - t0).toBeLessThan(40_000);
    expect(process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed - mem0).toBeLessThan(300e6);
    expect(tf.memory().numTensors).toBeLessThan(50);
  });
});
