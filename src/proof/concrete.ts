/**
 * The concrete interpreter: what proven code runs on. Booleans are `boolean`, bitvectors plain unsigned
 * numbers, arrays `CArray`s — typed arrays with a persistent overlay of pending writes, so `store` is
 * functional (a failed call that returns the old state costs nothing) without copying whole tables:
 * a `ConcreteMachine` writes the overlay of the state it keeps into the table in place (O(writes)).
 */
import { assert, InputError } from '../common/errors.js';
import {
  bvAdd,
  bvAnd,
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
  bvExtract,
} from './bvsem.js';
import type { Ops, Step } from './ops.js';
import type { ArraySort, BvSort, RecordSort, Sort, Val } from './sorts.js';

type Table = Uint8Array | Uint16Array | Uint32Array;

/** Overlays longer than this are flattened into a fresh table, so reads stay O(1) amortised. */
const MAX_OVERLAY = 12;

function newTable(sort: ArraySort): Table {
  const w = sort.value.width;
  return w <= 8
    ? new Uint8Array(sort.size)
    : w <= 16
      ? new Uint16Array(sort.size)
      : new Uint32Array(sort.size);
}

/** A fixed-size array value: a root table plus a chain of pending writes (newest first). */
export class CArray {
  private constructor(
    readonly sort: ArraySort,
    /** The root's table, shared by every overlay node above it. */
    readonly table: Table,
    readonly parent: CArray | null,
    readonly at: number,
    readonly value: number,
    readonly depth: number,
  ) {}

  static of(sort: ArraySort, values?: ArrayLike<number>): CArray {
    const table = newTable(sort);
    if (values) {
      assert(values.length === sort.size, `array of ${sort.size} entries given ${values.length} values`);
      for (let i = 0; i < sort.size; i++) {
        const v = values[i] ?? 0;
        assert(Number.isInteger(v) && v >= 0 && v <= sort.value.mask, `array value out of range: ${v}`);
        table[i] = v;
      }
    }
    return new CArray(sort, table, null, 0, 0, 0);
  }

  static filled(sort: ArraySort, v: number): CArray {
    const a = CArray.of(sort);
    a.table.fill(v);
    return a;
  }

  get(i: number): number {
    if (this.at === i && this.parent !== null) return this.value;
    for (let n = this.parent; n !== null && n.parent !== null; n = n.parent) if (n.at === i) return n.value;
    return i < this.table.length ? (this.table[i] as number) : 0;
  }

  set(i: number, v: number): CArray {
    if (i >= this.sort.size) return this;
    if (this.depth < MAX_OVERLAY) return new CArray(this.sort, this.table, this, i, v, this.depth + 1);
    const flat = this.toTable();
    flat[i] = v;
    return new CArray(this.sort, flat, null, 0, 0, 0);
  }

  /** A fresh table holding this array's contents. */
  toTable(): Table {
    const t = this.table.slice();
    this.writePending(t);
    return t;
  }

  toArray(): number[] {
    return Array.from(this.toTable());
  }

  /** Whether this value has pending writes over its root table. */
  get pending(): boolean {
    return this.parent !== null;
  }

  /** Writes the pending writes (oldest first) into `t`. */
  private writePending(t: Table): void {
    const chain: CArray[] = this.parent !== null ? [this] : [];
    for (let n = this.parent; n !== null && n.parent !== null; n = n.parent) chain.push(n);
    for (let k = chain.length - 1; k >= 0; k--) {
      const n = chain[k] as CArray;
      t[n.at] = n.value;
    }
  }

  /**
   * Writes the pending writes into the root table itself and returns a root over it. Only sound when no
   * other live value shares the root table: `ConcreteMachine` guarantees that for the state it owns.
   */
  commitInPlace(): CArray {
    if (this.parent === null) return this;
    this.writePending(this.table);
    return new CArray(this.sort, this.table, null, 0, 0, 0);
  }

  /** A root over a private copy of the table (no sharing with this value). */
  copy(): CArray {
    return new CArray(this.sort, this.toTable(), null, 0, 0, 0);
  }
}

export interface ConcreteTheory {
  readonly bool: boolean;
  readonly bv: number;
  readonly arr: CArray;
}

function matrixIndex(m: CArray, row: number, col: number): number {
  const shape = m.sort.matrix;
  assert(shape !== undefined, 'select2/store2 need a matrix-sorted array');
  return row < shape.rows && col < shape.cols ? row * shape.cols + col : m.sort.size;
}

function equalValues(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof CArray && b instanceof CArray) {
    if (a.sort.size !== b.sort.size) return false;
    for (let i = 0; i < a.sort.size; i++) if (a.get(i) !== b.get(i)) return false;
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => equalValues(x, b[i]));
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    assert(ka.length === kb.length, 'equal: values of different shapes');
    for (const k of ka) {
      if (!equalValues((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
    }
    return true;
  }
  return false;
}

/** The concrete interpretation. Stateless: one shared instance. */
export const concreteOps: Ops<ConcreteTheory> = {
  mode: 'concrete',
  true: true,
  false: false,
  bool: (b) => b,
  // Not checked here: every literal is also built symbolically while proving, where the sort is checked.
  lit: (_s, n) => n,
  not: (a) => !a,
  and: (...xs) => {
    for (const x of xs) if (!x) return false;
    return true;
  },
  or: (...xs) => {
    for (const x of xs) if (x) return true;
    return false;
  },
  implies: (a, b) => !a || b,
  iff: (a, b) => a === b,
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  ult: (a, b) => a < b,
  ule: (a, b) => a <= b,
  ugt: (a, b) => a > b,
  uge: (a, b) => a >= b,
  add: (s, a, b) => bvAdd(s.mask, a, b),
  sub: (s, a, b) => bvSub(s.mask, a, b),
  mul: (s, a, b) => bvMul(s.mask, a, b),
  udiv: (s, a, b) => bvUdiv(s.mask, a, b),
  urem: (_s, a, b) => bvUrem(a, b),
  neg: (s, a) => bvNeg(s.mask, a),
  bnot: (s, a) => bvNot(s.mask, a),
  band: bvAnd,
  bor: bvOr,
  bxor: bvXor,
  shl: (s, a, b) => bvShl(s.width, s.mask, a, b),
  lshr: bvLshr,
  extract: bvExtract,
  zext: (_s, a) => a,
  select: (a, i) => a.get(i),
  store: (a, i, v) => a.set(i, v),
  select2: (m, r, c) => m.get(matrixIndex(m, r, c)),
  store2: (m, r, c, v) => m.set(matrixIndex(m, r, c), v),
  constArray: (sort, v) => CArray.filled(sort, v),
  ite: (c, t, e) => (c ? t() : e()),
  equal: (a, b) => equalValues(a, b),
  forall: (_s, n, f) => {
    for (let i = 0; i < n; i++) if (!f(i)) return false;
    return true;
  },
  forall2: (_r, rows, _c, cols, f) => {
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) if (!f(i, j)) return false;
    return true;
  },
  all: (n, f) => {
    for (let i = 0; i < n; i++) if (!f(i)) return false;
    return true;
  },
  any: (n, f) => {
    for (let i = 0; i < n; i++) if (f(i)) return true;
    return false;
  },
  fold: (n, init, f) => {
    let acc = init;
    for (let i = 0; i < n; i++) acc = f(acc, i);
    return acc;
  },
  sum: (s, a) => {
    let t = 0;
    for (let i = 0; i < a.sort.size; i++) t = (t + a.get(i)) % 2 ** s.width;
    return t;
  },
  countEq: (s, a, x) => {
    let k = 0;
    for (let i = 0; i < a.sort.size; i++) if (a.get(i) === x) k++;
    return k & s.mask;
  },
  count: (s, n, f) => {
    let k = 0;
    for (let i = 0; i < n; i++) if (f(i)) k++;
    return k & s.mask;
  },
};

export type ConcreteValue<S extends Sort> = Val<ConcreteTheory, S>;

/** The all-zero (all-false) value of a sort. */
export function zeroValue<S extends Sort>(sort: S): ConcreteValue<S> {
  return mapSort(sort, (s) =>
    s.kind === 'bool' ? false : s.kind === 'bv' ? 0 : CArray.of(s),
  ) as ConcreteValue<S>;
}

/** A deep copy sharing no table with `value`. */
export function copyValue<S extends Sort>(sort: S, value: ConcreteValue<S>): ConcreteValue<S> {
  return mapValue(sort, value, (_s, v) => (v instanceof CArray ? v.copy() : v)) as ConcreteValue<S>;
}

function mapSort(sort: Sort, leaf: (s: Exclude<Sort, RecordSort>) => unknown): unknown {
  if (sort.kind !== 'record') return leaf(sort);
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(sort.fields)) out[k] = mapSort(s, leaf);
  return out;
}

function mapValue(
  sort: Sort,
  value: unknown,
  leaf: (s: Exclude<Sort, RecordSort>, v: unknown) => unknown,
): unknown {
  if (sort.kind !== 'record') return leaf(sort, value);
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(sort.fields))
    out[k] = mapValue(s, (value as Record<string, unknown>)[k], leaf);
  return out;
}

/** Paths (field name lists) of every array inside a record sort. */
function arrayPaths(sort: Sort, prefix: readonly string[] = [], out: string[][] = []): string[][] {
  if (sort.kind === 'array') out.push([...prefix]);
  else if (sort.kind === 'record')
    for (const [k, s] of Object.entries(sort.fields)) arrayPaths(s, [...prefix, k], out);
  return out;
}

/**
 * A state owned by the running system. `apply` runs one step and keeps its result; pending writes of the
 * kept state are written into the tables in place (O(writes), no allocation of tables), unless two arrays
 * of the state share a table (then the pending one is copied). A step that returns the old state costs nothing.
 */
export class ConcreteMachine<S extends RecordSort> {
  private current: ConcreteValue<S>;
  private readonly paths: readonly (readonly string[])[];
  private readonly arrays: CArray[];

  constructor(
    readonly sort: S,
    initial: ConcreteValue<S>,
  ) {
    this.current = copyValue(sort, initial);
    this.paths = arrayPaths(sort);
    this.arrays = new Array<CArray>(this.paths.length);
  }

  /** The current state. Treat as read-only: the next `apply` may update its tables in place. */
  get state(): ConcreteValue<S> {
    return this.current;
  }

  apply<R>(step: (o: Ops<ConcreteTheory>, s: ConcreteValue<S>) => Step<ConcreteValue<S>, R>): R {
    const r = step(concreteOps, this.current);
    if (r.state !== this.current) this.current = this.commit(r.state);
    return r.ret;
  }

  /** A deep copy of the current state, unaffected by later steps. */
  snapshot(): ConcreteValue<S> {
    return copyValue(this.sort, this.current);
  }

  private commit(next: ConcreteValue<S>): ConcreteValue<S> {
    const { paths, arrays } = this;
    let pending = false;
    for (let k = 0; k < paths.length; k++) {
      let v: unknown = next;
      for (const f of paths[k] as readonly string[]) v = (v as Record<string, unknown>)[f];
      arrays[k] = v as CArray;
      if ((v as CArray).pending) pending = true;
    }
    if (!pending) return next;
    for (let k = 0; k < paths.length; k++) {
      const a = arrays[k] as CArray;
      if (!a.pending) continue;
      let shared = false;
      for (let j = 0; j < arrays.length; j++)
        if (j !== k && (arrays[j] as CArray).table === a.table && arrays[j] !== a) shared = true;
      const path = paths[k] as readonly string[];
      let holder = next as Record<string, unknown>;
      for (let d = 0; d < path.length - 1; d++) holder = holder[path[d] as string] as Record<string, unknown>;
      const committed = shared ? a.copy() : a.commitInPlace();
      // The same pending value under two paths is committed once.
      for (let j = k + 1; j < arrays.length; j++) if (arrays[j] === a) arrays[j] = committed;
      holder[path[path.length - 1] as string] = committed;
      arrays[k] = committed;
    }
    return next;
  }
}

/** Plain JSON of a concrete value: numbers, booleans, arrays of numbers, objects. */
export function valueToJSON(sort: Sort, value: unknown): unknown {
  return mapValue(sort, value, (s, v) => (s.kind === 'array' ? (v as CArray).toArray() : v));
}

/** A JSON value in a message: its type, with short scalars shown. */
export function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  const text = JSON.stringify(v) ?? String(v);
  return `${typeof v} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}

/** Parses (and checks) the JSON of a concrete value; `where` names the input for error messages. */
export function valueFromJSON<S extends Sort>(
  sort: S,
  json: unknown,
  where: string,
  path = '',
): ConcreteValue<S> {
  const fail = (detail: string): never => {
    throw new InputError('BAD_VALUE', detail, { file: where, field: path || '(root)' });
  };
  const checkBv = (s: BvSort, v: unknown, at = path): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > s.mask)
      throw new InputError(
        'BAD_VALUE',
        `expected an unsigned ${s.width}-bit integer, got ${describeJson(v)}`,
        { file: where, field: at || '(root)' },
      );
    return v;
  };
  switch (sort.kind) {
    case 'bool':
      if (typeof json !== 'boolean') fail(`expected a boolean, got ${describeJson(json)}`);
      return json as ConcreteValue<S>;
    case 'bv':
      return checkBv(sort, json) as ConcreteValue<S>;
    case 'array': {
      if (!Array.isArray(json) || json.length !== sort.size)
        fail(
          `expected an array of ${sort.size} integers, got ${Array.isArray(json) ? `${json.length} entries` : describeJson(json)}`,
        );
      const values = (json as unknown[]).map((v, i) => checkBv(sort.value, v, `${path}[${i}]`));
      return CArray.of(sort, values) as ConcreteValue<S>;
    }
    case 'record': {
      if (json === null || typeof json !== 'object' || Array.isArray(json))
        fail(`expected an object, got ${describeJson(json)}`);
      for (const k of Object.keys(json as object))
        if (!Object.hasOwn(sort.fields, k))
          throw new InputError('BAD_VALUE', `unknown field '${k}'`, {
            file: where,
            field: path ? `${path}.${k}` : k,
          });
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(sort.fields)) {
        const sub = path ? `${path}.${k}` : k;
        if (!Object.hasOwn(json as object, k)) fail(`missing field '${k}'`);
        out[k] = valueFromJSON(s, (json as Record<string, unknown>)[k], where, sub);
      }
      return out as ConcreteValue<S>;
    }
  }
}
