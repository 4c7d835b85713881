// Issue 20 kind 15: a damaged .mat file gets `Error in readMat: <file>: …`, never a raw RangeError
// ("Invalid DataView length") or TypeError, within bounded time and memory: seeded mutants of a small
// uncompressed and a compressed MAT-file.
import { damagedCopies } from '@ldl/core';
import { describe, expect, it } from 'vitest';
import { zlibSync } from 'fflate';
import { readMat } from './mat';

/** A Level 5 MAT-file holding one real double matrix `x` (2×3), plain or compressed. */
function matFile(compressed: boolean): Uint8Array {
  const header = new Uint8Array(128).fill(0x20);
  header.set(new TextEncoder().encode('MATLAB 5.0 MAT-file, written by a test'), 0);
  header.set([0x00, 0x01, 0x49, 0x4d], 124); // version 0x0100, 'IM': little-endian
  const sub = (type: number, payload: Uint8Array) => {
    const padded = new Uint8Array(8 + Math.ceil(payload.length / 8) * 8);
    const v = new DataView(padded.buffer);
    v.setUint32(0, type, true);
    v.setUint32(4, payload.length, true);
    padded.set(payload, 8);
    return padded;
  };
  const flags = new Uint8Array(8);
  new DataView(flags.buffer).setUint32(0, 6, true); // mxDOUBLE_CLASS
  const dims = new Uint8Array(8);
  new DataView(dims.buffer).setInt32(0, 2, true);
  new DataView(dims.buffer).setInt32(4, 3, true);
  const values = new Uint8Array(new Float64Array([1, 2, 3, 4, 5, 6]).buffer);
  const parts = [sub(6, flags), sub(5, dims), sub(1, new TextEncoder().encode('x')), sub(9, values)];
  const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    body.set(p, at);
    at += p.length;
  }
  const matrix = sub(14, body);
  const element = compressed ? sub(15, zlibSync(matrix)) : matrix;
  const out = new Uint8Array(128 + element.length);
  out.set(header);
  out.set(element, 128);
  return out;
}

describe('readMat on damaged files', () => {
  for (const compressed of [false, true]) {
    it(`200 seeded mutants of a ${compressed ? 'compressed' : 'plain'} file: only its own errors, in bounded time and memory`, () => {
      const valid = matFile(compressed);
      expect(readMat(valid, 'd.mat').x).toEqual({ rows: 2, cols: 3, data: new Float64Array([1, 3, 5, 2, 4, 6]) });
      const t0 = performance.now();
      const mem0 = process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed;
      let errors = 0;
      for (const m of damagedCopies(valid, 200, compressed ? 2 : 1)) {
        try {
          readMat(m.bytes, 'd.mat');
        } catch (e) {
          errors++;
          expect(e, `${m.kind}: ${m.detail}`).toBeInstanceOf(Error);
          expect((e as Error).message, `${m.kind}: ${m.detail}`).toMatch(/^Error in readMat: d\.mat: \S/);
        }
      }
      expect(errors).toBeGreaterThan(40);
      expect(performance.now() - t0).toBeLessThan(10_000);
      expect(process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed - mem0).toBeLessThan(200e6);
    });
  }

  it('names the fault of a small element that claims more than 4 bytes (was: RangeError: Invalid DataView length)', () => {
    const bad = matFile(false);
    new DataView(bad.buffer).setUint32(128 + 8, (40 << 16) | 6, true); // the flags sub-element as a "small" one of 40 bytes
    expect(() => readMat(bad, 'd.mat')).toThrow(/^Error in readMat: d\.mat: a small data element at byte \d+ claims 40 bytes, but holds at most 4/);
  });
});
