// Hyper-parameters declared once per algorithm (default, rule, doc): the constructors check and fill
// them, the registry shows them to `ldl cv`, the README lists them.
import { fail } from './matrix';

/** One numeric hyper-parameter: its default (PyLDL's, where PyLDL has the method) and its rule. */
export interface ParamSpec {
  default: number;
  /** The rule, as the error text says it: `an integer >= 1`, `>= 0`, … */
  rule: string;
  check: (v: number) => boolean;
  /** One line for `--help` and the README. */
  doc: string;
}

/** The hyper-parameters of an algorithm by name (camelCase; `ldl cv` spells them kebab-case). */
export type ParamSpecs<K extends string = string> = Record<K, ParamSpec>;

/** Values of a {@link ParamSpecs}. */
export type ParamValues<S extends ParamSpecs> = { [K in keyof S]: number };

const isInt = (min: number) => (v: number) => Number.isInteger(v) && v >= min;

/** An integer hyper-parameter `>= min`. */
export const integer = (def: number, min: number, doc: string): ParamSpec => ({ default: def, rule: `an integer >= ${min}`, check: isInt(min), doc });
/** A finite number `>= 0`. */
export const nonNegative = (def: number, doc: string): ParamSpec => ({ default: def, rule: 'a finite number >= 0', check: (v) => Number.isFinite(v) && v >= 0, doc });
/** A finite number `> 0`. */
export const positive = (def: number, doc: string): ParamSpec => ({ default: def, rule: 'a finite number > 0', check: (v) => Number.isFinite(v) && v > 0, doc });
/** Any finite number (seeds). */
export const finite = (def: number, doc: string): ParamSpec => ({ default: def, rule: 'a finite number', check: Number.isFinite, doc });
/** A number in the open interval (lo, hi). */
export const openInterval = (def: number, lo: number, hi: number, doc: string): ParamSpec => ({
  default: def,
  rule: `a number in (${lo}, ${hi})`,
  check: (v) => v > lo && v < hi,
  doc,
});

/** A number in [0, 1) (rates, shares). */
export const unitRate = (def: number, doc: string): ParamSpec => ({ default: def, rule: 'a number in [0, 1)', check: (v) => v >= 0 && v < 1, doc });

/** The seed every randomised algorithm takes. */
export const SEED = finite(0, 'seed of the initial weights / sampling (@ldl `Rng`, xoshiro128**)');

/**
 * Fills the defaults of `specs` into `args` and checks every value.
 * @throws `Error in <fn>: <name> must be <rule>, but got <value>.` for a value breaking its rule or an unknown name.
 */
export function resolveParams<S extends ParamSpecs>(fn: string, specs: S, args: Partial<Record<keyof S, number>> = {}): ParamValues<S> {
  const out = {} as Record<string, number>;
  for (const name of Object.keys(args)) {
    if (!(name in specs) && (args as Record<string, unknown>)[name] !== undefined) {
      fail(fn, name, `one of ${Object.keys(specs).join(', ')} (an option of ${fn})`, `'${name}'`);
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    const v = (args as Record<string, number | undefined>)[name] ?? spec.default;
    if (typeof v !== 'number' || !spec.check(v)) fail(fn, name, spec.rule, v);
    out[name] = v;
  }
  return out as ParamValues<S>;
}

/**
 * Base of an estimator whose hyper-parameters are declared as `specs`: checks them once in the constructor
 * ({@link resolveParams}, errors under the class's name `fn`) and returns a copy from `getConfig()`.
 */
export abstract class ParameterizedEstimator<S extends ParamSpecs> {
  /** The resolved hyper-parameters. */
  protected readonly args: ParamValues<S>;

  constructor(
    /** The class name used in errors (`Error in <fn>: …`). */
    protected readonly fn: string,
    specs: S,
    args: Partial<ParamValues<S>>,
  ) {
    this.args = resolveParams(fn, specs, args);
  }

  getConfig(): ParamValues<S> {
    return { ...this.args };
  }
}
