/**
 * Sampling ports between three domains (ARINC 653 style) under an intransitive flow policy — the Normal
 * World may reach the filter, the filter the secure application, and nothing else — proven noninterfering by
 * unwinding. A send never reports whether the receiver has read its port: such an answer would let the
 * receiver signal the sender, a covert channel the output-consistency check finds.
 */
import type { Guards } from '../guards.js';
import { productionGuards } from '../guards.js';
import {
  defineCall,
  integrityObligations,
  invariantObligations,
  noninterferenceObligations,
  type MachineDef,
  type Obligation,
} from '../obligation.js';
import type { Ops } from '../ops.js';
import { array, bv, record, type Theory } from '../sorts.js';

export const NDOMAINS = 3;
export const NORMAL = 0;
export const FILTER = 1;
export const SECURE = 2;
export const Dom = bv(2);
export const Word = bv(8);
export const Status = bv(8);
export const OK = 0;
export const EPERM = 2;

export const PortsState = record({
  /** port[d]: the last message delivered to domain d. */
  port: array(NDOMAINS, Word, Dom),
  /** from[d]: who sent it. */
  from: array(NDOMAINS, Dom, Dom),
  /** Private per-domain scratch state. */
  local: array(NDOMAINS, Word, Dom),
});

/** The flow policy: reflexive, Normal → Filter → Secure, not transitive. */
export function mayFlow<T extends Theory>(o: Ops<T>, from: T['bv'], to: T['bv']): T['bool'] {
  const is = (x: T['bv'], d: number) => o.eq(x, o.lit(Dom, d));
  return o.or(
    o.eq(from, to),
    o.and(is(from, NORMAL), is(to, FILTER)),
    o.and(is(from, FILTER), is(to, SECURE)),
  );
}

const SendArgs = record({ caller: Dom, to: Dom, word: Word });
const CallerArgs = record({ caller: Dom });
const WorkArgs = record({ caller: Dom, word: Word });

export function portsMachine(g: Guards = productionGuards): MachineDef<typeof PortsState> {
  const valid = <T extends Theory>(o: Ops<T>, d: T['bv']) => o.ult(d, o.lit(Dom, NDOMAINS));
  return {
    name: 'ports',
    state: PortsState,
    init: (o) => ({
      port: o.constArray(PortsState.fields.port, o.lit(Word, 0)),
      from: o.constArray(PortsState.fields.from, o.lit(Dom, 0)),
      local: o.constArray(PortsState.fields.local, o.lit(Word, 0)),
    }),
    calls: {
      send: defineCall(PortsState, SendArgs, (o, s, a) => {
        // The policy implies a valid caller once `to` is valid, and an out-of-range `to` writes nothing:
        // neither check is a guard the proofs can miss, so only the policy is a (mutation-tested) guard.
        const ok = o.and(valid(o, a.to), g.check(o, 'send.policy', mayFlow(o, a.caller, a.to)));
        const next = { ...s, port: o.store(s.port, a.to, a.word), from: o.store(s.from, a.to, a.caller) };
        return {
          state: o.ite(
            ok,
            () => next,
            () => s,
          ),
          ret: o.ite(
            ok,
            () => o.lit(Status, OK),
            () => o.lit(Status, EPERM),
          ),
        };
      }),
      receive: defineCall(PortsState, CallerArgs, (o, s, a) => ({
        state: s,
        ret: { word: o.select(s.port, a.caller), from: o.select(s.from, a.caller) },
      })),
      work: defineCall(PortsState, WorkArgs, (o, s, a) => ({
        state: { ...s, local: o.store(s.local, a.caller, o.add(Word, o.select(s.local, a.caller), a.word)) },
        ret: o.select(s.local, a.caller),
      })),
    },
  };
}

/** What domain u sees: its own port, its sender, and its scratch state. */
export function observe<T extends Theory>(
  o: Ops<T>,
  s: { port: T['arr']; from: T['arr']; local: T['arr'] },
  u: T['bv'],
) {
  return { port: o.select(s.port, u), from: o.select(s.from, u), local: o.select(s.local, u) };
}

export function portsObligations(prefix: string, g: Guards = productionGuards): Obligation[] {
  const m = portsMachine(g);
  return [
    ...invariantObligations(`${prefix}/ports`, m, (o, s) => ({
      'senders are domains': o.all(NDOMAINS, (d) =>
        o.ult(o.select(s.from, o.lit(Dom, d)), o.lit(Dom, NDOMAINS)),
      ),
    })),
    // A domain writes only its own scratch state and the ports the policy lets it reach.
    ...integrityObligations(`${prefix}/ports`, {
      machine: m,
      actor: (_o, _call, _s, args) => args['caller'],
      mayWrite: (o, _s, actor, at) =>
        at.field === 'local'
          ? o.eq(actor, o.lit(Dom, at.index ?? 0))
          : mayFlow(o, actor, o.lit(Dom, at.index ?? 0)),
    }),
    ...noninterferenceObligations(`${prefix}/ports`, {
      machine: m,
      domain: Dom,
      domains: NDOMAINS,
      actor: (_o, _call, _s, args) => args['caller'],
      flows: mayFlow,
      observe,
    }),
  ];
}
