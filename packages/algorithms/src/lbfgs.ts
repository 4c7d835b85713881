// Limited-memory BFGS (Nocedal & Wright, "Numerical Optimization", 2nd ed., Alg. 7.4 two-loop
// recursion, Alg. 3.5/3.6 strong-Wolfe line search). Written here because npm has no maintained
// L-BFGS: `fmin` has only Nelder-Mead and conjugate gradient, `optimization-js` ships browserify,
// jsdoc and travis as runtime dependencies, `numeric` (full BFGS) was last released in 2012.
// Stopping rules follow SciPy's L-BFGS-B (what PyLDL's SA-BFGS calls): `max|g| <= gtol` or a relative
// decrease `(f_k - f_k+1) / max(|f_k|, |f_k+1|, 1) <= ftol`, or `maxIterations`.

/** Value and gradient of the objective at a point. */
export interface Evaluation {
  value: number;
  gradient: Float64Array;
}

/** Options of {@link minimizeLbfgs}. */
export interface LbfgsOptions {
  /** @default 500 (PyLDL's SA-BFGS `max_iterations`) */
  maxIterations?: number;
  /** Stop when `max_i |g_i| <= gradientTolerance`. @default 1e-7 (PyLDL's `convergence_criterion`, SciPy's `gtol`) */
  gradientTolerance?: number;
  /** Stop when the relative decrease of f is at most this. @default 2.220446049250313e-9 (SciPy's `ftol`) */
  functionTolerance?: number;
  /** Number of correction pairs kept. @default 10 (SciPy's `maxcor`) */
  memory?: number;
  /** Most objective evaluations. @default 15000 (SciPy's `maxfun`) */
  maxEvaluations?: number;
}

/** Result of {@link minimizeLbfgs}. */
export interface LbfgsResult {
  x: Float64Array;
  value: number;
  iterations: number;
  evaluations: number;
  /** Why it stopped. */
  reason: 'gradient' | 'function' | 'maxIterations' | 'maxEvaluations' | 'lineSearch';
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const maxAbs = (a: Float64Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/**
 * Minimises a smooth function with L-BFGS.
 *
 * @param evaluate returns f(x) and ∇f(x) (a fresh gradient array each call).
 * @param x0 the starting point (not modified).
 */
export function minimizeLbfgs(evaluate: (x: Float64Array) => Evaluation, x0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const {
    maxIterations = 500,
    gradientTolerance = 1e-7,
    functionTolerance = 2.220446049250313e-9,
    memory = 10,
    maxEvaluations = 15000,
  } = options;
  const n = x0.length;
  let x: Float64Array = Float64Array.from(x0);
  let evaluations = 1;
  let { value: f, gradient: g }: { value: number; gradient: Float64Array } = evaluate(x);
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(memory);
  if (maxAbs(g) <= gradientTolerance) return { x, value: f, iterations: 0, evaluations, reason: 'gradient' };
  for (let iter = 1; iter <= maxIterations; iter++) {
    // Two-loop recursion: d = -H g.
    const d = Float64Array.from(g, (v) => -v);
    for (let k = s.length - 1; k >= 0; k--) {
      alpha[k] = rho[k] * dot(s[k], d);
      for (let i = 0; i < n; i++) d[i] -= alpha[k] * y[k][i];
    }
    const gamma = s.length > 0 ? dot(s[s.length - 1], y[y.length - 1]) / dot(y[y.length - 1], y[y.length - 1]) : 1 / Math.max(1, Math.sqrt(dot(g, g)));
    for (let i = 0; i < n; i++) d[i] *= gamma;
    for (let k = 0; k < s.length; k++) {
      const beta = rho[k] * dot(y[k], d);
      for (let i = 0; i < n; i++) d[i] += s[k][i] * (alpha[k] - beta);
    }
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // Not a descent direction (curvature lost): restart from steepest descent.
      s.length = 0;
      y.length = 0;
      rho.length = 0;
      const scale = 1 / Math.max(1, Math.sqrt(dot(g, g)));
      for (let i = 0; i < n; i++) d[i] = -g[i] * scale;
      slope = dot(g, d);
    }
    const step = wolfeLineSearch(evaluate, x, f, g, d, slope);
    evaluations += step.evaluations;
    if (!step.ok) return { x, value: f, iterations: iter, evaluations, reason: 'lineSearch' };
    const sk = new Float64Array(n);
    const yk = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      sk[i] = step.x[i] - x[i];
      yk[i] = step.gradient[i] - g[i];
    }
    const sy = dot(sk, yk);
    if (sy > 1e-10 * dot(yk, yk)) {
      if (s.length === memory) {
        s.shift();
        y.shift();
        rho.shift();
      }
      s.push(sk);
      y.push(yk);
      rho.push(1 / sy);
    }
    const fPrev = f;
    x = step.x;
    f = step.value;
    g = step.gradient;
    if (maxAbs(g) <= gradientTolerance) return { x, value: f, iterations: iter, evaluations, reason: 'gradient' };
    if ((fPrev - f) / Math.max(Math.abs(fPrev), Math.abs(f), 1) <= functionTolerance) {
      return { x, value: f, iterations: iter, evaluations, reason: 'function' };
    }
    if (evaluations >= maxEvaluations) return { x, value: f, iterations: iter, evaluations, reason: 'maxEvaluations' };
  }
  return { x, value: f, iterations: maxIterations, evaluations, reason: 'maxIterations' };
}

interface StepResult extends Evaluation {
  ok: boolean;
  x: Float64Array;
  evaluations: number;
}

/** Strong-Wolfe line search (c1 = 1e-4, c2 = 0.9) along `d` from `x`, starting at step 1. */
function wolfeLineSearch(
  evaluate: (x: Float64Array) => Evaluation,
  x: Float64Array,
  f0: number,
  g0: Float64Array,
  d: Float64Array,
  slope0: number,
): StepResult {
  const c1 = 1e-4;
  const c2 = 0.9;
  let evaluations = 0;
  const at = (t: number) => {
    const xt = Float64Array.from(x, (v, i) => v + t * d[i]);
    const e = evaluate(xt);
    evaluations++;
    return { t, x: xt, value: e.value, gradient: e.gradient, slope: dot(e.gradient, d) };
  };
  type Point = ReturnType<typeof at>;
  const done = (p: Point): StepResult => ({ ok: true, x: p.x, value: p.value, gradient: p.gradient, evaluations });
  const zoom = (lo: Point | { t: number; value: number; slope: number }, hi: { t: number; value: number; slope: number }): StepResult => {
    for (let k = 0; k < 30; k++) {
      // Cubic interpolation between lo and hi, safeguarded to the middle 80% of the interval.
      const d1 = lo.slope + hi.slope - 3 * (lo.value - hi.value) / (lo.t - hi.t);
      const disc = d1 * d1 - lo.slope * hi.slope;
      let t = (lo.t + hi.t) / 2;
      if (disc >= 0) {
        const d2 = Math.sign(hi.t - lo.t) * Math.sqrt(disc);
        const c = hi.t - (hi.t - lo.t) * ((hi.slope + d2 - d1) / (hi.slope - lo.slope + 2 * d2));
        const a = Math.min(lo.t, hi.t);
        const b = Math.max(lo.t, hi.t);
        if (Number.isFinite(c) && c > a + 0.1 * (b - a) && c < b - 0.1 * (b - a)) t = c;
      }
      const p = at(t);
      if (!Number.isFinite(p.value) || p.value > f0 + c1 * t * slope0 || p.value >= lo.value) {
        hi = p;
      } else {
        if (Math.abs(p.slope) <= -c2 * slope0) return done(p);
        if (p.slope * (hi.t - lo.t) >= 0) hi = lo;
        lo = p;
      }
      if (Math.abs(hi.t - lo.t) < 1e-16) break;
    }
    // Accept the best sufficient-decrease point found, if any.
    if ('x' in lo && lo.value < f0) return done(lo);
    return { ok: false, x, value: f0, gradient: g0, evaluations };
  };
  let prev: Point | { t: number; value: number; slope: number } = { t: 0, value: f0, slope: slope0 };
  let t = 1;
  for (let k = 0; k < 30; k++) {
    const p = at(t);
    if (!Number.isFinite(p.value) || p.value > f0 + c1 * t * slope0 || (k > 0 && p.value >= prev.value)) return zoom(prev, p);
    if (Math.abs(p.slope) <= -c2 * slope0) return done(p);
    if (p.slope >= 0) return zoom(p, prev);
    prev = p;
    t *= 2;
  }
  return 'x' in prev ? done(prev) : { ok: false, x, value: f0, gradient: g0, evaluations };
}
