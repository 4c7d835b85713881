/**
 * Face detection with eye landmarks: the {@link FaceDetector} interface and the default detector
 * with `@vladmandic/face-api`'s SSD MobileNet v1 boxes and MediaPipe Face Mesh eyes (the graph model
 * in `@vladmandic/human`'s `models/`), or face-api's 68-point landmark net. Environment-neutral: the
 * caller hands in face-api's module and a reader of the model files (Node's `createDefaultDetector`
 * reads them from disk, the browser's `createBrowserDetector` fetches them from URLs).
 */
import { type Tensor, type Tensor3D, type Tensor4D, cast, concat, div, expandDims, image, io, pad, reverse, tensor2d, tensor3d, tidy } from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type * as FaceApi from '@vladmandic/face-api';
import { type Box, type Point, eyeAngle } from './geometry';
import type { RgbImage } from './rgb';

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

/** Model options of the default detector ({@link createDetector}; `createDefaultDetector` in Node, `createBrowserDetector` in a page). */
export interface DetectorOptions {
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
   * Eye model: `'mesh'` (MediaPipe Face Mesh, 468 points, shipped in `@vladmandic/human`; each eye
   * centre is the mean of the 6 mesh points that match the 68-point eye contour) or `'landmark68'`
   * (face-api's 68-point landmark net).
   * @default 'mesh'
   */
  eyeModel?: 'mesh' | 'landmark68';
  /**
   * Side of the square crop fed to the mesh model, as a multiple of the longer side of the face box.
   * @default 1.4
   */
  meshScale?: number;
  /**
   * Face Mesh re-runs on a crop rotated by the eye angle its previous run measured (the model
   * expects upright faces); `0` runs it once on a level crop.
   * @default 1
   */
  meshRotations?: number;
}


/** The module of `@vladmandic/face-api` (any of its builds). */
export type FaceApiModule = typeof FaceApi;
type WeightMap = Parameters<FaceApiModule['nets']['ssdMobilenetv1']['loadFromWeightMap']>[0];
type WeightSpecs = Parameters<FaceApiModule['tf']['io']['decodeWeights']>[1];
/** Eye centres of one face. */
type Eyes = { left: Point; right: Point };

/**
 * Reads one model file by its name in its folder (`ssd_mobilenetv1_model.bin`, `facemesh.json`, …).
 * @throws whatever the reader throws for a missing file; the detector adds which file it wanted.
 */
export type ModelFileReader = (name: string) => Promise<Uint8Array>;

/** Where the default detector gets face-api and the pretrained weights from. */
export interface DetectorModels {
  /** face-api's module: its Node wasm build, or its ESM no-bundle build in a page (both run on the one tfjs engine). */
  faceApi: FaceApiModule;
  /** Reads a file of face-api's `model/` folder. */
  readFaceApiFile: ModelFileReader;
  /** Reads a file of `@vladmandic/human`'s `models/` folder (Face Mesh). */
  readHumanFile: ModelFileReader;
}

/** Reads `name` with `read`, naming the file in the error. */
async function readModelFile(fn: string, read: ModelFileReader, name: string): Promise<Uint8Array> {
  try {
    return await read(name);
  } catch (err) {
    throw new Error(`Error in ${fn}: model file ${name} must be readable, but got: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** The weight shards of a tfjs manifest, read with `read` and concatenated. */
async function readShards(fn: string, read: ModelFileReader, manifest: readonly { paths: string[] }[]): Promise<ArrayBuffer> {
  const shards = await Promise.all(manifest.flatMap((g) => g.paths.map((p) => readModelFile(fn, read, p))));
  const bytes = new Uint8Array(shards.reduce((n, s) => n + s.byteLength, 0));
  let offset = 0;
  for (const s of shards) {
    bytes.set(s, offset);
    offset += s.byteLength;
  }
  return bytes.buffer;
}

/** Reads and parses a JSON model file. */
async function readJson<T>(fn: string, read: ModelFileReader, name: string): Promise<T> {
  const text = new TextDecoder().decode(await readModelFile(fn, read, name));
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`Error in ${fn}: model file ${name} must be JSON, but got: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Reads a face-api weights manifest (`NAME-weights_manifest.json`) and its shards into a named tensor map. */
async function readWeights(fn: string, models: DetectorModels, name: string): Promise<WeightMap> {
  const manifest = await readJson<{ paths: string[]; weights: WeightSpecs }[]>(fn, models.readFaceApiFile, `${name}-weights_manifest.json`);
  return models.faceApi.tf.io.decodeWeights(await readShards(fn, models.readFaceApiFile, manifest), manifest.flatMap((g) => g.weights)) as WeightMap;
}

/** Loads a tfjs graph model (`NAME.json` + its shards). */
async function readGraphModel(fn: string, read: ModelFileReader, name: string): Promise<GraphModel> {
  const json = await readJson<{ modelTopology: object; weightsManifest: { paths: string[]; weights: WeightSpecs }[]; format?: string; signature?: object }>(
    fn,
    read,
    `${name}.json`,
  );
  if (json.modelTopology === undefined || !Array.isArray(json.weightsManifest)) {
    throw new Error(`Error in ${fn}: ${name}.json must be a tfjs graph model, but got one without modelTopology/weightsManifest.`);
  }
  const weightData = await readShards(fn, read, json.weightsManifest);
  // Loaded here, not at the top: an optional peer, needed only for Face Mesh.
  const { loadGraphModel } = await import('@tensorflow/tfjs-converter');
  return loadGraphModel(
    io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData,
      format: json.format,
      signature: json.signature,
    }),
  );
}

/** Mean of the points at `indices`. */
function meanOf(points: ArrayLike<number>, indices: readonly number[], stride: number): Point {
  let x = 0;
  let y = 0;
  for (const i of indices) {
    x += points[i * stride];
    y += points[i * stride + 1];
  }
  return { x: x / indices.length, y: y / indices.length };
}

/** Side of the Face Mesh input. */
const MESH_SIZE = 192;
/** Points of Face Mesh. */
const MESH_POINTS = 468;
/**
 * Face Mesh indices of the 6 eye-contour points that match the 68-point ones (36–41 and 42–47):
 * the eye on the image's left and the one on its right of an upright face.
 */
const MESH_EYES = { left: [33, 160, 158, 133, 153, 144], right: [362, 385, 387, 263, 373, 380] } as const;
/** 68-point indices of the same contours. */
const LANDMARK68_EYES = { left: [36, 37, 38, 39, 40, 41], right: [42, 43, 44, 45, 46, 47] } as const;

/**
 * Every option of {@link DetectorOptions} with its default filled in.
 * @throws Error naming `fn` when an option is out of range.
 */
export function resolveDetectorOptions(fn: string, options: DetectorOptions): Required<DetectorOptions> {
  const {
    minConfidence = 0.2,
    model = 'ssd',
    tinyInputSize = 416,
    padding = 0.25,
    flipLandmarks = true,
    landmarkScales = [1],
    eyeModel = 'mesh',
    meshScale = 1.4,
    meshRotations = 1,
  } = options;
  if (landmarkScales.length === 0 || !landmarkScales.every((k) => k > 0 && k <= 3)) {
    throw new Error(`Error in ${fn}: landmarkScales must be a non-empty list of numbers in (0, 3], but got [${landmarkScales.join(', ')}].`);
  }
  if (!(padding >= 0 && padding <= 2)) {
    throw new Error(`Error in ${fn}: padding must be in [0, 2], but got ${padding}.`);
  }
  if (!(minConfidence >= 0 && minConfidence <= 1)) {
    throw new Error(`Error in ${fn}: minConfidence must be in [0, 1], but got ${minConfidence}.`);
  }
  if (model !== 'ssd' && model !== 'tiny') {
    throw new Error(`Error in ${fn}: model must be 'ssd' or 'tiny', but got '${String(model)}'.`);
  }
  if (eyeModel !== 'mesh' && eyeModel !== 'landmark68') {
    throw new Error(`Error in ${fn}: eyeModel must be 'mesh' or 'landmark68', but got '${String(eyeModel)}'.`);
  }
  if (!(meshScale > 0 && meshScale <= 3)) {
    throw new Error(`Error in ${fn}: meshScale must be in (0, 3], but got ${meshScale}.`);
  }
  if (!Number.isInteger(meshRotations) || meshRotations < 0) {
    throw new Error(`Error in ${fn}: meshRotations must be an integer >= 0, but got ${meshRotations}.`);
  }
  if (!Number.isInteger(tinyInputSize) || tinyInputSize <= 0 || tinyInputSize % 32 !== 0) {
    throw new Error(`Error in ${fn}: tinyInputSize must be a positive multiple of 32, but got ${tinyInputSize}.`);
  }
  return { minConfidence, model, tinyInputSize, padding, flipLandmarks, landmarkScales, eyeModel, meshScale, meshRotations };
}

/**
 * The default detector: face-api's SSD MobileNet v1 (or Tiny Face Detector) boxes, and eye
 * centres from MediaPipe Face Mesh (`eyeModel: 'mesh'`) or face-api's 68-point landmark net. Each
 * eye centre is the mean of that eye's 6 contour points (68-point indices 36–41 and 42–47, or the
 * matching mesh points), the convention of the hand labels of AAF. Runs on the active tfjs backend.
 * `fn` names the public function in errors; `options` come from {@link resolveDetectorOptions}.
 *
 * @throws Error when a model file cannot be read or is not the model it should be.
 */
export async function createDetector(fn: string, models: DetectorModels, options: Required<DetectorOptions>): Promise<FaceDetector> {
  const { minConfidence, model, tinyInputSize, flipLandmarks, landmarkScales, eyeModel, meshScale, meshRotations, padding } = options;
  const api = models.faceApi;
  const boxNet = model === 'ssd' ? new api.SsdMobilenetv1() : new api.TinyFaceDetector();
  boxNet.loadFromWeightMap(await readWeights(fn, models, model === 'ssd' ? 'ssd_mobilenetv1_model' : 'tiny_face_detector_model'));
  const landmarks = eyeModel === 'landmark68' ? new api.FaceLandmark68Net() : undefined;
  landmarks?.loadFromWeightMap(await readWeights(fn, models, 'face_landmark_68_model'));
  // `@vladmandic/human` is needed only for the graph model in its `models/` folder.
  const mesh = eyeModel === 'mesh' ? await readGraphModel(fn, models.readHumanFile, 'facemesh') : undefined;
  const locate =
    boxNet instanceof api.SsdMobilenetv1
      ? (input: FaceApi.tf.Tensor3D) => boxNet.locateFaces(input, new api.SsdMobilenetv1Options({ minConfidence, maxResults: 10 }))
      : (input: FaceApi.tf.Tensor3D) =>
          boxNet.locateFaces(input, new api.TinyFaceDetectorOptions({ inputSize: tinyInputSize, scoreThreshold: minConfidence }));

  /** The same tensor as face-api's copy of the tfjs types (one engine, two type declarations). */
  const forFaceApi = (t: Tensor3D) => t as unknown as FaceApi.tf.Tensor3D;

  /** Eye centres from the 68-point net, averaged over `landmarkScales` and (`flipLandmarks`) mirrors. */
  const landmarkEyes = async (net: FaceApi.FaceLandmark68Net, input: Tensor3D, boxes: FaceApi.Box[]): Promise<(Eyes | undefined)[]> => {
    // One landmark crop per face and scale, clipped to the image (and floored) as face-api does.
    const jobs = boxes
      .flatMap((b, face) =>
        landmarkScales.map((k) => {
          const scaled = new api.Box({ x: b.x + (b.width * (1 - k)) / 2, y: b.y + (b.height * (1 - k)) / 2, width: b.width * k, height: b.height * k });
          return { face, crop: scaled.clipAtImageBorders(input.shape[1], input.shape[0]) };
        }),
      )
      .filter((j) => j.crop.width > 1 && j.crop.height > 1);
    if (jobs.length === 0) return boxes.map(() => undefined);
    const owned: Tensor3D[] = [];
    try {
      const crops = (await api.extractFaceTensors(forFaceApi(input), jobs.map((j) => j.crop))) as unknown as Tensor3D[];
      owned.push(...crops);
      /** Eye centres of each crop, in crop pixels; `mirrored` crops are flipped left-right. */
      const eyesOf = async (tensors: Tensor3D[], mirrored: boolean): Promise<Eyes[]> => {
        const marks = (await net.detectLandmarks(tensors.map(forFaceApi))) as FaceApi.FaceLandmarks68[] | FaceApi.FaceLandmarks68;
        return (Array.isArray(marks) ? marks : [marks]).map((m) => {
          const flat = m.positions.flatMap((p) => [p.x, p.y]);
          if (!mirrored) return { left: meanOf(flat, LANDMARK68_EYES.left, 2), right: meanOf(flat, LANDMARK68_EYES.right, 2) };
          // The subject's eyes swap sides in the mirror: the image-left eye is the mirrored right one.
          const unmirror = (p: Point) => ({ x: m.imageWidth - p.x, y: p.y });
          return { left: unmirror(meanOf(flat, LANDMARK68_EYES.right, 2)), right: unmirror(meanOf(flat, LANDMARK68_EYES.left, 2)) };
        });
      };
      const estimates = [await eyesOf(crops, false)];
      if (flipLandmarks) {
        const mirrored = crops.map((c) => reverse(c, 1));
        owned.push(...mirrored);
        estimates.push(await eyesOf(mirrored, true));
      }
      return boxes.map((_, face) => {
        const mine = jobs.flatMap((j, i) => (j.face === face ? estimates.map((e) => ({ x: j.crop.x, y: j.crop.y, eyes: e[i] })) : []));
        return mine.length === 0 ? undefined : averageEyes(mine);
      });
    } finally {
      owned.forEach((t) => t.dispose());
    }
  };

  /**
   * Eye centres of one face from Face Mesh: a square of `meshScale` × the box's longer side about its
   * centre is sampled upright along the eye line (first level, then rotated by the angle the previous
   * run measured, `meshRotations` times), with its mirror when `flipLandmarks`.
   */
  const meshEyes = async (net: GraphModel, input: Tensor4D, b: FaceApi.Box): Promise<Eyes> => {
    const side = meshScale * Math.max(b.width, b.height);
    const centre = { x: b.x + b.width / 2, y: b.y + b.height / 2 };
    const k = side / MESH_SIZE;
    let eyes: Eyes | undefined;
    for (let pass = 0; pass <= meshRotations; pass++) {
      const theta = eyes ? (eyeAngle(eyes.left, eyes.right) * Math.PI) / 180 : 0;
      const [cos, sin] = [Math.cos(theta), Math.sin(theta)];
      /** Crop point (continuous, `MESH_SIZE` frame) to image point (continuous). */
      const toImage = (p: Point): Point => {
        const [du, dv] = [(p.x - MESH_SIZE / 2) * k, (p.y - MESH_SIZE / 2) * k];
        return { x: centre.x + cos * du - sin * dv, y: centre.y + sin * du + cos * dv };
      };
      // tf.image.transform maps output pixel index (i, j) to input pixel index; pixel centres sit at +0.5.
      const origin = toImage({ x: 0.5, y: 0.5 });
      const transform = [[k * cos, -k * sin, origin.x - 0.5, k * sin, k * cos, origin.y - 0.5, 0, 0]];
      const batch = tidy(() => {
        const crop = div(image.transform(input, tensor2d(transform), 'bilinear', 'constant', 0, [MESH_SIZE, MESH_SIZE]), 255);
        return flipLandmarks ? concat([crop, reverse(crop, 2)]) : crop;
      });
      let points: Float32Array;
      try {
        const outputs = net.execute(batch) as Tensor[];
        try {
          const meshT = outputs.find((t) => t.shape[t.shape.length - 1] === MESH_POINTS * 3);
          if (!meshT) {
            throw new Error(`Error in ${fn}: the face mesh model must output ${MESH_POINTS * 3} values per face, but got shapes ${outputs.map((t) => `[${t.shape.join(', ')}]`).join(', ')}.`);
          }
          points = (await meshT.data()) as Float32Array;
        } finally {
          outputs.forEach((t) => t.dispose());
        }
      } finally {
        batch.dispose();
      }
      const estimates = [{ left: toImage(meanOf(points, MESH_EYES.left, 3)), right: toImage(meanOf(points, MESH_EYES.right, 3)) }];
      if (flipLandmarks) {
        // The subject's eyes swap sides in the mirror: the image-left eye is the mirrored right one.
        const m = points.subarray(MESH_POINTS * 3);
        const unmirror = (p: Point) => toImage({ x: MESH_SIZE - p.x, y: p.y });
        estimates.push({ left: unmirror(meanOf(m, MESH_EYES.right, 3)), right: unmirror(meanOf(m, MESH_EYES.left, 3)) });
      }
      eyes = averageEyes(estimates.map((e) => ({ x: 0, y: 0, eyes: e })));
    }
    return eyes as Eyes;
  };

  return {
    async detect(rgb: RgbImage): Promise<DetectedFace[]> {
      const input = tensor3d(rgb.data, [rgb.height, rgb.width, 3], 'int32');
      const border = Math.round(padding * Math.max(rgb.width, rgb.height));
      const padded = border > 0 ? pad(input, [[border, border], [border, border], [0, 0]]) : input;
      try {
        const found = await locate(forFaceApi(padded));
        if (found.length === 0) return [];
        // Back to image coordinates.
        const boxes = found.map((d) => new api.Box({ x: d.box.x - border, y: d.box.y - border, width: d.box.width, height: d.box.height }));
        let eyes: (Eyes | undefined)[] = [];
        if (landmarks) eyes = await landmarkEyes(landmarks, input, boxes);
        else if (mesh) {
          const batched = tidy(() => expandDims<Tensor4D>(cast(input, 'float32'), 0));
          try {
            for (const b of boxes) eyes.push(await meshEyes(mesh, batched, b));
          } finally {
            batched.dispose();
          }
        }
        return found.flatMap((d, i) => {
          const e = eyes[i];
          const b = boxes[i];
          return e ? [{ box: [b.x, b.y, b.x + b.width, b.y + b.height] as Box, score: d.score, leftEye: e.left, rightEye: e.right }] : [];
        });
      } finally {
        if (padded !== input) padded.dispose();
        input.dispose();
      }
    },
    dispose(): void {
      boxNet.dispose();
      landmarks?.dispose();
      mesh?.dispose();
    },
  };
}

/** Mean eye centres of several estimates, each in the frame offset by `(x, y)`. */
function averageEyes(estimates: readonly { x: number; y: number; eyes: Eyes }[]): Eyes {
  const mean = (pick: (e: Eyes) => Point): Point => ({
    x: estimates.reduce((sum, m) => sum + pick(m.eyes).x + m.x, 0) / estimates.length,
    y: estimates.reduce((sum, m) => sum + pick(m.eyes).y + m.y, 0) / estimates.length,
  });
  return { left: mean((e) => e.left), right: mean((e) => e.right) };
}
