// The documented path from photos to a trained model: `ldl prep align` writes faces.csv (no ages),
// and `train --faces faces.csv --csv LABELS` trains on its crops with the ages of the data set's own
// label table joined by photo name. Real photos (../shared/datasets/aaf-raw, research-only) are read
// in place; everything written goes to a temp folder.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const tsx = path.join(repoRoot, 'node_modules/.bin/tsx');
/** `ldl` from its sources, as the example's package scripts run it. */
const ldl = ['--tsconfig', path.join(repoRoot, 'packages/cli/tsconfig.json'), path.join(repoRoot, 'packages/cli/src/bin.ts')];
const AAF_RAW = path.resolve(repoRoot, '../shared/datasets/aaf-raw');
const present = existsSync(path.join(AAF_RAW, 'landmarks.csv'));

function run(cwd: string, ...args: string[]) {
  const r = spawnSync(tsx, args, { cwd, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe.skipIf(!present)('ldl prep align → train (8 real photos)', () => {
  it('trains on the aligned crops with ages joined from the labels CSV', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ldl-align-train-'));
    const photos = readFileSync(path.join(AAF_RAW, 'landmarks.csv'), 'utf8').trim().split('\n').slice(1, 9).map((l) => l.split(',')[0]);
    writeFileSync(path.join(dir, 'list.txt'), photos.join('\n') + '\n');
    const faces = path.join(dir, 'faces.csv');
    const align = run(path.resolve(here, '..'), ...ldl, 'prep', 'align', '--images', path.join(AAF_RAW, 'images'), '--list', path.join(dir, 'list.txt'), '--out', faces, '--workers', '1');
    expect(align.code, align.out).toBe(0);
    expect(readFileSync(faces, 'utf8').split('\n')[0]).toBe('photo,deg,box1,box2,box3,box4,left_eye_x,left_eye_y,right_eye_x,right_eye_y,status');
    const runDir = path.join(dir, 'run');
    const labels = ['--data', path.join(AAF_RAW, 'landmarks.csv'), '--photo-col', 'file', '--image-root', path.join(AAF_RAW, 'images')];
    const tiny = ['--preset', 'small', '--image-size', '32', '--width-scale', '0.0625', '--backend', 'wasm', '--wasm-threads', '1', '--epochs', '1', '--batch-size', '4'];
    const train = run(path.resolve(here, '..'), ...ldl, 'train', '--config', 'ldl.json', '--faces', faces, ...labels, '--run-dir', runDir, ...tiny);
    expect(train.code, train.out).toBe(0);
    expect(train.out).toContain(`boxes from ${faces}; 8 rows`);
    const report = JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')) as { status: string; counts: { train: number; val: number; test: number } };
    expect(report.status).toBe('completed');
    expect(report.counts.train + report.counts.val + report.counts.test).toBe(8);
    // without the labels the error speaks of the file the user has
    const noLabels = run(path.resolve(here, '..'), ...ldl, 'train', '--config', 'ldl.json', '--data', faces, '--aligned', '--run-dir', path.join(dir, 'r2'), ...tiny);
    expect(noLabels.code).toBe(1);
    expect(noLabels.out).toContain(`${faces} is the faces.csv of ldl prep align`);
    expect(noLabels.out).not.toContain('Album2');
  }, 600_000);
});
if (!present) console.log(`morph example: ${AAF_RAW} not found, skipping the align → train test.`);
