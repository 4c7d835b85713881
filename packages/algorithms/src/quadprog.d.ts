// Types of the npm package `quadprog` (MIT; a port of R's quadprog, Goldfarb & Idnani's dual method), which
// ships none. Arrays are 1-based as in the Fortran original: index 0 is unused.
declare module 'quadprog' {
  /** Minimises `−dᵀb + ½ bᵀ D b` subject to `Aᵀ b >= b0` (the first `meq` as equalities). `Dmat` is overwritten. */
  export function solveQP(
    Dmat: number[][],
    dvec: number[],
    Amat: number[][],
    bvec: number[],
    meq?: number,
  ): { solution: number[]; value: number[]; iterations: number[]; message: string };
}
