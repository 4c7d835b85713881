// Test helper: writes a little-endian MATLAB 5 MAT-file of double matrices (optionally each
// variable zlib-compressed, as MATLAB's `save -v7` and the LDL benchmark files do).
import { zlibSync } from 'fflate';

function element(type: number, payload: Uint8Array): Uint8Array {
  const padded = Math.ceil(payload.length / 8) * 8;
  const out = new Uint8Array(8 + padded);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, payload.length, true);
  out.set(payload, 8);
  return out;
}

const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

export function writeMat(vars: Record<string, number[][]>, compress = false, header = 'MATLAB 5.0 MAT-file, test'): Uint8Array {
  const head = new Uint8Array(128).fill(32);
  head.set(new TextEncoder().encode(header).subarray(0, 116));
  new DataView(head.buffer).setUint16(124, 0x0100, true);
  head[126] = 'I'.charCodeAt(0);
  head[127] = 'M'.charCodeAt(0);
  const parts: Uint8Array[] = [head];
  for (const [name, rows] of Object.entries(vars)) {
    const r = rows.length;
    const c = rows[0].length;
    const flags = new Uint8Array(8);
    new DataView(flags.buffer).setUint32(0, 6, true); // mxDOUBLE_CLASS
    const dims = new Uint8Array(8);
    new DataView(dims.buffer).setInt32(0, r, true);
    new DataView(dims.buffer).setInt32(4, c, true);
    const values = new Float64Array(r * c);
    for (let j = 0; j < c; j++) for (let i = 0; i < r; i++) values[j * r + i] = rows[i][j];
    const body = concat([
      element(6, flags), // miUINT32
      element(5, dims), // miINT32
      element(1, new TextEncoder().encode(name)), // miINT8
      element(9, new Uint8Array(values.buffer)), // miDOUBLE
    ]);
    const matrix = element(14, body);
    if (!compress) {
      parts.push(matrix);
    } else {
      const z = zlibSync(matrix);
      const out = new Uint8Array(8 + z.length);
      new DataView(out.buffer).setUint32(0, 15, true);
      new DataView(out.buffer).setUint32(4, z.length, true);
      out.set(z, 8);
      parts.push(out);
    }
  }
  return concat(parts);
}
