/**
 * Face detection with eye landmarks: the {@link FaceDetector} interface and a default implementation
 * on `@vladmandic/face-api` (SSD MobileNet v1 detector + 68-point landmark net), whose pretrained
 * weights ship inside that npm package, so it runs with no network.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { getBackend, ready, setBackend } from '@tensorflow/tfjs-core';
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
  const { backend = 'wasm', minConfidence = 0.2, model = 'ssd', tinyInputSize = 416 } = options;
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
  const { tf } = api;
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

  return {
    async detect(image: RgbImage): Promise<DetectedFace[]> {
      const input = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
      try {
        const detections = await locate(input);
        if (detections.length === 0) return [];
        const boxes = detections.map((d) => d.box);
        const faces = await api.extractFaceTensors(input, boxes);
        try {
          const marks = (await landmarks.detectLandmarks(faces)) as FaceApi.FaceLandmarks68[] | FaceApi.FaceLandmarks68;
          const list = Array.isArray(marks) ? marks : [marks];
          return detections.map((d, i) => {
            const { x, y, width, height } = d.box;
            const shift = list[i].shiftBy(x, y);
            const pts = shift.positions;
            return {
              box: [x, y, x + width, y + height],
              score: d.score,
              leftEye: meanPoint(pts, 36, 42),
              rightEye: meanPoint(pts, 42, 48),
            };
          });
        } finally {
          faces.forEach((t) => t.dispose());
        }
      } finally {
        input.dispose();
      }
    },
    dispose(): void {
      boxNet.dispose();
      landmarks.dispose();
    },
  };
}
