// Issue 20 kind 15: a damaged CSV file gets `Error in parseCsv: <file> line <n>: …` (or parses), never a raw
// error, in bounded time: seeded mutants of a small faces.csv.
import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv';
import { damagedCopies } from './fuzz';

const text = ['photo,age,gender,"race, as recorded"', 'a/1.jpg,23,F,"W"', '"b/2,x.jpg",41,M,B', 'c/3.jpg,7,F,"A ""quoted"""', ''].join('\r\n');

describe('parseCsv on damaged files', () => {
  it('300 seeded mutants: parsed, or its own error naming the file', () => {
    expect(parseCsv(text, 'faces.csv').rows).toHaveLength(3);
    const t0 = performance.now();
    let errors = 0;
    for (const m of damagedCopies(new TextEncoder().encode(text), 300, 5)) {
      try {
        parseCsv(new TextDecoder().decode(m.bytes), 'faces.csv');
      } catch (e) {
        errors++;
        expect((e as Error).message, `${m.kind}: ${m.detail}`).toMatch(/^Error in parseCsv: faces\.csv( line \d+)?: \S/);
      }
    }
    expect(errors).toBeGreaterThan(10);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});
