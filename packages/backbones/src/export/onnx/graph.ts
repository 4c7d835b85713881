/**
 * An ONNX graph under construction: nodes in order, float32 / int64 initialisers, unique value names.
 * The layer converters (`layers.ts`) add to it; `export_onnx.ts` wraps it in a `ModelProto`.
 */
import { ONNX_ATTRIBUTE_TYPE, ONNX_DTYPE, type AttributeProtoInit, type NodeProtoInit, type TensorProtoInit } from './proto.js';

/** An attribute value: a number (`float` unless {@link int}), an integer list, a float list or a string. */
export type AttributeValue = number | { int: number } | { ints: readonly number[] } | { floats: readonly number[] } | string;

/** An integer attribute (ONNX distinguishes `INT` from `FLOAT`). */
export const int = (v: number): AttributeValue => ({ int: v });
/** An integer-list attribute. */
export const ints = (v: readonly number[]): AttributeValue => ({ ints: v });

function attribute(name: string, v: AttributeValue): AttributeProtoInit {
  if (typeof v === 'number') return { name, type: ONNX_ATTRIBUTE_TYPE.FLOAT, f: v };
  if (typeof v === 'string') return { name, type: ONNX_ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode(v) };
  if ('int' in v) return { name, type: ONNX_ATTRIBUTE_TYPE.INT, i: v.int };
  if ('ints' in v) return { name, type: ONNX_ATTRIBUTE_TYPE.INTS, ints: [...v.ints] };
  return { name, type: ONNX_ATTRIBUTE_TYPE.FLOATS, floats: [...v.floats] };
}

const bytesOf = (a: Float32Array | BigInt64Array): Uint8Array => {
  // TensorProto.raw_data is little-endian; every platform tfjs and onnxruntime run on is.
  const copy = a.slice();
  return new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength);
};

/** Builds the node list and initialisers of one ONNX graph. */
export class GraphBuilder {
  /** Nodes in execution (topological) order. */
  readonly nodes: NodeProtoInit[] = [];
  /** Initialisers (weights and constants). */
  readonly initializers: TensorProtoInit[] = [];
  private readonly used = new Set<string>();

  /** A value name not used yet: `base`, else `base_1`, `base_2`, … */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Reserves a name that must stay as it is (a graph input or output). */
  reserve(name: string): string {
    if (this.used.has(name)) throw new Error(`Error in exportOnnx: value names must be unique, but '${name}' is used twice.`);
    this.used.add(name);
    return name;
  }

  /** A float32 initialiser of `dims` named after `name`; returns its value name. */
  float(name: string, data: Float32Array, dims: readonly number[]): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) throw new Error(`Error in exportOnnx: initialiser '${name}' must hold ${expected} values for dims [${dims.join(', ')}], but got ${data.length}.`);
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims: [...dims], dataType: ONNX_DTYPE.FLOAT, rawData: bytesOf(data) });
    return unique;
  }

  /** An int64 initialiser (1-D unless `dims` says otherwise): pads, axes, shapes. */
  int64(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims: [...dims], dataType: ONNX_DTYPE.INT64, rawData: bytesOf(BigInt64Array.from(values, (v) => BigInt(v))) });
    return unique;
  }

  /**
   * Appends a node `opType(inputs) → outputs` (an empty input name is an omitted optional input).
   * @param name node and default output name (made unique).
   * @param outputs output value names; default one output named after the node.
   * @returns the output names.
   */
  node(opType: string, inputs: readonly string[], name: string, attributes: Record<string, AttributeValue> = {}, outputs?: readonly string[]): string[] {
    const nodeName = this.unique(`${name}/${opType}`);
    const outs = outputs ? [...outputs] : [this.unique(name)];
    this.nodes.push({
      name: nodeName,
      opType,
      input: [...inputs],
      output: outs,
      attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** The node that outputs `value`, or `undefined` for an input or initialiser. */
  producer(value: string): NodeProtoInit | undefined {
    for (let i = this.nodes.length - 1; i >= 0; i--) if (this.nodes[i]!.output.includes(value)) return this.nodes[i];
    return undefined;
  }

  /** {@link node} with one output; returns its name. */
  op(opType: string, inputs: readonly string[], name: string, attributes: Record<string, AttributeValue> = {}): string {
    return this.node(opType, inputs, name, attributes)[0]!;
  }
}
