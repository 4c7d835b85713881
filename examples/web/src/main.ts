/**
 * The demo page: pick a model folder and a photo; every face is detected, aligned (two passes), cropped
 * with the model's margin and its age distribution predicted, all in the browser.
 * `document.body.dataset.state` is `starting`, `ready`, `busy`, `done` or `error` (the browser test waits on it).
 */
import {
  type AlignedFace,
  type FaceDetector,
  type RgbImage,
  UnreadableImageError,
  alignFaces,
  createBrowserDetector,
  decodeImageBlob,
  rotateExpandImage,
} from '@ldl/face-prep/browser';
import { drawDistribution } from './chart';
import { pickBackend } from './backend';
import { type LoadedModel, NotAnLdlModelError, loadModelFromFiles, loadModelFromUrl } from './model';
import { type FacePrediction, alignedCrop, predictCrop, wholeCrop } from './predict';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const message = $<HTMLParagraphElement>('message');
const results = $<HTMLDivElement>('results');
const modelStatus = $<HTMLParagraphElement>('model-status');
const alignedBox = $<HTMLInputElement>('aligned');
const params = new URLSearchParams(location.search);

/**
 * `?face=<deg>,<x1>,<y1>,<x2>,<y2>`: use this alignment (a row of `ldl prep align`'s output: the angle in degrees,
 * the box in the rotated, expanded frame) for every photo instead of running the detector, to reproduce a Node
 * prediction exactly in the page (the browser test compares the two on the full rotate + crop + resize path).
 */
let fixedFace: Pick<AlignedFace, 'deg' | 'box'> | undefined;

function parseFixedFace(value: string | null): Pick<AlignedFace, 'deg' | 'box'> | undefined {
  if (value === null) return undefined;
  const v = value.split(',').map(Number);
  if (v.length !== 5 || v.some((x) => !Number.isFinite(x)) || v[3] <= v[1] || v[4] <= v[2]) {
    throw new Error(`Error in parseFixedFace: ?face must be <deg>,<x1>,<y1>,<x2>,<y2> (finite numbers, x2 > x1, y2 > y1), but got ${value}.`);
  }
  return { deg: v[0], box: [v[1], v[2], v[3], v[4]] };
}

/** Photos smaller than this are reported without running the detector (as `alignFace` does in Node). */
const MIN_IMAGE_SIZE = 16;

let loaded: LoadedModel | undefined;
let detector: Promise<FaceDetector> | undefined;

function setState(state: 'starting' | 'ready' | 'busy' | 'done' | 'error', text: string): void {
  document.body.dataset.state = state;
  message.textContent = text;
  message.classList.toggle('error', state === 'error');
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** An `<img>`-like canvas of an RGB image. */
function imageCanvas(image: RgbImage): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.className = 'crop';
  const rgba = new ImageData(image.width, image.height);
  for (let i = 0, j = 0; j < image.data.length; i += 4, j += 3) {
    rgba.data.set(image.data.subarray(j, j + 3), i);
    rgba.data[i + 3] = 255;
  }
  canvas.getContext('2d')?.putImageData(rgba, 0, 0);
  return canvas;
}

/** One result card: the aligned crop, the expected age, the distribution, and the other heads. */
function showFace(index: number, p: FacePrediction, note: string, face?: Pick<AlignedFace, 'deg' | 'box'>): void {
  const card = document.createElement('article');
  card.className = 'face';
  card.dataset.testid = 'face';
  if (face) {
    card.dataset.deg = String(face.deg);
    card.dataset.box = face.box.join(',');
  }
  const left = document.createElement('div');
  left.append(imageCanvas(p.crop));
  const right = document.createElement('div');
  const age = document.createElement('div');
  age.className = 'age';
  age.dataset.testid = 'age';
  age.dataset.age = String(p.age);
  age.textContent = `Face ${index + 1}: ${p.age.toFixed(2)} years`;
  const sub = document.createElement('p');
  sub.className = 'note';
  sub.textContent = note;
  const chart = document.createElement('canvas');
  chart.width = 680;
  chart.height = 220;
  chart.dataset.testid = 'chart';
  chart.dataset.bars = String(p.probabilities.length);
  right.append(age, sub, chart);
  const pre = loaded?.preprocessor;
  if (p.female !== undefined && p.ethnicity && pre?.genderClasses && pre.ethnicityClasses) {
    const table = document.createElement('table');
    table.className = 'heads';
    // Class names from preprocessor.json, in the heads' output order (text nodes: the names are data).
    const row = (head: string, classes: string[], probs: number[]) => {
      const tr = table.insertRow();
      tr.insertCell().textContent = head;
      tr.insertCell().textContent = probs.map((q, k) => `${classes[k] ?? k} ${(q * 100).toFixed(1)} %`).join(', ');
    };
    row('gender', pre.genderClasses, [1 - p.female, p.female]);
    row('ethnicity', pre.ethnicityClasses, p.ethnicity);
    right.append(table);
  }
  card.append(left, right);
  results.append(card);
  drawDistribution(chart, p.probabilities, loaded?.preprocessor.minAge ?? 0, p.age);
}

function describe(m: LoadedModel): string {
  const p = m.preprocessor;
  const ages = `ages ${p.minAge}–${p.minAge + p.numClasses - 1}`;
  return (
    `Loaded ${m.source}: ${p.backbone}${p.weights ? ` (from ${p.weights})` : ''}, ${p.inputSize}×${p.inputSize} px, ${p.colorOrder.toUpperCase()}, ` +
    `margin ${p.margin}, whole-image crop ${p.crop}, ${ages}, σ = ${p.sigma}; heads: ${p.heads.join(', ')}.`
  );
}

async function useModel(load: () => Promise<LoadedModel>): Promise<void> {
  setState('busy', 'Loading the model…');
  try {
    loaded?.model.dispose();
    loaded = undefined;
    loaded = await load();
    modelStatus.textContent = describe(loaded);
    setState('ready', 'Model ready: now choose or drop a photo.');
  } catch (err) {
    modelStatus.textContent = 'No model loaded.';
    setState('error', err instanceof NotAnLdlModelError ? `Not an @ldl model: ${err.message}` : `Could not load the model: ${errorText(err)}`);
  }
}

async function usePhoto(file: File): Promise<void> {
  results.replaceChildren();
  if (!loaded) {
    setState('error', 'Choose a model folder first (step 1).');
    return;
  }
  const model = loaded;
  setState('busy', `Reading ${file.name}…`);
  let image: RgbImage;
  try {
    image = await decodeImageBlob(file);
  } catch (err) {
    setState('error', err instanceof UnreadableImageError ? `${file.name} is not an image this browser can read (${errorText(err.cause)}).` : errorText(err));
    return;
  }
  try {
    if (alignedBox.checked) {
      showFace(0, await predictCrop(wholeCrop(image, model), model), `the whole photo (${image.width}×${image.height}), fitted with crop '${model.preprocessor.crop}', no detection`);
      setState('done', `${file.name}: 1 aligned crop.`);
      return;
    }
    if (image.width < MIN_IMAGE_SIZE || image.height < MIN_IMAGE_SIZE) {
      setState('error', `No face in ${file.name}: the image is ${image.width}×${image.height}, smaller than ${MIN_IMAGE_SIZE} px.`);
      return;
    }
    if (fixedFace) {
      const note = `the alignment given by ?face (rotated ${fixedFace.deg}°, box [${fixedFace.box.join(', ')}]), no detection, margin ${model.preprocessor.margin}`;
      showFace(0, await predictCrop(alignedCrop(image, fixedFace, model), model), note, fixedFace);
      setState('done', `${file.name}: 1 face at the given alignment.`);
      return;
    }
    setState('busy', detector ? `Finding faces in ${file.name}…` : 'Loading the face detector (face-api SSD + Face Mesh)…');
    // A failed load is not kept: the next photo tries again (a network hiccup must not need a reload).
    detector ??= createBrowserDetector({ faceApiModelUrl: 'models/face-api/', humanModelUrl: 'models/human/' }).catch((err: unknown) => {
      detector = undefined;
      throw err;
    });
    const faces = await alignFaces(await detector, image, rotateExpandImage);
    if (faces.length === 0) {
      setState('error', `No face found in ${file.name}. If it is already a cropped face, tick "already an aligned face crop".`);
      return;
    }
    let shown = 0;
    for (const [i, face] of faces.entries()) {
      if (face.status !== 'ok') {
        const lost = document.createElement('p');
        lost.className = 'note';
        lost.textContent = `Face ${i + 1}: ${face.reason}.`;
        results.append(lost);
        continue;
      }
      const note = `detection score ${face.score.toFixed(2)}, rotated ${face.deg.toFixed(1)}°, margin ${model.preprocessor.margin}`;
      showFace(i, await predictCrop(alignedCrop(image, face, model), model), note, face);
      shown++;
    }
    setState(shown > 0 ? 'done' : 'error', shown > 0 ? `${file.name}: ${shown} of ${faces.length} face${faces.length === 1 ? '' : 's'}.` : `No face could be aligned in ${file.name}.`);
  } catch (err) {
    setState('error', `Error while processing ${file.name}: ${errorText(err)}`);
  }
}

$<HTMLInputElement>('model-input').addEventListener('change', (e) => {
  const files = Array.from((e.target as HTMLInputElement).files ?? []);
  if (files.length > 0) void useModel(() => loadModelFromFiles(files));
});
$<HTMLInputElement>('photo-input').addEventListener('change', (e) => {
  const input = e.target as HTMLInputElement;
  const file = input.files?.[0];
  // Emptied, so that choosing the same photo again (after an error, or with another model) runs it again.
  input.value = '';
  if (file) void usePhoto(file);
});
const drop = $<HTMLDivElement>('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const file = e.dataTransfer?.files[0];
  if (file) void usePhoto(file);
});

async function start(): Promise<void> {
  setState('starting', 'Starting TensorFlow.js…');
  try {
    fixedFace = parseFixedFace(params.get('face'));
  } catch (err) {
    setState('error', errorText(err));
    return;
  }
  try {
    const backend = await pickBackend(params.get('backend'));
    $('backend').textContent = backend.name;
    $('backend-note').textContent = backend.skipped.length > 0 ? `(skipped: ${backend.skipped.join('; ')})` : '';
  } catch (err) {
    $('backend').textContent = 'none';
    setState('error', errorText(err));
    return;
  }
  const url = params.get('model');
  if (url) await useModel(() => loadModelFromUrl(url));
  else setState('ready', 'Choose a model folder to begin.');
}

void start();
