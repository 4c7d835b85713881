/**
 * Progress display for long loops: a cli-progress bar on a TTY, plain log lines otherwise (CI,
 * `nohup`, pipes), showing epoch, step, images/s, loss and ETA.
 */
import cliProgress from 'cli-progress';

/** Values shown with each update. */
export interface ProgressPayload {
  /** Current epoch (1-based). */
  epoch: number;
  /** Total epochs. */
  epochs: number;
  /** Training images per second in this epoch. */
  ips: number;
  /** Running mean loss of this epoch. */
  loss: number;
  /** Shown instead of "epoch E/N" (work outside an epoch, e.g. caching features). */
  label?: string;
}

const stage = (p: ProgressPayload) => p.label ?? `epoch ${p.epoch}/${p.epochs}`;

/** What the trainer calls; implement it to route progress elsewhere. */
export interface ProgressReporter {
  /** A new epoch of `total` steps begins. */
  start(total: number, payload: ProgressPayload): void;
  /** `step` steps of the epoch are done. */
  update(step: number, payload: ProgressPayload): void;
  /** The epoch's loop ended. */
  stop(): void;
}

const fmtEta = (s: number) => (Number.isFinite(s) ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : '?');

/**
 * The default reporter: a bar on a TTY; otherwise one line about every `everySeconds`, and at the end.
 */
export function createProgress(options: { tty?: boolean; everySeconds?: number; write?: (line: string) => void } = {}): ProgressReporter {
  const { tty = Boolean(process.stderr.isTTY), everySeconds = 30, write = (l: string) => process.stderr.write(`${l}\n`) } = options;
  if (tty) {
    const bar = new cliProgress.SingleBar(
      {
        format: '{stage} |{bar}| {value}/{total} steps | {ips} img/s | loss {loss} | ETA {eta_formatted}',
        hideCursor: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    const fmt = (p: ProgressPayload) => ({ ...p, stage: stage(p), ips: p.ips.toFixed(1), loss: p.loss.toFixed(4) });
    return {
      start: (total, p) => bar.start(total, 0, fmt(p)),
      update: (step, p) => bar.update(step, fmt(p)),
      stop: () => bar.stop(),
    };
  }
  let total = 0;
  let t0 = 0;
  let last = 0;
  let lastLine = '';
  const line = (step: number, p: ProgressPayload) => {
    const elapsed = (Date.now() - t0) / 1000;
    const eta = step > 0 ? (elapsed / step) * (total - step) : Number.NaN;
    return `${stage(p)} step ${step}/${total} | ${p.ips.toFixed(1)} img/s | loss ${p.loss.toFixed(4)} | ETA ${fmtEta(eta)}`;
  };
  return {
    start: (n) => {
      total = n;
      t0 = Date.now();
      last = t0;
    },
    update: (step, p) => {
      lastLine = line(step, p);
      if (Date.now() - last >= everySeconds * 1000) {
        last = Date.now();
        write(lastLine);
      }
    },
    stop: () => {
      if (lastLine) write(lastLine);
      lastLine = '';
    },
  };
}
