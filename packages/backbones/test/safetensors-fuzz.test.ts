// Issue 20 kind 15: a damaged .safetensors file gets `Error in readSafetensors: <file>: …`, never a raw
// TypeError/RangeError, within bounded time and memory (seeded mutants of a valid file, and headers whose
// fields have the wrong types).
import { damagedCopies } from '@ldl/core';
import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../src/index';

const FILE = 'w.safetensors';
const valid = writeSafetensors(
  { 'a.weight': { shape: [4, 3], data: new Float32Array(12).fill(0.5) }, 'a.bias': { shape: [4], data: new Float32Array(4) }, scale: { shape: [], data: new Float32Array([2]) } },
  { format: 'pt' },
);

/** Reads `bytes`; returns `'ok'` or the error, and fails the test on any error not of the reader's form. */
function outcome(bytes: Uint8Array, what: string): string {
  try {
    readSafetensors(bytes, FILE);
    return 'ok';
  } catch (e) {
    expect(e, what).toBeInstanceOf(Error);
    expect((e as Error).message, what).toMatch(/^Error in readSafetensors: w\.safetensors: \S/);
    return 'error';
  }
}

/** A file with this header JSON (data: the valid file's 68 bytes). */
function withHeader(header: unknown): Uint8Array {
  const data = valid.subarray(8 + Number(new DataView(valid.buffer).getBigUint64(0, true)));
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('readSafetensors on damaged files', () => {
  it('400 seeded mutants (truncation, random bytes, huge length fields, garbage): only its own errors, in bounded time and memory', () => {
    expect(outcome(valid, 'the intact file')).toBe('ok');
    const t0 = performance.now();
    const heap0 = process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed;
    const counts = { ok: 0, error: 0 };
    for (const m of damagedCopies(valid, 400, 20)) counts[outcome(m.bytes, `${m.kind}: ${m.detail}`) as 'ok' | 'error']++;
    expect(counts.error).toBeGreaterThan(100);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed - heap0).toBeLessThan(200e6);
  });

  it('checks the header field by field: dtype, shape, data_offsets (types, ranges, overlaps, holes), total size', () => {
    const good = { 'a.bias': { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, 'a.weight': { dtype: 'F32', shape: [4, 3], data_offsets: [16, 64] }, scale: { dtype: 'F32', shape: [], data_offsets: [64, 68] } };
    expect(outcome(withHeader(good), 'the rebuilt header')).toBe('ok');
    const wrong = [null, 'x', [], {}, -1, 1.5, 1e300, [1], [1, 2, 3], ['a', 'b'], [-4, 12], [16, 8], true];
    for (const field of ['dtype', 'shape', 'data_offsets'] as const) {
      for (const value of wrong) expect(outcome(withHeader({ ...good, 'a.bias': { ...good['a.bias'], [field]: value } }), `${field} = ${JSON.stringify(value)}`)).toBe('error');
    }
    for (const header of [null, [], 5, 'x', { 'a.bias': null }, { 'a.bias': [] }, { __metadata__: 5 }, { __metadata__: { a: 1 } }]) {
      expect(outcome(withHeader(header), JSON.stringify(header))).toBe('error');
    }
    const read = (header: unknown) => () => readSafetensors(withHeader(header), FILE);
    expect(read({ ...good, 'a.bias': { ...good['a.bias'], shape: 'x' } })).toThrow(`Error in readSafetensors: w.safetensors: tensor 'a.bias' shape must be an array of integers ≥ 0, but got "x".`);
    expect(read({ ...good, 'a.bias': { dtype: 'F32', shape: [4] } })).toThrow(`Error in readSafetensors: w.safetensors: tensor 'a.bias' data_offsets must be [begin, end], integers with 0 ≤ begin ≤ end, but got nothing.`);
    expect(read({ ...good, scale: { dtype: 'F32', shape: [], data_offsets: [60, 64] } })).toThrow(`Error in readSafetensors: w.safetensors: tensor 'scale' data_offsets [60, 64] must not overlap another tensor's bytes (up to 64).`);
    expect(read({ 'a.bias': good['a.bias'], scale: { dtype: 'F32', shape: [], data_offsets: [64, 68] } })).toThrow(`Error in readSafetensors: w.safetensors: the tensors must cover the data bytes without holes, but bytes 16..64 belong to none (before tensor 'scale').`);
    expect(read({ 'a.bias': good['a.bias'], 'a.weight': good['a.weight'] })).toThrow(`Error in readSafetensors: w.safetensors: the tensors must cover the 68 data bytes exactly, but they end at 64 (the file is cut or has extra bytes).`);
    expect(read({ ...good, scale: { dtype: 'F32', shape: [2], data_offsets: [64, 72] } })).toThrow(`tensor 'scale' data_offsets must span 8 bytes (F32 [2]) inside the 68 data bytes, but got [64, 72].`);
  });
});
