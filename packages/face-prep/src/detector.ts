/**
 * Face detection with eye landmarks: the {@link FaceDetector} interface and a default implementation
 * on `@vladmandic/face-api` (SSD MobileNet v1 detector + 68-point landmark net), whose pretrained
 * weights ship inside that npm package, so it runs with no network.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Tensor3D, getBackend, pad, ready, reverse, setBackend, tensor3d } from '@tensorflow/tfjs-core';
import type * as FaceApi from '@vladmandic/face-api';
import type { Box, Point } from './geometry';
import type { RgbImage } from './image';

/** One face found by a {@link FaceDetector}, in the pixel coordinates of the image it was given. */
export interface DetectedFace {
  /** Face box `[x1, y1, x2, y2]`. */
  box: Box;
  /** Detection confidence in `[0, 1]`. */
  score: number;
  /** Centre of the eye on the image's left (smaller x; the subject's right eye). */
  leftEye: Point;
  /** Centre of the eye on the image's right. */
  rightEye: Point;
}

/** A face detector with eye localisation. Plug in your own to use another model. */
export interface FaceDetector {
  /** All faces in an RGB image, in any order. */
  detect(image: RgbImage): Promise<DetectedFace[]>;
  /** Releases the model weights. */
  dispose?(): void;
}

/** Options of {@link createDefaultDetector}. */
export interface DefaultDetectorOptions {
  /**
   * Face box model: `'ssd'` (SSD MobileNet v1, 512×512 input, most accurate) or `'tiny'` (Tiny
   * Face Detector, a Tiny-YOLOv2, about 7× faster).
   * @default 'ssd'
   */
  model?: 'ssd' | 'tiny';
  /**
   * Input side of the tiny detector (a multiple of 32).
   * @default 416
   */
  tinyInputSize?: number;
  /**
   * tfjs backend to activate before loading: `'wasm'` (SIMD, fastest here), `'cpu'`, or `null` to
   * keep the active one. Note that this sets the process-wide tfjs backend.
   * @default 'wasm'
   */
  backend?: 'wasm' | 'cpu' | null;
  /**
   * Minimum score of a detection.
   * @default 0.2
   */
  minConfidence?: number;
  /**
   * Black border added on each side before box detection, as a fraction of the longer image side.
   * SSD scores faces that fill the photo poorly; a border makes them look like the faces it was
   * trained on.
   * @default 0.25
   */
  padding?: number;
  /**
   * Also run the landmark net on the mirrored face crop and average the eye centres (test-time
   * augmentation; halves the eye noise for ~35 ms per face).
   * @default true
   */
  flipLandmarks?: boolean;
  /**
   * Scales of the face box (about its centre) at which the landmark net is run; the eye centres of
   * all crops (and their mirrors) are averaged.
   * @default [1]
   */
  landmarkScales?: number[];
  /**
   * Folder holding face-api's `ssd_mobilenetv1_model` and `face_landmark_68_model` weights.
   * @default the `model/` folder of the installed `@vladmandic/face-api`
   */
  modelDir?: string;
}

type FaceApiModule = typeof FaceApi;
type WeightMap = Parameters<FaceApiModule['nets']['ssdMobilenetv1']['loadFromWeightMap']>[0];

const require = createRequire(import.meta.url);
let faceApi: FaceApiModule | undefined;

/** Loads face-api's build that takes tfjs from `@tensorflow/tfjs` + the wasm backend (no tfjs-node). */
function loadFaceApi(): FaceApiModule {
  faceApi ??= require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApiModule;
  return faceApi;
}

/** Reads a tfjs weights manifest and its shards from disk into a named tensor map. */
async function readWeights(api: FaceApiModule, dir: string, name: string): Promise<WeightMap> {
  const manifestPath = join(dir, `${name}-weights_manifest.json`);
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {
    paths: string[];
    weights: Parameters<FaceApiModule['tf']['io']['decodeWeights']>[1];
  }[];
  const shards = await Promise.all(manifest.flatMap((g) => g.paths.map((p) => readFile(join(dir, p)))));
  const bytes = new Uint8Array(shards.reduce((n, s) => n + s.byteLength, 0));
  let offset = 0;
  for (const s of shards) {
    bytes.set(s, offset);
    offset += s.byteLength;
  }
  return api.tf.io.decodeWeights(bytes.buffer, manifest.flatMap((g) => g.weights)) as WeightMap;
}

/** Mean of the landmark points `from .. to - 1`. */
function meanPoint(points: readonly { x: number; y: number }[], from: number, to: number): Point {
  let x = 0;
  let y = 0;
  for (let i = from; i < to; i++) {
    x += points[i].x;
    y += points[i].y;
  }
  return { x: x / (to - from), y: y / (to - from) };
}

/**
 * The default detector: face-api's SSD MobileNet v1 (or Tiny Face Detector) boxes and 68-point landmarks. Each eye centre is
 * the mean of that eye's 6 contour points (68-point indices 36–41 and 42–47), the convention of the
 * hand labels of AAF. Loads the weights from disk; the first call sets the tfjs backend.
 */
export async function createDefaultDetector(options: DefaultDetectorOptions = {}): Promise<FaceDetector> {
  const { backend = 'wasm', minConfidence = 0.2, model = 'ssd', tinyInputSize = 416, padding = 0.25, flipLandmarks = true, landmarkScales = [1] } = options;
  if (landmarkScales.length === 0 || !landmarkScales.every((k) => k > 0 && k <= 3)) {
    throw new Error(`Error in createDefaultDetector: landmarkScales must be a non-empty list of numbers in (0, 3], but got [${landmarkScales.join(', ')}].`);
  }
  if (!(padding >= 0 && padding <= 2)) {
    throw new Error(`Error in createDefaultDetector: padding must be in [0, 2], but got ${padding}.`);
  }
  if (!(minConfidence >= 0 && minConfidence <= 1)) {
    throw new Error(`Error in createDefaultDetector: minConfidence must be in [0, 1], but got ${minConfidence}.`);
  }
  if (model !== 'ssd' && model !== 'tiny') {
    throw new Error(`Error in createDefaultDetector: model must be 'ssd' or 'tiny', but got '${String(model)}'.`);
  }
  if (!Number.isInteger(tinyInputSize) || tinyInputSize <= 0 || tinyInputSize % 32 !== 0) {
    throw new Error(`Error in createDefaultDetector: tinyInputSize must be a positive multiple of 32, but got ${tinyInputSize}.`);
  }
  const api = loadFaceApi();
  if (backend !== null && getBackend() !== backend) {
    if (!(await setBackend(backend))) {
      throw new Error(`Error in createDefaultDetector: backend must be available, but got '${backend}' which failed to initialise.`);
    }
  }
  await ready();
  const modelDir = options.modelDir ?? join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  const boxNet = model === 'ssd' ? new api.SsdMobilenetv1() : new api.TinyFaceDetector();
  const landmarks = new api.FaceLandmark68Net();
  boxNet.loadFromWeightMap(await readWeights(api, modelDir, model === 'ssd' ? 'ssd_mobilenetv1_model' : 'tiny_face_detector_model'));
  landmarks.loadFromWeightMap(await readWeights(api, modelDir, 'face_landmark_68_model'));
  const locate =
    boxNet instanceof api.SsdMobilenetv1
      ? (input: FaceApi.tf.Tensor3D) => boxNet.locateFaces(input, new api.SsdMobilenetv1Options({ minConfidence, maxResults: 10 }))
      : (input: FaceApi.tf.Tensor3D) =>
          boxNet.locateFaces(input, new api.TinyFaceDetectorOptions({ inputSize: tinyInputSize, scoreThreshold: minConfidence }));

  /** The same tensor as face-api's copy of the tfjs types (one engine, two type declarations). */
  const forFaceApi = (t: Tensor3D) => t as unknown as FaceApi.tf.Tensor3D;
  /** Eye centres of each face crop, in crop pixels; `mirrored` crops are flipped left-right. */
  const eyesOf = async (crops: Tensor3D[], mirrored: boolean): Promise<{ left: Point; right: Point }[]> => {
    const marks = (await landmarks.detectLandmarks(crops.map(forFaceApi))) as FaceApi.FaceLandmarks68[] | FaceApi.FaceLandmarks68;
    return (Array.isArray(marks) ? marks : [marks]).map((m) => {
      const pts = m.positions;
      if (!mirrored) return { left: meanPoint(pts, 36, 42), right: meanPoint(pts, 42, 48) };
      // The subject's eyes swap sides in the mirror: the image-left eye is the mirrored right one.
      const unmirror = (p: Point) => ({ x: m.imageWidth - p.x, y: p.y });
      return { left: unmirror(meanPoint(pts, 42, 48)), right: unmirror(meanPoint(pts, 36, 42)) };
    });
  };

  return {
    async detect(image: RgbImage): Promise<DetectedFace[]> {
      const input = tensor3d(image.data, [image.height, image.width, 3], 'int32');
      const border = Math.round(padding * Math.max(image.width, image.height));
      const padded = border > 0 ? pad(input, [[border, border], [border, border], [0, 0]]) : input;
      const owned: Tensor3D[] = [];
      try {
        const found = await locate(forFaceApi(padded));
        // Back to image coordinates; the landmark crops are clipped to the image as face-api does.
        const detections = found.map((d) => ({
          d,
          box: new api.Box({ x: d.box.x - border, y: d.box.y - border, width: d.box.width, height: d.box.height }),
        }));
        // One landmark crop per face and scale, clipped to the image (and floored) as face-api does.
        const jobs = detections.flatMap((f, face) =>
          landmarkScales.map((k) => {
            const { x, y, width, height } = f.box;
            const scaled = new api.Box({ x: x + (width * (1 - k)) / 2, y: y + (height * (1 - k)) / 2, width: width * k, height: height * k });
            return { face, crop: scaled.clipAtImageBorders(image.width, image.height) };
          }),
        ).filter((j) => j.crop.width > 1 && j.crop.height > 1);
        if (jobs.length === 0) return [];
        const crops = (await api.extractFaceTensors(forFaceApi(input), jobs.map((j) => j.crop))) as unknown as Tensor3D[];
        owned.push(...crops);
        const estimates = [await eyesOf(crops, false)];
        if (flipLandmarks) {
          const mirrored = crops.map((c) => reverse(c, 1));
          owned.push(...mirrored);
          estimates.push(await eyesOf(mirrored, true));
        }
        return detections.flatMap(({ d, box }, face) => {
          const mine = jobs.flatMap((j, i) => (j.face === face ? estimates.map((e) => ({ crop: j.crop, eyes: e[i] })) : []));
          if (mine.length === 0) return [];
          const mean = (pick: (e: { left: Point; right: Point }) => Point): Point => ({
            x: mine.reduce((sum, m) => sum + pick(m.eyes).x + m.crop.x, 0) / mine.length,
            y: mine.reduce((sum, m) => sum + pick(m.eyes).y + m.crop.y, 0) / mine.length,
          });
          return [
            {
              box: [box.x, box.y, box.x + box.width, box.y + box.height] as Box,
              score: d.score,
              leftEye: mean((e) => e.left),
              rightEye: mean((e) => e.right),
            },
          ];
        });
      } finally {
        owned.forEach((t) => t.dispose());
        if (padded !== input) padded.dispose();
        input.dispose();
      }
    },
    dispose(): void {
      boxNet.dispose();
      landmarks.dispose();
    },
  };
}
