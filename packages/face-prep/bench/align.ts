/**
 * Full evaluation + throughput of `ldl prep align` on ../shared/datasets/aaf-raw (all 600 photos).
 *
 *   pnpm --filter @ldl/face-prep bench [--detector ssd|tiny] [--eyes mesh|landmark68] [--workers 2] [--photos 600] [--scaling 40]
 *
 * Prints `RESULT name=value` lines. `--photos N` evaluates a seeded subset instead of all photos;
 * `--scaling N` also times N photos with 0, 1 and 2 workers.
 * Timings share the machine's 2 cores with whatever else runs: compare ratios within one run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { alignImages } from '../src/batch';
import { parseFacesCsv } from '../src/csv';
import { AAF_PRESENT, AAF_RAW, evaluate, readHandLabels, seededSubset } from '../test/aaf';

const { values } = parseArgs({
  options: { detector: { type: 'string', default: 'ssd' }, eyes: { type: 'string', default: 'mesh' }, workers: { type: 'string', default: '2' }, photos: { type: 'string', default: '0' }, scaling: { type: 'string', default: '0' } },
});
const model = values.detector;
if (model !== 'ssd' && model !== 'tiny') throw new Error(`--detector must be ssd or tiny, but got '${model}'.`);
const eyeModel = values.eyes;
if (eyeModel !== 'mesh' && eyeModel !== 'landmark68') throw new Error(`--eyes must be mesh or landmark68, but got '${eyeModel}'.`);
const workers = Number(values.workers);
const scaling = Number(values.scaling);
const photos = Number(values.photos);

if (!AAF_PRESENT) {
  console.log(`SKIP: ${AAF_RAW} not found (research data set, absent outside the lab machine).`);
  process.exit(0);
}

const all = readHandLabels();
const labels = photos > 0 && photos < all.length ? seededSubset(all, photos, 2020) : all;
const dir = mkdtempSync(join(tmpdir(), 'ldl-face-prep-bench-'));
try {
  const out = join(dir, 'faces.csv');
  const summary = await alignImages({ imagesDir: `${AAF_RAW}/images`, photos: labels.map((l) => l.file), out, workers, detectorOptions: { model, eyeModel } });
  const m = await evaluate(labels, parseFacesCsv(readFileSync(out, 'utf8'), out));
  console.log(`RESULT detector=${model} eyes=${eyeModel} workers=${workers} photos=${m.n}`);
  console.log(`RESULT detection_rate=${(100 * m.detectionRate).toFixed(2)}% (ok ${summary.ok}, no_face ${summary.noFace}, unreadable ${summary.unreadable}, errors ${summary.errors.length})`);
  console.log(`RESULT eye_error_median=${(100 * m.eyeErrorMedian).toFixed(2)}% eye_error_p95=${(100 * m.eyeErrorP95).toFixed(2)}% (of hand inter-ocular distance)`);
  console.log(`RESULT angle_error_median=${m.angleErrorMedian.toFixed(2)}deg angle_error_p95=${m.angleErrorP95.toFixed(2)}deg`);
  console.log(`RESULT level_within_2deg=${(100 * m.levelWithin2).toFixed(2)}% (of all photos)`);
  console.log(`RESULT throughput=${summary.imagesPerSecond.toFixed(2)} img/s (${summary.seconds.toFixed(1)} s for ${m.n}, incl. model load)`);
  if (scaling > 0) {
    const subset = seededSubset(labels, scaling, 7).map((l) => l.file);
    for (const w of [0, 1, 2]) {
      const s = await alignImages({ imagesDir: `${AAF_RAW}/images`, photos: subset, out: join(dir, `scaling-${w}.csv`), workers: w, detectorOptions: { model, eyeModel } });
      console.log(`RESULT scaling workers=${w} throughput=${s.imagesPerSecond.toFixed(2)} img/s (${scaling} photos)`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
