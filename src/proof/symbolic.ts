/**
 * The symbolic interpreter: the same proven code, run over terms. Arrays are expanded into one term per
 * entry (fixed sizes make this exact): a read at a symbolic index is an ite chain over the entries, a write
 * an ite per entry, and a fresh array is one variable per entry — so queries stay in QF_BV, models read
 * back entry by entry, and array equality is plain conjunction (no extensionality, no junk beyond `size`).
 */
import { assert } from '../common/errors.js';
import { CArray, type ConcreteTheory } from './concrete.js';
import type { Ops } from './ops.js';
import type { ArraySort, BvSort, Sort, Val } from './sorts.js';
import { evaluate, indexSpace, Term, TermStore, type Env } from './term.js';

/**
 * How an array value was built, kept so that `countEq` can be computed incrementally: the count over
 * `store(a, i, v)` is the count over `a`, adjusted at i — an identity in modular arithmetic, so the solver
 * never has to rediscover the counting argument (which CDCL handles badly).
 */
export type ArrayOrigin =
  | { readonly kind: 'leaf' }
  | { readonly kind: 'const'; readonly value: Term }
  | { readonly kind: 'store'; readonly parent: SArray; readonly index: Term; readonly value: Term }
  | { readonly kind: 'ite'; readonly cond: Term; readonly then: SArray; readonly otherwise: SArray };

const leaf: ArrayOrigin = { kind: 'leaf' };

export class SArray {
  constructor(
    readonly sort: ArraySort,
    readonly elems: readonly Term[],
    readonly origin: ArrayOrigin = leaf,
  ) {
    assert(elems.length === sort.size, 'SArray: wrong number of entries');
  }
}

export interface SymbolicTheory {
  readonly bool: Term;
  readonly bv: Term;
  readonly arr: SArray;
}

export type SymbolicValue<S extends Sort> = Val<SymbolicTheory, S>;

/** The symbolic interpretation over one term store. */
export class SymbolicOps implements Ops<SymbolicTheory> {
  readonly mode = 'symbolic' as const;
  readonly true: Term;
  readonly false: Term;

  /**
   * Every index used to read or write an array, per index space (`IndexSpace.key`): the candidates at which
   * quantified hypotheses are instantiated.
   */
  readonly touched = new Map<string, Map<string, readonly Term[]>>();

  constructor(readonly terms: TermStore = new TermStore()) {
    this.true = terms.true;
    this.false = terms.false;
  }

  /** Records an index tuple of a space as an instantiation candidate. */
  touch(dims: readonly { width: number; size: number }[], index: readonly Term[]): void {
    const key = indexSpace(dims).key;
    let m = this.touched.get(key);
    if (!m) this.touched.set(key, (m = new Map()));
    m.set(index.map((t) => t.id).join(','), index);
  }

  private touchArray(a: SArray, i: Term): void {
    this.touch([{ width: i.width, size: a.sort.size }], [i]);
  }

  private touchMatrix(m: SArray, row: Term, col: Term): void {
    const shape = m.sort.matrix;
    if (!shape) return;
    this.touch(
      [
        { width: row.width, size: shape.rows },
        { width: col.width, size: shape.cols },
      ],
      [row, col],
    );
    this.touch([{ width: row.width, size: shape.rows }], [row]);
    this.touch([{ width: col.width, size: shape.cols }], [col]);
  }

  forall(index: BvSort, n: number, f: (i: Term) => Term): Term {
    assert(n >= 1 && n <= 2 ** index.width, `forall over ${n} indices of bv${index.width}`);
    return this.terms.forall(indexSpace([{ width: index.width, size: n }]), (idx) => f(idx[0] as Term));
  }

  forall2(row: BvSort, rows: number, col: BvSort, cols: number, f: (r: Term, c: Term) => Term): Term {
    assert(rows <= 2 ** row.width && cols <= 2 ** col.width, 'forall2: index sorts too narrow');
    return this.terms.forall(
      indexSpace([
        { width: row.width, size: rows },
        { width: col.width, size: cols },
      ]),
      (idx) => f(idx[0] as Term, idx[1] as Term),
    );
  }

  bool(b: boolean): Term {
    return this.terms.bool(b);
  }
  lit(s: BvSort, n: number): Term {
    return this.terms.bv(s.width, n);
  }
  not(a: Term): Term {
    return this.terms.not(a);
  }
  and(...xs: Term[]): Term {
    return this.terms.and(xs);
  }
  or(...xs: Term[]): Term {
    return this.terms.or(xs);
  }
  implies(a: Term, b: Term): Term {
    return this.terms.implies(a, b);
  }
  iff(a: Term, b: Term): Term {
    assert(a.isBool && b.isBool, 'iff expects Booleans');
    return this.terms.eq(a, b);
  }
  eq(a: Term, b: Term): Term {
    assert(!a.isBool, 'eq expects bitvectors (use iff for Booleans)');
    return this.terms.eq(a, b);
  }
  ne(a: Term, b: Term): Term {
    return this.terms.not(this.eq(a, b));
  }
  ult(a: Term, b: Term): Term {
    return this.terms.ult(a, b);
  }
  ule(a: Term, b: Term): Term {
    return this.terms.ule(a, b);
  }
  ugt(a: Term, b: Term): Term {
    return this.terms.ult(b, a);
  }
  uge(a: Term, b: Term): Term {
    return this.terms.ule(b, a);
  }
  private sorted(s: BvSort, t: Term, what: string): Term {
    assert(t.width === s.width, `${what}: result sort bv${s.width} but operands are bv${t.width}`);
    return t;
  }
  add(s: BvSort, a: Term, b: Term): Term {
    return this.sorted(s, this.terms.add(a, b), 'add');
  }
  sub(s: BvSort, a: Term, b: Term): Term {
    return this.sorted(s, this.terms.sub(a, b), 'sub');
  }
  mul(s: BvSort, a: Term, b: Term): Term {
    return this.sorted(s, this.terms.mul(a, b), 'mul');
  }
  udiv(s: BvSort, a: Term, b: Term): Term {
    return this.sorted(s, this.terms.udiv(a, b), 'udiv');
  }
  urem(s: BvSort, a: Term, b: Term): Term {
    return this.sorted(s, this.terms.urem(a, b), 'urem');
  }
  neg(s: BvSort, a: Term): Term {
    return this.sorted(s, this.terms.neg(a), 'neg');
  }
  bnot(s: BvSort, a: Term): Term {
    return this.sorted(s, this.terms.bnot(a), 'bnot');
  }
  band(a: Term, b: Term): Term {
    return this.terms.band(a, b);
  }
  bor(a: Term, b: Term): Term {
    return this.terms.bor(a, b);
  }
  bxor(a: Term, b: Term): Term {
    return this.terms.bxor(a, b);
  }
  shl(s: BvSort, a: Term, b: Term): Term {
    return this.sorted(s, this.terms.shl(a, b), 'shl');
  }
  lshr(a: Term, b: Term): Term {
    return this.terms.lshr(a, b);
  }
  extract(hi: number, lo: number, a: Term): Term {
    return this.terms.extract(hi, lo, a);
  }
  zext(s: BvSort, a: Term): Term {
    return this.terms.zext(s.width, a);
  }

  private index(a: SArray, i: Term, what: string): void {
    assert(
      i.width === a.sort.index.width,
      `${what}: index is bv${i.width}, array indexed by bv${a.sort.index.width}`,
    );
  }

  /** Entry k of `elems` if `i = k`, for k < elems.length; `outside` otherwise (ite chain). */
  private choose(elems: readonly Term[], i: Term, outside: Term | undefined): Term {
    const T = this.terms;
    const n = elems.length;
    if (i.isConst) return i.value < n ? (elems[i.value] as Term) : (outside as Term);
    // When every index value is in range the last entry needs no test.
    let acc = outside ?? (elems[n - 1] as Term);
    for (let k = outside ? n - 1 : n - 2; k >= 0; k--)
      acc = T.ite(T.eq(i, T.bv(i.width, k)), elems[k] as Term, acc);
    return acc;
  }

  select(a: SArray, i: Term): Term {
    this.index(a, i, 'select');
    this.touchArray(a, i);
    const full = a.sort.size === 2 ** i.width;
    return this.choose(a.elems, i, full ? undefined : this.terms.bv(a.sort.value.width, 0));
  }

  store(a: SArray, i: Term, v: Term): SArray {
    this.index(a, i, 'store');
    this.touchArray(a, i);
    assert(
      v.width === a.sort.value.width,
      `store: value is bv${v.width}, array holds bv${a.sort.value.width}`,
    );
    const T = this.terms;
    if (i.isConst) {
      if (i.value >= a.sort.size) return a;
      const elems = a.elems.slice();
      elems[i.value] = v;
      return new SArray(a.sort, elems, { kind: 'store', parent: a, index: i, value: v });
    }
    return new SArray(
      a.sort,
      a.elems.map((e, k) => T.ite(T.eq(i, T.bv(i.width, k)), v, e)),
      { kind: 'store', parent: a, index: i, value: v },
    );
  }

  private rowCol(m: SArray, row: Term, col: Term): { rows: number; cols: number } {
    const shape = m.sort.matrix;
    assert(shape !== undefined, 'select2/store2 need a matrix-sorted array');
    assert(
      row.width === m.sort.index.width && col.width === shape.colIndex.width,
      'select2/store2: index sorts',
    );
    return shape;
  }

  select2(m: SArray, row: Term, col: Term): Term {
    const { rows, cols } = this.rowCol(m, row, col);
    this.touchMatrix(m, row, col);
    const zero = this.terms.bv(m.sort.value.width, 0);
    const rowFull = rows === 2 ** row.width;
    const colFull = cols === 2 ** col.width;
    const perRow: Term[] = [];
    for (let r = 0; r < rows; r++)
      perRow.push(this.choose(m.elems.slice(r * cols, (r + 1) * cols), col, colFull ? undefined : zero));
    return this.choose(perRow, row, rowFull ? undefined : zero);
  }

  store2(m: SArray, row: Term, col: Term, v: Term): SArray {
    const { cols } = this.rowCol(m, row, col);
    this.touchMatrix(m, row, col);
    assert(v.width === m.sort.value.width, 'store2: value sort');
    const T = this.terms;
    return new SArray(
      m.sort,
      m.elems.map((e, k) =>
        T.ite(
          T.and([T.eq(row, T.bv(row.width, Math.floor(k / cols))), T.eq(col, T.bv(col.width, k % cols))]),
          v,
          e,
        ),
      ),
    );
  }

  constArray(sort: ArraySort, v: Term): SArray {
    assert(v.width === sort.value.width, 'constArray: value sort');
    return new SArray(sort, new Array<Term>(sort.size).fill(v), { kind: 'const', value: v });
  }

  ite<X>(c: Term, then: () => X, otherwise: () => X): X {
    assert(c instanceof Term && c.isBool, 'ite condition must be a Boolean term');
    if (c.isConst) return c.value ? then() : otherwise();
    return this.merge(c, then(), otherwise()) as X;
  }

  private merge(c: Term, a: unknown, b: unknown): unknown {
    if (a === b) return a;
    if (a instanceof Term && b instanceof Term) return this.terms.ite(c, a, b);
    if (a instanceof SArray && b instanceof SArray) {
      assert(a.sort === b.sort || a.sort.size === b.sort.size, 'ite over arrays of different sorts');
      return new SArray(
        a.sort,
        a.elems.map((x, k) => this.terms.ite(c, x, b.elems[k] as Term)),
        { kind: 'ite', cond: c, then: a, otherwise: b },
      );
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      assert(a.length === b.length, 'ite over tuples of different lengths');
      return a.map((x, k) => this.merge(c, x, b[k]));
    }
    if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
      const keys = Object.keys(a);
      assert(keys.length === Object.keys(b).length, 'ite over records of different shapes');
      const out: Record<string, unknown> = {};
      for (const k of keys) {
        assert(k in b, `ite over records of different shapes (field ${k})`);
        out[k] = this.merge(c, (a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]);
      }
      return out;
    }
    assert(false, `ite branches differ in a non-symbolic value: ${String(a)} vs ${String(b)}`);
  }

  equal<X>(a: X, b: X): Term {
    const parts: Term[] = [];
    const walk = (x: unknown, y: unknown): void => {
      if (x === y) return;
      if (x instanceof Term && y instanceof Term) parts.push(this.terms.eq(x, y));
      else if (x instanceof SArray && y instanceof SArray) {
        assert(x.elems.length === y.elems.length, 'equal: arrays of different sizes');
        x.elems.forEach((e, k) => parts.push(this.terms.eq(e, y.elems[k] as Term)));
      } else if (Array.isArray(x) && Array.isArray(y)) {
        assert(x.length === y.length, 'equal: tuples of different lengths');
        x.forEach((e, k) => walk(e, y[k]));
      } else if (x !== null && y !== null && typeof x === 'object' && typeof y === 'object') {
        for (const k of Object.keys(x))
          walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]);
      } else parts.push(this.terms.false);
    };
    walk(a, b);
    return this.terms.and(parts);
  }

  all(n: number, f: (i: number) => Term): Term {
    const xs: Term[] = [];
    for (let i = 0; i < n; i++) {
      const x = f(i);
      if (x === this.false) return x;
      xs.push(x);
    }
    return this.terms.and(xs);
  }

  any(n: number, f: (i: number) => Term): Term {
    const xs: Term[] = [];
    for (let i = 0; i < n; i++) {
      const x = f(i);
      if (x === this.true) return x;
      xs.push(x);
    }
    return this.terms.or(xs);
  }

  fold<X>(n: number, init: X, f: (acc: X, i: number) => X): X {
    let acc = init;
    for (let i = 0; i < n; i++) acc = f(acc, i);
    return acc;
  }

  countEq(s: BvSort, a: SArray, x: Term): Term {
    assert(x.width === a.sort.value.width, 'countEq: value sort');
    const T = this.terms;
    const one = T.bv(s.width, 1);
    const zero = T.bv(s.width, 0);
    const indicator = (c: Term): Term => T.ite(c, one, zero);
    const memo = new Map<SArray, Term>();
    const go = (arr: SArray): Term => {
      const hit = memo.get(arr);
      if (hit) return hit;
      const o = arr.origin;
      let r: Term;
      if (o.kind === 'store') {
        // i < size: count(a) − [a[i] = x] + [v = x]; otherwise the store did nothing.
        const inRange =
          arr.sort.size === 2 ** o.index.width ? T.true : T.ult(o.index, T.bv(o.index.width, arr.sort.size));
        const before = go(o.parent);
        const adjusted = T.add(
          T.sub(before, indicator(T.eq(this.select(o.parent, o.index), x))),
          indicator(T.eq(o.value, x)),
        );
        r = T.ite(inRange, adjusted, before);
      } else if (o.kind === 'ite') r = T.ite(o.cond, go(o.then), go(o.otherwise));
      else if (o.kind === 'const') r = T.ite(T.eq(o.value, x), T.bv(s.width, arr.sort.size & s.mask), zero);
      else {
        r = zero;
        for (const e of arr.elems) r = T.add(r, indicator(T.eq(e, x)));
      }
      memo.set(arr, r);
      return r;
    };
    return go(a);
  }

  sum(s: BvSort, a: SArray): Term {
    assert(s.width >= a.sort.value.width, 'sum: the result sort must be at least as wide as the entries');
    const T = this.terms;
    const memo = new Map<SArray, Term>();
    const go = (arr: SArray): Term => {
      const hit = memo.get(arr);
      if (hit) return hit;
      const o = arr.origin;
      let r: Term;
      if (o.kind === 'store') {
        const inRange =
          arr.sort.size === 2 ** o.index.width ? T.true : T.ult(o.index, T.bv(o.index.width, arr.sort.size));
        const before = go(o.parent);
        const adjusted = T.add(
          T.sub(before, T.zext(s.width, this.select(o.parent, o.index))),
          T.zext(s.width, o.value),
        );
        r = T.ite(inRange, adjusted, before);
      } else if (o.kind === 'ite') r = T.ite(o.cond, go(o.then), go(o.otherwise));
      else {
        r = T.bv(s.width, 0);
        for (const e of arr.elems) r = T.add(r, T.zext(s.width, e));
      }
      memo.set(arr, r);
      return r;
    };
    return go(a);
  }

  count(s: BvSort, n: number, f: (i: number) => Term): Term {
    const T = this.terms;
    const one = T.bv(s.width, 1);
    const zero = T.bv(s.width, 0);
    let acc = zero;
    for (let i = 0; i < n; i++) acc = T.add(acc, T.ite(f(i), one, zero));
    return acc;
  }
}

/** A value of `sort` made of fresh variables named after their path (`before.owner[3]`). */
export function freshValue<S extends Sort>(o: SymbolicOps, sort: S, name: string): SymbolicValue<S> {
  const T = o.terms;
  switch (sort.kind) {
    case 'bool':
      return T.variable(name, 0) as SymbolicValue<S>;
    case 'bv':
      return T.variable(name, sort.width) as SymbolicValue<S>;
    case 'array': {
      const elems: Term[] = [];
      const shape = sort.matrix;
      for (let k = 0; k < sort.size; k++) {
        const at = shape ? `[${Math.floor(k / shape.cols)}][${k % shape.cols}]` : `[${k}]`;
        elems.push(T.variable(`${name}${at}`, sort.value.width));
      }
      return new SArray(sort, elems) as SymbolicValue<S>;
    }
    case 'record': {
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(sort.fields)) out[k] = freshValue(o, s, name ? `${name}.${k}` : k);
      return out as SymbolicValue<S>;
    }
  }
}

/** The concrete value a symbolic value denotes under an assignment (a model, or random inputs). */
export function concretize<S extends Sort>(
  sort: S,
  value: SymbolicValue<S>,
  env: Env,
): Val<ConcreteTheory, S> {
  switch (sort.kind) {
    case 'bool':
      return evaluate(value as Term, env) as Val<ConcreteTheory, S>;
    case 'bv':
      return evaluate(value as Term, env) as Val<ConcreteTheory, S>;
    case 'array': {
      const a = value as SArray;
      return CArray.of(
        sort,
        a.elems.map((e) => evaluate(e, env) as number),
      ) as Val<ConcreteTheory, S>;
    }
    case 'record': {
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(sort.fields)) {
        out[k] = concretize(s, (value as Record<string, SymbolicValue<Sort>>)[k] as SymbolicValue<Sort>, env);
      }
      return out as Val<ConcreteTheory, S>;
    }
  }
}
