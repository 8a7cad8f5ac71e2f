/**
 * The typed tagless-final interface that proven code is written against. A function generic over
 * `T extends Theory` and taking `o: Ops<T>` has exactly one meaning and two interpretations: run it with
 * `concreteOps` (plain numbers, booleans and copy-on-write typed arrays — what the system executes) or with
 * a `SymbolicOps` (hash-consed terms — what the solver proves). Code is loop-free at the term level:
 * iterate with `all`/`any`/`fold`/`count`, whose bounds are plain numbers and which unroll.
 *
 * Widths: bitvectors are unsigned, 1–32 bits. Operations whose result can overflow (`add`, `sub`, `mul`,
 * `neg`, `bnot`, `shl`, `udiv`) take the result sort first, so the concrete side can wrap without carrying
 * widths around; the symbolic side checks every width on every path it explores.
 */
import type { ArraySort, BvSort, Theory } from './sorts.js';

export interface Ops<T extends Theory> {
  /** Which interpretation this is; proven code must not branch on it. */
  readonly mode: 'concrete' | 'symbolic';

  readonly true: T['bool'];
  readonly false: T['bool'];
  bool(b: boolean): T['bool'];
  /** The constant `n` of sort `sort` (n must already fit). */
  lit(sort: BvSort, n: number): T['bv'];

  not(a: T['bool']): T['bool'];
  and(...xs: T['bool'][]): T['bool'];
  or(...xs: T['bool'][]): T['bool'];
  implies(a: T['bool'], b: T['bool']): T['bool'];
  iff(a: T['bool'], b: T['bool']): T['bool'];

  eq(a: T['bv'], b: T['bv']): T['bool'];
  ne(a: T['bv'], b: T['bv']): T['bool'];
  ult(a: T['bv'], b: T['bv']): T['bool'];
  ule(a: T['bv'], b: T['bv']): T['bool'];
  ugt(a: T['bv'], b: T['bv']): T['bool'];
  uge(a: T['bv'], b: T['bv']): T['bool'];

  add(s: BvSort, a: T['bv'], b: T['bv']): T['bv'];
  sub(s: BvSort, a: T['bv'], b: T['bv']): T['bv'];
  mul(s: BvSort, a: T['bv'], b: T['bv']): T['bv'];
  /** Unsigned division and remainder, SMT-LIB semantics: x / 0 = 2^w − 1, x % 0 = x. */
  udiv(s: BvSort, a: T['bv'], b: T['bv']): T['bv'];
  urem(s: BvSort, a: T['bv'], b: T['bv']): T['bv'];
  neg(s: BvSort, a: T['bv']): T['bv'];
  bnot(s: BvSort, a: T['bv']): T['bv'];
  band(a: T['bv'], b: T['bv']): T['bv'];
  bor(a: T['bv'], b: T['bv']): T['bv'];
  bxor(a: T['bv'], b: T['bv']): T['bv'];
  shl(s: BvSort, a: T['bv'], b: T['bv']): T['bv'];
  lshr(a: T['bv'], b: T['bv']): T['bv'];
  /** Bits hi..lo of `a` (width hi − lo + 1). */
  extract(hi: number, lo: number, a: T['bv']): T['bv'];
  /** `a` zero-extended (or kept) to sort `s`, which must be at least as wide. */
  zext(s: BvSort, a: T['bv']): T['bv'];

  /** a[i]; 0 when i ≥ size. */
  select(a: T['arr'], i: T['bv']): T['bv'];
  /** A copy of a with a[i] = v; a itself when i ≥ size. */
  store(a: T['arr'], i: T['bv'], v: T['bv']): T['arr'];
  /** m[row][col] of a matrix-sorted array; 0 out of bounds. */
  select2(m: T['arr'], row: T['bv'], col: T['bv']): T['bv'];
  store2(m: T['arr'], row: T['bv'], col: T['bv'], v: T['bv']): T['arr'];
  /** A fresh array of `sort` with every entry `v`. */
  constArray(sort: ArraySort, v: T['bv']): T['arr'];

  /**
   * If-then-else over any value: booleans, bitvectors, arrays, and records/tuples of these (merged field
   * by field). Branches are thunks: the concrete interpreter evaluates only the one taken.
   */
  ite<X>(c: T['bool'], then: () => X, otherwise: () => X): X;
  /** Structural equality of two values of the same shape (records, arrays, scalars). */
  equal<X>(a: X, b: X): T['bool'];

  /**
   * ∀ i < n. f(i), with i a bitvector of sort `index` (so f may use it as a symbolic index). Same truth as
   * `all`, different proof: at the top of a hypothesis it is instantiated only at the indices the step
   * touches (and at the goal's witness), at the top of a goal it is proven for one fresh witness index.
   * Use it for invariants over large tables; elsewhere it is unrolled like `all`.
   */
  forall(index: BvSort, n: number, f: (i: T['bv']) => T['bool']): T['bool'];
  /** ∀ r < rows, c < cols. f(r, c): `forall` over the entries of a matrix. */
  forall2(
    row: BvSort,
    rows: number,
    col: BvSort,
    cols: number,
    f: (r: T['bv'], c: T['bv']) => T['bool'],
  ): T['bool'];

  /** Bounded iteration over i = 0 … n − 1 (n a plain number): unrolled symbolically. */
  all(n: number, f: (i: number) => T['bool']): T['bool'];
  any(n: number, f: (i: number) => T['bool']): T['bool'];
  fold<X>(n: number, init: X, f: (acc: X, i: number) => X): X;
  /**
   * How many entries of `a` equal `x`, as a bitvector of sort s. Prefer it to `count` for reference
   * counts: symbolically it is computed incrementally along the stores that built `a`.
   */
  countEq(s: BvSort, a: T['arr'], x: T['bv']): T['bv'];
  /**
   * The sum of the entries of `a`, each zero-extended to sort s, modulo 2^s.width (quotas, budgets).
   * Symbolically computed incrementally along the stores that built `a`, like `countEq`.
   */
  sum(s: BvSort, a: T['arr']): T['bv'];
  /** How many i in 0 … n − 1 satisfy f, as a bitvector of sort s. */
  count(s: BvSort, n: number, f: (i: number) => T['bool']): T['bv'];
}

/** The result of one step of a state machine: the next state and the value returned to the caller. */
export interface Step<S, R> {
  readonly state: S;
  readonly ret: R;
}
