import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseModel, printAssertions } from '../../src/proof/smtlib.js';
import { array, bv } from '../../src/proof/sorts.js';
import { freshValue, SymbolicOps, type SArray } from '../../src/proof/symbolic.js';
import { TermStore } from '../../src/proof/term.js';

test('terms are hash-consed and constants fold', () => {
  const T = new TermStore();
  const x = T.variable('x', 8);
  assert.equal(T.add(x, T.bv(8, 1)), T.add(T.bv(8, 1), x), 'commutative operands are ordered');
  assert.equal(T.add(T.bv(8, 255), T.bv(8, 2)), T.bv(8, 1));
  assert.equal(T.add(x, T.bv(8, 0)), x);
  assert.equal(T.and([T.true, T.eq(x, x)]), T.true);
  assert.equal(T.and([T.eq(x, T.bv(8, 1)), T.not(T.eq(x, T.bv(8, 1)))]), T.false);
  assert.equal(T.ite(T.true, x, T.bv(8, 0)), x);
  const c = T.variable('c', 0);
  assert.equal(T.ite(c, x, x), x);
  assert.equal(T.ite(c, T.true, T.false), c);
  assert.equal(T.not(T.not(c)), c);
  assert.equal(
    T.eq(T.ite(c, T.bv(8, 1), T.bv(8, 2)), T.bv(8, 3)),
    T.false,
    'comparison pushed into constant branches',
  );
  assert.throws(() => T.add(x, T.variable('y', 4)), /bv8 and bv4/);
  assert.throws(() => T.variable('x', 4), /redeclared/);
});

test('symbolic arrays: constant indices resolve directly, symbolic ones become ite chains', () => {
  const o = new SymbolicOps();
  const s = array(5, bv(8), bv(3));
  const a = freshValue(o, s, 'a') as SArray;
  assert.equal(o.select(a, o.lit(bv(3), 2)), a.elems[2]);
  assert.equal(o.select(a, o.lit(bv(3), 6)), o.lit(bv(8), 0), 'out of bounds reads 0');
  assert.equal(o.store(a, o.lit(bv(3), 7), o.lit(bv(8), 1)), a, 'out of bounds writes nothing');
  const i = o.terms.variable('i', 3);
  const r = o.select(a, i);
  assert.equal(r.op, 'ite');
  const w = o.store(a, i, o.lit(bv(8), 9));
  assert.equal(o.select(w, i).op, 'ite');
  assert.throws(() => o.select(a, o.terms.variable('j', 4)), /index is bv4/);
});

test('the SMT-LIB printer shares subterms and declares exactly the variables used', () => {
  const o = new SymbolicOps();
  const x = o.terms.variable('s.x', 8);
  const y = o.terms.variable('s.y', 8);
  o.terms.variable('unused', 8);
  const sum = o.add(bv(8), x, y);
  const q = printAssertions([{ term: o.ult(sum, o.mul(bv(8), sum, sum)), comment: 'goal' }]);
  assert.deepEqual(
    q.variables.map((v) => v.name),
    ['s.x', 's.y'],
  );
  assert.match(q.text, /\(define-fun t!0 \(\) \(_ BitVec 8\) \(bvadd \|s\.x\| \|s\.y\|\)\)/);
  assert.match(q.text, /; goal\n\(assert \(bvult t!0 \(bvmul t!0 t!0\)\)\)/);
  assert.ok(!q.text.includes('unused'));
});

test('models from z3 and cvc5 read back', () => {
  const m = parseModel('((|before.owner[0]| #b101)\n (|args.page| #x0a) (|flag| true) (|n| (_ bv7 8)))');
  assert.deepEqual(Object.fromEntries(m), { 'before.owner[0]': 5, 'args.page': 10, flag: true, n: 7 });
});
