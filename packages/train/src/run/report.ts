/**
 * Things a person reads after a run: `metrics.csv`, loss/MAE/CA curves and an error-by-age plot as
 * PNG (an SVG drawn here, rasterised by sharp), and `report.md` / `report.json`.
 */
import sharp from 'sharp';

/** Metrics of one finished epoch. */
export interface EpochRecord {
  /** 1-based epoch. */
  epoch: number;
  /** Learning rate used in the epoch. */
  lr: number;
  /** Mean training loss over the epoch's batches. */
  trainLoss: number;
  /** Validation loss. */
  valLoss: number;
  /** Validation mean absolute error in years. */
  mae: number;
  /** Validation CA(3), %. */
  ca3: number;
  /** Validation CA(5), %. */
  ca5: number;
  /** Validation CA(7), %. */
  ca7: number;
  /** Validation gender accuracy, % (multi-task only). */
  genderAcc?: number;
  /** Validation ethnicity accuracy, % (multi-task only). */
  ethnicityAcc?: number;
  /** Wall time of the epoch (training + evaluation), seconds. */
  seconds: number;
  /** Training throughput, images per second. */
  imagesPerSecond: number;
}

const CSV_COLUMNS: (keyof EpochRecord)[] = [
  'epoch', 'lr', 'trainLoss', 'valLoss', 'mae', 'ca3', 'ca5', 'ca7', 'genderAcc', 'ethnicityAcc', 'seconds', 'imagesPerSecond',
];

/** `metrics.csv` text for the history (one row per epoch). */
export function metricsCsv(history: readonly EpochRecord[]): string {
  const rows = history.map((r) => CSV_COLUMNS.map((c) => (r[c] === undefined ? '' : String(r[c]))).join(','));
  return [CSV_COLUMNS.join(','), ...rows].join('\n') + '\n';
}

/** A line series for {@link lineChartSvg}. */
export interface Series {
  /** Legend label. */
  label: string;
  /** CSS colour. */
  color: string;
  /** Points `[x, y]`. */
  points: [number, number][];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toPrecision(10)));
  return out;
}

interface Panel {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One chart panel (axes, ticks, series, legend) as an SVG fragment. */
export function lineChartSvg(panel: Panel, title: string, xLabel: string, series: readonly Series[]): string {
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  const m = { l: 48, r: 10, t: 38, b: 34 };
  const pw = panel.width - m.l - m.r;
  const ph = panel.height - m.t - m.b;
  const parts = [`<g transform="translate(${panel.x},${panel.y})">`, `<text x="${panel.width / 2}" y="15" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`];
  if (all.length === 0) {
    parts.push(`<text x="${panel.width / 2}" y="${panel.height / 2}" text-anchor="middle" font-size="12">no data</text></g>`);
    return parts.join('');
  }
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => m.t + ph - ((y - y0) / (y1 - y0)) * ph;
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 4}" y="${sy(t) + 4}" text-anchor="end" font-size="10">${t}</text>`);
  }
  const integerX = all.every(([x]) => Number.isInteger(x));
  for (const t of niceTicks(x0, x1, 6).filter((v) => !integerX || Number.isInteger(v))) {
    parts.push(`<text x="${sx(t)}" y="${m.t + ph + 14}" text-anchor="middle" font-size="10">${t}</text>`);
  }
  parts.push(`<text x="${m.l + pw / 2}" y="${panel.height - 4}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`);
  series.forEach((s, k) => {
    const pts = s.points.filter(([, y]) => Number.isFinite(y));
    if (pts.length > 1) {
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`);
    }
    for (const [x, y] of pts) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    // legend: one row between the title and the plot, so it never hides a curve
    const lx = m.l + k * 80;
    parts.push(`<rect x="${lx}" y="${m.t - 11}" width="10" height="3" fill="${s.color}"/>`);
    parts.push(`<text x="${lx + 14}" y="${m.t - 6}" font-size="10">${esc(s.label)}</text>`);
  });
  parts.push('</g>');
  return parts.join('');
}

function svgDoc(width: number, height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, Arial, sans-serif"><rect width="100%" height="100%" fill="white"/>${body}</svg>`;
}

/** SVG with three panels: train/val loss, validation MAE, validation CA(3/5/7). */
export function curvesSvg(history: readonly EpochRecord[], title = 'training curves'): string {
  const e = (f: (r: EpochRecord) => number | undefined) => history.map((r) => [r.epoch, f(r) ?? Number.NaN] as [number, number]);
  const w = 360;
  const h = 260;
  const panels = [
    lineChartSvg({ x: 0, y: 24, width: w, height: h }, 'loss', 'epoch', [
      { label: 'train', color: '#1f77b4', points: e((r) => r.trainLoss) },
      { label: 'validation', color: '#d62728', points: e((r) => r.valLoss) },
    ]),
    lineChartSvg({ x: w, y: 24, width: w, height: h }, 'validation MAE (years)', 'epoch', [{ label: 'MAE', color: '#2ca02c', points: e((r) => r.mae) }]),
    lineChartSvg({ x: 2 * w, y: 24, width: w, height: h }, 'validation CA(n) (%)', 'epoch', [
      { label: 'CA(3)', color: '#9467bd', points: e((r) => r.ca3) },
      { label: 'CA(5)', color: '#8c564b', points: e((r) => r.ca5) },
      { label: 'CA(7)', color: '#e377c2', points: e((r) => r.ca7) },
    ]),
  ];
  return svgDoc(3 * w, h + 24, `<text x="8" y="16" font-size="13">${esc(title)}</text>${panels.join('')}`);
}

/** One bar of {@link errorByAgeSvg}. */
export interface AgeBin {
  /** Lower edge of the bin (years). */
  from: number;
  /** Upper edge (exclusive). */
  to: number;
  /** Samples in the bin. */
  count: number;
  /** MAE of the bin (NaN when empty). */
  mae: number;
}

/** Groups absolute errors by true age into bins of `width` years. */
export function errorByAge(pred: ArrayLike<number>, truth: ArrayLike<number>, width = 5): AgeBin[] {
  const bins = new Map<number, { n: number; sum: number }>();
  for (let i = 0; i < truth.length; i++) {
    const k = Math.floor(truth[i] / width) * width;
    const b = bins.get(k) ?? { n: 0, sum: 0 };
    b.n += 1;
    b.sum += Math.abs(pred[i] - truth[i]);
    bins.set(k, b);
  }
  return [...bins.entries()].sort((a, b) => a[0] - b[0]).map(([from, b]) => ({ from, to: from + width, count: b.n, mae: b.sum / b.n }));
}

/** Bar chart of MAE per true-age bin, with the sample count above each bar. */
export function errorByAgeSvg(bins: readonly AgeBin[], title = 'test MAE by true age'): string {
  const W = 720;
  const H = 320;
  const m = { l: 48, r: 10, t: 30, b: 40 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const maxMae = Math.max(1, ...bins.map((b) => b.mae).filter(Number.isFinite));
  const bw = pw / Math.max(1, bins.length);
  const sy = (v: number) => m.t + ph - (v / (maxMae * 1.1)) * ph;
  const parts = [`<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`];
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  for (const t of niceTicks(0, maxMae * 1.1)) {
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/><text x="${m.l - 4}" y="${sy(t) + 4}" text-anchor="end" font-size="10">${t}</text>`);
  }
  bins.forEach((b, i) => {
    const x = m.l + i * bw;
    if (Number.isFinite(b.mae)) {
      parts.push(`<rect x="${(x + 2).toFixed(1)}" y="${sy(b.mae).toFixed(1)}" width="${(bw - 4).toFixed(1)}" height="${(m.t + ph - sy(b.mae)).toFixed(1)}" fill="#1f77b4"/>`);
    }
    parts.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${(sy(b.mae) - 3).toFixed(1)}" text-anchor="middle" font-size="9">n=${b.count}</text>`);
    parts.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${m.t + ph + 13}" text-anchor="middle" font-size="9">${b.from}–${b.to - 1}</text>`);
  });
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 6}" text-anchor="middle" font-size="11">true age (years)</text>`);
  parts.push(`<text x="12" y="${m.t + ph / 2}" font-size="11" transform="rotate(-90 12 ${m.t + ph / 2})" text-anchor="middle">MAE (years)</text>`);
  return svgDoc(W, H, parts.join(''));
}

/** Rasterises an SVG string to a PNG file with sharp. */
export async function writeSvgPng(svg: string, file: string): Promise<void> {
  await sharp(Buffer.from(svg)).png().toFile(file);
}
