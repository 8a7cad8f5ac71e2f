/**
 * The two interpretations agree: random programs and every example call, run concretely on random inputs
 * and symbolically on variables, then the symbolic result evaluated under the same inputs — equal values.
 * And the printed SMT-LIB means what the evaluator says: z3 proves `expr = value` for sampled programs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SeededRandom } from '../../src/common/random.js';
import { CArray, concreteOps, valueToJSON } from '../../src/proof/concrete.js';
import { target } from '../../src/proof/examples/index.js';
import { fifoMachine } from '../../src/proof/examples/fifo.js';
import { pagesMachine, pagesSpec } from '../../src/proof/examples/pages.js';
import { portsMachine } from '../../src/proof/examples/ports.js';
import { queueSpec } from '../../src/proof/examples/fifo.js';
import type { MachineDef } from '../../src/proof/obligation.js';
import { toPlain } from '../../src/proof/replay.js';
import { printAssertions } from '../../src/proof/smtlib.js';
import { Z3Pool } from '../../src/proof/solver/z3.js';
import type { RecordSort, Sort } from '../../src/proof/sorts.js';
import { concretize, freshValue, SArray, SymbolicOps } from '../../src/proof/symbolic.js';
import { evaluate, Term } from '../../src/proof/term.js';
import { arraySort, randomProgram, runProgram, type Program } from './random-programs.js';

function randomEnv(p: Program, seed: number): { vars: Record<string, number | boolean>; arr: number[] } {
  const r = new SeededRandom(seed);
  const vars: Record<string, number | boolean> = {};
  for (const v of p.vars) {
    if (v.width === 0) vars[v.name] = r.below(2) === 0;
    else {
      const mask = v.width === 32 ? 0xffffffff : 2 ** v.width - 1;
      const pick = r.below(4);
      vars[v.name] = pick === 0 ? 0 : pick === 1 ? mask : (r.nextU32() & mask) >>> 0;
    }
  }
  const arr = Array.from({ length: arraySort.size }, () => (r.below(4) === 0 ? 0 : r.below(256)));
  return { vars, arr };
}

function symbolicValue(p: Program, o: SymbolicOps) {
  const vars: Record<string, Term> = {};
  for (const v of p.vars) vars[v.name] = o.terms.variable(v.name, v.width);
  const arr = freshValue(o, arraySort, 'arr') as SArray;
  return runProgram(o, p, { vars, arr }) as Term;
}

test('random programs: concrete result = symbolic result evaluated under the same inputs', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      (ps, es) => {
        const p = randomProgram(ps);
        const env = randomEnv(p, es);
        const concrete = runProgram(concreteOps, p, { vars: env.vars, arr: CArray.of(arraySort, env.arr) });
        const o = new SymbolicOps();
        const term = symbolicValue(p, o);
        const lookup = (name: string): number | boolean | undefined => {
          const m = /^arr\[(\d+)\]$/.exec(name);
          return m ? env.arr[Number(m[1])] : env.vars[name];
        };
        assert.equal(evaluate(term, lookup), concrete, JSON.stringify(p.root));
      },
    ),
    { seed: 20261123, numRuns: 3000 },
  );
});

function randomValue(sort: Sort, r: SeededRandom): unknown {
  const bvValue = (mask: number): number => {
    const pick = r.below(5);
    return pick === 0
      ? 0
      : pick === 1
        ? Math.min(mask, r.below(4))
        : pick === 2
          ? mask
          : (r.nextU32() & mask) >>> 0;
  };
  switch (sort.kind) {
    case 'bool':
      return r.below(2) === 0;
    case 'bv':
      return bvValue(sort.mask);
    case 'array':
      return CArray.of(
        sort,
        Array.from({ length: sort.size }, () => bvValue(sort.value.mask)),
      );
    case 'record': {
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(sort.fields)) out[k] = randomValue(s, r);
      return out;
    }
  }
}

const machines: MachineDef<RecordSort>[] = [
  pagesMachine(),
  pagesSpec,
  fifoMachine(),
  queueSpec,
  portsMachine(),
] as never;

test('every example call: concrete step = symbolic step evaluated under the same state and arguments', () => {
  for (const m of machines) {
    for (const [name, call] of Object.entries(m.calls)) {
      const o = new SymbolicOps();
      const s = freshValue(o, m.state, 's');
      const a = freshValue(o, call.args, 'a');
      const sym = call.run(o, s as never, a as never);
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
          const r = new SeededRandom(seed);
          const cs = randomValue(m.state, r);
          const ca = randomValue(call.args, r);
          const env = new Map<string, number | boolean>();
          const bind = (sort: Sort, sv: unknown, cv: unknown): void => {
            if (sv instanceof Term) env.set(sv.name, cv as number | boolean);
            else if (sv instanceof SArray) sv.elems.forEach((e, k) => env.set(e.name, (cv as CArray).get(k)));
            else if (sort.kind === 'record')
              for (const [k, f] of Object.entries(sort.fields))
                bind(f, (sv as Record<string, unknown>)[k], (cv as Record<string, unknown>)[k]);
          };
          bind(m.state, s, cs);
          bind(call.args, a, ca);
          const concrete = call.run(concreteOps, cs as never, ca as never);
          const lookup = (n: string) => env.get(n);
          const afterSym = valueToJSON(m.state, concretize(m.state, sym.state as never, lookup));
          assert.deepEqual(afterSym, valueToJSON(m.state, concrete.state), `${m.name}.${name} state`);
          const retSym = JSON.stringify(sym.ret, (_k, v: unknown) =>
            v instanceof Term ? evaluate(v, lookup) : v,
          );
          assert.equal(retSym, JSON.stringify(toPlain(concrete.ret)), `${m.name}.${name} ret`);
        }),
        { seed: 7, numRuns: 300 },
      );
    }
  }
});

test('every example obligation: concrete check = symbolic check evaluated under random inputs', () => {
  for (const ob of target.obligations()) {
    const o = new SymbolicOps();
    const x = freshValue(o, ob.inputs, '');
    const sym = ob.check(o, x as never);
    const r = new SeededRandom(11);
    for (let k = 0; k < 50; k++) {
      const cx = randomValue(ob.inputs, r);
      const env = new Map<string, number | boolean>();
      const bind = (sort: Sort, sv: unknown, cv: unknown): void => {
        if (sv instanceof Term) env.set(sv.name, cv as number | boolean);
        else if (sv instanceof SArray) sv.elems.forEach((e, i) => env.set(e.name, (cv as CArray).get(i)));
        else if (sort.kind === 'record')
          for (const [f, fs] of Object.entries(sort.fields))
            bind(fs, (sv as Record<string, unknown>)[f], (cv as Record<string, unknown>)[f]);
      };
      bind(ob.inputs, x, cx);
      const c = ob.check(concreteOps, cx as never);
      for (const [clause, t] of Object.entries(sym.prove)) {
        assert.equal(
          evaluate(t as Term, (n) => env.get(n)),
          c.prove[clause],
          `${ob.name}: ${clause}`,
        );
      }
      for (const [clause, t] of Object.entries(sym.assume ?? {})) {
        assert.equal(
          evaluate(t as Term, (n) => env.get(n)),
          c.assume?.[clause],
          `${ob.name}: assume ${clause}`,
        );
      }
    }
  }
});

test('z3 agrees with the evaluator on the printed SMT-LIB of random programs', async () => {
  const pool = new Z3Pool(1);
  try {
    for (let seed = 1; seed <= 40; seed++) {
      const p = randomProgram(seed * 7919);
      const env = randomEnv(p, seed);
      const o = new SymbolicOps();
      const term = symbolicValue(p, o);
      const T = o.terms;
      const lookup = (name: string): number | boolean | undefined => {
        const m = /^arr\[(\d+)\]$/.exec(name);
        return m ? env.arr[Number(m[1])] : env.vars[name];
      };
      const value = evaluate(term, lookup);
      const pins: Term[] = [];
      for (const v of p.vars) {
        const x = T.variable(v.name, v.width);
        const val = env.vars[v.name] as number | boolean;
        pins.push(v.width === 0 ? T.eq(x, T.bool(val as boolean)) : T.eq(x, T.bv(v.width, val as number)));
      }
      for (let k = 0; k < arraySort.size; k++)
        pins.push(T.eq(T.variable(`arr[${k}]`, 8), T.bv(8, env.arr[k] as number)));
      const expected = term.isBool ? T.bool(value as boolean) : T.bv(term.width, value as number);
      const q = printAssertions([...pins.map((t) => ({ term: t })), { term: T.not(T.eq(term, expected)) }]);
      const a = await pool.solve({ text: q.text, variables: [], rlimit: 10_000_000, timeoutMs: 60_000 });
      assert.equal(
        a.status,
        'unsat',
        `seed ${seed}: z3 disagrees with the evaluator (${a.status} ${a.reason ?? ''}) on ${q.text} ${JSON.stringify(p.root)}`,
      );
    }
  } finally {
    await pool.close();
  }
});
