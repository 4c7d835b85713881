import { describe, expect, it } from 'vitest';
import { Rng } from './prng';

describe('Rng', () => {
  it('is reproducible from a seed and from a saved state', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const first = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(first);
    const saved = a.state;
    const tail = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => Rng.fromState(saved).next())[0]).toBe(tail[0]);
    const restored = Rng.fromState(JSON.parse(JSON.stringify(saved)));
    expect(Array.from({ length: 5 }, () => restored.next())).toEqual(tail);
  });

  it('differs between seeds and stays in range', () => {
    const a = new Rng(1);
    const b = new Rng(2);
    expect(a.next()).not.toBe(b.next());
    const xs = Array.from({ length: 10000 }, () => a.next());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
  });

  it('shuffles to a permutation without touching the input', () => {
    const input = Array.from({ length: 50 }, (_, i) => i);
    const out = new Rng(3).shuffle(input);
    expect(input).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...out].sort((x, y) => x - y)).toEqual(input);
    expect(out).not.toEqual(input);
  });

  it('rejects bad seeds and states', () => {
    expect(() => new Rng(Number.NaN)).toThrow('Error in Rng: seed must be a finite number, but got NaN.');
    expect(() => Rng.fromState([1, 2, 3])).toThrow(/4 unsigned 32-bit integers/);
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow(/all zeros/);
    expect(() => new Rng(1).int(0)).toThrow('Error in Rng.int: n must be a positive integer, but got 0.');
  });
});
