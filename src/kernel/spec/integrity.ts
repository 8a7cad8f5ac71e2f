/**
 * Integrity, as one declarative statement checked against every call (`integrity/<call>`): a call
 * changes only what its caller may change. Comparing the state before and after, entry by entry:
 *
 * - the configuration never changes;
 * - a partition's state and registers change only if it is the caller, or a partition the call wakes
 *   through an object the caller holds a valid capability to or owns, through the caller's reply
 *   capability, or through a registered SMC entry open to the caller's domain;
 * - a partition's capability slot changes only if it is the caller's, or it receives a copy of a
 *   capability the caller holds with GRANT;
 * - a partition's mappings (and their count) change only if it is the caller, or the caller owns the
 *   region whose mapping it loses;
 * - a region, endpoint, notification or device changes only if the caller owns it, holds a valid
 *   capability to it, takes it free from its own domain's pool, or (for a region's reference count) maps
 *   or unmaps it itself; an SMC endpoint may be entered through a registered entry;
 * - the SMC table changes only by the admin authority, which may change anything.
 *
 * `irq_raise` acts for the device's owner; it may also change the notification the device is bound to.
 */
import type { Obligation } from '../../proof/obligation.js';
import type { Ops } from '../../proof/ops.js';
import { record, type Theory } from '../../proof/sorts.js';
import { Kit, type Ctx } from '../core/kit.js';
import {
  CAP_ENDPOINT,
  CAP_NOTIFICATION,
  GRANT,
  MRS,
  configFields,
  type KernelStateSchema,
  type KState,
} from '../core/state.js';
import type { Clauses } from './invariant.js';

export type Call = {
  readonly args: ReturnType<typeof record>;
  run: (o: Ops<Theory>, s: unknown, a: unknown) => { state: unknown; ret: unknown };
};

/** Who the call acts for: the caller, or (irq_raise) the device's owner; and the device an interrupt raises. */
export function actingPartition<T extends Theory>(
  x: Kit<T>,
  call: string,
  s: KState<T>,
  args: Record<string, T['bv']>,
) {
  if (call === 'irq_raise')
    return { p: x.o.select(s.devOwner, args['device'] as T['bv']), device: args['device'] as T['bv'] };
  return { p: args['caller'] as T['bv'], device: undefined };
}

export function integrityClauses<T extends Theory>(
  x: Kit<T>,
  s: KState<T>,
  t: KState<T>,
  c: T['bv'],
  device: T['bv'] | undefined,
): Clauses<T> {
  const { o, k } = x;
  const P = x.c.p;
  const admin = x.isAdmin(s, c);
  const me = x.dom(s, c);
  const diff = (a: T['arr'], b: T['arr'], i: T['bv']) => o.ne(o.select(a, i), o.select(b, i));
  const diff2 = (a: T['arr'], b: T['arr'], i: T['bv'], j: T['bv']) =>
    o.ne(o.select2(a, i, j), o.select2(b, i, j));
  const holds = (type: number, obj: T['bv'], rights = 0) =>
    o.any(P.capSlots, (j) => {
      const cap = x.cap(s, c, x.idx(j));
      return o.and(x.capIs(s, cap, type), o.eq(cap.obj, obj), x.subset(x.lit(k.Rights, rights), cap.rights));
    });
  const smcOpen = (e: T['bv']) =>
    o.any(P.smcEntries, (i) => {
      const at = x.idx(i);
      return o.and(
        o.eq(o.select(s.smcValid, at), x.lit(k.Bit, 1)),
        o.eq(o.select(s.smcEp, at), e),
        o.eq(o.select(s.epPeer, e), me),
      );
    });
  const bound = (n: T['bv']) =>
    device === undefined
      ? o.false
      : o.and(
          o.eq(o.select(s.devNtf, device), n),
          o.eq(o.select(s.devBindGen, device), o.select(s.ntfGen, n)),
        );
  const epReach = (e: T['bv']) => o.or(o.eq(o.select(s.epOwner, e), c), holds(CAP_ENDPOINT, e), smcOpen(e));
  const ntfReach = (n: T['bv']) =>
    o.or(o.eq(o.select(s.ntfOwner, n), c), holds(CAP_NOTIFICATION, n), bound(n));
  const woken = (q: T['bv']) =>
    o.or(
      o.eq(o.select(s.partReplyTo, c), q),
      o.any(P.endpoints, (i) => o.and(o.eq(o.select(s.epWaiter, x.idx(i)), q), epReach(x.idx(i)))),
      o.any(P.notifications, (i) => o.and(o.eq(o.select(s.ntfWaiter, x.idx(i)), q), ntfReach(x.idx(i)))),
    );
  const out: Clauses<T> = {};
  out['the configuration does not change'] = o.and(...configFields.map((f) => o.equal(s[f], t[f])));
  out['the SMC table changes only by the admin authority'] = o.implies(
    o.not(o.and(o.equal(s.smcEp, t.smcEp), o.equal(s.smcValid, t.smcValid))),
    admin,
  );
  for (let i = 0; i < P.partitions; i++) {
    const q = x.idx(i);
    const self = o.or(admin, o.eq(q, c));
    const regs = [
      s.partState,
      s.partBlockedOn,
      s.partReplyTo,
      s.partBudget,
      s.partStatus,
      s.partLabel,
      s.partBadge,
    ];
    const after = [
      t.partState,
      t.partBlockedOn,
      t.partReplyTo,
      t.partBudget,
      t.partStatus,
      t.partLabel,
      t.partBadge,
    ];
    const changed = o.or(
      ...regs.map((a, n) => diff(a, after[n] as T['arr'], q)),
      ...Array.from({ length: MRS }, (_, m) => diff2(s.partMr, t.partMr, q, o.lit(k.MrNo, m))),
    );
    out[`partition ${i}: state and registers`] = o.implies(changed, o.or(self, woken(q)));
    out[`partition ${i}: owned count`] = o.implies(diff(s.partOwned, t.partOwned, q), self);
    out[`partition ${i}: mappings`] = o.and(
      o.implies(
        diff(s.partMaps, t.partMaps, q),
        o.or(
          self,
          o.any(P.regions, (r) => o.eq(o.select(s.regionOwner, x.idx(r)), c)),
        ),
      ),
      o.all(P.regions, (r) =>
        o.implies(diff2(s.map, t.map, q, x.idx(r)), o.or(self, o.eq(o.select(s.regionOwner, x.idx(r)), c))),
      ),
    );
    out[`partition ${i}: capability slots`] = o.all(P.capSlots, (j) => {
      const sl = x.idx(j);
      const changed = o.or(
        ...[s.capType, s.capObj, s.capRights, s.capGen, s.capBadge].map((a, n) =>
          diff2(a, [t.capType, t.capObj, t.capRights, t.capGen, t.capBadge][n] as T['arr'], q, sl),
        ),
      );
      const copy = x.cap(t, q, sl);
      const delegated = (type: number) =>
        o.and(
          o.eq(copy.type, x.lit(k.Small, type)),
          o.eq(copy.gen, x.objGen(s, copy.type, copy.obj)),
          holds(type, copy.obj, GRANT),
        );
      return o.implies(changed, o.or(self, delegated(CAP_ENDPOINT), delegated(CAP_NOTIFICATION)));
    });
  }
  for (let i = 0; i < P.regions; i++) {
    const r = x.idx(i);
    const mine = o.or(
      admin,
      o.eq(o.select(s.regionOwner, r), c),
      o.and(x.isNone(o.select(s.regionOwner, r)), o.eq(o.select(s.regionDom, r), me)),
    );
    out[`region ${i}`] = o.and(
      o.implies(o.or(diff(s.regionOwner, t.regionOwner, r), diff(s.regionShare, t.regionShare, r)), mine),
      o.implies(diff(s.regionRefs, t.regionRefs, r), o.or(mine, diff2(s.map, t.map, c, r))),
    );
  }
  for (let i = 0; i < P.endpoints; i++) {
    const e = x.idx(i);
    const changed = o.or(
      diff(s.epOwner, t.epOwner, e),
      diff(s.epGen, t.epGen, e),
      diff(s.epWaiter, t.epWaiter, e),
    );
    const free = o.and(x.isNone(o.select(s.epOwner, e)), o.eq(o.select(s.epDom, e), me));
    out[`endpoint ${i}`] = o.implies(changed, o.or(admin, epReach(e), free));
  }
  for (let i = 0; i < P.notifications; i++) {
    const n = x.idx(i);
    const changed = o.or(
      diff(s.ntfOwner, t.ntfOwner, n),
      diff(s.ntfGen, t.ntfGen, n),
      diff(s.ntfPending, t.ntfPending, n),
      diff(s.ntfWaiter, t.ntfWaiter, n),
    );
    const free = o.and(x.isNone(o.select(s.ntfOwner, n)), o.eq(o.select(s.ntfDom, n), me));
    out[`notification ${i}`] = o.implies(changed, o.or(admin, ntfReach(n), free));
  }
  for (let i = 0; i < P.devices; i++) {
    const v = x.idx(i);
    const changed = o.or(
      ...[s.devOwner, s.devNtf, s.devBindGen, s.devBit, s.devMasked, s.devWindows].map((a, n) =>
        diff(a, [t.devOwner, t.devNtf, t.devBindGen, t.devBit, t.devMasked, t.devWindows][n] as T['arr'], v),
      ),
    );
    const free = o.and(x.isNone(o.select(s.devOwner, v)), o.eq(o.select(s.devDom, v), me));
    out[`device ${i}`] = o.implies(changed, o.or(admin, o.eq(o.select(s.devOwner, v), c), free));
  }
  return out;
}

/**
 * `<prefix>/<kind>/<call>` for every call: the clauses compare the implementation's states before and
 * after the call, assuming the invariant before (integrity here, the access rules in authority.ts).
 */
export function beforeAfterObligations(
  prefix: string,
  kind: 'integrity' | 'authority',
  ctx: Ctx,
  state: KernelStateSchema,
  calls: Readonly<Record<string, Call>>,
  invariant: <T extends Theory>(x: Kit<T>, s: KState<T>) => Clauses<T>,
  clauses: <T extends Theory>(
    x: Kit<T>,
    call: string,
    s: KState<T>,
    t: KState<T>,
    args: Record<string, T['bv']>,
  ) => Clauses<T>,
): Obligation[] {
  return Object.entries(calls).map(([call, def]) => {
    const inputs = record({ before: state, args: def.args });
    return {
      name: `${prefix}/${kind}/${call}`,
      kind,
      inputs,
      check: <T extends Theory>(o: Ops<T>, v: { before: KState<T>; args: Record<string, T['bv']> }) => {
        const x = new Kit(ctx, o);
        const r = (
          def.run as unknown as (o: Ops<T>, s: KState<T>, a: unknown) => { state: KState<T>; ret: unknown }
        )(o, v.before, v.args);
        return {
          assume: invariant(x, v.before),
          prove: clauses(x, call, v.before, r.state, v.args),
          show: { before: v.before, args: v.args, after: r.state, ret: r.ret },
        };
      },
    } as Obligation;
  });
}

/** `<prefix>/integrity/<call>` for every call. */
export function integrityObligations(
  prefix: string,
  ctx: Ctx,
  state: KernelStateSchema,
  calls: Readonly<Record<string, Call>>,
  invariant: <T extends Theory>(x: Kit<T>, s: KState<T>) => Clauses<T>,
): Obligation[] {
  return beforeAfterObligations(prefix, 'integrity', ctx, state, calls, invariant, (x, call, s, t, a) => {
    const who = actingPartition(x, call, s, a);
    return integrityClauses(x, s, t, who.p, who.device);
  });
}
