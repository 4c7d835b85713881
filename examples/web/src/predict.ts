/**
 * From a decoded photo to predictions, on the page's tfjs backend, following `preprocessor.json`:
 * each face is rotated by its alignment angle (PIL's expanded frame), its box grown by the model's
 * `margin`, cropped and resized to `inputSize` with Lanczos-3 (the kernel of Node's sharp path), normalised with `colorOrder`/`mean`/`std`; a photo that is
 * already an aligned crop is fitted with the model's `crop`. The expected age is `Σ k·p_k` from
 * @ldl/core's `expectedAge`, as Node's `predictImage` computes it.
 */
import { expectedAge } from '@ldl/core';
import { type AlignedFace, type RgbImage, cropResizeTensor, expandBox, rotateExpandTensor, wholeImageBox } from '@ldl/face-prep/browser';
import { type Tensor, type Tensor2D, type Tensor3D, type Tensor4D, clipByValue, dispose, expandDims, reverse, round, softmax, sub, div, tensor1d, tensor3d, tidy } from '@tensorflow/tfjs-core';
import type { LoadedModel } from './model';

/** One face's result. */
export interface FacePrediction {
  /** Expected age in years, `Σ (minAge + k)·p_k`. */
  age: number;
  /** The age distribution `p_k` (`numClasses` values, age `minAge + k`). */
  probabilities: Float32Array;
  /** Multi-task models: P(female) (class 1 of the gender head, as Node's `predictImage` reports it). */
  female?: number;
  /** Multi-task models: the ethnicity head's probabilities. */
  ethnicity?: number[];
  /** The model's input before normalisation: `[size, size, 3]` pixels 0..255 (shown as the aligned crop). */
  crop: RgbImage;
}

/** Rounds to 8-bit pixels, as the sharp path stores every intermediate image. */
const toPixels = (x: Tensor3D): Tensor3D => round(clipByValue(x, 0, 255));

/**
 * The model input `[size, size, 3]` (0..255) of one aligned face: rotate by `face.deg`, grow `face.box` (in the
 * rotated, expanded frame) by `margin`, crop, resize; Node's `loadImage` with the same `box`/`deg` does the same.
 */
export function alignedCrop(image: RgbImage, face: Pick<AlignedFace, 'deg' | 'box'>, loaded: LoadedModel): Tensor3D {
  const { inputSize: size, margin } = loaded.preprocessor;
  return tidy(() => {
    const rotated = toPixels(rotateExpandTensor(tensor3d(image.data, [image.height, image.width, 3], 'int32'), face.deg));
    const box = expandBox(face.box, margin, { width: rotated.shape[1], height: rotated.shape[0] });
    return toPixels(cropResizeTensor(rotated, box, size, { kernel: 'lanczos3' }));
  });
}

/** The model input `[size, size, 3]` (0..255) of a photo that is already an aligned face crop: the model's `crop`, resized. */
export function wholeCrop(image: RgbImage, loaded: LoadedModel): Tensor3D {
  const { inputSize: size, crop } = loaded.preprocessor;
  const box = wholeImageBox(image.width, image.height, crop);
  return tidy(() => toPixels(cropResizeTensor(tensor3d(image.data, [image.height, image.width, 3], 'int32'), box, size, { kernel: 'lanczos3' })));
}

/** Runs the model on one `[size, size, 3]` crop (0..255); the crop is disposed. */
export async function predictCrop(crop: Tensor3D, loaded: LoadedModel): Promise<FacePrediction> {
  const { colorOrder, mean, std, minAge } = loaded.preprocessor;
  const outs = tidy(() => {
    const ordered = colorOrder === 'bgr' ? reverse(crop, -1) : crop;
    const x = expandDims<Tensor4D>(div(sub(div(ordered, 255), tensor1d(mean)), tensor1d(std)), 0);
    const out = loaded.model.predict(x) as Tensor | Tensor[];
    const [age, ...heads] = Array.isArray(out) ? out : [out];
    return [softmax(age as Tensor2D), expectedAge(age as Tensor2D, { minAge }), ...heads.map((t) => softmax(t))];
  });
  try {
    const [probabilities, age, ...heads] = await Promise.all(outs.map((t) => t.data<'float32'>()));
    const [height, width] = crop.shape;
    const result: FacePrediction = { age: age[0], probabilities, crop: { data: Uint8Array.from(await crop.data()), width, height } };
    if (loaded.multiTask) {
      result.female = heads[0][1];
      result.ethnicity = Array.from(heads[1]);
    }
    return result;
  } finally {
    dispose([...outs, crop]);
  }
}
