// Reader for MATLAB 5 MAT-files (Level 5, "MATLAB 5.0 MAT-file" header), limited to what the LDL
// benchmark sets hold: real numeric matrices (any numeric class, any stored data type), possibly
// zlib-compressed (miCOMPRESSED, via fflate). Everything else (cells, structs, sparse, complex,
// char, v7.3/HDF5 files) is skipped or refused with an error naming the variable.
//
// Why our own reader: the only npm MAT-file reader, `mat-for-js`, is GPL-3.0-or-later, which an
// Apache-2.0 package cannot depend on. Format reference: MathWorks, "MAT-File Format" (matfile_format.pdf).
import { unzlibSync } from 'fflate';

/** A real numeric matrix read from a MAT-file: `data` row-major, `rows × cols` (2-D only). */
export interface MatMatrix {
  rows: number;
  cols: number;
  /** Row-major float64 values (MATLAB stores columns first; they are transposed here). */
  data: Float64Array;
}

const MI = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
} as const;
const SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8 };
/** mxCLASS ids of the numeric classes (double, single, int8..uint64). */
const NUMERIC_CLASSES = new Set([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);

function matError(source: string, message: string): Error {
  return new Error(`Error in readMat: ${source}: ${message}`);
}

interface Element {
  type: number;
  data: DataView;
}

/** Reads the data elements of `view` starting at `offset` (8-byte aligned, small-element form allowed). */
function* elements(view: DataView, le: boolean, source: string, offset = 0): Generator<Element> {
  while (offset + 8 <= view.byteLength) {
    const first = view.getUint32(offset, le);
    const small = first >>> 16;
    if (small !== 0) {
      // Small data element: 2-byte size, 2-byte type, 4 bytes of data.
      const type = first & 0xffff;
      if (small > 4) throw matError(source, `a small data element at byte ${view.byteOffset + offset} claims ${small} bytes, but holds at most 4 (damaged file?)`);
      yield { type, data: new DataView(view.buffer, view.byteOffset + offset + 4, small) };
      offset += 8;
      continue;
    }
    const type = first;
    const bytes = view.getUint32(offset + 4, le);
    const start = offset + 8;
    if (start + bytes > view.byteLength) {
      throw matError(source, `a data element of ${bytes} bytes at byte ${view.byteOffset + offset} runs past the end (truncated file?)`);
    }
    yield { type, data: new DataView(view.buffer, view.byteOffset + start, bytes) };
    offset = start + (type === MI.COMPRESSED ? bytes : Math.ceil(bytes / 8) * 8);
  }
}

function readNumbers(el: Element, le: boolean, count: number, source: string, name: string): Float64Array {
  const size = SIZE[el.type];
  if (size === undefined) throw matError(source, `variable '${name}' stores its values as data type ${el.type}, which is not numeric`);
  if (el.data.byteLength < count * size) throw matError(source, `variable '${name}' has ${el.data.byteLength / size} values, expected ${count}`);
  const v = el.data;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const o = i * size;
    switch (el.type) {
      case MI.DOUBLE: out[i] = v.getFloat64(o, le); break;
      case MI.SINGLE: out[i] = v.getFloat32(o, le); break;
      case MI.INT8: out[i] = v.getInt8(o); break;
      case MI.UINT8: out[i] = v.getUint8(o); break;
      case MI.INT16: out[i] = v.getInt16(o, le); break;
      case MI.UINT16: out[i] = v.getUint16(o, le); break;
      case MI.INT32: out[i] = v.getInt32(o, le); break;
      case MI.UINT32: out[i] = v.getUint32(o, le); break;
      case MI.INT64: out[i] = Number(v.getBigInt64(o, le)); break;
      default: out[i] = Number(v.getBigUint64(o, le));
    }
  }
  return out;
}

function readMatrix(matrix: DataView, le: boolean, source: string): [string, MatMatrix | undefined] {
  const parts = [...elements(matrix, le, source)];
  if (parts.length < 3) throw matError(source, 'a miMATRIX element has fewer than 3 sub-elements');
  const [flags, dims, nameEl] = parts;
  const name = new TextDecoder('latin1').decode(nameEl.data);
  if (flags.data.byteLength < 4) throw matError(source, `variable '${name}' has an array-flags element of ${flags.data.byteLength} bytes, expected 8 (damaged file?)`);
  const flagWord = flags.data.getUint32(0, le);
  const mxClass = flagWord & 0xff;
  const complex = (flagWord & 0x800) !== 0;
  if (!NUMERIC_CLASSES.has(mxClass)) return [name, undefined]; // cell, struct, char, sparse, …: not ours
  if (complex) throw matError(source, `variable '${name}' is complex; only real matrices are supported`);
  const shape = readNumbers(dims, le, Math.floor(dims.data.byteLength / 4), source, name);
  if (shape.length !== 2) throw matError(source, `variable '${name}' has ${shape.length} dimensions; only 2-D matrices are supported`);
  const [rows, cols] = shape;
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw matError(source, `variable '${name}' has dimensions [${shape.join(', ')}]; they must be integers ≥ 0 (damaged file?)`);
  if (parts.length < 4) throw matError(source, `variable '${name}' has no real-part element (damaged file?)`);
  const colMajor = readNumbers(parts[3], le, rows * cols, source, name);
  const data = new Float64Array(rows * cols);
  for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) data[r * cols + c] = colMajor[c * rows + r];
  return [name, { rows, cols, data }];
}

/**
 * Reads the real numeric 2-D matrices of a MATLAB 5 MAT-file (the format of the LDL benchmark sets,
 * `scipy.io.savemat`, MATLAB's `save -v7` and older), compressed or not. Other variables (cells,
 * structs, strings, sparse) are left out.
 *
 * @param bytes the whole file.
 * @param source a name for error messages, e.g. the path.
 * @returns the matrices by variable name, row-major float64.
 * @throws `Error in readMat: <source>: …` for a file that is not a Level 5 MAT-file (v7.3 files are
 *   HDF5: save with `-v7`), a truncated file, or a complex / N-D numeric variable.
 */
export function readMat(bytes: Uint8Array, source = 'MAT-file'): Record<string, MatMatrix> {
  try {
    return readMatUnchecked(bytes, source);
  } catch (e) {
    // Every check above names its fault; anything else a damaged file provokes still names the reader and the file.
    if (e instanceof Error && e.message.startsWith(`Error in readMat: ${source}: `)) throw e;
    throw matError(source, `the file is damaged (${e instanceof Error ? e.message : String(e)})`);
  }
}

function readMatUnchecked(bytes: Uint8Array, source: string): Record<string, MatMatrix> {
  if (bytes.byteLength < 128) throw matError(source, `${bytes.byteLength} bytes is too short for a MAT-file (header is 128 bytes)`);
  const header = new TextDecoder('latin1').decode(bytes.subarray(0, 116));
  if (header.startsWith('MATLAB 7.3')) throw matError(source, 'MATLAB 7.3 (HDF5) MAT-files are not supported; save with -v7');
  const endian = String.fromCharCode(bytes[126], bytes[127]);
  if (!header.startsWith('MATLAB 5.0') || (endian !== 'IM' && endian !== 'MI')) {
    throw matError(source, 'not a MATLAB 5 MAT-file (its header does not start with "MATLAB 5.0 MAT-file")');
  }
  const le = endian === 'IM';
  const out: Record<string, MatMatrix> = {};
  const body = new DataView(bytes.buffer, bytes.byteOffset + 128, bytes.byteLength - 128);
  for (const el of elements(body, le, source)) {
    let matrix: DataView;
    if (el.type === MI.COMPRESSED) {
      let inflated: Uint8Array;
      try {
        inflated = unzlibSync(new Uint8Array(el.data.buffer, el.data.byteOffset, el.data.byteLength));
      } catch (err) {
        throw matError(source, `a compressed element does not inflate (${err instanceof Error ? err.message : String(err)})`);
      }
      const inner = [...elements(new DataView(inflated.buffer, inflated.byteOffset, inflated.byteLength), le, source)];
      if (inner.length === 0 || inner[0].type !== MI.MATRIX) continue;
      matrix = inner[0].data;
    } else if (el.type === MI.MATRIX) {
      matrix = el.data;
    } else {
      continue;
    }
    const [name, value] = readMatrix(matrix, le, source);
    if (value) out[name] = value;
  }
  return out;
}
