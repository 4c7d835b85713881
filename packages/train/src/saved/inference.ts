/** Inference with a saved model: evaluation on labelled samples and single-image prediction, preprocessed as its `preprocessor.json` says. */
import path from 'node:path';
import type { WholeImageCrop } from '@ldl/face-prep';
import { expectedAge } from '@ldl/core';
import * as tf from '@tensorflow/tfjs-core';
import { DataLoader, loadImage, type Normalization, normalizeInto } from '../data/pipeline';
import { type AgeSample } from '../data/readers';
import { type PreprocessorConfig } from './preprocessor';
import { type EvalResult, Trainer } from '../run/trainer';
import type { SavedModel } from './load';

/** The loader settings of a saved model's preprocessing. */
function imageOptionsOf(p: PreprocessorConfig): { size: number; margin: number; crop: WholeImageCrop; normalization: Normalization } {
  return { size: p.inputSize, margin: p.margin, crop: p.crop, normalization: { colorOrder: p.colorOrder, mean: p.mean, std: p.std } };
}

/** Evaluates a saved model on samples: MAE, CA(3/5/7) (and gender/ethnicity accuracy for multi-task). */
export async function evaluateSaved(saved: SavedModel, samples: AgeSample[], options: { batchSize?: number; flipTta?: boolean; runDir: string }): Promise<EvalResult> {
  const loader = new DataLoader(samples, { ...imageOptionsOf(saved.preprocessor), batchSize: options.batchSize ?? 64 });
  const trainer = new Trainer(saved.model, { runDir: options.runDir, minAge: saved.preprocessor.minAge, sigma: saved.preprocessor.sigma, flipTta: options.flipTta ?? false, progress: false });
  return trainer.evaluate(loader);
}

/** A single-image prediction. */
export interface Prediction {
  /** Expected age `Σ k·p_k`. */
  age: number;
  /** The most probable ages with their probabilities, descending. */
  top: { age: number; p: number }[];
  /** Multi-task only: the gender head's probabilities by class (`preprocessor.genderClasses`). */
  gender?: { label: string; p: number }[];
  /** Multi-task only: the ethnicity head's probabilities by class (`preprocessor.ethnicityClasses`). */
  ethnicity?: { label: string; p: number }[];
}

/** Predicts the age distribution of one (aligned, cropped) face image. */
export async function predictImage(saved: SavedModel, imagePath: string, topK = 5): Promise<Prediction> {
  const { inputSize: size, minAge, genderClasses, ethnicityClasses } = saved.preprocessor;
  const options = imageOptionsOf(saved.preprocessor);
  const img = await loadImage({ path: path.resolve(imagePath), age: 0, source: { file: imagePath, line: 0 } }, options);
  const x = new Float32Array(size * size * 3);
  normalizeInto(img, x, 0, options.normalization);
  const outs = tf.tidy(() => {
    const out = saved.model.predict(tf.tensor4d(x, [1, size, size, 3])) as tf.Tensor | tf.Tensor[];
    const list = Array.isArray(out) ? out : [out];
    return [tf.softmax(list[0] as tf.Tensor2D), expectedAge(list[0] as tf.Tensor2D, { minAge }), ...list.slice(1).map((t) => tf.softmax(t))];
  });
  const [probs, age, ...heads] = await Promise.all(outs.map((t) => t.data()));
  tf.dispose(outs);
  const top = Array.from(probs, (p, k) => ({ age: k + minAge, p })).sort((a, b) => b.p - a.p).slice(0, topK);
  const result: Prediction = { age: age[0], top };
  if (genderClasses && ethnicityClasses) {
    result.gender = genderClasses.map((label, i) => ({ label, p: heads[0]![i]! }));
    result.ethnicity = ethnicityClasses.map((label, i) => ({ label, p: heads[1]![i]! }));
  }
  return result;
}
