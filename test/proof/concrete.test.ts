import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CArray,
  ConcreteMachine,
  concreteOps as o,
  copyValue,
  valueFromJSON,
  valueToJSON,
  zeroValue,
} from '../../src/proof/concrete.js';
import { pagesMachine, PagesState, FREE, EPERM, OK } from '../../src/proof/examples/pages.js';
import { array, bv, matrix, record } from '../../src/proof/sorts.js';

const b8 = bv(8);
const b32 = bv(32);

test('bitvector operations wrap at their width (SMT-LIB semantics)', () => {
  assert.equal(o.add(b8, 250, 10), 4);
  assert.equal(o.sub(b8, 3, 5), 254);
  assert.equal(o.mul(b8, 16, 17), 16);
  assert.equal(o.neg(b8, 1), 255);
  assert.equal(o.bnot(b8, 0x0f), 0xf0);
  assert.equal(o.add(b32, 0xffffffff, 1), 0);
  assert.equal(o.sub(b32, 0, 1), 0xffffffff);
  assert.equal(o.mul(b32, 0x10000, 0x10000), 0);
  assert.equal(o.mul(b32, 0xffffffff, 0xffffffff), 1);
  assert.equal(o.bnot(b32, 0), 0xffffffff);
  assert.equal(o.band(0xffffffff, 0x80000000), 0x80000000);
  assert.equal(o.bor(0x80000000, 1), 0x80000001);
  assert.equal(o.bxor(0xffffffff, 0x0000ffff), 0xffff0000);
  assert.equal(o.shl(b8, 0x81, 1), 0x02);
  assert.equal(o.shl(b8, 1, 8), 0, 'shift by ≥ width is 0');
  assert.equal(o.shl(b32, 1, 32), 0);
  assert.equal(o.shl(b32, 1, 31), 0x80000000);
  assert.equal(o.lshr(0x80000000, 31), 1);
  assert.equal(o.lshr(0x80000000, 32), 0);
  assert.equal(o.udiv(b8, 7, 0), 255, 'x / 0 = all ones');
  assert.equal(o.urem(b8, 7, 0), 7, 'x % 0 = x');
  assert.equal(o.extract(7, 4, 0xab), 0xa);
  assert.equal(o.extract(31, 0, 0xffffffff), 0xffffffff);
});

test('arrays: functional stores, out-of-bounds reads 0 and writes nothing', () => {
  const s = array(5, b8, bv(3));
  const a = CArray.of(s, [1, 2, 3, 4, 5]);
  const b = o.store(a, 2, 9);
  assert.equal(o.select(a, 2), 3, 'the original is unchanged');
  assert.equal(o.select(b, 2), 9);
  assert.equal(o.select(a, 6), 0);
  assert.equal(o.store(a, 7, 1), a);
  let c = a;
  for (let k = 0; k < 100; k++) c = o.store(c, k % 5, k);
  assert.deepEqual(c.toArray(), [95, 96, 97, 98, 99]);
  assert.deepEqual(a.toArray(), [1, 2, 3, 4, 5], 'long overlay chains flatten into a fresh table');
  assert.equal(o.countEq(bv(3), c, 97), 1);
  assert.equal(o.sum(bv(16), a), 15);
  const m = matrix(2, 3, b8);
  const mm = o.store2(CArray.of(m), 1, 2, 7);
  assert.equal(o.select2(mm, 1, 2), 7);
  assert.equal(o.select2(mm, 2, 0), 0, 'row out of bounds');
  assert.equal(o.select2(mm, 0, 3), 0, 'column out of bounds');
  assert.equal(o.store2(mm, 0, 3, 1), mm);
});

test('ite evaluates only the branch taken; equal compares structurally', () => {
  let evaluated = 0;
  const r = o.ite(
    true,
    () => 1,
    () => (evaluated++, 2),
  );
  assert.equal(r, 1);
  assert.equal(evaluated, 0);
  const s = array(3, b8);
  assert.equal(o.equal({ a: CArray.of(s, [1, 2, 3]), b: 4 }, { a: CArray.of(s, [1, 2, 3]), b: 4 }), true);
  assert.equal(
    o.equal({ a: CArray.of(s, [1, 2, 3]), b: 4 }, { a: o.store(CArray.of(s, [1, 2, 3]), 1, 0), b: 4 }),
    false,
  );
});

test('a machine commits a kept state in place and leaves a failed call without effect', () => {
  const m = pagesMachine();
  const machine = new ConcreteMachine(PagesState, m.init(o));
  const alloc = m.calls['alloc'];
  const transfer = m.calls['transfer'];
  assert.ok(alloc && transfer);
  const table = machine.state.owner.table;
  assert.equal(
    machine.apply((oo, s) => alloc.run(oo, s, { caller: 1, page: 3 } as never)),
    OK,
  );
  assert.equal(machine.state.owner.table, table, 'no table copy on success');
  assert.equal(machine.state.owner.pending, false);
  const snap = machine.snapshot();
  assert.equal(
    machine.apply((oo, s) => transfer.run(oo, s, { caller: 2, page: 3, to: 0 } as never)),
    EPERM,
  );
  assert.deepEqual(
    valueToJSON(PagesState, machine.state),
    valueToJSON(PagesState, snap),
    'failed call: state unchanged',
  );
  assert.equal(
    machine.apply((oo, s) => transfer.run(oo, s, { caller: 1, page: 3, to: 2 } as never)),
    OK,
  );
  assert.equal(machine.state.owner.get(3), 2);
  assert.equal(snap.owner.get(3), 1, 'a snapshot is not affected by later steps');
  assert.equal(machine.state.owner.get(0), FREE);
});

test('a machine whose step returns two fields over one table copies instead of corrupting', () => {
  const S = record({ a: array(4, b8), b: array(4, b8) });
  const machine = new ConcreteMachine(S, zeroValue(S));
  machine.apply((oo, s) => ({ state: { a: s.a, b: oo.store(s.a, oo.lit(b8, 1), oo.lit(b8, 5)) }, ret: 0 }));
  assert.deepEqual(machine.state.a.toArray(), [0, 0, 0, 0]);
  assert.deepEqual(machine.state.b.toArray(), [0, 5, 0, 0]);
});

test('JSON of values round-trips, and bad JSON names the field', () => {
  const S = record({ flag: { kind: 'bool' } as const, n: bv(4), t: array(2, bv(4)) });
  const v = valueFromJSON(S, { flag: true, n: 3, t: [1, 15] }, 'x.json');
  assert.deepEqual(valueToJSON(S, copyValue(S, v)), { flag: true, n: 3, t: [1, 15] });
  assert.throws(
    () => valueFromJSON(S, { flag: true, n: 16, t: [1, 2] }, 'x.json'),
    /x\.json.*field n.*4-bit/,
  );
  assert.throws(() => valueFromJSON(S, { flag: true, n: 1, t: [1] }, 'x.json'), /field t.*2 integers/);
  assert.throws(() => valueFromJSON(S, { n: 1, t: [1, 2] }, 'x.json'), /missing field 'flag'/);
});
