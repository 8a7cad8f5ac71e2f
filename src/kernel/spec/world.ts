/**
 * World separation, in two parts.
 *
 * State (`world/state`, one lemma: implied by the representation invariant, which every call preserves):
 * no secure region is owned or mapped by a non-secure partition; no secure device is owned by one; a
 * secure device's interrupt is bound only to a notification whose waiters are secure; no non-secure
 * partition holds a valid capability to a secure object or waits on one; every registered SMC entry
 * leads from a non-secure domain into a secure endpoint.
 *
 * Entry (`world/<call>`, for every call): when the call acts for a non-secure domain, every secure
 * partition and every object of a secure pool is left as it was — except the receiver of a registered
 * SMC entry open to that domain, and that entry's endpoint, which it enters.
 */
import type { Obligation } from '../../proof/obligation.js';
import type { Ops } from '../../proof/ops.js';
import { record, type Theory } from '../../proof/sorts.js';
import { Kit, type Ctx } from '../core/kit.js';
import { SECURE, type KernelStateSchema, type KState } from '../core/state.js';
import { actorOf } from './noninterference.js';
import type { Clauses } from './invariant.js';
import type { Call } from './integrity.js';

export function worldStateClauses<T extends Theory>(x: Kit<T>, s: KState<T>): Clauses<T> {
  const { o, k, c } = x;
  const P = c.p;
  const secureMem = (r: T['bv']) => o.eq(o.select(s.regionWorld, r), x.lit(k.Bit, SECURE));
  const secureDev = (v: T['bv']) => o.eq(o.select(s.devWorld, v), x.lit(k.Bit, SECURE));
  const out: Clauses<T> = {};
  out['no secure region is owned by a non-secure partition'] = o.all(P.regions, (i) => {
    const r = x.idx(i);
    const owner = o.select(s.regionOwner, r);
    return o.implies(o.and(secureMem(r), o.not(x.isNone(owner))), x.securePart(s, owner));
  });
  out['no secure region is mapped by a non-secure partition'] = o.all(P.partitions, (i) =>
    o.all(P.regions, (j) =>
      o.implies(
        o.and(secureMem(x.idx(j)), o.ne(o.select2(s.map, x.idx(i), x.idx(j)), x.lit(k.Rights, 0))),
        x.securePart(s, x.idx(i)),
      ),
    ),
  );
  out['no secure device is owned by a non-secure partition'] = o.all(P.devices, (i) => {
    const v = x.idx(i);
    const owner = o.select(s.devOwner, v);
    return o.implies(o.and(secureDev(v), o.not(x.isNone(owner))), x.securePart(s, owner));
  });
  out['a secure interrupt is delivered only to secure waiters'] = o.all(P.devices, (i) => {
    const v = x.idx(i);
    const n = o.select(s.devNtf, v);
    const w = o.select(s.ntfWaiter, n);
    return o.implies(
      o.and(secureDev(v), o.not(x.isNone(n))),
      o.and(x.secureDom(s, o.select(s.ntfDom, n)), o.implies(o.not(x.isNone(w)), x.securePart(s, w))),
    );
  });
  out['no non-secure partition holds a capability to a secure object'] = o.all(P.partitions, (i) =>
    o.all(P.capSlots, (j) => {
      const cap = x.cap(s, x.idx(i), x.idx(j));
      const ep = o.eq(cap.type, x.lit(k.Small, 1));
      const pool = o.ite(
        ep,
        () => o.select(s.epDom, cap.obj),
        () => o.select(s.ntfDom, cap.obj),
      );
      return o.implies(o.and(x.capValid(s, cap), x.secureDom(s, pool)), x.securePart(s, x.idx(i)));
    }),
  );
  out['no non-secure partition waits on a secure object'] = o.and(
    o.all(P.endpoints, (i) => {
      const w = o.select(s.epWaiter, x.idx(i));
      return o.implies(
        o.and(o.not(x.isNone(w)), x.secureDom(s, o.select(s.epDom, x.idx(i)))),
        x.securePart(s, w),
      );
    }),
    o.all(P.notifications, (i) => {
      const w = o.select(s.ntfWaiter, x.idx(i));
      return o.implies(
        o.and(o.not(x.isNone(w)), x.secureDom(s, o.select(s.ntfDom, x.idx(i)))),
        x.securePart(s, w),
      );
    }),
  );
  out['every SMC entry leads from the Normal World into a secure endpoint'] = o.all(P.smcEntries, (i) => {
    const e = o.select(s.smcEp, x.idx(i));
    return o.implies(
      o.eq(o.select(s.smcValid, x.idx(i)), x.lit(k.Bit, 1)),
      o.and(x.secureDom(s, o.select(s.epDom, e)), o.not(x.secureDom(s, o.select(s.epPeer, e)))),
    );
  });
  return out;
}

/** What a call acting for a non-secure domain may change of the Secure World: only an SMC entry's target. */
export function worldEntryClauses<T extends Theory>(
  x: Kit<T>,
  s: KState<T>,
  t: KState<T>,
  actor: T['bv'],
): Clauses<T> {
  const { o, k, c } = x;
  const P = c.p;
  const ns = o.not(x.secureDom(s, actor));
  const diff = (a: T['arr'], b: T['arr'], i: T['bv']) => o.ne(o.select(a, i), o.select(b, i));
  const diff2 = (a: T['arr'], b: T['arr'], i: T['bv'], j: T['bv']) =>
    o.ne(o.select2(a, i, j), o.select2(b, i, j));
  const open = (e: T['bv']) =>
    o.any(P.smcEntries, (i) =>
      o.and(
        o.eq(o.select(s.smcValid, x.idx(i)), x.lit(k.Bit, 1)),
        o.eq(o.select(s.smcEp, x.idx(i)), e),
        o.eq(o.select(s.epPeer, e), actor),
      ),
    );
  const out: Clauses<T> = {};
  for (let i = 0; i < P.partitions; i++) {
    const q = x.idx(i);
    const rows = [
      'partState',
      'partBudget',
      'partBlockedOn',
      'partReplyTo',
      'partOwned',
      'partMaps',
      'partStatus',
      'partLabel',
      'partBadge',
    ] as const;
    const changed = o.or(
      ...rows.map((f) => diff(s[f], t[f], q)),
      ...Array.from({ length: 4 }, (_, m) => diff2(s.partMr, t.partMr, q, o.lit(k.MrNo, m))),
      ...(['capType', 'capObj', 'capRights', 'capGen', 'capBadge'] as const).flatMap((f) =>
        Array.from({ length: P.capSlots }, (_, j) => diff2(s[f], t[f], q, x.idx(j))),
      ),
      ...Array.from({ length: P.regions }, (_, r) => diff2(s.map, t.map, q, x.idx(r))),
    );
    const entered = o.any(P.endpoints, (e) => o.and(open(x.idx(e)), o.eq(o.select(s.epWaiter, x.idx(e)), q)));
    out[`secure partition ${i} is entered only through an SMC entry`] = o.implies(
      o.and(ns, x.securePart(s, q), changed),
      entered,
    );
  }
  for (let i = 0; i < P.endpoints; i++) {
    const e = x.idx(i);
    const changed = o.or(
      diff(s.epOwner, t.epOwner, e),
      diff(s.epGen, t.epGen, e),
      diff(s.epWaiter, t.epWaiter, e),
    );
    out[`secure endpoint ${i} is entered only through an SMC entry`] = o.implies(
      o.and(ns, x.secureDom(s, o.select(s.epDom, e)), changed),
      open(e),
    );
  }
  out['secure regions, notifications and devices are untouched'] = o.implies(
    ns,
    o.and(
      o.all(P.regions, (i) => {
        const r = x.idx(i);
        return o.implies(
          x.secureDom(s, o.select(s.regionDom, r)),
          o.not(
            o.or(
              diff(s.regionOwner, t.regionOwner, r),
              diff(s.regionShare, t.regionShare, r),
              diff(s.regionRefs, t.regionRefs, r),
            ),
          ),
        );
      }),
      o.all(P.notifications, (i) => {
        const n = x.idx(i);
        return o.implies(
          x.secureDom(s, o.select(s.ntfDom, n)),
          o.not(
            o.or(
              diff(s.ntfOwner, t.ntfOwner, n),
              diff(s.ntfGen, t.ntfGen, n),
              diff(s.ntfPending, t.ntfPending, n),
              diff(s.ntfWaiter, t.ntfWaiter, n),
            ),
          ),
        );
      }),
      o.all(P.devices, (i) => {
        const v = x.idx(i);
        const fields = ['devOwner', 'devNtf', 'devBindGen', 'devBit', 'devMasked', 'devWindows'] as const;
        return o.implies(
          x.secureDom(s, o.select(s.devDom, v)),
          o.not(o.or(...fields.map((f) => diff(s[f], t[f], v)))),
        );
      }),
      o.equal(s.smcEp, t.smcEp),
      o.equal(s.smcValid, t.smcValid),
    ),
  );
  return out;
}

export function worldObligations(
  prefix: string,
  ctx: Ctx,
  state: KernelStateSchema,
  calls: Readonly<Record<string, Call>>,
  invariant: <T extends Theory>(x: Kit<T>, s: KState<T>) => Clauses<T>,
): Obligation[] {
  const out: Obligation[] = [
    {
      name: `${prefix}/world/state`,
      kind: 'lemma',
      inputs: record({ s: state }),
      check: <T extends Theory>(o: Ops<T>, v: { s: KState<T> }) => {
        const x = new Kit(ctx, o);
        return { assume: invariant(x, v.s), prove: worldStateClauses(x, v.s), show: { s: v.s } };
      },
    } as Obligation,
  ];
  for (const [call, def] of Object.entries(calls)) {
    out.push({
      name: `${prefix}/world/${call}`,
      kind: 'lemma',
      inputs: record({ before: state, args: def.args }),
      check: <T extends Theory>(o: Ops<T>, v: { before: KState<T>; args: Record<string, T['bv']> }) => {
        const x = new Kit(ctx, o);
        const r = (
          def.run as unknown as (o: Ops<T>, s: KState<T>, a: unknown) => { state: KState<T>; ret: unknown }
        )(o, v.before, v.args);
        const actor = actorOf(x, call, v.before, v.args);
        return {
          assume: invariant(x, v.before),
          prove: worldEntryClauses(x, v.before, r.state, actor),
          show: { before: v.before, args: v.args, actor, after: r.state, ret: r.ret },
        };
      },
    } as Obligation);
  }
  return out;
}
