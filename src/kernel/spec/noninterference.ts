/**
 * Noninterference for the configured flow policy, by unwinding (Rushby; Nickel's per-call conditions):
 * output consistency, step consistency and local respect, for every call.
 *
 * The policy is part of the (static, public) configuration in the state, so these obligations quantify
 * over every configuration as well as every state: they are the proof tool's unwinding conditions with
 * the policy read from the state (`FlowPolicyDef.flows` takes no state, hence this generator).
 *
 * What domain u observes: the configuration and the SMC table (public); every partition of u (its state,
 * registers, budget, counts, capability slots and mappings); every region, endpoint and notification of
 * which u is the pool or the peer domain (the dynamic state of a channel object is visible at both
 * ends); every device of u. The admin domain 0 observes everything.
 */
import type { Obligation } from '../../proof/obligation.js';
import type { Ops } from '../../proof/ops.js';
import { record, type Theory } from '../../proof/sorts.js';
import { Kit, type Ctx } from '../core/kit.js';
import type { KernelStateSchema, KState } from '../core/state.js';
import { configFields } from '../core/state.js';
import type { CallName } from '../core/table.js';
import type { Clauses } from './invariant.js';

type Machine = {
  readonly state: KernelStateSchema;
  readonly calls: Readonly<
    Record<
      string,
      {
        args: ReturnType<typeof record>;
        run: (o: Ops<Theory>, s: unknown, a: unknown) => { state: unknown; ret: unknown };
      }
    >
  >;
};

/** The domain on whose behalf a call runs: its caller's, or (irq_raise) the device's. */
export function actorOf<T extends Theory>(
  x: Kit<T>,
  call: string,
  s: KState<T>,
  args: Record<string, T['bv']>,
): T['bv'] {
  const o = x.o;
  if (call === 'irq_raise') return o.select(s.devDom, args['device'] as T['bv']);
  return x.dom(s, args['caller'] as T['bv']);
}

/** What domain `u` observes of a state: a list of values, masked to 0 where `u` may not look. */
export function observe<T extends Theory>(x: Kit<T>, s: KState<T>, u: T['bv']): unknown[] {
  const { o, k, c } = x;
  const p = c.p;
  const admin = o.eq(u, o.lit(k.Dom, 0));
  const sees = (...doms: T['bv'][]) => o.or(admin, ...doms.map((d) => o.eq(d, u)));
  const out: unknown[] = [];
  for (const f of configFields) out.push(s[f]);
  out.push(s.smcEp, s.smcValid);
  const hide = (vis: T['bool'], v: T['bv'], zero: T['bv']) =>
    out.push(
      o.ite(
        vis,
        () => v,
        () => zero,
      ),
    );
  const f = (a: T['arr'], i: T['bv']) => o.select(a, i);
  for (let i = 0; i < p.partitions; i++) {
    const q = x.idx(i);
    const vis = sees(x.dom(s, q));
    hide(vis, f(s.partState, q), x.lit(k.Small, 0));
    hide(vis, f(s.partBudget, q), x.word(0));
    hide(vis, f(s.partBlockedOn, q), x.idx(0));
    hide(vis, f(s.partReplyTo, q), x.idx(0));
    hide(vis, f(s.partOwned, q), o.lit(k.Count, 0));
    hide(vis, f(s.partMaps, q), o.lit(k.Count, 0));
    hide(vis, f(s.partStatus, q), x.code(0));
    hide(vis, f(s.partLabel, q), x.word(0));
    hide(vis, f(s.partBadge, q), x.word(0));
    for (let m = 0; m < 4; m++) hide(vis, o.select2(s.partMr, q, o.lit(k.MrNo, m)), x.word(0));
    for (let j = 0; j < p.capSlots; j++) {
      const sl = x.idx(j);
      hide(vis, o.select2(s.capType, q, sl), x.lit(k.Small, 0));
      hide(vis, o.select2(s.capObj, q, sl), x.idx(0));
      hide(vis, o.select2(s.capRights, q, sl), x.lit(k.Rights, 0));
      hide(vis, o.select2(s.capGen, q, sl), o.lit(k.Gen, 0));
      hide(vis, o.select2(s.capBadge, q, sl), x.word(0));
    }
    for (let r = 0; r < p.regions; r++) hide(vis, o.select2(s.map, q, x.idx(r)), x.lit(k.Rights, 0));
  }
  for (let i = 0; i < p.regions; i++) {
    const r = x.idx(i);
    const vis = sees(f(s.regionDom, r), f(s.regionPeer, r));
    hide(vis, f(s.regionOwner, r), x.idx(0));
    hide(vis, f(s.regionShare, r), x.lit(k.Rights, 0));
    hide(vis, f(s.regionRefs, r), o.lit(k.Count, 0));
  }
  for (let i = 0; i < p.endpoints; i++) {
    const e = x.idx(i);
    const vis = sees(f(s.epDom, e), f(s.epPeer, e));
    hide(vis, f(s.epOwner, e), x.idx(0));
    hide(vis, f(s.epGen, e), o.lit(k.Gen, 0));
    hide(vis, f(s.epWaiter, e), x.idx(0));
  }
  for (let i = 0; i < p.notifications; i++) {
    const n = x.idx(i);
    const vis = sees(f(s.ntfDom, n), f(s.ntfPeer, n));
    hide(vis, f(s.ntfOwner, n), x.idx(0));
    hide(vis, f(s.ntfGen, n), o.lit(k.Gen, 0));
    hide(vis, f(s.ntfPending, n), x.word(0));
    hide(vis, f(s.ntfWaiter, n), x.idx(0));
  }
  for (let i = 0; i < p.devices; i++) {
    const v = x.idx(i);
    const vis = sees(f(s.devDom, v));
    hide(vis, f(s.devOwner, v), x.idx(0));
    hide(vis, f(s.devNtf, v), x.idx(0));
    hide(vis, f(s.devBindGen, v), o.lit(k.Gen, 0));
    hide(vis, f(s.devBit, v), o.lit(k.BitNo, 0));
    hide(vis, f(s.devMasked, v), x.lit(k.Bit, 0));
    hide(vis, f(s.devWindows, v), o.lit(k.Count, 0));
  }
  return out;
}

export interface NoninterferenceDef {
  readonly ctx: Ctx;
  readonly machine: Machine;
  /** Invariant assumed of every state (proven preserved by `invariant/<call>`). */
  readonly invariant: <T extends Theory>(x: Kit<T>, s: KState<T>) => Clauses<T>;
}

function prefixed<B>(prefix: string, cs: Record<string, B>): Record<string, B> {
  const out: Record<string, B> = {};
  for (const [k, v] of Object.entries(cs)) out[`${prefix}${k}`] = v;
  return out;
}

/** `<prefix>/output-consistency|step-consistency|local-respect/<call>` for every call. */
export function kernelNoninterference(prefix: string, d: NoninterferenceDef): Obligation[] {
  const out: Obligation[] = [];
  const { ctx, machine } = d;
  const Dom = ctx.k.Dom;
  const D = ctx.p.domains;
  for (const [call, def] of Object.entries(machine.calls) as [CallName, Machine['calls'][string]][]) {
    const valid = <T extends Theory>(x: Kit<T>, u: T['bv']) =>
      D > Dom.mask ? x.o.true : x.o.ult(u, x.o.lit(Dom, D));
    const same = <T extends Theory>(x: Kit<T>, s: KState<T>, t: KState<T>, u: T['bv']) =>
      x.o.equal(observe(x, s, u), observe(x, t, u));
    const run = <T extends Theory>(o: Ops<T>, s: KState<T>, a: unknown) =>
      (def.run as unknown as (o: Ops<T>, s: KState<T>, a: unknown) => { state: KState<T>; ret: unknown })(
        o,
        s,
        a,
      );
    out.push({
      name: `${prefix}/output-consistency/${call}`,
      kind: 'output-consistency',
      inputs: record({ s: machine.state, t: machine.state, args: def.args }),
      check: <T extends Theory>(
        o: Ops<T>,
        v: { s: KState<T>; t: KState<T>; args: Record<string, T['bv']> },
      ) => {
        const x = new Kit(ctx, o);
        const a = actorOf(x, call, v.s, v.args);
        const rs = run(o, v.s, v.args);
        const rt = run(o, v.t, v.args);
        return {
          assume: {
            ...prefixed('s: ', d.invariant(x, v.s)),
            ...prefixed('t: ', d.invariant(x, v.t)),
            's ~actor t': same(x, v.s, v.t, a),
          },
          prove: {
            'same actor in s and t': o.eq(a, actorOf(x, call, v.t, v.args)),
            'same return value': o.equal(rs.ret, rt.ret),
          },
          show: { s: v.s, t: v.t, args: v.args, actor: a, retS: rs.ret, retT: rt.ret },
        };
      },
    } as Obligation);
    out.push({
      name: `${prefix}/step-consistency/${call}`,
      kind: 'step-consistency',
      inputs: record({ s: machine.state, t: machine.state, args: def.args, u: Dom }),
      check: <T extends Theory>(
        o: Ops<T>,
        v: { s: KState<T>; t: KState<T>; args: Record<string, T['bv']>; u: T['bv'] },
      ) => {
        const x = new Kit(ctx, o);
        const a = actorOf(x, call, v.s, v.args);
        const rs = run(o, v.s, v.args);
        const rt = run(o, v.t, v.args);
        return {
          assume: {
            ...prefixed('s: ', d.invariant(x, v.s)),
            ...prefixed('t: ', d.invariant(x, v.t)),
            'u is a domain': valid(x, v.u),
            's ~u t': same(x, v.s, v.t, v.u),
            's ~actor t': same(x, v.s, v.t, a),
          },
          prove: { "s' ~u t'": same(x, rs.state, rt.state, v.u) },
          show: { u: v.u, actor: a, args: v.args, s: v.s, t: v.t, sAfter: rs.state, tAfter: rt.state },
        };
      },
    } as Obligation);
    out.push({
      name: `${prefix}/local-respect/${call}`,
      kind: 'local-respect',
      inputs: record({ s: machine.state, args: def.args, u: Dom }),
      check: <T extends Theory>(
        o: Ops<T>,
        v: { s: KState<T>; args: Record<string, T['bv']>; u: T['bv'] },
      ) => {
        const x = new Kit(ctx, o);
        const a = actorOf(x, call, v.s, v.args);
        const r = run(o, v.s, v.args);
        return {
          assume: {
            ...prefixed('s: ', d.invariant(x, v.s)),
            'u is a domain': valid(x, v.u),
            'the actor may not flow to u': o.not(x.flows(v.s, a, v.u)),
          },
          prove: { "s ~u s'": same(x, v.s, r.state, v.u) },
          show: { u: v.u, actor: a, args: v.args, before: v.s, after: r.state },
        };
      },
    } as Obligation);
  }
  return out;
}
