/**
 * Divergence detection for the training loop: a non-finite loss, a loss that explodes far above the
 * run's first one, or non-finite predictions stop training with one clear message instead of a late
 * `AgeMetrics` error, and the run directory records it so that `resume` may continue from the last
 * good checkpoint with a lower learning rate.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';

/** Default of `TrainerOptions.maxLossRatio`: a loss above this many times the run's first one has diverged. */
export const DEFAULT_MAX_LOSS_RATIO = 1000;

/** File in the run directory that marks a diverged run (read by `resume`, removed once it continues). */
export const DIVERGED_FILE = 'diverged.json';

/** Training stopped because the loss or the predictions diverged. */
export class TrainingDivergedError extends Error {
  /** 1-based epoch of the step that diverged. */
  readonly epoch: number;
  /** 1-based step within the epoch (optimizer steps; the validation pass counts after the last one). */
  readonly step: number;
  /** The loss that gave it away (may be NaN or ±Infinity). */
  readonly loss: number;

  constructor(epoch: number, step: number, loss: number, detail: string, learningRate: number, lastGood: string | null) {
    const resume = lastGood
      ? ` The last good checkpoint, ${lastGood}, is kept: continue from it with --resume and the lower --lr (resume: true, learningRate).`
      : ' No epoch finished, so there is no checkpoint to resume from: start again with the lower --lr.';
    super(
      `Error in Trainer.fit: training diverged at epoch ${epoch}, step ${step} (loss ${loss}${detail ? `; ${detail}` : ''}): ` +
        `lower --lr (learning rate ${learningRate}; try ${learningRate / 10}).${resume}`,
    );
    this.name = 'TrainingDivergedError';
    this.epoch = epoch;
    this.step = step;
    this.loss = loss;
  }
}

/** A batch of predictions held a value that is not a finite number. */
export class NonFinitePredictionError extends Error {
  constructor(fn: string, value: number, image: string) {
    super(`Error in ${fn}: predictions must be finite numbers, but got ${value} for ${image} (the model's weights are not finite: it diverged).`);
    this.name = 'NonFinitePredictionError';
  }
}

/**
 * Watches the training loss of one `fit` call: the first finite loss is the reference, and a
 * non-finite loss or one above `maxLossRatio` × the reference is divergence.
 */
export class DivergenceGuard {
  private reference: number | null = null;

  constructor(private readonly maxLossRatio: number = DEFAULT_MAX_LOSS_RATIO) {
    if (!(maxLossRatio > 1)) throw new Error(`Error in DivergenceGuard: maxLossRatio must be a number > 1, but got ${maxLossRatio}.`);
  }

  /** Why `loss` means divergence (`''` for a non-finite loss), or `null` when it is fine. */
  check(loss: number): string | null {
    if (!Number.isFinite(loss)) return '';
    if (this.reference === null) {
      this.reference = Math.max(loss, 1e-6);
      return null;
    }
    if (loss > this.maxLossRatio * this.reference) {
      return `more than ${this.maxLossRatio} times the first step's ${this.reference.toPrecision(4)}`;
    }
    return null;
  }
}

/** Records a divergence in `runDir/diverged.json` so that a resume may lower the learning rate. */
export async function markDiverged(runDir: string, error: TrainingDivergedError, learningRate: number): Promise<void> {
  const record = { epoch: error.epoch, step: error.step, loss: String(error.loss), learningRate, message: error.message };
  await fsp.writeFile(path.join(runDir, DIVERGED_FILE), JSON.stringify(record, null, 2));
}

/** The divergence record of a run, or `null`. */
export async function readDiverged(runDir: string): Promise<{ learningRate: number } | null> {
  try {
    return JSON.parse(await fsp.readFile(path.join(runDir, DIVERGED_FILE), 'utf8')) as { learningRate: number };
  } catch {
    return null;
  }
}

/** Removes the divergence record (the run continued). */
export async function clearDiverged(runDir: string): Promise<void> {
  await fsp.rm(path.join(runDir, DIVERGED_FILE), { force: true });
}

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Why the loss of the first batch, before any optimizer step, is not finite — a cause other than the learning
 * rate, which has not acted yet: input pixels that are not finite, or a loss weight beyond float32.
 * @param loss The batch loss.
 * @param images The batch's input pixels.
 * @param weights The loss settings by name (`lambda`, `sigma`, …) and the largest term each multiplies (e.g.
 *   `|E[p] − age|` ≤ 100 years for `lambda`).
 */
export function firstStepCause(loss: number, images: ArrayLike<number>, weights: Record<string, { value: number; times: number; what: string }>): string {
  for (let i = 0; i < images.length; i++) {
    if (!Number.isFinite(images[i])) return `input pixel ${i} of the batch is ${images[i]} (the images or their normalisation are not finite)`;
  }
  for (const [name, w] of Object.entries(weights)) {
    if (!(Math.abs(w.value) * w.times < FLOAT32_MAX)) {
      return `${name} ${w.value} × ${w.what} (up to ${w.times}) overflows float32 (largest ${FLOAT32_MAX.toPrecision(2)}): use a ${name} that fits (default 1)`;
    }
  }
  return `the model's outputs are not finite before training (loss ${loss}): check the pretrained weights and the inputs`;
}
