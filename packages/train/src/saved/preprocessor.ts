/**
 * `preprocessor.json`: how a photo becomes the input of a trained model and what its outputs mean, saved
 * beside the weights of every model a run writes (`best/`, each checkpoint's `model/`) and read by
 * eval, predict and the browser demo. No other source is consulted: a model folder without a valid file is
 * refused. The field names are a stable, documented format (transformers.js' `preprocessor_config.json`,
 * timm's `pretrained_cfg`); this module has no Node imports, so a browser bundle can use it.
 */

/** File name of a model's preprocessing, beside its `model.json`. */
export const PREPROCESSOR_JSON = 'preprocessor.json';

/** Format tag of {@link PreprocessorConfig}. */
export const PREPROCESSOR_FORMAT = 'ldl-preprocessor';

/** Format version this package writes and reads. */
export const PREPROCESSOR_VERSION = 2;

/** Crops of a whole image (a sample without a face box) to the square input; see `WholeImageCrop`. */
export const CROP_KINDS = ['stretch', 'square-center', 'square-bottom'] as const;

/** Output heads a model may have, in the order of its outputs. */
export const HEAD_NAMES = ['age', 'gender', 'ethnicity'] as const;

/**
 * A model's preprocessing and label set, as written to `preprocessor.json` (format `ldl-preprocessor`,
 * version 2). Input pixels `p` (0..255) become `x = (p / 255 − mean[c]) / std[c]` with the channels in
 * `colorOrder`, after the crop and a Lanczos-3 resize to `inputSize × inputSize` (sharp's default kernel in
 * Node; the browser demo uses face-prep's `cropResizeTensor(…, { kernel: 'lanczos3' })`). The kernel is not a field:
 * every @ldl consumer resizes with Lanczos-3.
 *
 * ```json
 * { "format": "ldl-preprocessor", "version": 2, "inputSize": 150, "colorOrder": "rgb",
 *   "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "crop": "square-bottom", "margin": 0,
 *   "heads": ["age"], "minAge": 0, "numClasses": 101, "sigma": 2, "genderClasses": null,
 *   "ethnicityClasses": null, "backbone": "facerec_resnet34", "weights": "facerec_resnet34.faceapi" }
 * ```
 */
export interface PreprocessorConfig {
  /** Always `'ldl-preprocessor'`. */
  format: typeof PREPROCESSOR_FORMAT;
  /** Always `2` (version 1 lacked `heads` and the class names; `ldl preprocessor --upgrade` converts it). */
  version: typeof PREPROCESSOR_VERSION;
  /** Side of the square input, pixels (the model's input is `[N, inputSize, inputSize, 3]`). */
  inputSize: number;
  /** Channel order the model expects: `'rgb'`, or `'bgr'` (Caffe/Keras ImageNet weights). */
  colorOrder: 'rgb' | 'bgr';
  /** Channel means on the 0..1 scale, in `colorOrder`. */
  mean: [number, number, number];
  /** Channel standard deviations on the 0..1 scale, in `colorOrder` (all > 0). */
  std: [number, number, number];
  /**
   * Fitting of a whole image (no face box) to the square: `'stretch'` (resize whole), `'square-center'`
   * or `'square-bottom'` (the largest square, centred or touching the bottom edge).
   */
  crop: (typeof CROP_KINDS)[number];
  /** Margin ratio around a face box (the box grows by `margin × side` on each side; face-prep's `expandBox`); ≥ 0. */
  margin: number;
  /** The model's outputs in order: `['age']`, or `['age', 'gender', 'ethnicity']` (multi-task). */
  heads: (typeof HEAD_NAMES)[number][];
  /** Age of class 0, years. */
  minAge: number;
  /** Age classes: the ages `minAge … minAge + numClasses − 1`, one softmax over them (expected age `Σ k·p_k`). */
  numClasses: number;
  /** σ of the Gaussian label distributions the model was trained on, years. */
  sigma: number;
  /** Gender head's classes in output order (`['male', 'female']`), or `null` without that head. */
  genderClasses: string[] | null;
  /** Ethnicity head's classes in output order (e.g. UTKFace's `White, Black, Asian, Indian, Others`), or `null`. */
  ethnicityClasses: string[] | null;
  /** Backbone architecture (`createModel` name of @ldl/backbones). */
  backbone: string;
  /** Pretrained weight set the backbone started from (`architecture.tag`), or `null` (random init or a state dict). */
  weights: string | null;
}

/** Gender classes in the order of the gender head's output (0 male, 1 female, as `parseGender`). */
export const GENDER_CLASSES = ['male', 'female'] as const;

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Checks a parsed `preprocessor.json` field by field and returns it typed.
 * @param json The parsed file content.
 * @param file The file's path, named in every error.
 * @throws Error `Error in parsePreprocessorConfig: <file>: <field> must be …, but got …` for the first field
 * that is missing or wrong (an unknown field is an error too, so a typo does not pass unnoticed).
 */
export function parsePreprocessorConfig(json: unknown, file: string): PreprocessorConfig {
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new Error(`Error in parsePreprocessorConfig: ${file}: ${field} must be ${expected}, but got ${got === undefined ? 'nothing' : JSON.stringify(got)}.`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('the file', 'a JSON object', json);
  const o = json as Record<string, unknown>;
  if (o.format !== PREPROCESSOR_FORMAT) fail('format', `'${PREPROCESSOR_FORMAT}'`, o.format);
  if (o.version !== PREPROCESSOR_VERSION) {
    fail('version', `${PREPROCESSOR_VERSION}${o.version === 1 ? " (a version 1 file: convert it with 'ldl preprocessor --upgrade DIR')" : ''}`, o.version);
  }
  const known: (keyof PreprocessorConfig)[] = [
    'format', 'version', 'inputSize', 'colorOrder', 'mean', 'std', 'crop', 'margin', 'heads', 'minAge', 'numClasses', 'sigma', 'genderClasses', 'ethnicityClasses', 'backbone', 'weights',
  ];
  const extra = Object.keys(o).find((k) => !(known as string[]).includes(k));
  if (extra !== undefined) fail(`field '${extra}'`, `absent (the fields are ${known.join(', ')})`, o[extra]);
  if (!Number.isInteger(o.inputSize) || (o.inputSize as number) < 1) fail('inputSize', 'a positive integer (pixels)', o.inputSize);
  if (o.colorOrder !== 'rgb' && o.colorOrder !== 'bgr') fail('colorOrder', "'rgb' or 'bgr'", o.colorOrder);
  for (const key of ['mean', 'std'] as const) {
    const v = o[key];
    if (!Array.isArray(v) || v.length !== 3 || !v.every(isNumber) || (key === 'std' && !v.every((x) => x > 0))) {
      fail(key, `3 finite numbers on the 0..1 scale${key === 'std' ? ', all > 0' : ''}`, v);
    }
  }
  if (!(CROP_KINDS as readonly unknown[]).includes(o.crop)) fail('crop', `one of ${CROP_KINDS.join(', ')}`, o.crop);
  if (!isNumber(o.margin) || o.margin < 0) fail('margin', 'a number ≥ 0', o.margin);
  const heads = o.heads;
  const singleOrMulti = (h: unknown) => Array.isArray(h) && (JSON.stringify(h) === '["age"]' || JSON.stringify(h) === JSON.stringify(HEAD_NAMES));
  if (!singleOrMulti(heads)) fail('heads', `["age"] or ${JSON.stringify(HEAD_NAMES)}`, heads);
  if (!Number.isInteger(o.minAge) || (o.minAge as number) < 0) fail('minAge', 'an integer ≥ 0 (years)', o.minAge);
  if (!Number.isInteger(o.numClasses) || (o.numClasses as number) < 2) fail('numClasses', 'an integer ≥ 2', o.numClasses);
  if (!isNumber(o.sigma) || o.sigma <= 0) fail('sigma', 'a number > 0 (years)', o.sigma);
  const multi = (heads as string[]).length === 3;
  for (const key of ['genderClasses', 'ethnicityClasses'] as const) {
    const v = o[key];
    const ok = multi ? Array.isArray(v) && v.length >= 2 && v.every((x) => typeof x === 'string') : v === null;
    if (!ok) fail(key, multi ? 'an array of ≥ 2 class names (the model has that head)' : 'null (the model has no such head)', v);
  }
  if (typeof o.backbone !== 'string' || o.backbone === '') fail('backbone', 'a backbone name', o.backbone);
  if (o.weights !== null && (typeof o.weights !== 'string' || o.weights === '')) fail('weights', "an 'architecture.tag' string or null", o.weights);
  return o as unknown as PreprocessorConfig;
}
