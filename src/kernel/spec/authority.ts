/**
 * Access rules, stated on the implementation's own states before and after every call
 * (`authority/<call>`), so that a bug made the same way in a call and in its specification cannot pass:
 * refinement compares the two, these compare the call with the rules alone.
 *
 * - waiting: a partition becomes an endpoint's (a notification's) waiter only as the caller, holding a
 *   valid capability with RECV (WAIT) to it, from the object's own domain;
 * - delivery and badges: a receiver woken with a message was waiting on an endpoint the caller holds a
 *   valid SEND capability to, and the badge it reads is that capability's (or, through an SMC entry open to
 *   the caller's domain, the entry's number): the badge is never an argument a client chooses;
 * - a reply reaches only the partition whose one-shot reply capability the caller holds, with badge 0,
 *   and a new reply capability always names the caller, blocked on its receiver;
 * - notifications: bits are raised only through a valid SIGNAL capability (or the interrupt bound to
 *   it), taken only through a valid WAIT capability from the notification's domain (or cleared when it is
 *   destroyed), and a waiter is woken only through SIGNAL or its interrupt;
 * - capabilities: a capability that is valid after the call and was not there, or not valid, before is
 *   the creator's fresh one (badge 0, in the creator's slot), a copy of a valid capability held with
 *   GRANT by the caller (or, by the admin authority, by anyone) with no more rights and the source's badge
 *   once it has one, or the owner's own one kept across a revocation; a stale capability never becomes
 *   valid again.
 *
 * - memory: a partition gains mapping rights to a region only as the caller, as its owner or within what
 *   the owner shares;
 * - interrupts: a device is bound to a notification only through a valid SIGNAL capability to it;
 * - another partition's valid capability is changed only by the admin authority (a copy never overwrites
 *   one);
 * - acting: a call made for a partition that is not runnable (stopped, blocked, free, or past the table)
 *   changes nothing.
 *
 * Written with the proof tool's operations only: none of the core kit's deciding helpers (validity,
 * rights, waking) appears here, so a bug in one of them is not assumed on both sides.
 */
import type { Obligation } from '../../proof/obligation.js';
import type { Theory } from '../../proof/sorts.js';
import type { Ctx, Kit } from '../core/kit.js';
import { E } from '../core/errors.js';
import {
  ADMIN,
  BLOCKED_NTF,
  BLOCKED_RECV,
  BLOCKED_REPLY,
  CAP_ENDPOINT,
  CAP_NONE,
  CAP_NOTIFICATION,
  GRANT,
  RECV,
  RUNNABLE,
  SEND,
  SIGNAL,
  WAIT,
  type KernelStateSchema,
  type KState,
} from '../core/state.js';
import { actingPartition, beforeAfterObligations, type Call } from './integrity.js';
import type { Clauses } from './invariant.js';

interface Cap<T extends Theory> {
  type: T['bv'];
  obj: T['bv'];
  rights: T['bv'];
  gen: T['bv'];
  badge: T['bv'];
}

export function authorityClauses<T extends Theory>(
  x: Kit<T>,
  call: string,
  s: KState<T>,
  t: KState<T>,
  c: T['bv'],
  device: T['bv'] | undefined,
  caller: T['bv'] | undefined,
): Clauses<T> {
  const { o, k } = x;
  const P = x.c.p;
  const small = (n: number) => o.lit(k.Small, n);
  const rights = (n: number) => o.lit(k.Rights, n);
  const none = (v: T['bv']) => o.eq(v, o.lit(k.Idx, k.Idx.mask));
  const zero = o.lit(k.Word, 0);
  const at = (i: number) => o.lit(k.Idx, i);
  const dom = (q: T['bv']) => o.select(s.partDom, q);
  const admin = o.eq(dom(c), o.lit(k.Dom, ADMIN));

  const capAt = (u: KState<T>, q: T['bv'], j: T['bv']): Cap<T> => ({
    type: o.select2(u.capType, q, j),
    obj: o.select2(u.capObj, q, j),
    rights: o.select2(u.capRights, q, j),
    gen: o.select2(u.capGen, q, j),
    badge: o.select2(u.capBadge, q, j),
  });
  const isEp = (cap: Cap<T>) => o.eq(cap.type, small(CAP_ENDPOINT));
  const generation = (u: KState<T>, cap: Cap<T>) =>
    o.ite(
      isEp(cap),
      () => o.select(u.epGen, cap.obj),
      () => o.select(u.ntfGen, cap.obj),
    );
  const owner = (u: KState<T>, cap: Cap<T>) =>
    o.ite(
      isEp(cap),
      () => o.select(u.epOwner, cap.obj),
      () => o.select(u.ntfOwner, cap.obj),
    );
  const valid = (u: KState<T>, cap: Cap<T>) =>
    o.and(o.ne(cap.type, small(CAP_NONE)), o.eq(cap.gen, generation(u, cap)));
  const has = (cap: Cap<T>, need: number) => o.eq(o.band(cap.rights, rights(need)), rights(need));
  const within = (inner: T['bv'], outer: T['bv']) => o.eq(o.band(inner, o.bnot(k.Rights, outer)), rights(0));
  /** The caller holds, before the call, a valid capability of `type` to `obj` with `need`; `and` on it. */
  const holds = (type: number, obj: T['bv'], need: number, and: (cap: Cap<T>) => T['bool'] = () => o.true) =>
    o.any(P.capSlots, (j) => {
      const cap = capAt(s, c, at(j));
      return o.and(o.eq(cap.type, small(type)), o.eq(cap.obj, obj), valid(s, cap), has(cap, need), and(cap));
    });
  const stateIs = (u: KState<T>, q: T['bv'], st: number) => o.eq(o.select(u.partState, q), small(st));
  const wokenOk = (q: T['bv'], from: number) =>
    o.and(stateIs(s, q, from), stateIs(t, q, RUNNABLE), o.eq(o.select(t.partStatus, q), x.code(E.OK)));
  /** The device whose interrupt `irq_raise` raises is bound to notification `n`. */
  const interrupt = (n: T['bv']) =>
    device === undefined
      ? o.false
      : o.and(
          o.eq(o.select(s.devNtf, device), n),
          o.eq(o.select(s.devBindGen, device), o.select(s.ntfGen, n)),
        );

  const out: Clauses<T> = {};
  if (caller !== undefined)
    out['a call for a partition that is not runnable changes nothing'] = o.implies(
      o.not(stateIs(s, caller, RUNNABLE)),
      o.equal(s, t),
    );
  for (let i = 0; i < P.endpoints; i++) {
    const e = at(i);
    const w = o.select(t.epWaiter, e);
    // With the invariant (no capability ahead of its object's generation), a stale capability never
    // becomes valid again.
    out[`endpoint ${i}: its generation never goes back`] = o.ule(o.select(s.epGen, e), o.select(t.epGen, e));
    out[`endpoint ${i}: a new waiter is the caller, with RECV, from its domain`] = o.implies(
      o.and(o.ne(w, o.select(s.epWaiter, e)), o.not(none(w))),
      o.and(o.eq(w, c), holds(CAP_ENDPOINT, e, RECV), o.eq(dom(c), o.select(s.epDom, e))),
    );
  }
  for (let i = 0; i < P.notifications; i++) {
    const n = at(i);
    const w = o.select(t.ntfWaiter, n);
    const before = o.select(s.ntfPending, n);
    const after = o.select(t.ntfPending, n);
    const waits = o.and(holds(CAP_NOTIFICATION, n, WAIT), o.eq(dom(c), o.select(s.ntfDom, n)));
    const signals = o.or(holds(CAP_NOTIFICATION, n, SIGNAL), interrupt(n));
    out[`notification ${i}: its generation never goes back`] = o.ule(
      o.select(s.ntfGen, n),
      o.select(t.ntfGen, n),
    );
    out[`notification ${i}: a new waiter is the caller, with WAIT, from its domain`] = o.implies(
      o.and(o.ne(w, o.select(s.ntfWaiter, n)), o.not(none(w))),
      o.and(o.eq(w, c), waits),
    );
    out[`notification ${i}: bits are raised only with SIGNAL or its interrupt`] = o.implies(
      o.ne(o.band(after, o.bnot(k.Word, before)), zero),
      signals,
    );
    out[`notification ${i}: bits are taken only with WAIT, or when it is destroyed`] = o.implies(
      o.ne(o.band(before, o.bnot(k.Word, after)), zero),
      o.or(waits, none(o.select(t.ntfOwner, n))),
    );
  }
  for (let i = 0; i < P.partitions; i++) {
    const q = at(i);
    const on = o.select(s.partBlockedOn, q);
    const badge = o.select(t.partBadge, q);
    // Through an SMC entry open to the caller's domain, the badge is the entry's number.
    const smcBadge =
      call !== 'smc'
        ? o.false
        : o.any(P.smcEntries, (j) =>
            o.and(
              o.eq(o.select(s.smcValid, at(j)), o.lit(k.Bit, 1)),
              o.eq(o.select(s.smcEp, at(j)), on),
              o.eq(o.select(s.epPeer, on), dom(c)),
              o.eq(badge, o.lit(k.Word, j)),
            ),
          );
    out[`partition ${i}: a message comes through SEND, with that capability's badge`] = o.implies(
      wokenOk(q, BLOCKED_RECV),
      o.or(
        holds(CAP_ENDPOINT, on, SEND, (cap) => o.eq(cap.badge, badge)),
        smcBadge,
      ),
    );
    out[`partition ${i}: a reply comes through the caller's reply capability, badge 0`] = o.implies(
      wokenOk(q, BLOCKED_REPLY),
      o.and(o.eq(o.select(s.partReplyTo, c), q), o.eq(on, c), o.eq(badge, zero)),
    );
    out[`partition ${i}: a notification waiter is woken only through SIGNAL or its interrupt`] = o.implies(
      wokenOk(q, BLOCKED_NTF),
      o.or(holds(CAP_NOTIFICATION, on, SIGNAL), interrupt(on)),
    );
    const replyTo = o.select(t.partReplyTo, q);
    out[`partition ${i}: a new reply capability names the caller, blocked on it`] = o.implies(
      o.and(o.ne(replyTo, o.select(s.partReplyTo, q)), o.not(none(replyTo))),
      o.and(o.eq(replyTo, c), stateIs(t, c, BLOCKED_REPLY), o.eq(o.select(t.partBlockedOn, c), q)),
    );
  }
  for (let v = 0; v < P.devices; v++) {
    const n = o.select(t.devNtf, at(v));
    const rebound = o.or(
      o.ne(n, o.select(s.devNtf, at(v))),
      o.ne(o.select(t.devBindGen, at(v)), o.select(s.devBindGen, at(v))),
    );
    out[`device ${v}: its interrupt is bound only through SIGNAL`] = o.implies(
      o.and(rebound, o.not(none(n))),
      holds(CAP_NOTIFICATION, n, SIGNAL, (cap) => o.eq(cap.gen, o.select(t.devBindGen, at(v)))),
    );
  }
  for (let i = 0; i < P.partitions; i++) {
    const q = at(i);
    for (let r = 0; r < P.regions; r++) {
      const gained = o.band(o.select2(t.map, q, at(r)), o.bnot(k.Rights, o.select2(s.map, q, at(r))));
      out[`partition ${i} region ${r}: mapping rights are gained as owner or within the share`] = o.implies(
        o.ne(gained, rights(0)),
        o.and(
          o.eq(q, c),
          o.or(
            o.eq(o.select(s.regionOwner, at(r)), c),
            within(o.select2(t.map, q, at(r)), o.select(s.regionShare, at(r))),
          ),
        ),
      );
    }
    for (let j = 0; j < P.capSlots; j++) {
      const old = capAt(s, q, at(j));
      const cap = capAt(t, q, at(j));
      const same = (f: keyof Cap<T>) => o.eq(old[f], cap[f]);
      const unchanged = o.and(same('type'), same('obj'), same('rights'), same('gen'), same('badge'));
      const created = o.and(o.eq(q, c), none(owner(s, cap)), o.eq(owner(t, cap), c), o.eq(cap.badge, zero));
      const copied = o.any(P.partitions, (p) =>
        o.and(
          o.or(o.eq(at(p), c), admin),
          o.any(P.capSlots, (m) => {
            const src = capAt(s, at(p), at(m));
            return o.and(
              valid(s, src),
              has(src, GRANT),
              o.eq(src.type, cap.type),
              o.eq(src.obj, cap.obj),
              within(cap.rights, src.rights),
              o.implies(o.ne(src.badge, zero), o.eq(cap.badge, src.badge)),
            );
          }),
        ),
      );
      const kept = o.and(
        o.eq(q, c),
        valid(s, old),
        o.eq(owner(s, old), c),
        same('type'),
        same('obj'),
        same('rights'),
        same('badge'),
      );
      out[`partition ${i} slot ${j}: another partition's valid capability changes only by the admin`] =
        o.implies(o.and(o.ne(q, c), valid(s, old), o.not(unchanged)), admin);
      out[`partition ${i} slot ${j}: a capability comes only by creation, attenuated copy or revocation`] =
        o.implies(o.and(o.not(unchanged), valid(t, cap)), o.or(created, copied, kept));
    }
  }
  return out;
}

/** `<prefix>/authority/<call>` for every call. */
export function authorityObligations(
  prefix: string,
  ctx: Ctx,
  state: KernelStateSchema,
  calls: Readonly<Record<string, Call>>,
  invariant: <T extends Theory>(x: Kit<T>, s: KState<T>) => Clauses<T>,
): Obligation[] {
  return beforeAfterObligations(prefix, 'authority', ctx, state, calls, invariant, (x, call, s, t, a) => {
    const who = actingPartition(x, call, s, a);
    return authorityClauses(x, call, s, t, who.p, who.device, a['caller']);
  });
}
