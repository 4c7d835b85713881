/**
 * `exportOnnx`: a tfjs layers model as one ONNX `ModelProto` (opset 17), walking its graph in topological
 * order and converting each layer (`layers.ts`); nested models (a backbone applied as a layer) are walked
 * in place.
 */
import { LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { LayerShape } from '../../layers/common.js';
import { GraphBuilder, int, ints } from './graph.js';
import { LAYER_CONVERTERS, type LayerConversion, type OnnxValue } from './layers.js';
import { encodeModelProto, ONNX_DTYPE, type DimInit, type ValueInfoProtoInit } from './proto.js';

/** The ONNX operator set every export uses (ONNX 1.12, 2022; run by onnxruntime ≥ 1.12 and Triton's onnxruntime backend since 22.07). */
export const ONNX_OPSET = 17;

/** The ONNX IR version written (IR 8, the version of opset 17's release). */
export const ONNX_IR_VERSION = 8;

/** Name of the dynamic batch dimension of every input and output (`dim_param`). */
export const ONNX_BATCH_DIM = 'batch';

/** Input layout of an exported model. */
export type OnnxLayout = 'nhwc' | 'nchw';

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /**
   * Layout of the image input: `'nhwc'` `[batch, H, W, C]` as tfjs, or `'nchw'` `[batch, C, H, W]` as PyTorch
   * and most ONNX/Triton pipelines. Rank-4 outputs use the same layout. Inside the graph every image tensor
   * is NCHW (ONNX's `Conv`); an NHWC input is transposed once, at the start. @default 'nhwc'
   */
  layout?: OnnxLayout;
  /** `metadata_props` key/values (e.g. `{ 'preprocessor.json': text }`). @default {} */
  metadata?: Record<string, string>;
  /** Append the output `probabilities`: softmax of the age head's logits, `[batch, classes]`. @default false */
  probabilities?: boolean;
  /** Append the output `expected_age`: `Σ_k (minAge + k)·p_k` over the age head's softmax, `[batch, 1]`, years (DLDL-v2's prediction). @default false */
  expectedAge?: boolean;
  /** Age of the age head's class 0, years (`preprocessor.json`'s `minAge`). @default 0 */
  minAge?: number;
  /** The age head: the name of an output layer. @default the output layer named 'age', else the only output */
  ageOutput?: string;
  /** Name of the graph input. @default the model's input layer name */
  inputName?: string;
}

/** The extra outputs {@link exportOnnx} can append. */
export const ONNX_EXTRA_OUTPUTS = { probabilities: 'probabilities', expectedAge: 'expected_age' } as const;

type Layer = LayerConversion['layer'];

function unsupported(layer: Layer, what: string): never {
  throw new Error(`Error in exportOnnx: layer '${layer.name}' (class ${layer.getClassName()}) ${what} is not supported by the ONNX export.`);
}

/** A layer's weight by its local name (`conv1/kernel`): its tfjs name is `<scopes>/<layer>/<local>`. */
function findWeight(layer: Layer, local: string): Tensor | null {
  const suffix = `${layer.name}/${local}`;
  const w = layer.weights.find((v) => v.originalName === suffix || v.originalName.endsWith(`/${suffix}`));
  return w ? w.read() : null;
}

/** Converts one model's graph (its inputs already bound to `inputs`); returns its outputs. */
function walk(model: LayersModel, inputs: OnnxValue[], g: GraphBuilder, prefix: string): OnnxValue[] {
  if (inputs.length !== model.inputs.length) unsupported(model, `with ${model.inputs.length} inputs applied to ${inputs.length}`);
  const values = new Map<number, OnnxValue>();
  model.inputs.forEach((t, i) => values.set(t.id, inputs[i]!));
  const visiting = new Set<number>();
  // Depth-first from the outputs: every layer is converted after the layers it reads (topological order).
  const resolve = (t: SymbolicTensor): OnnxValue => {
    const known = values.get(t.id);
    if (known) return known;
    const layer = t.sourceLayer as Layer;
    if (visiting.has(t.id)) unsupported(layer, 'in a cycle');
    visiting.add(t.id);
    const node = layer.inboundNodes[t.nodeIndex];
    if (!node || layer.getClassName() === 'InputLayer') unsupported(layer, `as an input the model '${model.name}' does not declare`);
    const ins = node.inputTensors.map(resolve);
    let outs: OnnxValue[];
    if (layer instanceof LayersModel) {
      outs = walk(layer, ins, g, `${prefix}${layer.name}/`);
    } else {
      const convert = LAYER_CONVERTERS[layer.getClassName()];
      if (!convert) unsupported(layer, '');
      if (node.outputTensors.length !== 1) unsupported(layer, `with ${node.outputTensors.length} outputs`);
      const outputShape = node.outputTensors[0]!.shape as LayerShape;
      const name = `${prefix}${layer.name}`;
      const conversion: LayerConversion = {
        g,
        layer,
        inputs: ins,
        name,
        weight: (local) => findWeight(layer, local) ?? unsupported(layer, `without its weight '${local}' (weights: ${layer.weights.map((w) => w.originalName).join(', ')})`),
        hasWeight: (local) => findWeight(layer, local) !== null,
        unsupported: (what) => unsupported(layer, what),
      };
      outs = [{ name: convert(conversion), shape: outputShape }];
    }
    node.outputTensors.forEach((o, i) => values.set(o.id, outs[i]!));
    visiting.delete(t.id);
    return values.get(t.id)!;
  };
  return model.outputs.map(resolve);
}

const dims = (shape: readonly (number | string | null)[], names: string[]): DimInit[] =>
  shape.map((d, i) => (i === 0 ? { dimParam: ONNX_BATCH_DIM } : typeof d === 'number' ? { dimValue: d } : { dimParam: typeof d === 'string' ? d : names[i] ?? `dim${i}` }));

const valueInfo = (name: string, shape: DimInit[]): ValueInfoProtoInit => ({ name, type: { tensorType: { elemType: ONNX_DTYPE.FLOAT, shape: { dim: shape } } } });

/** A channels-last shape in `layout`. */
const inLayout = (shape: LayerShape, layout: OnnxLayout): LayerShape => (shape.length === 4 && layout === 'nchw' ? [shape[0]!, shape[3]!, shape[1]!, shape[2]!] : shape);

/** An ONNX value name from a layer name: letters, digits, `_`, `.` (`fc/age` → `fc_age`), so Triton's config and every runtime take it. */
const valueName = (name: string) => name.replace(/[^A-Za-z0-9_.]/g, '_');

/**
 * Exports a tfjs layers model (inference mode: batch norms use their moving statistics, dropout is the
 * identity) as the bytes of one `.onnx` file: opset {@link ONNX_OPSET}, IR version {@link ONNX_IR_VERSION},
 * float32 initialisers named after the tfjs weights, a dynamic batch dimension `batch`, the image input in
 * `layout`, one output per model output named after its layer (`age`, `gender`, `ethnicity`; characters
 * other than letters, digits, `_` and `.` become `_`), and optionally the age head's `probabilities` and
 * `expected_age`. Every layer of @ldl/backbones is supported (ResNet blocks, grouped convolution, SE, batch
 * norm, adaptive pool, bilinear resize, dlib's face-recognition blocks) and the tfjs-layers layers its
 * models use (Conv2D, SeparableConv2D, DepthwiseConv2D, pooling, Dense, activations, Add, Concatenate,
 * Flatten, Dropout, ZeroPadding2D, BatchNormalization), plus nested models. Pure TypeScript (protobufjs);
 * runs in Node and browsers.
 *
 * @param model a functional or sequential `LayersModel` with one input.
 * @param options layout, metadata and extra outputs ({@link ExportOnnxOptions}).
 * @returns the `ModelProto` bytes.
 * @throws Error `Error in exportOnnx: layer 'x' (class Y) … is not supported …` for a layer class or setting
 * with no ONNX form here (never skipped), and for bad options (an unknown `layout`, extra outputs without an
 * age head, an age head that is not `[batch, classes]`).
 */
export function exportOnnx(model: LayersModel, options: ExportOnnxOptions = {}): Uint8Array {
  const fn = 'exportOnnx';
  const { layout = 'nhwc', metadata = {}, probabilities = false, expectedAge = false, minAge = 0 } = options;
  if (layout !== 'nhwc' && layout !== 'nchw') throw new Error(`Error in ${fn}: layout must be 'nhwc' or 'nchw', but got ${JSON.stringify(layout)}.`);
  if (!Number.isFinite(minAge)) throw new Error(`Error in ${fn}: minAge must be a finite number, but got ${minAge}.`);
  if (model.inputs.length !== 1) throw new Error(`Error in ${fn}: model must have one input, but '${model.name}' has ${model.inputs.length}.`);
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new Error(`Error in ${fn}: metadata values must be strings, but '${k}' is ${typeof v}.`);
  }
  const g = new GraphBuilder();
  const input = model.inputs[0]!;
  const inShape = input.shape as LayerShape;
  const inputName = g.reserve(options.inputName ?? valueName(input.sourceLayer.name));
  const outputLayers = model.outputs.map((o) => o.sourceLayer.name);
  const outputNames = outputLayers.map((n) => g.reserve(valueName(n)));
  if (probabilities) g.reserve(ONNX_EXTRA_OUTPUTS.probabilities);
  if (expectedAge) g.reserve(ONNX_EXTRA_OUTPUTS.expectedAge);

  // NHWC input → the graph's NCHW.
  const first = inShape.length === 4 && layout === 'nhwc' ? g.op('Transpose', [inputName], 'input_nchw', { perm: ints([0, 3, 1, 2]) }) : inputName;
  const outputs = walk(model, [{ name: first, shape: inShape }], g, '');

  const graphOutputs: ValueInfoProtoInit[] = [];
  outputs.forEach((v, i) => {
    const name = outputNames[i]!;
    const back = v.shape.length === 4 && layout === 'nhwc' ? g.op('Transpose', [v.name], `${name}_nhwc`, { perm: ints([0, 2, 3, 1]) }) : v.name;
    g.node('Identity', [back], `${name}_output`, {}, [name]);
    graphOutputs.push(valueInfo(name, dims(inLayout(v.shape, layout), [])));
  });

  if (probabilities || expectedAge) {
    const ageIndex = options.ageOutput !== undefined ? outputLayers.indexOf(options.ageOutput) : outputLayers.includes('age') ? outputLayers.indexOf('age') : outputs.length === 1 ? 0 : -1;
    if (ageIndex < 0) {
      throw new Error(`Error in ${fn}: ageOutput must name one of the output layers (${outputLayers.join(', ')}) for probabilities/expectedAge, but got ${JSON.stringify(options.ageOutput)}.`);
    }
    const age = outputs[ageIndex]!;
    const classes = age.shape[1];
    if (age.shape.length !== 2 || typeof classes !== 'number') {
      throw new Error(`Error in ${fn}: the age head '${outputLayers[ageIndex]}' must output [batch, classes] logits, but its shape is [${age.shape.join(', ')}].`);
    }
    const ageLayer = model.outputs[ageIndex]!.sourceLayer;
    if (ageLayer.getConfig().activation === 'softmax') {
      throw new Error(`Error in ${fn}: the age head '${ageLayer.name}' must output logits for probabilities/expectedAge, but it ends in a softmax already.`);
    }
    const softmax = g.op('Softmax', [age.name], 'age_softmax', { axis: int(-1) });
    if (probabilities) {
      g.node('Identity', [softmax], 'probabilities_output', {}, [ONNX_EXTRA_OUTPUTS.probabilities]);
      graphOutputs.push(valueInfo(ONNX_EXTRA_OUTPUTS.probabilities, dims([null, classes], [])));
    }
    if (expectedAge) {
      const ages = g.float('age_values', Float32Array.from({ length: classes }, (_, k) => minAge + k), [classes, 1]);
      g.node('MatMul', [softmax, ages], 'expected_age', {}, [ONNX_EXTRA_OUTPUTS.expectedAge]);
      graphOutputs.push(valueInfo(ONNX_EXTRA_OUTPUTS.expectedAge, dims([null, 1], [])));
    }
  }

  return encodeModelProto({
    irVersion: ONNX_IR_VERSION,
    producerName: '@ldl/backbones',
    producerVersion: '',
    docString: `${model.name}, exported by @ldl/backbones exportOnnx (layout ${layout}).`,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: model.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(inputName, dims(inLayout(inShape, layout), layout === 'nchw' ? ['batch', 'channels', 'height', 'width'] : ['batch', 'height', 'width', 'channels']))],
      output: graphOutputs,
    },
  });
}
