import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backbones, exportPyTorchWeights, multiTaskAgeModel, PYTORCH_METADATA, readSafetensors, resnet, RESNET_VARIANTS, timmModelName, vgg, VGG16_CFG, writeSafetensors } from '@ldl/backbones';
import { maxAbsDiff, useCpu } from './helpers';

// Export → timm: tools/reference/export_parity.py loads each exported file with
// `timm.create_model(name, num_classes=…)` + `load_state_dict(strict=True)` and returns its eval logits.
// Full-size networks at 64 px, batch 2 (VGG-16-BN's 13 convolutions at 1/16 width: the full one is 0.5 GB).
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const PYTHON = join(REPO, 'tools/reference/.venv/bin/python');
const SCRIPT = join(REPO, 'tools/reference/export_parity.py');
const haveTorch = existsSync(PYTHON);
if (!haveTorch) console.log(`export_parity.test.ts: skipped, no ${PYTHON} (create it with tools/reference/setup.sh)`);

/**
 * Seeded weights (so the figures repeat run to run; tfjs treats seed 0 as none, so seeds start at 1): kernels
 * He-normal (fan-out, as timm initialises convolutions; dense: std `1/√in`), random BatchNorm statistics and
 * affine parameters (as tools/reference/backbones_parity.py) so eval-mode BN is non-trivial, with small gammas on
 * each block's last BN (timm's `zero_init_last` starts them at 0), so the logits stay of order 1 instead of growing
 * block by block.
 */
function randomizeWeights(model: LayersModel, seed: number): void {
  let i = 0;
  for (const layer of model.layers) {
    const lastBn = layer.getClassName() === 'Bottleneck' ? '/bn3/gamma' : layer.getClassName() === 'BasicBlock' ? '/bn2/gamma' : null;
    for (const w of layer.weights) {
      const shape = w.shape as number[];
      const n = w.originalName;
      const s = seed + i++;
      const init: Record<string, () => tf.Tensor> = {
        gamma: () => (lastBn !== null && n.endsWith(lastBn) ? tf.randomUniform(shape, 0, 0.3, 'float32', s) : tf.randomUniform(shape, 0.5, 1.5, 'float32', s)),
        beta: () => tf.randomNormal(shape, 0, 0.1, 'float32', s),
        moving_mean: () => tf.randomNormal(shape, 0, 0.1, 'float32', s),
        moving_variance: () => tf.randomUniform(shape, 0.5, 1.5, 'float32', s),
        bias: () => tf.randomNormal(shape, 0, 0.1, 'float32', s),
        kernel: () => tf.randomNormal(shape, 0, shape.length === 4 ? Math.sqrt(2 / (shape[0]! * shape[1]! * shape[3]!)) : 1 / Math.sqrt(shape[0]!), 'float32', s),
      };
      const t = init[n.slice(n.lastIndexOf('/') + 1)]!();
      w.write(t);
      t.dispose();
    }
  }
}

const SIZE = 64;
const full = (name: keyof typeof backbones) => () => backbones[name]({ inputShape: [SIZE, SIZE, 3], numClasses: 7 });
const cases: { name: string; timm: string | null; arch: Record<string, unknown>; build: () => LayersModel }[] = [
  ...(Object.keys(RESNET_VARIANTS) as (keyof typeof RESNET_VARIANTS)[]).map((n) => ({ name: n, timm: n, arch: { timm: n }, build: full(n) })),
  {
    name: 'legacy_seresnext50_32x4d',
    timm: 'legacy_seresnext50_32x4d',
    arch: { timm: 'legacy_seresnext50_32x4d' },
    build: () => resnet({ ...RESNET_VARIANTS.seresnext50_32x4d, stemPool: 'cadene', inputShape: [SIZE, SIZE, 3], numClasses: 7 }),
  },
  {
    name: 'vgg16_bn_w16',
    timm: null,
    arch: { vgg: { cfg: VGG16_CFG.map((v) => (v === 'M' ? v : v / 16)), num_features: 64, mlp_ratio: 1 } },
    build: () => vgg({ cfg: VGG16_CFG, widthScale: 1 / 16, numFeatures: 1024, inputShape: [SIZE, SIZE, 3], numClasses: 7 }),
  },
  { name: 'multitask_resnet18', timm: 'resnet18', arch: { multitask: 'resnet18' }, build: () => multiTaskAgeModel({ backbone: 'resnet18', numClasses: 101, inputShape: [SIZE, SIZE, 3] }) },
];

describe.skipIf(!haveTorch)('exported safetensors load into timm strictly and give the same logits (max |Δ| ≤ 1e-4)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ldl-export-parity-'));
  const ours = new Map<string, tf.Tensor[]>();
  let theirs: ReturnType<typeof readSafetensors> = {};
  beforeAll(async () => {
    await useCpu();
    const inputs: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [i, c] of cases.entries()) {
      await new Promise((r) => setImmediate(r)); // let vitest's worker talk between the long synchronous steps
      const model = c.build();
      randomizeWeights(model, 1 + 10_000 * i);
      expect(timmModelName(model)).toBe(c.timm);
      const state = exportPyTorchWeights(model, { numBatchesTracked: 3 });
      const meta: Record<string, string> = { [PYTORCH_METADATA.format]: 'pt', [PYTORCH_METADATA.preprocessor]: '{}' };
      writeFileSync(join(dir, `${c.name}.safetensors`), writeSafetensors(state, meta));
      const x = tf.randomNormal([2, SIZE, SIZE, 3], 0, 1, 'float32', 7 + i);
      const nchw = tf.transpose(x, [0, 3, 1, 2]);
      inputs[c.name] = { shape: nchw.shape, data: nchw.dataSync() as Float32Array };
      const y = model.predict(x) as tf.Tensor | tf.Tensor[];
      ours.set(c.name, Array.isArray(y) ? y : [y]);
      tf.dispose([x, nchw]);
      model.dispose();
    }
    writeFileSync(join(dir, 'inputs.safetensors'), writeSafetensors(inputs));
    const manifest = { inputs: 'inputs.safetensors', out: 'logits.safetensors', cases: cases.map((c) => ({ name: c.name, file: `${c.name}.safetensors`, arch: c.arch })) };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const run = await promisify(execFile)(PYTHON, [SCRIPT, join(dir, 'manifest.json')], { timeout: 300_000 });
    console.log(run.stderr.trim());
    theirs = readSafetensors(readFileSync(join(dir, 'logits.safetensors')));
  }, 600_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(cases.map((c) => c.name))('%s', async (name) => {
    const ys = ours.get(name)!;
    const keys = ys.length === 1 ? [name] : ['age', 'gender', 'ethnicity'].map((h) => `${name}.${h}`);
    let worst = 0;
    for (const [i, key] of keys.entries()) {
      const ref = theirs[key]!;
      expect(ys[i]!.shape).toEqual(ref.shape);
      worst = Math.max(worst, await maxAbsDiff(ys[i]!, tf.tensor(ref.data, ref.shape)));
    }
    const scale = Math.max(...(await Promise.all(ys.map(async (y) => Math.max(...(await tf.abs(y).data()))))));
    console.log(`export parity ${name}: max |Δ| = ${worst.toExponential(2)} (max |logit| ${scale.toFixed(2)})`);
    expect(worst).toBeLessThanOrEqual(1e-4);
    tf.dispose(ys);
  });
});

describe.skipIf(!haveTorch)('README: export to PyTorch', () => {
  it("the README's TypeScript writes a file its Python loads strictly", async () => {
    await useCpu();
    const readme = readFileSync(join(REPO, 'packages/backbones/README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Export to PyTorch'));
    const python = /```python\n([\s\S]*?)```/.exec(section)![1]!;
    const cwd = mkdtempSync(join(tmpdir(), 'ldl-export-readme-'));
    try {
      // The README's TypeScript, with the file in `cwd`:
      const net = backbones.seresnext50_32x4d({ numClasses: 101 });
      const metadata = { [PYTORCH_METADATA.format]: 'pt', [PYTORCH_METADATA.timmModel]: timmModelName(net)! }; // 'seresnext50_32x4d'
      writeFileSync(join(cwd, 'age.safetensors'), writeSafetensors(exportPyTorchWeights(net), metadata));
      expect(metadata.timm_model).toBe('seresnext50_32x4d');
      net.dispose();
      await promisify(execFile)(PYTHON, ['-c', python], { cwd, timeout: 120_000 });
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 300_000);
});
