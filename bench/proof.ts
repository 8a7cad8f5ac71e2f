/**
 * `npm run bench proof`: the concrete interpreter's speed (steps/s, against a hand-written baseline in the
 * same run), the solving time of every example obligation per backend, and the array encoding choice
 * (expanded ite chains, what the tool prints, vs SMT arrays) on a store/invariant query of growing size.
 */
import { SeededRandom } from '../src/common/random.js';
import { ConcreteMachine, concreteOps } from '../src/proof/concrete.js';
import { target } from '../src/proof/examples/index.js';
import { fifoMachine, FifoState } from '../src/proof/examples/fifo.js';
import {
  FREE,
  NDOMAINS,
  NPAGES,
  pagesInvariant,
  pagesMachine,
  PagesState,
} from '../src/proof/examples/pages.js';
import { defineCall, invariantObligations, type Obligation } from '../src/proof/obligation.js';
import type { Ops } from '../src/proof/ops.js';
import { proveObligations } from '../src/proof/prover.js';
import { array, bv, indexSort, matrix, record, type Theory } from '../src/proof/sorts.js';
import type { Backend, SolveRequest } from '../src/proof/solver/backend.js';
import { Cvc5Backend, cvc5Version } from '../src/proof/solver/cvc5.js';
import { Z3Pool } from '../src/proof/solver/z3.js';
import { opsPerSecond, type BenchSuite } from './suite.js';

const CALLS = 4096;

/** A fixed random call sequence, the same for the interpreter and the baseline. */
function pagesCalls(seed: number): Int32Array {
  const r = new SeededRandom(seed);
  const calls = new Int32Array(CALLS * 4);
  for (let k = 0; k < CALLS; k++) {
    calls[4 * k] = r.below(3);
    calls[4 * k + 1] = r.below(NDOMAINS + 1); // sometimes an invalid caller
    calls[4 * k + 2] = r.below(NPAGES);
    calls[4 * k + 3] = r.below(NDOMAINS + 1);
  }
  return calls;
}

function interpreterSteps(calls: Int32Array): () => number {
  const m = pagesMachine();
  const machine = new ConcreteMachine(PagesState, m.init(concreteOps));
  const run = [m.calls['alloc'], m.calls['free'], m.calls['transfer']].map((c) => c!.run);
  return () => {
    for (let k = 0; k < CALLS; k++) {
      const f = run[calls[4 * k] as number]!;
      const args = {
        caller: calls[4 * k + 1] as number,
        page: calls[4 * k + 2] as number,
        to: calls[4 * k + 3] as number,
      };
      machine.apply((o, s) => f(o, s, args as never));
    }
    return CALLS;
  };
}

/** The same three calls written directly on typed arrays: the speed a hand-written kernel would have. */
function baselineSteps(calls: Int32Array): () => number {
  const owner = new Uint8Array(NPAGES).fill(FREE);
  const refs = new Uint8Array(NDOMAINS);
  return () => {
    for (let k = 0; k < CALLS; k++) {
      const op = calls[4 * k];
      const caller = calls[4 * k + 1] as number;
      const page = calls[4 * k + 2] as number;
      const to = calls[4 * k + 3] as number;
      if (op === 0) {
        if (caller < NDOMAINS && owner[page] === FREE) {
          owner[page] = caller;
          refs[caller] = (refs[caller]! + 1) & 15;
        }
      } else if (op === 1) {
        if (owner[page] === caller) {
          owner[page] = FREE;
          refs[caller] = (refs[caller]! - 1) & 15;
        }
      } else if (owner[page] === caller && to < NDOMAINS) {
        owner[page] = to;
        refs[caller] = (refs[caller]! - 1) & 15;
        refs[to] = (refs[to]! + 1) & 15;
      }
    }
    return CALLS;
  };
}

function invariantChecks(calls: Int32Array): () => number {
  const step = interpreterSteps(calls);
  const m = pagesMachine();
  const machine = new ConcreteMachine(PagesState, m.init(concreteOps));
  step();
  return () => {
    let ok = 0;
    for (let k = 0; k < 256; k++)
      if (Object.values(pagesInvariant(concreteOps, machine.state)).every((x) => x)) ok++;
    return ok;
  };
}

function fifoSteps(): () => number {
  const m = fifoMachine();
  const machine = new ConcreteMachine(FifoState, m.init(concreteOps));
  const push = m.calls['push']!.run;
  const pop = m.calls['pop']!.run;
  let k = 0;
  return () => {
    for (let n = 0; n < CALLS; n++, k++) {
      if ((k * 2654435761) % 5 < 3) machine.apply((o, s) => push(o, s, { item: k & 255 } as never));
      else machine.apply((o, s) => pop(o, s, {} as never));
    }
    return CALLS;
  };
}

async function solveTimes(backend: 'z3' | 'cvc5'): Promise<Record<string, unknown>> {
  const obligations = target.obligations();
  const report = await proveObligations(obligations, {
    backend,
    jobs: 1,
    rlimit: 50_000_000,
    timeoutMs: 600_000,
  });
  const perObligation: Record<string, number> = {};
  for (const r of report.results) perObligation[r.name] = Math.round(r.solveMs);
  const times = report.results.map((r) => r.solveMs).sort((a, b) => a - b);
  return {
    version: report.backends[0]?.version,
    obligations: report.summary.total,
    proven: report.summary.proven,
    jobs: 1,
    totalSolveMs: Math.round(report.summary.solveMs),
    medianMs: Math.round(times[Math.floor(times.length / 2)] ?? 0),
    maxMs: Math.round(times[times.length - 1] ?? 0),
    perObligationMs: perObligation,
  };
}

/**
 * An array of n bytes, every entry < 100; store v < 100 at a symbolic index; prove every entry still < 100
 * and that reading back at another symbolic index agrees with the store. Expanded: one variable per entry
 * (what the tool prints). SMT arrays: one array variable (QF_ABV).
 */
function arrayQueries(n: number): { expanded: string; smtArrays: string } {
  const w = Math.max(1, Math.ceil(Math.log2(n)));
  const idx = (k: number) => `(_ bv${k} ${w})`;
  let e =
    '(set-logic QF_BV)\n(declare-fun i () (_ BitVec ' +
    w +
    '))(declare-fun j () (_ BitVec ' +
    w +
    '))(declare-fun v () (_ BitVec 8))\n';
  for (let k = 0; k < n; k++) e += `(declare-fun a${k} () (_ BitVec 8))(assert (bvult a${k} #x64))\n`;
  e += '(assert (bvult v #x64))\n';
  const after = (k: number) => `(ite (= i ${idx(k)}) v a${k})`;
  let readJ = n === 2 ** w ? `a${n - 1}` : '#x00';
  let readAfterJ = n === 2 ** w ? after(n - 1) : '#x00';
  for (let k = n === 2 ** w ? n - 2 : n - 1; k >= 0; k--) {
    readJ = `(ite (= j ${idx(k)}) a${k} ${readJ})`;
    readAfterJ = `(ite (= j ${idx(k)}) ${after(k)} ${readAfterJ})`;
  }
  const bounds = Array.from({ length: n }, (_, k) => `(bvult ${after(k)} #x64)`).join(' ');
  const inRange = n === 2 ** w ? 'true' : `(bvult j ${idx(n)})`;
  e += `(assert (not (and ${bounds} (=> ${inRange} (= ${readAfterJ} (ite (= i j) v ${readJ}))))))\n`;
  let a = `(set-logic QF_ABV)\n(declare-fun i () (_ BitVec ${w}))(declare-fun j () (_ BitVec ${w}))(declare-fun v () (_ BitVec 8))(declare-fun a () (Array (_ BitVec ${w}) (_ BitVec 8)))\n`;
  for (let k = 0; k < n; k++) a += `(assert (bvult (select a ${idx(k)}) #x64))\n`;
  a += '(assert (bvult v #x64))\n(define-fun b () (Array (_ BitVec ' + w + ') (_ BitVec 8)) (store a i v))\n';
  const boundsA = Array.from({ length: n }, (_, k) => `(bvult (select b ${idx(k)}) #x64)`).join(' ');
  a += `(assert (not (and ${boundsA} (=> ${inRange} (= (select b j) (ite (= i j) v (select a j)))))))\n`;
  return { expanded: e, smtArrays: a };
}

async function arrayEncoding(backend: Backend): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const n of [8, 64, 256]) {
    const q = arrayQueries(n);
    const req = (text: string): SolveRequest => ({ text, variables: [], rlimit: 0, timeoutMs: 120_000 });
    const ex = await backend.solve(req(q.expanded));
    const sa = await backend.solve(req(q.smtArrays));
    out[`n=${n}`] = {
      expanded: { status: ex.status, ms: Math.round(ex.ms), bytes: q.expanded.length },
      smtArrays: { status: sa.status, ms: Math.round(sa.ms), bytes: q.smtArrays.length },
    };
  }
  return out;
}

/**
 * A capability table (the API sketch of docs/proof.md at a given size): "no capability holds a right its
 * object does not allow" over every entry, unrolled (`all`) or quantified (`forall2`).
 */
function capsObligations(parts: number, slots: number, objs: number, quantified: boolean): Obligation[] {
  const Part = indexSort(parts);
  const Slot = indexSort(slots);
  const Obj = indexSort(objs);
  const Rights = bv(4);
  const S = record({
    capObj: matrix(parts, slots, Obj, Part, Slot),
    capRights: matrix(parts, slots, Rights, Part, Slot),
    maxRights: array(objs, Rights, Obj),
  });
  const Args = record({ caller: Part, slot: Slot, to: Part, toSlot: Slot, mask: Rights });
  const entry = <T extends Theory>(
    o: Ops<T>,
    s: { capObj: T['arr']; capRights: T['arr']; maxRights: T['arr'] },
    p: T['bv'],
    i: T['bv'],
  ) =>
    o.eq(
      o.band(o.select2(s.capRights, p, i), o.bnot(Rights, o.select(s.maxRights, o.select2(s.capObj, p, i)))),
      o.lit(Rights, 0),
    );
  const machine = {
    name: 'caps',
    state: S,
    init: <T extends Theory>(o: Ops<T>) => ({
      capObj: o.constArray(S.fields.capObj, o.lit(Obj, 0)),
      capRights: o.constArray(S.fields.capRights, o.lit(Rights, 0)),
      maxRights: o.constArray(S.fields.maxRights, o.lit(Rights, 15)),
    }),
    calls: {
      copy: defineCall(S, Args, (o, s, a) => {
        const rights = o.select2(s.capRights, a.caller, a.slot);
        const ok = o.and(
          o.ne(o.band(rights, o.lit(Rights, 8)), o.lit(Rights, 0)),
          o.eq(o.select2(s.capRights, a.to, a.toSlot), o.lit(Rights, 0)),
        );
        const next = {
          ...s,
          capObj: o.store2(s.capObj, a.to, a.toSlot, o.select2(s.capObj, a.caller, a.slot)),
          capRights: o.store2(s.capRights, a.to, a.toSlot, o.band(rights, a.mask)),
        };
        return {
          state: o.ite(
            ok,
            () => next,
            () => s,
          ),
          ret: o.ite(
            ok,
            () => o.lit(Rights, 0),
            () => o.lit(Rights, 1),
          ),
        };
      }),
    },
  };
  return invariantObligations(`caps-${parts}x${slots}`, machine, (o, s) => ({
    'rights ⊆ max': quantified
      ? o.forall2(Part, parts, Slot, slots, (p, i) => entry(o, s, p, i))
      : o.all(parts * slots, (k) => entry(o, s, o.lit(Part, Math.floor(k / slots)), o.lit(Slot, k % slots))),
  }));
}

async function quantifierScaling(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const sizes: [number, number, number, boolean][] = [
    [4, 4, 8, true],
    [4, 8, 8, true],
    [8, 8, 16, true],
    [8, 16, 16, true],
    [4, 4, 8, false],
    [4, 8, 8, false],
    [8, 8, 16, false],
  ];
  for (const [p, s, n, q] of sizes) {
    const step = capsObligations(p, s, n, q).filter((o) => o.name.endsWith('/copy'));
    const r = await proveObligations(step, { backend: 'z3', jobs: 1, rlimit: 0, timeoutMs: 180_000 });
    const res = r.results[0];
    out[`${p}x${s} entries, ${n} objects, ${q ? 'forall' : 'all'}`] = {
      status: res?.status,
      ms: Math.round(res?.solveMs ?? 0),
      bytes: res?.queryBytes,
    };
  }
  return out;
}

export const proofSuite: BenchSuite = {
  name: 'proof',
  async run() {
    const calls = pagesCalls(1);
    const interpreter = opsPerSecond(interpreterSteps(calls), 1000);
    const baseline = opsPerSecond(baselineSteps(calls), 1000);
    const concrete = {
      pagesStepsPerSecond: Math.round(interpreter),
      handWrittenBaselineStepsPerSecond: Math.round(baseline),
      interpreterOverBaseline: Number((interpreter / baseline).toFixed(3)),
      fifoStepsPerSecond: Math.round(opsPerSecond(fifoSteps(), 1000)),
      pagesInvariantChecksPerSecond: Math.round(opsPerSecond(invariantChecks(calls), 1000)),
    };
    const solving: Record<string, unknown> = { z3: await solveTimes('z3') };
    const cvc5 = cvc5Version();
    solving['cvc5'] = cvc5 === undefined ? 'not installed (apt-get install cvc5)' : await solveTimes('cvc5');
    const z3 = new Z3Pool(1);
    let arrays: Record<string, unknown>;
    try {
      arrays = { z3: await arrayEncoding(z3) };
    } finally {
      await z3.close();
    }
    if (cvc5 !== undefined) {
      const c = new Cvc5Backend(1);
      arrays['cvc5'] = await arrayEncoding(c);
      await c.close();
    }
    return { concrete, solving, arrayEncoding: arrays, quantifiedInvariant: await quantifierScaling() };
  },
};
