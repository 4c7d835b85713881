/**
 * The default face detector in Node: face-api's Node wasm build, with the pretrained weights read from
 * the installed `@vladmandic/face-api` and `@vladmandic/human` packages (no network). These packages
 * are optional peer dependencies of `@ldl/face-prep`: only this entry (`@ldl/face-prep/detector`)
 * and the CLI behind `ldl prep` need them.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { getBackend, ready, setBackend } from '@tensorflow/tfjs-core';
import { type DetectorOptions, type FaceApiModule, type FaceDetector, createDetector, resolveDetectorOptions } from './detector-core';

export type { DetectedFace, DetectorOptions, FaceDetector } from './detector-core';

/** Options of {@link createDefaultDetector}: the model options plus where Node finds the weights. */
export interface DefaultDetectorOptions extends DetectorOptions {
  /**
   * tfjs backend to activate before loading: `'wasm'` (SIMD, fastest here), `'cpu'`, or `null` to
   * keep the active one. Note that this sets the process-wide tfjs backend.
   * @default 'wasm'
   */
  backend?: 'wasm' | 'cpu' | null;
  /**
   * Folder holding `@vladmandic/human`'s `facemesh.json` + `facemesh.bin`.
   * @default the `models/` folder of the installed `@vladmandic/human`
   */
  meshModelDir?: string;
  /**
   * Folder holding face-api's `ssd_mobilenetv1_model` and `face_landmark_68_model` weights.
   * @default the `model/` folder of the installed `@vladmandic/face-api`
   */
  modelDir?: string;
}

const require = createRequire(import.meta.url);

/** The optional peer dependencies the default detector loads. */
const PEERS = ['@vladmandic/face-api', '@vladmandic/human', '@tensorflow/tfjs', '@tensorflow/tfjs-converter', '@tensorflow/tfjs-backend-wasm'] as const;

/**
 * Where an optional peer dependency's file lives.
 * @throws Error naming the packages to install when it is not installed.
 */
function resolvePeer(specifier: string): string {
  try {
    return require.resolve(specifier);
  } catch {
    const pkg = specifier.split('/').slice(0, 2).join('/');
    throw new Error(
      `Error in createDefaultDetector: the face detector needs the npm package '${pkg}' (an optional peer dependency of @ldl/face-prep), which is not installed: install ${PEERS.join(', ')}.`,
    );
  }
}

/** Reads files by name from the folder `dir()` (resolved on the first read, so an unused model's package may be absent). */
const folder = (dir: () => string) => async (name: string) => new Uint8Array(await readFile(join(dir(), name)));

/**
 * The default detector ({@link createDetector}) in Node: face-api's build that takes tfjs from
 * `@tensorflow/tfjs` + the wasm backend (no tfjs-node), weights read from disk. The first call sets
 * the process-wide tfjs backend (`backend`).
 *
 * @throws Error when an option is out of range, a peer package is missing, or the backend fails to start.
 */
export async function createDefaultDetector(options: DefaultDetectorOptions = {}): Promise<FaceDetector> {
  const fn = 'createDefaultDetector';
  const { backend = 'wasm', modelDir, meshModelDir, ...modelOptions } = options;
  const resolved = resolveDetectorOptions(fn, modelOptions);
  // Say up front which peer is missing (the mesh model needs Human's files and tfjs-converter).
  for (const peer of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', ...(resolved.eyeModel === 'mesh' ? ['@vladmandic/human', '@tensorflow/tfjs-converter'] : [])]) resolvePeer(peer);
  const faceApi = require(resolvePeer('@vladmandic/face-api/dist/face-api.node-wasm.js')) as FaceApiModule;
  if (backend !== null && getBackend() !== backend) {
    if (!(await setBackend(backend))) {
      throw new Error(`Error in ${fn}: backend must be available, but got '${backend}' which failed to initialise.`);
    }
  }
  await ready();
  const models = {
    faceApi,
    readFaceApiFile: folder(() => modelDir ?? join(dirname(resolvePeer('@vladmandic/face-api/package.json')), 'model')),
    // `@vladmandic/human`'s exports map has no `./package.json`: its main file is in `dist/`.
    readHumanFile: folder(() => meshModelDir ?? join(dirname(resolvePeer('@vladmandic/human')), '..', 'models')),
  };
  return createDetector(fn, models, resolved);
}
