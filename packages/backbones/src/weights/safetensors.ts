/** One tensor of a safetensors file, converted to float32. */
export interface SafetensorsEntry {
  /** Stored dtype (`F32`, `F16`, `BF16`, `F64`, `I64`, …). */
  dtype: string;
  /** Shape (PyTorch order, e.g. `[out, in, kH, kW]` for a conv weight). */
  shape: number[];
  /** Values as float32, row-major. */
  data: Float32Array;
}

/** A PyTorch state dict: parameter/buffer name → tensor. */
export type StateDict = Record<string, SafetensorsEntry>;

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

const bf16Scratch = new DataView(new ArrayBuffer(4));

function decode(dtype: string, bytes: Uint8Array, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case 'F32':
        out[i] = view.getFloat32(i * 4, true);
        break;
      case 'F64':
        out[i] = view.getFloat64(i * 8, true);
        break;
      case 'F16':
        out[i] = f16ToF32(view.getUint16(i * 2, true));
        break;
      case 'BF16': // the upper 16 bits of a float32
        bf16Scratch.setUint32(0, view.getUint16(i * 2, true) << 16, true);
        out[i] = bf16Scratch.getFloat32(0, true);
        break;
      case 'I64':
        out[i] = Number(view.getBigInt64(i * 8, true));
        break;
      case 'I32':
        out[i] = view.getInt32(i * 4, true);
        break;
      case 'I16':
        out[i] = view.getInt16(i * 2, true);
        break;
      case 'I8':
        out[i] = view.getInt8(i);
        break;
      default: // U8, BOOL
        out[i] = view.getUint8(i);
    }
  }
  return out;
}

type Header = Record<string, unknown>;

/** Reads the 8-byte length and the JSON header, checked to be an object. */
function readHeader(fn: string, bytes: Uint8Array, file: string): { header: Header; headerLength: number } {
  if (bytes.byteLength < 8) throw new Error(`Error in ${fn}: ${file}: the file must hold at least the 8-byte header length, but got ${bytes.byteLength} bytes.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.byteLength) {
    throw new Error(`Error in ${fn}: ${file}: the header length must fit the file (${bytes.byteLength} bytes), but got ${headerLength}.`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    throw new Error(`Error in ${fn}: ${file}: the header must be JSON, but got a parse error: ${(e as Error).message}.`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    const text = JSON.stringify(header);
    throw new Error(`Error in ${fn}: ${file}: the header must be a JSON object of tensors, but got ${text.length > 80 ? `${text.slice(0, 80)}…` : text}.`);
  }
  return { header: header as Header, headerLength };
}

/**
 * Reads a `.safetensors` file (8-byte little-endian header length, JSON header, raw little-endian data)
 * into float32 arrays. Supports F32, F16, BF16, F64 and the integer types (e.g. BatchNorm's
 * `num_batches_tracked`, I64).
 * @param bytes the whole file.
 * @param file name used in error messages.
 */
export function readSafetensors(bytes: Uint8Array, file = 'safetensors data'): StateDict {
  const fn = 'readSafetensors';
  const { header, headerLength } = readHeader(fn, bytes, file);
  const bad = (what: string, got: unknown): never => {
    const text = JSON.stringify(got);
    throw new Error(`Error in ${fn}: ${file}: ${what}, but got ${text === undefined ? 'nothing' : text.length > 80 ? `${text.slice(0, 80)}…` : text}.`);
  };
  const dataStart = 8 + headerLength;
  const dataBytes = bytes.byteLength - dataStart;
  const spans: { name: string; begin: number; end: number }[] = [];
  const checked: { name: string; dtype: string; shape: number[]; count: number; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info) || !Object.values(info).every((v) => typeof v === 'string')) {
        bad('__metadata__ must be an object of strings', info);
      }
      continue;
    }
    if (typeof info !== 'object' || info === null || Array.isArray(info)) bad(`tensor '${name}' must be an object { dtype, shape, data_offsets }`, info);
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (typeof dtype !== 'string' || BYTES[dtype] === undefined) bad(`tensor '${name}' dtype must be one of ${Object.keys(BYTES).join(', ')}`, dtype);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) bad(`tensor '${name}' shape must be an array of integers ≥ 0`, shape);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && (d as number) >= 0) || (offsets[0] as number) > (offsets[1] as number)) {
      bad(`tensor '${name}' data_offsets must be [begin, end], integers with 0 ≤ begin ≤ end`, offsets);
    }
    const size = BYTES[dtype as string]!;
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const [begin, end] = offsets as [number, number];
    if (end - begin !== count * size || end > dataBytes) {
      throw new Error(
        `Error in ${fn}: ${file}: tensor '${name}' data_offsets must span ${count * size} bytes (${dtype} [${(shape as number[]).join(', ')}]) inside the ${dataBytes} data bytes, but got [${begin}, ${end}].`,
      );
    }
    spans.push({ name, begin, end });
    checked.push({ name, dtype: dtype as string, shape: shape as number[], count, begin, end });
  }
  // The format's rule: the tensors cover the data bytes exactly, without overlaps or holes.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const span of spans) {
    if (span.begin < covered) throw new Error(`Error in ${fn}: ${file}: tensor '${span.name}' data_offsets [${span.begin}, ${span.end}] must not overlap another tensor's bytes (up to ${covered}).`);
    if (span.begin > covered) throw new Error(`Error in ${fn}: ${file}: the tensors must cover the data bytes without holes, but bytes ${covered}..${span.begin} belong to none (before tensor '${span.name}').`);
    covered = span.end;
  }
  if (covered !== dataBytes) throw new Error(`Error in ${fn}: ${file}: the tensors must cover the ${dataBytes} data bytes exactly, but they end at ${covered} (the file is cut or has extra bytes).`);
  const out: StateDict = {};
  for (const { name, dtype, shape, count, begin, end } of checked) {
    out[name] = { dtype, shape: [...shape], data: decode(dtype, bytes.subarray(dataStart + begin, dataStart + end), count) };
  }
  return out;
}

/**
 * Writes tensors as a `.safetensors` file (8-byte little-endian header length, JSON header with an optional
 * `__metadata__` map of strings, raw little-endian data): float32 (`F32`) or int64 (`I64`) tensors, e.g.
 * TF.js weights for PyTorch (`safetensors.torch.load_file`). Tensors are written in key order; the header is
 * padded with spaces to a multiple of 8 bytes. The inverse is {@link readSafetensors} (plus
 * {@link readSafetensorsMetadata}).
 * @param tensors Key → tensor with `dtype` `'F32'` (the default) or `'I64'` (integer values in the float32 `data`, exact up to 2^24);
 * a {@link StateDict} of those dtypes qualifies.
 * @param metadata `__metadata__`: string keys to string values (safetensors allows nothing else).
 * @throws Error for a data length that does not match the shape, another dtype, a non-integer `I64` value
 * or a non-string metadata value.
 */
export function writeSafetensors(tensors: Record<string, { dtype?: string; shape: number[]; data: Float32Array }>, metadata?: Record<string, string>): Uint8Array {
  const fn = 'writeSafetensors';
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`Error in ${fn}: metadata '${k}' must be a string (safetensors __metadata__ holds strings only), but got ${typeof v}.`);
    }
  }
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const { dtype = 'F32', shape, data } = tensors[name]!;
    if (dtype !== 'F32' && dtype !== 'I64') throw new Error(`Error in ${fn}: tensor '${name}' dtype must be F32 or I64, but got ${dtype}.`);
    if (data.length !== shape.reduce((a, b) => a * b, 1)) {
      throw new Error(`Error in ${fn}: tensor '${name}' data length must equal the product of shape [${shape.join(', ')}], but got ${data.length}.`);
    }
    if (dtype === 'I64' && !data.every((v) => Number.isSafeInteger(v))) throw new Error(`Error in ${fn}: tensor '${name}' (I64) must hold integers, but got [${data.slice(0, 5).join(', ')}].`);
    const bytes = data.length * BYTES[dtype]!;
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const raw = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = new Uint8Array(Math.ceil(raw.length / 8) * 8).fill(0x20); // space padding
  headerBytes.set(raw);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const { dtype = 'F32', data } = tensors[name]!;
    const dv = new DataView(out.buffer, pos, data.length * BYTES[dtype]!);
    if (dtype === 'I64') for (let i = 0; i < data.length; i++) dv.setBigInt64(i * 8, BigInt(data[i]!), true);
    else for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i]!, true);
    pos += dv.byteLength;
  }
  return out;
}

/**
 * The `__metadata__` map of a `.safetensors` file (string → string; `{}` when it has none), e.g.
 * `format: 'pt'` and, in files `exportPyTorchWeights` callers write, `preprocessor.json`.
 * @throws Error when the header is not a safetensors header, or a metadata value is not a string.
 */
export function readSafetensorsMetadata(bytes: Uint8Array, file = 'safetensors data'): Record<string, string> {
  const fn = 'readSafetensorsMetadata';
  const header = readHeader(fn, bytes, file).header;
  const meta = header.__metadata__ ?? {};
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new Error(`Error in ${fn}: ${file}: __metadata__ must be an object of strings, but got ${JSON.stringify(meta)}.`);
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v !== 'string') throw new Error(`Error in ${fn}: ${file}: __metadata__ '${k}' must be a string, but got ${JSON.stringify(v)}.`);
  }
  return meta as Record<string, string>;
}
