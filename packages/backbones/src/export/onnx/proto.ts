/**
 * ONNX protobuf encoding and decoding through protobufjs (reflection over the descriptor of ONNX's own
 * `onnx.proto`, `onnx_proto.ts`): no hand-written wire format, no .proto parser at run time.
 */
import protobuf from 'protobufjs/light.js';
import { ONNX_PROTO } from './onnx_proto.js';

/** `TensorProto.DataType` values used here (onnx.proto). */
export const ONNX_DTYPE = { FLOAT: 1, INT64: 7 } as const;

/** `AttributeProto.AttributeType` values used here (onnx.proto). */
export const ONNX_ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** A `TensorProto` as protobufjs' `fromObject` takes it (the fields this exporter writes). */
export interface TensorProtoInit {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

/** An `AttributeProto` (one of `f`, `i`, `s`, `floats`, `ints` set, as `type` says). */
export interface AttributeProtoInit {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

/** A `NodeProto`. */
export interface NodeProtoInit {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: AttributeProtoInit[];
}

/** One dimension of a `TensorShapeProto`: a fixed size or a named (dynamic) one. */
export type DimInit = { dimValue: number } | { dimParam: string };

/** A `ValueInfoProto` of a float tensor. */
export interface ValueInfoProtoInit {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: DimInit[] } } };
}

/** A `ModelProto` (the fields this exporter writes). */
export interface ModelProtoInit {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  opsetImport: { domain: string; version: number }[];
  metadataProps: { key: string; value: string }[];
  graph: {
    name: string;
    node: NodeProtoInit[];
    initializer: TensorProtoInit[];
    input: ValueInfoProtoInit[];
    output: ValueInfoProtoInit[];
  };
}

let modelType: protobuf.Type | undefined;
function modelProto(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(ONNX_PROTO).lookupType('onnx.ModelProto');
  return modelType;
}

/**
 * Encodes a `ModelProto` to the bytes of a `.onnx` file.
 * @throws Error when protobufjs' `verify` rejects the message (a field of the wrong type).
 */
export function encodeModelProto(model: ModelProtoInit): Uint8Array {
  const type = modelProto();
  const message = type.fromObject(model);
  const problem = type.verify(message);
  if (problem) throw new Error(`Error in exportOnnx: the ModelProto must be valid, but protobufjs says: ${problem}.`);
  return type.encode(message).finish();
}

/** What {@link readOnnxModel} returns: the parts of a `ModelProto` a consumer checks. */
export interface OnnxModelInfo {
  /** `ir_version`. */
  irVersion: number;
  /** `opset_import` as `domain → version` (`''` is the default ONNX domain). */
  opsets: Record<string, number>;
  /** `producer_name`. */
  producerName: string;
  /** `metadata_props` as a record. */
  metadata: Record<string, string>;
  /** Graph inputs (initialisers excluded) with their shapes (`string` for a named dimension). */
  inputs: { name: string; shape: (number | string)[] }[];
  /** Graph outputs with their shapes. */
  outputs: { name: string; shape: (number | string)[] }[];
  /** Operator types of the graph's nodes, in order. */
  opTypes: string[];
}

/**
 * Decodes a `.onnx` file's `ModelProto` header: IR version, opsets, metadata, inputs, outputs and node types
 * (not the weights).
 * @param bytes the file's bytes.
 * @throws Error when the bytes are not a `ModelProto`.
 */
export function readOnnxModel(bytes: Uint8Array): OnnxModelInfo {
  let decoded: protobuf.Message;
  try {
    decoded = modelProto().decode(bytes);
  } catch (e) {
    throw new Error(`Error in readOnnxModel: bytes must be an ONNX ModelProto, but decoding failed (${(e as Error).message}).`);
  }
  const m = modelProto().toObject(decoded, { longs: Number, defaults: true, arrays: true }) as {
    irVersion: number;
    producerName: string;
    opsetImport: { domain: string; version: number }[];
    metadataProps: { key: string; value: string }[];
    graph: {
      node: { opType: string }[];
      initializer: { name: string }[];
      input: { name: string; type: { tensorType: { shape: { dim: { dimValue?: number; dimParam?: string }[] } } } }[];
      output: { name: string; type: { tensorType: { shape: { dim: { dimValue?: number; dimParam?: string }[] } } } }[];
    };
  };
  const init = new Set(m.graph.initializer.map((t) => t.name));
  const shape = (v: (typeof m.graph.input)[number]) => v.type.tensorType.shape.dim.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue)));
  return {
    irVersion: Number(m.irVersion),
    opsets: Object.fromEntries(m.opsetImport.map((o) => [o.domain, Number(o.version)])),
    producerName: m.producerName,
    metadata: Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value])),
    inputs: m.graph.input.filter((v) => !init.has(v.name)).map((v) => ({ name: v.name, shape: shape(v) })),
    outputs: m.graph.output.map((v) => ({ name: v.name, shape: shape(v) })),
    opTypes: m.graph.node.map((n) => n.opType),
  };
}
