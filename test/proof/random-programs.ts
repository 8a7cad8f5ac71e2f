/**
 * Random straight-line programs over `Ops`, as data, so the same program can be run by both interpreters.
 * Every operation of the interface appears; widths and constants favour edge cases (0, all ones, the sign
 * bit, shifts past the width, division by zero).
 */
import { SeededRandom } from '../../src/common/random.js';
import type { Ops } from '../../src/proof/ops.js';
import { array, bv, type ArraySort, type BvSort, type Theory } from '../../src/proof/sorts.js';

export const widths = [1, 3, 8, 16, 32] as const;
export const arraySort: ArraySort = array(6, bv(8), bv(3));

export interface Program {
  /** Variables: name → width (0 = Boolean). */
  readonly vars: readonly { name: string; width: number }[];
  readonly root: Node;
}

export type Node =
  | { k: 'var'; name: string; width: number }
  | { k: 'const'; width: number; value: number }
  | { k: 'bool'; value: boolean }
  | { k: 'un'; op: 'neg' | 'bnot'; width: number; a: Node }
  | {
      k: 'bin';
      op: 'add' | 'sub' | 'mul' | 'udiv' | 'urem' | 'band' | 'bor' | 'bxor' | 'shl' | 'lshr';
      width: number;
      a: Node;
      b: Node;
    }
  | { k: 'cmp'; op: 'eq' | 'ne' | 'ult' | 'ule' | 'ugt' | 'uge'; a: Node; b: Node }
  | { k: 'logic'; op: 'and' | 'or' | 'implies' | 'iff'; a: Node; b: Node }
  | { k: 'not'; a: Node }
  | { k: 'ite'; c: Node; a: Node; b: Node }
  | { k: 'extract'; hi: number; lo: number; a: Node }
  | { k: 'zext'; width: number; a: Node }
  | { k: 'select'; arr: ArrNode; i: Node }
  | { k: 'countEq'; arr: ArrNode; x: Node }
  | { k: 'forall'; arr: ArrNode; op: 'ult' | 'ne'; x: Node };

export type ArrNode =
  | { k: 'avar' }
  | { k: 'store'; arr: ArrNode; i: Node; v: Node }
  | { k: 'aite'; c: Node; a: ArrNode; b: ArrNode };

function edgeValue(r: SeededRandom, width: number): number {
  const mask = width === 32 ? 0xffffffff : 2 ** width - 1;
  switch (r.below(6)) {
    case 0:
      return 0;
    case 1:
      return mask;
    case 2:
      return 2 ** (width - 1);
    case 3:
      return Math.min(1, mask);
    default:
      return (r.nextU32() & mask) >>> 0;
  }
}

export function randomProgram(seed: number, depth = 5): Program {
  const r = new SeededRandom(seed);
  const vars = [
    ...widths.map((w) => ({ name: `x${w}`, width: w })),
    ...widths.map((w) => ({ name: `y${w}`, width: w })),
    { name: 'p', width: 0 },
    { name: 'q', width: 0 },
  ];
  const bvOf = (w: number, d: number): Node => {
    if (d <= 0 || r.below(5) === 0)
      return r.below(2) === 0
        ? { k: 'var', name: r.below(2) ? `x${w}` : `y${w}`, width: w }
        : { k: 'const', width: w, value: edgeValue(r, w) };
    switch (r.below(8)) {
      case 0:
        return { k: 'un', op: r.below(2) ? 'neg' : 'bnot', width: w, a: bvOf(w, d - 1) };
      case 1:
      case 2: {
        const ops = ['add', 'sub', 'mul', 'udiv', 'urem', 'band', 'bor', 'bxor', 'shl', 'lshr'] as const;
        return {
          k: 'bin',
          op: ops[r.below(ops.length)] as (typeof ops)[number],
          width: w,
          a: bvOf(w, d - 1),
          b: bvOf(w, d - 1),
        };
      }
      case 3:
        return { k: 'ite', c: boolOf(d - 1), a: bvOf(w, d - 1), b: bvOf(w, d - 1) };
      case 4: {
        // extract from a wider value when one exists
        const wider = widths.filter((x) => x >= w);
        const from = wider[r.below(wider.length)] as number;
        const lo = r.below(from - w + 1);
        return { k: 'extract', hi: lo + w - 1, lo, a: bvOf(from, d - 1) };
      }
      case 5: {
        const narrower = widths.filter((x) => x <= w);
        return { k: 'zext', width: w, a: bvOf(narrower[r.below(narrower.length)] as number, d - 1) };
      }
      case 6:
        if (w === 8) return { k: 'select', arr: arrOf(d - 1), i: bvOf(3, d - 1) };
        if (w === 3) return { k: 'countEq', arr: arrOf(d - 1), x: bvOf(8, d - 1) };
        return bvOf(w, d - 1);
      default:
        return {
          k: 'bin',
          op: 'add',
          width: w,
          a: bvOf(w, d - 1),
          b: { k: 'const', width: w, value: edgeValue(r, w) },
        };
    }
  };
  const arrOf = (d: number): ArrNode => {
    if (d <= 0 || r.below(3) === 0) return { k: 'avar' };
    return r.below(3) === 0
      ? { k: 'aite', c: boolOf(d - 1), a: arrOf(d - 1), b: arrOf(d - 1) }
      : { k: 'store', arr: arrOf(d - 1), i: bvOf(3, d - 1), v: bvOf(8, d - 1) };
  };
  const boolOf = (d: number): Node => {
    if (d <= 0 || r.below(6) === 0)
      return r.below(3) === 0
        ? { k: 'bool', value: r.below(2) === 0 }
        : { k: 'var', name: r.below(2) ? 'p' : 'q', width: 0 };
    switch (r.below(5)) {
      case 4:
        return { k: 'forall', arr: arrOf(d - 1), op: r.below(2) ? 'ult' : 'ne', x: bvOf(8, d - 1) };
      case 0: {
        const w = widths[r.below(widths.length)] as number;
        const ops = ['eq', 'ne', 'ult', 'ule', 'ugt', 'uge'] as const;
        return {
          k: 'cmp',
          op: ops[r.below(ops.length)] as (typeof ops)[number],
          a: bvOf(w, d - 1),
          b: bvOf(w, d - 1),
        };
      }
      case 1: {
        const ops = ['and', 'or', 'implies', 'iff'] as const;
        return {
          k: 'logic',
          op: ops[r.below(ops.length)] as (typeof ops)[number],
          a: boolOf(d - 1),
          b: boolOf(d - 1),
        };
      }
      case 2:
        return { k: 'not', a: boolOf(d - 1) };
      default:
        return { k: 'ite', c: boolOf(d - 1), a: boolOf(d - 1), b: boolOf(d - 1) };
    }
  };
  const root = r.below(3) === 0 ? boolOf(depth) : bvOf(widths[r.below(widths.length)] as number, depth);
  return { vars, root };
}

/** Runs a program with any interpreter; `env` gives the variables and the array `arr`. */
export function runProgram<T extends Theory>(
  o: Ops<T>,
  p: Program,
  env: { vars: Record<string, unknown>; arr: T['arr'] },
): unknown {
  const sorts = new Map<number, BvSort>(widths.map((w) => [w, bv(w)]));
  const s = (w: number): BvSort => sorts.get(w) ?? bv(w);
  const ev = (n: Node): unknown => {
    switch (n.k) {
      case 'var':
        return env.vars[n.name];
      case 'const':
        return o.lit(s(n.width), n.value);
      case 'bool':
        return o.bool(n.value);
      case 'un':
        return n.op === 'neg'
          ? o.neg(s(n.width), ev(n.a) as T['bv'])
          : o.bnot(s(n.width), ev(n.a) as T['bv']);
      case 'bin': {
        const a = ev(n.a) as T['bv'];
        const b = ev(n.b) as T['bv'];
        switch (n.op) {
          case 'add':
            return o.add(s(n.width), a, b);
          case 'sub':
            return o.sub(s(n.width), a, b);
          case 'mul':
            return o.mul(s(n.width), a, b);
          case 'udiv':
            return o.udiv(s(n.width), a, b);
          case 'urem':
            return o.urem(s(n.width), a, b);
          case 'band':
            return o.band(a, b);
          case 'bor':
            return o.bor(a, b);
          case 'bxor':
            return o.bxor(a, b);
          case 'shl':
            return o.shl(s(n.width), a, b);
          case 'lshr':
            return o.lshr(a, b);
        }
        break;
      }
      case 'cmp': {
        const a = ev(n.a) as T['bv'];
        const b = ev(n.b) as T['bv'];
        return o[n.op](a, b);
      }
      case 'logic': {
        const a = ev(n.a) as T['bool'];
        const b = ev(n.b) as T['bool'];
        return n.op === 'and'
          ? o.and(a, b)
          : n.op === 'or'
            ? o.or(a, b)
            : n.op === 'implies'
              ? o.implies(a, b)
              : o.iff(a, b);
      }
      case 'not':
        return o.not(ev(n.a) as T['bool']);
      case 'ite':
        return o.ite(
          ev(n.c) as T['bool'],
          () => ev(n.a),
          () => ev(n.b),
        );
      case 'extract':
        return o.extract(n.hi, n.lo, ev(n.a) as T['bv']);
      case 'zext':
        return o.zext(s(n.width), ev(n.a) as T['bv']);
      case 'select':
        return o.select(arr(n.arr), ev(n.i) as T['bv']);
      case 'countEq':
        return o.countEq(s(3), arr(n.arr), ev(n.x) as T['bv']);
      case 'forall': {
        const a = arr(n.arr);
        const x = ev(n.x) as T['bv'];
        return o.forall(s(3), arraySort.size, (i) => o[n.op](o.select(a, i), x));
      }
    }
  };
  const arr = (n: ArrNode): T['arr'] => {
    switch (n.k) {
      case 'avar':
        return env.arr;
      case 'store':
        return o.store(arr(n.arr), ev(n.i) as T['bv'], ev(n.v) as T['bv']);
      case 'aite':
        return o.ite(
          ev(n.c) as T['bool'],
          () => arr(n.a),
          () => arr(n.b),
        );
    }
  };
  return ev(p.root);
}
