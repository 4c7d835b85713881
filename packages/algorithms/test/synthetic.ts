// Test helper: a seeded synthetic LDL problem whose distributions come from a maximum-entropy model,
// D = softmax(X W) with X uniform in [0, 1)^d and W normal-ish, so SA-BFGS can fit it exactly.
import { Rng } from '@ldl/core';

export function syntheticLdl(n: number, d: number, l: number, seed = 1): { X: number[][]; D: number[][] } {
  const rng = new Rng(seed);
  const random = () => rng.next();
  const W = Array.from({ length: d }, () => Array.from({ length: l }, () => 3 * (random() + random() + random() - 1.5)));
  const X = Array.from({ length: n }, () => Array.from({ length: d }, () => random()));
  const D = X.map((x) => {
    const z = W[0].map((_, j) => x.reduce((s, v, k) => s + v * W[k][j], 0));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b);
    return e.map((v) => v / s);
  });
  return { X, D };
}
