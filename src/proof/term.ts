/**
 * The symbolic term graph: hash-consed (structurally equal terms are one object), built only through
 * smart constructors that fold constants and apply a few sound rewrites. A `TermStore` is created per
 * obligation, so term ids — and therefore the printed SMT-LIB text and its cache hash — depend only on the
 * code being proven, never on what was built before.
 */
import { assert } from '../common/errors.js';
import {
  bvAdd,
  bvAnd,
  bvConcat,
  bvExtract,
  bvLshr,
  bvMul,
  bvNeg,
  bvNot,
  bvOr,
  bvShl,
  bvSub,
  bvUdiv,
  bvUrem,
  bvXor,
  maskOf,
} from './bvsem.js';

export type TermOp =
  | 'const'
  | 'var'
  | 'not'
  | 'and'
  | 'or'
  | 'ite'
  | 'eq'
  | 'bvadd'
  | 'bvsub'
  | 'bvmul'
  | 'bvudiv'
  | 'bvurem'
  | 'bvneg'
  | 'bvnot'
  | 'bvand'
  | 'bvor'
  | 'bvxor'
  | 'bvshl'
  | 'bvlshr'
  | 'bvult'
  | 'bvule'
  | 'extract'
  | 'concat'
  | 'zext'
  | 'forall';

/** An index space of a bounded quantifier: one or two dimensions (a matrix), each with its sort and size. */
export interface IndexSpace {
  readonly dims: readonly { readonly width: number; readonly size: number }[];
  /** Identifies the space; arrays of the same shape share it, so their touched indices are candidates. */
  readonly key: string;
}

export function indexSpace(dims: readonly { readonly width: number; readonly size: number }[]): IndexSpace {
  return { dims, key: dims.map((d) => `${d.size}:${d.width}`).join('x') };
}

/**
 * A bounded universal quantifier `∀ i ∈ space. body(i)`, kept unexpanded until the query is built: then it
 * is unrolled, or — at the top of a hypothesis — instantiated at the indices the step touched, or — at the
 * top of a goal — proven for a fresh witness index (skolemised).
 */
export class Quantifier {
  constructor(
    readonly store: TermStore,
    readonly space: IndexSpace,
    readonly body: (index: readonly Term[]) => Term,
  ) {}

  /** Every index tuple of the space, as constants. */
  tuples(): Term[][] {
    let out: Term[][] = [[]];
    for (const d of this.space.dims) {
      const next: Term[][] = [];
      for (const prefix of out)
        for (let k = 0; k < d.size; k++) next.push([...prefix, this.store.bv(d.width, k)]);
      out = next;
    }
    return out;
  }

  /** `index in range ⇒ body(index)`, for any index terms. */
  instance(index: readonly Term[]): Term {
    const T = this.store;
    const inRange = this.space.dims.map((d, k) => {
      const i = index[k] as Term;
      return d.size === 2 ** d.width ? T.true : T.ult(i, T.bv(d.width, d.size));
    });
    return T.implies(T.and(inRange), this.body(index));
  }
}

/** A node of the graph. `width` 0 means Boolean. Constants keep their value in `value` (Booleans 0/1). */
export class Term {
  constructor(
    readonly id: number,
    readonly op: TermOp,
    readonly width: number,
    readonly args: readonly Term[],
    readonly value: number,
    /** Variable name, or for `extract` the `hi:lo` pair. */
    readonly name: string,
  ) {}

  get isBool(): boolean {
    return this.width === 0;
  }

  get isConst(): boolean {
    return this.op === 'const';
  }
}

export type Env = (name: string) => number | boolean | undefined;

export class TermStore {
  private readonly table = new Map<string, Term>();
  private readonly vars = new Map<string, Term>();
  /** Quantifiers, by the `value` of their `forall` term. */
  readonly quantifiers: Quantifier[] = [];
  readonly true: Term;
  readonly false: Term;

  constructor() {
    this.true = this.mk('const', 0, [], 1, '');
    this.false = this.mk('const', 0, [], 0, '');
  }

  /** Number of distinct terms built so far. */
  get size(): number {
    return this.table.size;
  }

  private mk(op: TermOp, width: number, args: readonly Term[], value: number, name: string): Term {
    let key = `${op}/${width}/${value}/${name}`;
    for (const a of args) key += `/${a.id}`;
    let t = this.table.get(key);
    if (!t) {
      t = new Term(this.table.size, op, width, args, value, name);
      this.table.set(key, t);
    }
    return t;
  }

  // ---- leaves

  bool(b: boolean): Term {
    return b ? this.true : this.false;
  }

  bv(width: number, value: number): Term {
    assert(
      Number.isInteger(value) && value >= 0 && value <= maskOf(width),
      `constant ${value} does not fit bv${width}`,
    );
    return this.mk('const', width, [], value, '');
  }

  /** The variable `name` of `width` bits (0: Boolean). Names are unique per store. */
  variable(name: string, width: number): Term {
    assert(!/[|\\]/.test(name), `variable names may not contain | or \\: ${name}`);
    const old = this.vars.get(name);
    if (old) {
      assert(old.width === width, `variable ${name} redeclared with another sort`);
      return old;
    }
    const t = this.mk('var', width, [], 0, name);
    this.vars.set(name, t);
    return t;
  }

  // ---- bounded quantifiers

  forall(space: IndexSpace, body: (index: readonly Term[]) => Term): Term {
    const q = new Quantifier(this, space, body);
    this.quantifiers.push(q);
    const t = this.mk('forall', 0, [], this.quantifiers.length - 1, space.key);
    owners.set(t, q);
    return t;
  }

  quantifier(t: Term): Quantifier {
    assert(t.op === 'forall', 'not a quantifier');
    return this.quantifiers[t.value] as Quantifier;
  }

  /** The conjunction of every instance (exact for the bounded space). */
  unroll(t: Term): Term {
    const q = this.quantifier(t);
    return this.and(q.tuples().map((idx) => q.body(idx)));
  }

  /** `t` with every quantifier inside it unrolled (rebuilt through the smart constructors). */
  expandQuantifiers(t: Term, memo = new Map<Term, Term>()): Term {
    const done = memo.get(t);
    if (done) return done;
    let r: Term;
    if (t.op === 'forall') r = this.expandQuantifiers(this.unroll(t), memo);
    else if (t.args.length === 0) r = t;
    else {
      const args = t.args.map((a) => this.expandQuantifiers(a, memo));
      r = args.every((a, k) => a === t.args[k]) ? t : this.rebuild(t, args);
    }
    memo.set(t, r);
    return r;
  }

  /** The node `t` with new arguments, through the smart constructors. */
  rebuild(t: Term, a: readonly Term[]): Term {
    const [x, y, z] = a as [Term, Term, Term];
    switch (t.op) {
      case 'not':
        return this.not(x);
      case 'and':
        return this.and(a);
      case 'or':
        return this.or(a);
      case 'ite':
        return this.ite(x, y, z);
      case 'eq':
        return this.eq(x, y);
      case 'bvadd':
        return this.add(x, y);
      case 'bvsub':
        return this.sub(x, y);
      case 'bvmul':
        return this.mul(x, y);
      case 'bvudiv':
        return this.udiv(x, y);
      case 'bvurem':
        return this.urem(x, y);
      case 'bvneg':
        return this.neg(x);
      case 'bvnot':
        return this.bnot(x);
      case 'bvand':
        return this.band(x, y);
      case 'bvor':
        return this.bor(x, y);
      case 'bvxor':
        return this.bxor(x, y);
      case 'bvshl':
        return this.shl(x, y);
      case 'bvlshr':
        return this.lshr(x, y);
      case 'bvult':
        return this.ult(x, y);
      case 'bvule':
        return this.ule(x, y);
      case 'extract': {
        const [hi, lo] = t.name.split(':').map(Number) as [number, number];
        return this.extract(hi, lo, x);
      }
      case 'concat':
        return this.concat(x, y);
      case 'zext':
        return this.zext(t.width, x);
      default:
        assert(false, `cannot rebuild ${t.op}`);
    }
  }

  // ---- Booleans

  not(a: Term): Term {
    this.bool1(a, 'not');
    if (a.isConst) return this.bool(a.value === 0);
    if (a.op === 'not') return a.args[0] as Term;
    return this.mk('not', 0, [a], 0, '');
  }

  and(xs: readonly Term[]): Term {
    return this.junction('and', xs);
  }

  or(xs: readonly Term[]): Term {
    return this.junction('or', xs);
  }

  private junction(op: 'and' | 'or', xs: readonly Term[]): Term {
    const unit = op === 'and' ? this.true : this.false;
    const zero = op === 'and' ? this.false : this.true;
    const seen = new Map<number, Term>();
    const add = (t: Term): boolean => {
      this.bool1(t, op);
      if (t === zero) return false;
      if (t === unit) return true;
      if (t.op === op) {
        for (const a of t.args) if (!add(a)) return false;
        return true;
      }
      seen.set(t.id, t);
      return true;
    };
    for (const x of xs) if (!add(x)) return zero;
    for (const t of seen.values()) if (t.op === 'not' && seen.has((t.args[0] as Term).id)) return zero;
    if (seen.size === 0) return unit;
    if (seen.size === 1) return seen.values().next().value as Term;
    const args = [...seen.values()].sort((a, b) => a.id - b.id);
    return this.mk(op, 0, args, 0, '');
  }

  implies(a: Term, b: Term): Term {
    return this.or([this.not(a), b]);
  }

  // ---- polymorphic

  ite(c: Term, a: Term, b: Term): Term {
    this.bool1(c, 'ite');
    assert(a.width === b.width, `ite branches of different sorts (${a.width} vs ${b.width})`);
    if (c.isConst) return c.value ? a : b;
    if (a === b) return a;
    if (c.op === 'not') return this.ite(c.args[0] as Term, b, a);
    if (a.op === 'ite' && a.args[0] === c) return this.ite(c, a.args[1] as Term, b);
    if (b.op === 'ite' && b.args[0] === c) return this.ite(c, a, b.args[2] as Term);
    if (a.isBool) {
      if (a === this.true) return this.or([c, b]);
      if (a === this.false) return this.and([this.not(c), b]);
      if (b === this.true) return this.or([this.not(c), a]);
      if (b === this.false) return this.and([c, a]);
    }
    return this.mk('ite', a.width, [c, a, b], 0, '');
  }

  eq(a: Term, b: Term): Term {
    assert(a.width === b.width, `= of different sorts (${a.width} vs ${b.width})`);
    if (a === b) return this.true;
    if (a.isConst && b.isConst) return this.bool(a.value === b.value);
    if (a.isBool) {
      if (a.isConst) return a.value ? b : this.not(b);
      if (b.isConst) return b.value ? a : this.not(a);
    }
    // Push a comparison with a constant into an ite with constant branches: select chains become small.
    if (b.isConst && a.op === 'ite' && ((a.args[1] as Term).isConst || (a.args[2] as Term).isConst))
      return this.ite(a.args[0] as Term, this.eq(a.args[1] as Term, b), this.eq(a.args[2] as Term, b));
    if (a.isConst && b.op === 'ite') return this.eq(b, a);
    return a.id < b.id ? this.mk('eq', 0, [a, b], 0, '') : this.mk('eq', 0, [b, a], 0, '');
  }

  // ---- bitvectors

  private bool1(a: Term, what: string): void {
    assert(a.width === 0, `${what} expects a Boolean, got bv${a.width}`);
  }

  private bv2(a: Term, b: Term, what: string): number {
    assert(a.width > 0 && a.width === b.width, `${what}: operands bv${a.width} and bv${b.width}`);
    return a.width;
  }

  private binary(
    op: TermOp,
    a: Term,
    b: Term,
    fold: (x: number, y: number) => number,
    commutative: boolean,
  ): Term {
    const w = this.bv2(a, b, op);
    if (a.isConst && b.isConst) return this.bv(w, fold(a.value, b.value));
    if (commutative && (a.isConst || (!b.isConst && b.id < a.id))) [a, b] = [b, a];
    return this.mk(op, w, [a, b], 0, '');
  }

  add(a: Term, b: Term): Term {
    const m = maskOf(a.width);
    if (b.isConst && b.value === 0) return a;
    if (a.isConst && a.value === 0) return b;
    return this.binary('bvadd', a, b, (x, y) => bvAdd(m, x, y), true);
  }

  sub(a: Term, b: Term): Term {
    const m = maskOf(a.width);
    if (b.isConst && b.value === 0) return a;
    if (a === b) return this.bv(a.width, 0);
    return this.binary('bvsub', a, b, (x, y) => bvSub(m, x, y), false);
  }

  mul(a: Term, b: Term): Term {
    const m = maskOf(a.width);
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      if (x.isConst && x.value === 1 && y.width === x.width) return y;
      if (x.isConst && x.value === 0 && y.width === x.width) return x;
    }
    return this.binary('bvmul', a, b, (x, y) => bvMul(m, x, y), true);
  }

  udiv(a: Term, b: Term): Term {
    const m = maskOf(a.width);
    if (b.isConst && b.value === 1) return a;
    return this.binary('bvudiv', a, b, (x, y) => bvUdiv(m, x, y), false);
  }

  urem(a: Term, b: Term): Term {
    return this.binary('bvurem', a, b, bvUrem, false);
  }

  band(a: Term, b: Term): Term {
    const m = maskOf(a.width);
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      if (x.isConst && x.value === 0 && y.width === x.width) return x;
      if (x.isConst && x.value === m && y.width === x.width) return y;
    }
    if (a === b) return a;
    return this.binary('bvand', a, b, bvAnd, true);
  }

  bor(a: Term, b: Term): Term {
    const m = maskOf(a.width);
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      if (x.isConst && x.value === 0 && y.width === x.width) return y;
      if (x.isConst && x.value === m && y.width === x.width) return x;
    }
    if (a === b) return a;
    return this.binary('bvor', a, b, bvOr, true);
  }

  bxor(a: Term, b: Term): Term {
    if (b.isConst && b.value === 0 && a.width === b.width) return a;
    if (a.isConst && a.value === 0 && a.width === b.width) return b;
    if (a === b && a.width > 0) return this.bv(a.width, 0);
    return this.binary('bvxor', a, b, bvXor, true);
  }

  shl(a: Term, b: Term): Term {
    const w = a.width;
    if (b.isConst && b.value === 0 && a.width === b.width) return a;
    return this.binary('bvshl', a, b, (x, y) => bvShl(w, maskOf(w), x, y), false);
  }

  lshr(a: Term, b: Term): Term {
    if (b.isConst && b.value === 0 && a.width === b.width) return a;
    return this.binary('bvlshr', a, b, bvLshr, false);
  }

  neg(a: Term): Term {
    assert(a.width > 0, 'bvneg of a Boolean');
    if (a.isConst) return this.bv(a.width, bvNeg(maskOf(a.width), a.value));
    if (a.op === 'bvneg') return a.args[0] as Term;
    return this.mk('bvneg', a.width, [a], 0, '');
  }

  bnot(a: Term): Term {
    assert(a.width > 0, 'bvnot of a Boolean');
    if (a.isConst) return this.bv(a.width, bvNot(maskOf(a.width), a.value));
    if (a.op === 'bvnot') return a.args[0] as Term;
    return this.mk('bvnot', a.width, [a], 0, '');
  }

  ult(a: Term, b: Term): Term {
    this.bv2(a, b, 'bvult');
    if (a.isConst && b.isConst) return this.bool(a.value < b.value);
    if (a === b || (b.isConst && b.value === 0)) return this.false;
    if (a.isConst && a.value === maskOf(a.width)) return this.false;
    return this.mk('bvult', 0, [a, b], 0, '');
  }

  ule(a: Term, b: Term): Term {
    this.bv2(a, b, 'bvule');
    if (a.isConst && b.isConst) return this.bool(a.value <= b.value);
    if (a === b || (a.isConst && a.value === 0)) return this.true;
    if (b.isConst && b.value === maskOf(b.width)) return this.true;
    return this.mk('bvule', 0, [a, b], 0, '');
  }

  extract(hi: number, lo: number, a: Term): Term {
    assert(
      Number.isInteger(hi) && Number.isInteger(lo) && 0 <= lo && lo <= hi && hi < a.width,
      `bad extract ${hi}:${lo} of bv${a.width}`,
    );
    if (lo === 0 && hi === a.width - 1) return a;
    if (a.isConst) return this.bv(hi - lo + 1, bvExtract(hi, lo, a.value));
    return this.mk('extract', hi - lo + 1, [a], 0, `${hi}:${lo}`);
  }

  concat(a: Term, b: Term): Term {
    assert(a.width > 0 && b.width > 0 && a.width + b.width <= 32, 'concat wider than 32 bits');
    if (a.isConst && b.isConst) return this.bv(a.width + b.width, bvConcat(a.value, b.value, b.width));
    return this.mk('concat', a.width + b.width, [a, b], 0, '');
  }

  zext(width: number, a: Term): Term {
    assert(a.width > 0 && width >= a.width && width <= 32, `cannot zero-extend bv${a.width} to bv${width}`);
    if (width === a.width) return a;
    if (a.isConst) return this.bv(width, a.value);
    return this.mk('zext', width, [a], 0, '');
  }
}

const owners = new WeakMap<Term, Quantifier>();

function quantifierOf(t: Term): Quantifier {
  const q = owners.get(t);
  assert(q !== undefined, 'quantifier term of an unknown store');
  return q;
}

/** `t` with every bounded quantifier in it unrolled (a no-op for quantifier-free terms). */
export function withoutQuantifiers(t: Term): Term {
  const seen = new Set<Term>();
  const stack = [t];
  while (stack.length > 0) {
    const x = stack.pop() as Term;
    if (seen.has(x)) continue;
    seen.add(x);
    if (x.op === 'forall') return quantifierOf(x).store.expandQuantifiers(t);
    for (const a of x.args) stack.push(a);
  }
  return t;
}

/** Evaluates a term under an assignment of its variables (unassigned variables are 0 / false). */
export function evaluate(root: Term, env: Env): number | boolean {
  const memo = new Map<Term, number>();
  const ev = (t: Term): number => {
    const hit = memo.get(t);
    if (hit !== undefined) return hit;
    const a = (k: number): number => ev(t.args[k] as Term);
    const m = maskOf(Math.max(1, t.width));
    let r: number;
    switch (t.op) {
      case 'const':
        r = t.value;
        break;
      case 'var': {
        const v = env(t.name);
        r = v === undefined ? 0 : typeof v === 'boolean' ? (v ? 1 : 0) : v;
        break;
      }
      case 'not':
        r = a(0) ? 0 : 1;
        break;
      case 'and':
        r = t.args.every((x) => ev(x) !== 0) ? 1 : 0;
        break;
      case 'or':
        r = t.args.some((x) => ev(x) !== 0) ? 1 : 0;
        break;
      case 'ite':
        r = a(0) ? a(1) : a(2);
        break;
      case 'eq':
        r = a(0) === a(1) ? 1 : 0;
        break;
      case 'bvadd':
        r = bvAdd(m, a(0), a(1));
        break;
      case 'bvsub':
        r = bvSub(m, a(0), a(1));
        break;
      case 'bvmul':
        r = bvMul(m, a(0), a(1));
        break;
      case 'bvudiv':
        r = bvUdiv(m, a(0), a(1));
        break;
      case 'bvurem':
        r = bvUrem(a(0), a(1));
        break;
      case 'bvneg':
        r = bvNeg(m, a(0));
        break;
      case 'bvnot':
        r = bvNot(m, a(0));
        break;
      case 'bvand':
        r = bvAnd(a(0), a(1));
        break;
      case 'bvor':
        r = bvOr(a(0), a(1));
        break;
      case 'bvxor':
        r = bvXor(a(0), a(1));
        break;
      case 'bvshl':
        r = bvShl(t.width, m, a(0), a(1));
        break;
      case 'bvlshr':
        r = bvLshr(a(0), a(1));
        break;
      case 'bvult':
        r = a(0) < a(1) ? 1 : 0;
        break;
      case 'bvule':
        r = a(0) <= a(1) ? 1 : 0;
        break;
      case 'extract': {
        const [hi, lo] = t.name.split(':').map(Number) as [number, number];
        r = bvExtract(hi, lo, a(0));
        break;
      }
      case 'concat':
        r = bvConcat(a(0), a(1), (t.args[1] as Term).width);
        break;
      case 'zext':
        r = a(0);
        break;
      case 'forall': {
        const q = quantifierOf(t);
        r = q.tuples().every((idx) => ev(q.body(idx)) !== 0) ? 1 : 0;
        break;
      }
    }
    memo.set(t, r);
    return r;
  };
  const v = ev(root);
  return root.isBool ? v !== 0 : v;
}
