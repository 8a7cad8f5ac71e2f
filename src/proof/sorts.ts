/**
 * Sorts: the types of values that proven code manipulates. A schema (a record sort) describes a whole
 * machine state: records of booleans, bitvectors and fixed-size arrays of bitvectors. The same schema
 * allocates concrete states, declares symbolic ones, reads models back and prints counterexamples.
 */
import { assert } from '../common/errors.js';

export interface BoolSort {
  readonly kind: 'bool';
}

/** An unsigned bitvector of 1–32 bits; concretely a plain number in [0, 2^width). */
export interface BvSort {
  readonly kind: 'bv';
  readonly width: number;
  /** 2^width − 1, the concrete mask. */
  readonly mask: number;
}

/**
 * A fixed-size array index → value. `size` entries, indexed by `index`-sorted bitvectors; reading out of
 * bounds yields 0 and writing out of bounds does nothing, in both interpreters. A matrix (`rows` × `cols`)
 * is an array of rows·cols entries addressed by `select2`/`store2` with a row and a column index.
 */
export interface ArraySort {
  readonly kind: 'array';
  readonly index: BvSort;
  readonly size: number;
  readonly value: BvSort;
  readonly matrix?: { readonly rows: number; readonly cols: number; readonly colIndex: BvSort };
}

export interface RecordSort<F extends Fields = Fields> {
  readonly kind: 'record';
  readonly fields: F;
}

export interface Fields {
  readonly [name: string]: Sort;
}

export type Sort = BoolSort | BvSort | ArraySort | RecordSort;

export const boolSort: BoolSort = Object.freeze({ kind: 'bool' });

const bvCache = new Map<number, BvSort>();

/** The bitvector sort of `width` bits (1 ≤ width ≤ 32). */
export function bv(width: number): BvSort {
  assert(Number.isInteger(width) && width >= 1 && width <= 32, `bitvector width must be 1..32, got ${width}`);
  let s = bvCache.get(width);
  if (!s) {
    s = Object.freeze({ kind: 'bv', width, mask: width === 32 ? 0xffffffff : 2 ** width - 1 });
    bvCache.set(width, s);
  }
  return s;
}

/** The narrowest bitvector sort able to index `size` entries (at least 1 bit). */
export function indexSort(size: number): BvSort {
  assert(Number.isInteger(size) && size >= 1, `array size must be a positive integer, got ${size}`);
  return bv(Math.max(1, Math.ceil(Math.log2(size))));
}

/** A fixed-size array of `size` values of sort `value`, indexed by `index` (default: the narrowest fit). */
export function array(size: number, value: BvSort, index: BvSort = indexSort(size)): ArraySort {
  assert(Number.isInteger(size) && size >= 1, `array size must be a positive integer, got ${size}`);
  assert(size <= 2 ** index.width, `array of ${size} entries cannot be indexed by ${index.width} bits`);
  return Object.freeze({ kind: 'array', index, size, value });
}

/** A rows × cols matrix of values (e.g. one capability table per partition), stored row-major. */
export function matrix(
  rows: number,
  cols: number,
  value: BvSort,
  rowIndex: BvSort = indexSort(rows),
  colIndex: BvSort = indexSort(cols),
): ArraySort {
  assert(rows <= 2 ** rowIndex.width && cols <= 2 ** colIndex.width, 'matrix index sorts too narrow');
  return Object.freeze({
    kind: 'array',
    index: rowIndex,
    size: rows * cols,
    value,
    matrix: Object.freeze({ rows, cols, colIndex }),
  });
}

export function record<F extends Fields>(fields: F): RecordSort<F> {
  for (const name of Object.keys(fields)) {
    assert(/^[A-Za-z_][A-Za-z0-9_]*$/.test(name), `record field name must be an identifier, got '${name}'`);
  }
  return Object.freeze({ kind: 'record', fields: Object.freeze({ ...fields }) });
}

/**
 * The representation types of one interpreter: the concrete one uses `boolean`, `number` and its
 * copy-on-write arrays; the symbolic one uses terms. Code generic over `T extends Theory` runs on both.
 */
export interface Theory {
  readonly bool: unknown;
  readonly bv: unknown;
  readonly arr: unknown;
}

/** The value of sort `S` in theory `T` (records map field by field). */
export type Val<T extends Theory, S> = S extends BoolSort
  ? T['bool']
  : S extends BvSort
    ? T['bv']
    : S extends ArraySort
      ? T['arr']
      : S extends RecordSort<infer F>
        ? { -readonly [K in keyof F]: Val<T, F[K]> }
        : never;

/** A short human description of a sort, for messages and docs. */
export function describeSort(sort: Sort): string {
  switch (sort.kind) {
    case 'bool':
      return 'bool';
    case 'bv':
      return `bv${sort.width}`;
    case 'array':
      return sort.matrix
        ? `bv${sort.value.width}[${sort.matrix.rows}][${sort.matrix.cols}]`
        : `bv${sort.value.width}[${sort.size}]`;
    case 'record':
      return `{ ${Object.entries(sort.fields)
        .map(([k, s]) => `${k}: ${describeSort(s)}`)
        .join('; ')} }`;
  }
}
