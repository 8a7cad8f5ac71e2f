/**
 * Obligations: named theorems over proven code. Every kind reduces to one shape — for all inputs, if every
 * `assume` clause holds then every `prove` clause holds — whose `check` is itself written against `Ops`,
 * so the prover states it symbolically and replays counterexamples concretely with the same function.
 *
 * Kinds (each generated per call of a state machine, so one theorem shape serves every call):
 * - inductive invariant: the initial state satisfies I; I(s) ⇒ I(step(s, a)).
 * - refinement (Serval's theorem): RI(s) ⇒ RI(s') ∧ AF(s') = spec(AF(s), a) ∧ same return value.
 * - noninterference by unwinding (Rushby; Nickel's per-call checks) for a flow policy between domains:
 *   output consistency, weak step consistency, local respect.
 * - integrity (a frame condition): every state entry a call changes is one its actor may write.
 * - lemma: any statement of that shape.
 */
import { assert } from '../common/errors.js';
import type { Guards } from './guards.js';
import type { Ops, Step } from './ops.js';
import { describeSort, record, type BvSort, type RecordSort, type Theory, type Val } from './sorts.js';

export type ObligationKind =
  | 'lemma'
  | 'integrity'
  | 'authority'
  | 'invariant-init'
  | 'invariant-step'
  | 'refinement-init'
  | 'refinement-step'
  | 'output-consistency'
  | 'step-consistency'
  | 'local-respect';

/** Named Boolean clauses. */
export type Clauses<T extends Theory> = Record<string, T['bool']>;

export interface Check<T extends Theory> {
  /** Hypotheses; a counterexample satisfies all of them. */
  readonly assume?: Clauses<T>;
  /** Goals; a counterexample falsifies at least one (the violated clauses). */
  readonly prove: Clauses<T>;
  /** Values shown with a counterexample (state before, arguments, state after, return value…). */
  readonly show?: Record<string, unknown>;
}

export interface Obligation<I extends RecordSort = RecordSort> {
  /** Unique, slash-separated: `<target>/<machine>/<kind>/<call>`. */
  readonly name: string;
  readonly kind: ObligationKind;
  /** The universally quantified inputs (fresh symbolic values; concrete values in a counterexample). */
  readonly inputs: I;
  /** Solver resource limit for this obligation, overriding the prover's default. */
  readonly rlimit?: number;
  check<T extends Theory>(o: Ops<T>, x: Val<T, I>): Check<T>;
}

/** One call of a state machine: its argument schema and its step function. */
export interface CallDef<S extends RecordSort, A extends RecordSort = RecordSort> {
  readonly args: A;
  run<T extends Theory>(o: Ops<T>, s: Val<T, S>, a: Val<T, A>): Step<Val<T, S>, unknown>;
}

/** A state machine: a state schema, an initial state and named calls (one name everywhere). */
export interface MachineDef<S extends RecordSort> {
  readonly name: string;
  readonly state: S;
  init<T extends Theory>(o: Ops<T>): Val<T, S>;
  readonly calls: { readonly [call: string]: CallDef<S, RecordSort> };
}

/** Helper that infers the argument schema of a call. */
export function defineCall<S extends RecordSort, A extends RecordSort>(
  _state: S,
  args: A,
  run: <T extends Theory>(o: Ops<T>, s: Val<T, S>, a: Val<T, A>) => Step<Val<T, S>, unknown>,
): CallDef<S, RecordSort> {
  return { args, run } as unknown as CallDef<S, RecordSort>;
}

export type Invariant<S extends RecordSort> = <T extends Theory>(o: Ops<T>, s: Val<T, S>) => Clauses<T>;

function prefixed<T extends Theory>(prefix: string, cs: Clauses<T>): Clauses<T> {
  const out: Record<string, T['bool']> = {};
  for (const [k, v] of Object.entries(cs)) out[`${prefix}${k}`] = v;
  return out;
}

/** A plain lemma: for all `inputs`, assume ⇒ prove. */
export function lemma<I extends RecordSort>(
  name: string,
  inputs: I,
  check: <T extends Theory>(o: Ops<T>, x: Val<T, I>) => Check<T>,
  options: { rlimit?: number } = {},
): Obligation {
  return { name, kind: 'lemma', inputs, check, ...options } as unknown as Obligation;
}

const noInputs = record({});

/** `<prefix>/invariant/init` and `<prefix>/invariant/<call>` for every call. */
export function invariantObligations<S extends RecordSort>(
  prefix: string,
  m: MachineDef<S>,
  invariant: Invariant<S>,
): Obligation[] {
  const out: Obligation[] = [
    {
      name: `${prefix}/invariant/init`,
      kind: 'invariant-init',
      inputs: noInputs,
      check: (o) => {
        const s = m.init(o);
        return { prove: invariant(o, s), show: { init: s } };
      },
    },
  ];
  for (const [call, def] of Object.entries(m.calls)) {
    const inputs = record({ before: m.state, args: def.args });
    out.push({
      name: `${prefix}/invariant/${call}`,
      kind: 'invariant-step',
      inputs,
      check: <T extends Theory>(o: Ops<T>, x: Val<T, typeof inputs>) => {
        const before = x.before as Val<T, S>;
        const r = def.run(o, before, x.args);
        return {
          assume: invariant(o, before),
          prove: invariant(o, r.state),
          show: { before, args: x.args, after: r.state, ret: r.ret },
        };
      },
    } as Obligation);
  }
  return out;
}

export interface RefinementDef<SI extends RecordSort, SS extends RecordSort> {
  readonly impl: MachineDef<SI>;
  readonly spec: MachineDef<SS>;
  /** AF: the abstract (specification) state an implementation state stands for. */
  abstraction<T extends Theory>(o: Ops<T>, s: Val<T, SI>): Val<T, SS>;
  /** RI: the representation invariant of implementation states. */
  readonly invariant: Invariant<SI>;
}

/** Serval's refinement theorem, one obligation per call (same call names in impl and spec). */
export function refinementObligations<SI extends RecordSort, SS extends RecordSort>(
  prefix: string,
  r: RefinementDef<SI, SS>,
): Obligation[] {
  const agree = <T extends Theory>(o: Ops<T>, abs: Val<T, SS>, spec: Val<T, SS>): Clauses<T> => {
    const out: Record<string, T['bool']> = {};
    for (const f of Object.keys(r.spec.state.fields)) {
      out[`AF.${f} = spec.${f}`] = o.equal(
        (abs as Record<string, unknown>)[f],
        (spec as Record<string, unknown>)[f],
      );
    }
    return out;
  };
  const out: Obligation[] = [
    {
      name: `${prefix}/refinement/init`,
      kind: 'refinement-init',
      inputs: noInputs,
      check: (o) => {
        const s = r.impl.init(o);
        return {
          prove: { ...prefixed('RI.', r.invariant(o, s)), ...agree(o, r.abstraction(o, s), r.spec.init(o)) },
          show: { impl: s, spec: r.spec.init(o) },
        };
      },
    },
  ];
  for (const [call, def] of Object.entries(r.impl.calls)) {
    const spec = r.spec.calls[call];
    assert(spec !== undefined, `refinement ${prefix}: the spec has no call '${call}'`);
    assert(
      describeSort(spec.args) === describeSort(def.args),
      `refinement ${prefix}: '${call}' takes different arguments in impl and spec`,
    );
    const inputs = record({ before: r.impl.state, args: def.args });
    out.push({
      name: `${prefix}/refinement/${call}`,
      kind: 'refinement-step',
      inputs,
      check: <T extends Theory>(o: Ops<T>, x: Val<T, typeof inputs>) => {
        const before = x.before as Val<T, SI>;
        const specBefore = r.abstraction(o, before);
        const ri = r.impl.calls[call] as CallDef<SI>;
        const impl = ri.run(o, before, x.args);
        const sp = spec.run(o, specBefore, x.args);
        return {
          assume: prefixed('RI.', r.invariant(o, before)),
          prove: {
            ...prefixed('RI.', r.invariant(o, impl.state)),
            ...agree(o, r.abstraction(o, impl.state), sp.state),
            'impl.ret = spec.ret': o.equal(impl.ret, sp.ret),
          },
          show: {
            before,
            args: x.args,
            after: impl.state,
            ret: impl.ret,
            specBefore,
            specAfter: sp.state,
            specRet: sp.ret,
          },
        };
      },
    } as Obligation);
  }
  return out;
}

export interface FlowPolicyDef<S extends RecordSort> {
  readonly machine: MachineDef<S>;
  /** Sort of domain identifiers, and how many domains exist (valid ids are 0 … domains − 1). */
  readonly domain: BvSort;
  readonly domains: number;
  /** The domain on whose behalf `call` runs (typically its caller argument). */
  actor<T extends Theory>(o: Ops<T>, call: string, s: Val<T, S>, args: Val<T, RecordSort>): T['bv'];
  /** The flow policy: may information flow from domain `from` to domain `to`? (Must be reflexive.) */
  flows<T extends Theory>(o: Ops<T>, from: T['bv'], to: T['bv']): T['bool'];
  /** What domain `u` can observe of a state (any shape: records, arrays, scalars). */
  observe<T extends Theory>(o: Ops<T>, s: Val<T, S>, u: T['bv']): unknown;
  /** An invariant assumed of both states (proven separately with `invariantObligations`). */
  readonly invariant?: Invariant<S>;
}

/** Unwinding conditions per call: output consistency, weak step consistency, local respect. */
export function noninterferenceObligations<S extends RecordSort>(
  prefix: string,
  p: FlowPolicyDef<S>,
): Obligation[] {
  const out: Obligation[] = [];
  const inv = <T extends Theory>(o: Ops<T>, s: Val<T, S>, name: string): Clauses<T> =>
    p.invariant ? prefixed(`${name}: `, p.invariant(o, s)) : {};
  const valid = <T extends Theory>(o: Ops<T>, u: T['bv']): T['bool'] => o.ult(u, o.lit(p.domain, p.domains));
  const same = <T extends Theory>(o: Ops<T>, s: Val<T, S>, t: Val<T, S>, u: T['bv']): T['bool'] =>
    o.equal(p.observe(o, s, u), p.observe(o, t, u));
  for (const [call, def] of Object.entries(p.machine.calls)) {
    const two = record({ s: p.machine.state, t: p.machine.state, args: def.args, u: p.domain });
    const one = record({ s: p.machine.state, args: def.args, u: p.domain });
    out.push({
      name: `${prefix}/output-consistency/${call}`,
      kind: 'output-consistency',
      inputs: record({ s: p.machine.state, t: p.machine.state, args: def.args }),
      check: <T extends Theory>(o: Ops<T>, x: { s: Val<T, S>; t: Val<T, S>; args: Val<T, RecordSort> }) => {
        const d = p.actor(o, call, x.s, x.args);
        const rs = def.run(o, x.s, x.args);
        const rt = def.run(o, x.t, x.args);
        return {
          assume: { ...inv(o, x.s, 's'), ...inv(o, x.t, 't'), 's ~actor t': same(o, x.s, x.t, d) },
          prove: {
            'same actor in s and t': o.eq(d, p.actor(o, call, x.t, x.args)),
            'same return value': o.equal(rs.ret, rt.ret),
          },
          show: { s: x.s, t: x.t, args: x.args, actor: d, retS: rs.ret, retT: rt.ret },
        };
      },
    } as Obligation);
    out.push({
      name: `${prefix}/step-consistency/${call}`,
      kind: 'step-consistency',
      inputs: two,
      check: <T extends Theory>(
        o: Ops<T>,
        x: { s: Val<T, S>; t: Val<T, S>; args: Val<T, RecordSort>; u: T['bv'] },
      ) => {
        const d = p.actor(o, call, x.s, x.args);
        const rs = def.run(o, x.s, x.args);
        const rt = def.run(o, x.t, x.args);
        return {
          assume: {
            ...inv(o, x.s, 's'),
            ...inv(o, x.t, 't'),
            'u is a domain': valid(o, x.u),
            's ~u t': same(o, x.s, x.t, x.u),
            's ~actor t': same(o, x.s, x.t, d),
          },
          prove: { "s' ~u t'": same(o, rs.state, rt.state, x.u) },
          show: {
            u: x.u,
            actor: d,
            args: x.args,
            s: x.s,
            t: x.t,
            sAfter: rs.state,
            tAfter: rt.state,
            observedS: p.observe(o, rs.state, x.u),
            observedT: p.observe(o, rt.state, x.u),
          },
        };
      },
    } as Obligation);
    out.push({
      name: `${prefix}/local-respect/${call}`,
      kind: 'local-respect',
      inputs: one,
      check: <T extends Theory>(o: Ops<T>, x: { s: Val<T, S>; args: Val<T, RecordSort>; u: T['bv'] }) => {
        const d = p.actor(o, call, x.s, x.args);
        const r = def.run(o, x.s, x.args);
        return {
          assume: {
            ...inv(o, x.s, 's'),
            'u is a domain': valid(o, x.u),
            'actor may not flow to u': o.not(p.flows(o, d, x.u)),
          },
          prove: { "s ~u s'": same(o, x.s, r.state, x.u) },
          show: {
            u: x.u,
            actor: d,
            args: x.args,
            before: x.s,
            after: r.state,
            observedBefore: p.observe(o, x.s, x.u),
            observedAfter: p.observe(o, r.state, x.u),
          },
        };
      },
    } as Obligation);
  }
  return out;
}

/** Where a state entry is: its field path, and for array entries the index (row/column in a matrix). */
export interface EntryAt {
  /** Dotted field path, e.g. `pages.owner`. */
  readonly field: string;
  /** Flat index for array entries; undefined for scalar fields. */
  readonly index?: number;
  readonly row?: number;
  readonly col?: number;
}

export interface IntegrityDef<S extends RecordSort> {
  readonly machine: MachineDef<S>;
  /** The domain on whose behalf `call` runs. */
  actor<T extends Theory>(o: Ops<T>, call: string, s: Val<T, S>, args: Val<T, RecordSort>): T['bv'];
  /** May `actor` change this entry of state `s` (the state before the call)? */
  mayWrite<T extends Theory>(o: Ops<T>, s: Val<T, S>, actor: T['bv'], at: EntryAt): T['bool'];
  /** An invariant assumed of the state before (proven separately). */
  readonly invariant?: Invariant<S>;
}

/** Visits every scalar leaf and array entry of a state, with its location. */
function forEachEntry<T extends Theory>(
  o: Ops<T>,
  sort: RecordSort,
  before: unknown,
  after: unknown,
  visit: (at: EntryAt, changed: T['bool']) => void,
  path = '',
): void {
  for (const [k, f] of Object.entries(sort.fields)) {
    const field = path ? `${path}.${k}` : k;
    const b = (before as Record<string, unknown>)[k];
    const a = (after as Record<string, unknown>)[k];
    if (f.kind === 'record') forEachEntry(o, f, b, a, visit, field);
    else if (f.kind === 'array') {
      const shape = f.matrix;
      for (let i = 0; i < f.size; i++) {
        const at: EntryAt = shape
          ? { field, index: i, row: Math.floor(i / shape.cols), col: i % shape.cols }
          : { field, index: i };
        const idx = (n: number, s: BvSort) => o.lit(s, n);
        const get = (x: unknown) =>
          shape
            ? o.select2(x as T['arr'], idx(at.row as number, f.index), idx(at.col as number, shape.colIndex))
            : o.select(x as T['arr'], idx(i, f.index));
        visit(at, o.ne(get(b), get(a)));
      }
    } else visit({ field }, o.not(o.equal(b, a)));
  }
}

/**
 * Integrity, one obligation per call: every entry the call changes is one its actor may write
 * (`<prefix>/integrity/<call>`, one clause per state field).
 */
export function integrityObligations<S extends RecordSort>(prefix: string, d: IntegrityDef<S>): Obligation[] {
  const out: Obligation[] = [];
  for (const [call, def] of Object.entries(d.machine.calls)) {
    const inputs = record({ before: d.machine.state, args: def.args });
    out.push({
      name: `${prefix}/integrity/${call}`,
      kind: 'integrity',
      inputs,
      check: <T extends Theory>(o: Ops<T>, x: Val<T, typeof inputs>) => {
        const before = x.before as Val<T, S>;
        const actor = d.actor(o, call, before, x.args);
        const r = def.run(o, before, x.args);
        const perField = new Map<string, T['bool'][]>();
        forEachEntry(o, d.machine.state, before, r.state, (at, changed) => {
          const list = perField.get(at.field) ?? [];
          list.push(o.implies(changed, d.mayWrite(o, before, actor, at)));
          perField.set(at.field, list);
        });
        const prove: Record<string, T['bool']> = {};
        for (const [field, cs] of perField) prove[`only permitted writes to ${field}`] = o.and(...cs);
        return {
          assume: d.invariant ? d.invariant(o, before) : {},
          prove,
          show: { actor, before, args: x.args, after: r.state, ret: r.ret },
        };
      },
    } as Obligation);
  }
  return out;
}

/** A set of obligations the prover can discover by name (`rampart prove <name>`). */
export interface ProofTarget {
  readonly name: string;
  readonly description: string;
  /**
   * The obligations, built with `guards` (default: production). A target whose code names its guards
   * through them supports the mutation check (`rampart prove --mutants`).
   */
  obligations(guards?: Guards): Obligation[];
}
