/**
 * The specification: the kernel as a plainer state machine. It keeps no bookkeeping — no reference
 * counts (it counts when it must know), no waiter fields (the waiter of an object is the partition
 * blocked on it), no capability generations (a capability is there or it is not; revocation removes
 * every other capability to the object, one by one; an interrupt binding to a revoked notification is
 * removed). Each call is `guards, then If(all pass, new state, old state)` with the same error codes, in
 * the same order, as the implementation. The implementation refines it: `refinement/<call>`.
 */
import type { MachineDef, CallDef } from '../../proof/obligation.js';
import type { Ops, Step } from '../../proof/ops.js';
import { record, type RecordSort, type Theory, type Val } from '../../proof/sorts.js';
import { E } from '../core/errors.js';
import { Kit, makeCtx, type Ctx, type Guard, type Outcome, type Ret } from '../core/kit.js';
import { kindRights, wxorx } from '../core/calls/region.js';
import { checkConfig, configValues, initialState, sampleConfig } from '../core/config.js';
import type { KernelProfile } from '../core/profile.js';
import { productionGuards, type Guards } from '../../proof/guards.js';
import {
  BLOCKED_NTF,
  BLOCKED_RECV,
  BLOCKED_REPLY,
  CAP_ALL,
  CAP_ENDPOINT,
  CAP_NONE,
  CAP_NOTIFICATION,
  DEVICE,
  FREE,
  GRANT,
  MRS,
  RECV,
  RUNNABLE,
  SEND,
  SIGNAL,
  STOPPED,
  WAIT,
  kernelStateSchema,
} from '../core/state.js';
import { argsSchema, callNames, type Args, type CallName } from '../core/table.js';

/** The implementation fields the specification does without. */
export const bookkeepingFields = [
  'partOwned',
  'partMaps',
  'regionRefs',
  'epWaiter',
  'ntfWaiter',
  'capGen',
  'devBindGen',
  'devWindows',
] as const;

export function specStateSchema(p: KernelProfile) {
  const fields = { ...kernelStateSchema(p).fields } as Record<string, unknown>;
  for (const f of bookkeepingFields) delete fields[f];
  return record(
    fields as Omit<ReturnType<typeof kernelStateSchema>['fields'], (typeof bookkeepingFields)[number]>,
  );
}
export type SpecSchema = ReturnType<typeof specStateSchema>;
export type SState<T extends Theory> = Val<T, SpecSchema>;

type SpecImpl<N extends CallName> = <T extends Theory>(
  x: SpecKit<T>,
  s: SState<T>,
  a: Args<T, N>,
) => Step<SState<T>, Ret<T>>;

/** The specification's vocabulary: the kit's configuration reads, plus searches the spec may afford. */
export class SpecKit<T extends Theory> extends Kit<T> {
  constructor(
    c: Ctx,
    o: Ops<T>,
    /** The call specified: its guards are named `spec:<call>.<guard>` (for same-way mutants). */
    readonly call: string,
  ) {
    super(c, o);
  }
  go(s: SState<T>, guards: readonly Guard<T>[], then: () => Outcome<T, SState<T>>): Step<SState<T>, Ret<T>> {
    const named = guards.map((gd) => ({ ...gd, name: `spec:${this.call}.${gd.name}` }));
    return this.run<SState<T>>(s, named, then);
  }
  scap(s: SState<T>, p: T['bv'], slot: T['bv']) {
    const o = this.o;
    return {
      type: o.select2(s.capType, p, slot),
      obj: o.select2(s.capObj, p, slot),
      rights: o.select2(s.capRights, p, slot),
      badge: o.select2(s.capBadge, p, slot),
    };
  }
  isType(t: T['bv'], type: number): T['bool'] {
    return this.o.eq(t, this.lit(this.k.Small, type));
  }
  empty(s: SState<T>, p: T['bv'], slot: T['bv']): T['bool'] {
    return this.isType(this.o.select2(s.capType, p, slot), CAP_NONE);
  }
  putCap(
    s: SState<T>,
    p: T['bv'],
    slot: T['bv'],
    v: { type: T['bv']; obj: T['bv']; rights: T['bv']; badge: T['bv'] },
  ): SState<T> {
    const o = this.o;
    return {
      ...s,
      capType: o.store2(s.capType, p, slot, v.type),
      capObj: o.store2(s.capObj, p, slot, v.obj),
      capRights: o.store2(s.capRights, p, slot, v.rights),
      capBadge: o.store2(s.capBadge, p, slot, v.badge),
    };
  }
  clearCap(s: SState<T>, p: T['bv'], slot: T['bv']): SState<T> {
    const z = this.word(0);
    return this.putCap(s, p, slot, {
      type: this.lit(this.k.Small, CAP_NONE),
      obj: this.idx(0),
      rights: this.lit(this.k.Rights, 0),
      badge: z,
    });
  }
  /**
   * Removes every capability to (type, obj), except the one at (keep.p, keep.slot) if given: object by
   * object, so that each removal compares a capability with a fixed object.
   */
  removeCaps(s: SState<T>, type: T['bv'], obj: T['bv'], keep?: { p: T['bv']; slot: T['bv'] }): SState<T> {
    const o = this.o;
    const p = this.c.p;
    let out = s;
    const kinds = [
      { type: CAP_ENDPOINT, size: p.endpoints },
      { type: CAP_NOTIFICATION, size: p.notifications },
    ];
    for (const kd of kinds)
      for (let n = 0; n < kd.size; n++) {
        const target = o.and(this.isType(type, kd.type), o.eq(obj, this.idx(n)));
        for (let i = 0; i < p.partitions; i++)
          for (let j = 0; j < p.capSlots; j++) {
            const q = this.idx(i);
            const c = this.idx(j);
            const cap = this.scap(s, q, c);
            const hit = o.and(
              target,
              this.isType(cap.type, kd.type),
              o.eq(cap.obj, this.idx(n)),
              keep ? o.not(o.and(o.eq(keep.p, q), o.eq(keep.slot, c))) : o.true,
            );
            out = o.ite(
              hit,
              () => this.clearCap(out, q, c),
              () => out,
            );
          }
      }
    return out;
  }
  /** Unbinds every interrupt bound to notification n. */
  unbind(s: SState<T>, n: T['bv']): SState<T> {
    const o = this.o;
    let out = s;
    for (let i = 0; i < this.c.p.devices; i++) {
      const v = this.idx(i);
      out = o.ite(
        o.eq(o.select(s.devNtf, v), n),
        () => ({
          ...out,
          devNtf: o.store(out.devNtf, v, this.NONE),
          devBit: o.store(out.devBit, v, this.lit(this.k.BitNo, 0)),
        }),
        () => out,
      );
    }
    return out;
  }
  /** The partition blocked in state `st` on object `obj` (NONE if none). */
  waiter(s: SState<T>, st: number, obj: T['bv']): T['bv'] {
    const o = this.o;
    return o.fold(this.c.p.partitions, this.NONE, (acc, i) =>
      o.ite(
        o.and(this.stateIs(s, this.idx(i), st), o.eq(o.select(s.partBlockedOn, this.idx(i)), obj)),
        () => this.idx(i),
        () => acc,
      ),
    );
  }
  mapped(s: SState<T>, q: T['bv'], r: T['bv']): T['bool'] {
    return this.o.ne(this.o.select2(s.map, q, r), this.lit(this.k.Rights, 0));
  }
  ownsSomething(s: SState<T>, q: T['bv']): T['bool'] {
    const o = this.o;
    const p = this.c.p;
    const owns = (a: T['arr'], n: number) => o.any(n, (i) => o.eq(o.select(a, this.idx(i)), q));
    return o.or(
      owns(s.regionOwner, p.regions),
      owns(s.epOwner, p.endpoints),
      owns(s.ntfOwner, p.notifications),
      owns(s.devOwner, p.devices),
    );
  }
  sObjGen(s: SState<T>, type: T['bv'], obj: T['bv']): T['bv'] {
    const o = this.o;
    return o.ite(
      this.isType(type, CAP_ENDPOINT),
      () => o.select(s.epGen, obj),
      () => o.select(s.ntfGen, obj),
    );
  }
  sObjOwner(s: SState<T>, type: T['bv'], obj: T['bv']): T['bv'] {
    const o = this.o;
    return o.ite(
      this.isType(type, CAP_ENDPOINT),
      () => o.select(s.epOwner, obj),
      () => o.select(s.ntfOwner, obj),
    );
  }
  raise(s: SState<T>, n: T['bv'], bits: T['bv']): SState<T> {
    const o = this.o;
    const w = this.waiter(s, BLOCKED_NTF, n);
    const pending = o.bor(o.select(s.ntfPending, n), bits);
    const z = this.word(0);
    return o.ite(
      this.isNone(w),
      () => ({ ...s, ntfPending: o.store(s.ntfPending, n, pending) }),
      () => ({
        ...this.wake(s, w, { status: E.OK, label: z, badge: pending, mr: [z, z, z, z] }),
        ntfPending: o.store(s.ntfPending, n, z),
      }),
    );
  }
}

const caller = <T extends Theory>(x: SpecKit<T>, s: SState<T>, c: T['bv'], call: string): Guard<T> => ({
  name: `${call}.caller`,
  ok: () => x.runnable(s, c),
  code: E.ENOTRUNNING,
});
const admin = <T extends Theory>(x: SpecKit<T>, s: SState<T>, c: T['bv'], call: string): Guard<T> => ({
  name: `${call}.admin`,
  ok: () => x.isAdmin(s, c),
  code: E.EPERM,
});
const inRange = <T extends Theory>(
  x: SpecKit<T>,
  v: T['bv'],
  size: number,
  name: string,
  code: number = E.EINVAL,
): Guard<T> => ({
  name,
  ok: () => x.inRange(v, size),
  code,
});
const ownerOrAdmin = <T extends Theory>(
  x: SpecKit<T>,
  s: SState<T>,
  owner: T['bv'],
  c: T['bv'],
  name: string,
): Guard<T> => ({
  name,
  ok: () => x.o.or(x.o.eq(owner, c), x.o.and(x.isAdmin(s, c), x.o.not(x.isNone(owner)))),
  code: E.EPERM,
});
const mrs = <T extends Theory>(a: { mr0: T['bv']; mr1: T['bv']; mr2: T['bv']; mr3: T['bv'] }) => [
  a.mr0,
  a.mr1,
  a.mr2,
  a.mr3,
];

/** The specification of every call, by the table's names. */
export const specCalls: { readonly [N in CallName]: SpecImpl<N> } = {
  yield: (x, s, a) => x.go(s, [caller(x, s, a.caller, 'yield')], () => ({ state: s })),

  partition_create: (x, s, a) => {
    const { o, k, c } = x;
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        admin(x, s, a.caller, 'c'),
        inRange(x, a.target, c.p.partitions, 't'),
        { name: 'f', ok: () => x.stateIs(s, a.target, FREE), code: E.EBUSY },
      ],
      () => {
        const z = x.word(0);
        let mr = s.partMr;
        for (let i = 0; i < MRS; i++) mr = o.store2(mr, a.target, o.lit(k.MrNo, i), z);
        return {
          state: {
            ...s,
            partState: o.store(s.partState, a.target, x.lit(k.Small, STOPPED)),
            partBudget: o.store(s.partBudget, a.target, a.budget),
            partStatus: o.store(s.partStatus, a.target, x.code(E.OK)),
            partLabel: o.store(s.partLabel, a.target, z),
            partBadge: o.store(s.partBadge, a.target, z),
            partMr: mr,
          },
        };
      },
    );
  },

  partition_start: (x, s, a) =>
    x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        admin(x, s, a.caller, 'a'),
        inRange(x, a.target, x.c.p.partitions, 't'),
        { name: 's', ok: () => x.stateIs(s, a.target, STOPPED), code: E.ESTATE },
      ],
      () => ({ state: { ...s, partState: x.o.store(s.partState, a.target, x.lit(x.k.Small, RUNNABLE)) } }),
    ),

  partition_stop: (x, s, a) => {
    const { o, k } = x;
    const t = a.target;
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        admin(x, s, a.caller, 'a'),
        inRange(x, t, x.c.p.partitions, 't'),
        {
          name: 'r',
          ok: () => o.and(o.not(x.stateIs(s, t, FREE)), o.not(x.stateIs(s, t, STOPPED))),
          code: E.ESTATE,
        },
      ],
      () => {
        const server = o.select(s.partBlockedOn, t);
        const s1 = o.ite(
          x.stateIs(s, t, BLOCKED_REPLY),
          () => ({ ...s, partReplyTo: o.store(s.partReplyTo, server, x.NONE) }),
          () => s,
        );
        const client = o.select(s.partReplyTo, t);
        const s2 = o.ite(
          x.isNone(client),
          () => s1,
          () => ({ ...x.cancel(s1, client), partReplyTo: o.store(s1.partReplyTo, t, x.NONE) }),
        );
        return {
          state: {
            ...s2,
            partState: o.store(s2.partState, t, x.lit(k.Small, STOPPED)),
            partBlockedOn: o.store(s2.partBlockedOn, t, x.NONE),
          },
        };
      },
    );
  },

  partition_destroy: (x, s, a) => {
    const { o, k, c } = x;
    const t = a.target;
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        admin(x, s, a.caller, 'a'),
        inRange(x, t, c.p.partitions, 't'),
        { name: 's', ok: () => x.stateIs(s, t, STOPPED), code: E.ESTATE },
        { name: 'o', ok: () => o.not(x.ownsSomething(s, t)), code: E.EBUSY },
      ],
      () => {
        let s1 = s;
        for (let j = 0; j < c.p.capSlots; j++) s1 = x.clearCap(s1, t, x.idx(j));
        let map = s1.map;
        for (let r = 0; r < c.p.regions; r++) map = o.store2(map, t, x.idx(r), o.lit(k.Rights, 0));
        return {
          state: {
            ...s1,
            map,
            partState: o.store(s1.partState, t, x.lit(k.Small, FREE)),
            partBudget: o.store(s1.partBudget, t, x.word(0)),
          },
        };
      },
    );
  },

  set_budget: (x, s, a) =>
    x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        admin(x, s, a.caller, 'a'),
        inRange(x, a.target, x.c.p.partitions, 't'),
        { name: 'l', ok: () => x.live(s, a.target), code: E.ESTATE },
      ],
      () => ({ state: { ...s, partBudget: x.o.store(s.partBudget, a.target, a.budget) } }),
    ),

  region_alloc: (x, s, a) => {
    const { o, k, c } = x;
    const r = a.region;
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        inRange(x, r, c.p.regions, 'r'),
        { name: 'p', ok: () => o.eq(o.select(s.regionDom, r), x.dom(s, a.caller)), code: E.EPERM },
        { name: 'f', ok: () => x.isNone(o.select(s.regionOwner, r)), code: E.EBUSY },
        {
          name: 'd',
          ok: () =>
            o.implies(
              o.eq(o.select(s.regionKind, r), x.lit(k.Small, DEVICE)),
              o.eq(o.select(s.devOwner, o.select(s.regionDev, r)), a.caller),
            ),
          code: E.EPERM,
        },
      ],
      () => ({ state: { ...s, regionOwner: o.store(s.regionOwner, r, a.caller) } }),
    );
  },

  region_free: (x, s, a) => {
    const { o, k, c } = x;
    const r = a.region;
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        inRange(x, r, c.p.regions, 'r'),
        ownerOrAdmin(x, s, o.select(s.regionOwner, r), a.caller, 'o'),
        { name: 'u', ok: () => o.not(o.any(c.p.partitions, (q) => x.mapped(s, x.idx(q), r))), code: E.EBUSY },
      ],
      () => ({
        state: {
          ...s,
          regionOwner: o.store(s.regionOwner, r, x.NONE),
          regionShare: o.store(s.regionShare, r, o.lit(k.Rights, 0)),
        },
      }),
    );
  },

  region_map: (x, s, a) => {
    const { o, k, c } = x;
    const r = a.region;
    const me = x.dom(s, a.caller);
    const owner = o.select(s.regionOwner, r);
    const rules = c.p.regionRules;
    const fresh = o.not(x.mapped(s, a.caller, r));
    const maps = o.count(k.Count, c.p.regions, (j) => x.mapped(s, a.caller, x.idx(j)));
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        inRange(x, r, c.p.regions, 'r'),
        { name: 'n', ok: () => o.ne(a.rights, o.lit(k.Rights, 0)), code: E.EINVAL },
        // Stated like the implementation's (the region rules are the profile's, not the spec's to restate).
        { name: 'k', ok: () => x.subset(a.rights, kindRights(x as never, s as never, r)), code: E.ERIGHTS },
        ...(rules.wxorx ? [{ name: 'w', ok: () => wxorx(x, a.rights), code: E.ERIGHTS }] : []),
        {
          name: 'd',
          ok: () => o.or(o.eq(me, o.select(s.regionDom, r)), o.eq(me, o.select(s.regionPeer, r))),
          code: E.EPERM,
        },
        { name: 'a', ok: () => o.not(x.isNone(owner)), code: E.ENOENT },
        {
          name: 'g',
          ok: () => o.or(o.eq(owner, a.caller), x.subset(a.rights, o.select(s.regionShare, r))),
          code: E.ERIGHTS,
        },
        ...(rules.maxMapsPerPartition < c.p.regions
          ? [
              {
                name: 'l',
                ok: () => o.or(o.not(fresh), o.ult(maps, o.lit(k.Count, rules.maxMapsPerPartition))),
                code: E.ELIMIT,
              },
            ]
          : []),
      ],
      () => ({ state: { ...s, map: o.store2(s.map, a.caller, r, a.rights) } }),
    );
  },

  region_unmap: (x, s, a) =>
    x.go(
      s,
      [caller(x, s, a.caller, 'c'), { name: 'm', ok: () => x.mapped(s, a.caller, a.region), code: E.ENOENT }],
      () => ({
        state: { ...s, map: x.o.store2(s.map, a.caller, a.region, x.lit(x.k.Rights, 0)) },
      }),
    ),

  region_share: (x, s, a) => {
    const { o, c } = x;
    const r = a.region;
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        inRange(x, r, c.p.regions, 'r'),
        { name: 'o', ok: () => o.eq(o.select(s.regionOwner, r), a.caller), code: E.EPERM },
        { name: 'k', ok: () => x.subset(a.rights, kindRights(x as never, s as never, r)), code: E.ERIGHTS },
      ],
      () => ({ state: { ...s, regionShare: o.store(s.regionShare, r, a.rights) } }),
    );
  },

  region_revoke: (x, s, a) => {
    const { o, k, c } = x;
    const r = a.region;
    const P = c.p.partitions;
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        inRange(x, r, c.p.regions, 'r'),
        { name: 'o', ok: () => o.eq(o.select(s.regionOwner, r), a.caller), code: E.EPERM },
        {
          name: 'w',
          ok: () =>
            o.or(
              x.securePart(s, a.caller),
              o.not(x.secureDom(s, o.select(s.regionPeer, r))),
              o.not(o.any(P, (q) => o.and(o.ne(x.idx(q), a.caller), x.mapped(s, x.idx(q), r)))),
            ),
          code: E.EWORLD,
        },
      ],
      () => {
        let map = s.map;
        for (let q = 0; q < P; q++)
          map = o.ite(
            o.eq(x.idx(q), a.caller),
            () => map,
            () => o.store2(map, x.idx(q), r, o.lit(k.Rights, 0)),
          );
        return { state: { ...s, map, regionShare: o.store(s.regionShare, r, o.lit(k.Rights, 0)) } };
      },
    );
  },

  endpoint_create: (x, s, a) => {
    const { o, k, c } = x;
    const e = a.endpoint;
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        inRange(x, e, c.p.endpoints, 'e'),
        { name: 'p', ok: () => o.eq(o.select(s.epDom, e), x.dom(s, a.caller)), code: E.EPERM },
        { name: 'f', ok: () => x.isNone(o.select(s.epOwner, e)), code: E.EBUSY },
        inRange(x, a.slot, c.p.capSlots, 's'),
        { name: 'e', ok: () => x.empty(s, a.caller, a.slot), code: E.EEXIST },
      ],
      () => ({
        state: {
          ...x.putCap(s, a.caller, a.slot, {
            type: x.lit(k.Small, CAP_ENDPOINT),
            obj: e,
            rights: x.lit(k.Rights, CAP_ALL),
            badge: x.word(0),
          }),
          epOwner: o.store(s.epOwner, e, a.caller),
        },
      }),
    );
  },

  endpoint_destroy: (x, s, a) => {
    const { o, k, c } = x;
    const e = a.endpoint;
    const gen = o.select(s.epGen, e);
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        inRange(x, e, c.p.endpoints, 'e'),
        ownerOrAdmin(x, s, o.select(s.epOwner, e), a.caller, 'o'),
        { name: 'g', ok: () => o.ne(gen, o.lit(k.Gen, k.Gen.mask)), code: E.EOVERFLOW },
      ],
      () => {
        const w = x.waiter(s, BLOCKED_RECV, e);
        const s1 = o.ite(
          x.isNone(w),
          () => s,
          () => x.cancel(s, w),
        );
        const s2 = x.removeCaps(s1, x.lit(k.Small, CAP_ENDPOINT), e);
        return {
          state: {
            ...s2,
            epOwner: o.store(s2.epOwner, e, x.NONE),
            epGen: o.store(s2.epGen, e, x.inc(gen, k.Gen)),
          },
        };
      },
    );
  },

  endpoint_send: (x, s, a) => {
    const cap = x.scap(s, a.caller, a.slot);
    const w = x.waiter(s, BLOCKED_RECV, cap.obj);
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        { name: 'k', ok: () => x.isType(cap.type, CAP_ENDPOINT), code: E.ENOCAP },
        { name: 'r', ok: () => x.subset(x.lit(x.k.Rights, SEND), cap.rights), code: E.ERIGHTS },
        { name: 'w', ok: () => x.o.not(x.isNone(w)), code: E.ENORECV },
      ],
      () => ({ state: x.wake(s, w, { status: E.OK, label: a.label, badge: cap.badge, mr: mrs(a) }) }),
    );
  },

  endpoint_call: (x, s, a) => {
    const { o, k } = x;
    const cap = x.scap(s, a.caller, a.slot);
    const w = x.waiter(s, BLOCKED_RECV, cap.obj);
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        { name: 'k', ok: () => x.isType(cap.type, CAP_ENDPOINT), code: E.ENOCAP },
        { name: 'r', ok: () => x.subset(x.lit(k.Rights, SEND), cap.rights), code: E.ERIGHTS },
        {
          name: 'x',
          ok: () => o.implies(x.securePart(s, a.caller), x.secureDom(s, o.select(s.epDom, cap.obj))),
          code: E.EWORLD,
        },
        { name: 'w', ok: () => o.not(x.isNone(w)), code: E.ENORECV },
      ],
      () => {
        const s1 = x.wake(s, w, { status: E.OK, label: a.label, badge: cap.badge, mr: mrs(a) });
        const s2 = x.block(s1, a.caller, BLOCKED_REPLY, w);
        return {
          state: { ...s2, partReplyTo: o.store(s2.partReplyTo, w, a.caller) },
          code: x.code(E.BLOCKED),
        };
      },
    );
  },

  endpoint_receive: (x, s, a) => {
    const { o, k } = x;
    const cap = x.scap(s, a.caller, a.slot);
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        { name: 'k', ok: () => x.isType(cap.type, CAP_ENDPOINT), code: E.ENOCAP },
        { name: 'r', ok: () => x.subset(x.lit(k.Rights, RECV), cap.rights), code: E.ERIGHTS },
        { name: 'd', ok: () => o.eq(x.dom(s, a.caller), o.select(s.epDom, cap.obj)), code: E.EPERM },
        { name: 'i', ok: () => x.isNone(x.waiter(s, BLOCKED_RECV, cap.obj)), code: E.EBUSY },
        { name: 'p', ok: () => x.isNone(o.select(s.partReplyTo, a.caller)), code: E.EBUSY },
      ],
      () => ({ state: x.block(s, a.caller, BLOCKED_RECV, cap.obj), code: x.code(E.BLOCKED) }),
    );
  },

  endpoint_reply: (x, s, a) => {
    const { o } = x;
    const client = o.select(s.partReplyTo, a.caller);
    return x.go(
      s,
      [caller(x, s, a.caller, 'c'), { name: 'r', ok: () => o.not(x.isNone(client)), code: E.ENOREPLY }],
      () => {
        const s1 = x.wake(s, client, { status: E.OK, label: a.label, badge: x.word(0), mr: mrs(a) });
        return { state: { ...s1, partReplyTo: o.store(s1.partReplyTo, a.caller, x.NONE) } };
      },
    );
  },

  endpoint_reply_receive: (x, s, a) => {
    const { o, k } = x;
    const client = o.select(s.partReplyTo, a.caller);
    const cap = x.scap(s, a.caller, a.slot);
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        { name: 'y', ok: () => o.not(x.isNone(client)), code: E.ENOREPLY },
        { name: 'k', ok: () => x.isType(cap.type, CAP_ENDPOINT), code: E.ENOCAP },
        { name: 'r', ok: () => x.subset(x.lit(k.Rights, RECV), cap.rights), code: E.ERIGHTS },
        { name: 'd', ok: () => o.eq(x.dom(s, a.caller), o.select(s.epDom, cap.obj)), code: E.EPERM },
        { name: 'i', ok: () => x.isNone(x.waiter(s, BLOCKED_RECV, cap.obj)), code: E.EBUSY },
      ],
      () => {
        const s1 = x.wake(s, client, { status: E.OK, label: a.label, badge: x.word(0), mr: mrs(a) });
        const s2 = { ...s1, partReplyTo: o.store(s1.partReplyTo, a.caller, x.NONE) };
        return { state: x.block(s2, a.caller, BLOCKED_RECV, cap.obj), code: x.code(E.BLOCKED) };
      },
    );
  },

  smc_register: (x, s, a) => {
    const { o, k, c } = x;
    const valid = o.eq(a.valid, x.lit(k.Bit, 1));
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        admin(x, s, a.caller, 'a'),
        inRange(x, a.entry, c.p.smcEntries, 'n'),
        { name: 'e', ok: () => o.implies(valid, x.inRange(a.endpoint, c.p.endpoints)), code: E.EINVAL },
        {
          name: 'w',
          ok: () =>
            o.implies(
              valid,
              o.and(
                x.secureDom(s, o.select(s.epDom, a.endpoint)),
                o.not(x.secureDom(s, o.select(s.epPeer, a.endpoint))),
              ),
            ),
          code: E.EWORLD,
        },
      ],
      () => ({
        state: {
          ...s,
          smcEp: o.store(
            s.smcEp,
            a.entry,
            o.ite(
              valid,
              () => a.endpoint,
              () => x.NONE,
            ),
          ),
          smcValid: o.store(s.smcValid, a.entry, a.valid),
        },
      }),
    );
  },

  smc: (x, s, a) => {
    const { o, k } = x;
    const e = o.select(s.smcEp, a.entry);
    const w = x.waiter(s, BLOCKED_RECV, e);
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        { name: 'n', ok: () => o.eq(o.select(s.smcValid, a.entry), x.lit(k.Bit, 1)), code: E.ENOENT },
        { name: 'p', ok: () => o.eq(o.select(s.epPeer, e), x.dom(s, a.caller)), code: E.EPERM },
        { name: 'w', ok: () => o.not(x.isNone(w)), code: E.ENORECV },
      ],
      () => {
        const s1 = x.wake(s, w, { status: E.OK, label: a.label, badge: o.zext(k.Word, a.entry), mr: mrs(a) });
        const s2 = x.block(s1, a.caller, BLOCKED_REPLY, w);
        return {
          state: { ...s2, partReplyTo: o.store(s2.partReplyTo, w, a.caller) },
          code: x.code(E.BLOCKED),
        };
      },
    );
  },

  notification_create: (x, s, a) => {
    const { o, k, c } = x;
    const n = a.notification;
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        inRange(x, n, c.p.notifications, 'n'),
        { name: 'p', ok: () => o.eq(o.select(s.ntfDom, n), x.dom(s, a.caller)), code: E.EPERM },
        { name: 'f', ok: () => x.isNone(o.select(s.ntfOwner, n)), code: E.EBUSY },
        inRange(x, a.slot, c.p.capSlots, 's'),
        { name: 'e', ok: () => x.empty(s, a.caller, a.slot), code: E.EEXIST },
      ],
      () => ({
        state: {
          ...x.putCap(s, a.caller, a.slot, {
            type: x.lit(k.Small, CAP_NOTIFICATION),
            obj: n,
            rights: x.lit(k.Rights, SIGNAL | WAIT | GRANT),
            badge: x.word(0),
          }),
          ntfOwner: o.store(s.ntfOwner, n, a.caller),
        },
      }),
    );
  },

  notification_destroy: (x, s, a) => {
    const { o, k, c } = x;
    const n = a.notification;
    const gen = o.select(s.ntfGen, n);
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        inRange(x, n, c.p.notifications, 'n'),
        ownerOrAdmin(x, s, o.select(s.ntfOwner, n), a.caller, 'o'),
        { name: 'g', ok: () => o.ne(gen, o.lit(k.Gen, k.Gen.mask)), code: E.EOVERFLOW },
      ],
      () => {
        const w = x.waiter(s, BLOCKED_NTF, n);
        const s1 = o.ite(
          x.isNone(w),
          () => s,
          () => x.cancel(s, w),
        );
        const s2 = x.unbind(x.removeCaps(s1, x.lit(k.Small, CAP_NOTIFICATION), n), n);
        return {
          state: {
            ...s2,
            ntfOwner: o.store(s2.ntfOwner, n, x.NONE),
            ntfPending: o.store(s2.ntfPending, n, x.word(0)),
            ntfGen: o.store(s2.ntfGen, n, x.inc(gen, k.Gen)),
          },
        };
      },
    );
  },

  notification_signal: (x, s, a) => {
    const { o, k } = x;
    const cap = x.scap(s, a.caller, a.slot);
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        { name: 'k', ok: () => x.isType(cap.type, CAP_NOTIFICATION), code: E.ENOCAP },
        { name: 'r', ok: () => x.subset(x.lit(k.Rights, SIGNAL), cap.rights), code: E.ERIGHTS },
        { name: 'b', ok: () => o.ne(a.bits, x.word(0)), code: E.EINVAL },
      ],
      () => ({ state: x.raise(s, cap.obj, a.bits) }),
    );
  },

  notification_wait: (x, s, a) => {
    const { o, k } = x;
    const cap = x.scap(s, a.caller, a.slot);
    const n = cap.obj;
    const pending = o.select(s.ntfPending, n);
    const none = o.eq(pending, x.word(0));
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        { name: 'k', ok: () => x.isType(cap.type, CAP_NOTIFICATION), code: E.ENOCAP },
        { name: 'r', ok: () => x.subset(x.lit(k.Rights, WAIT), cap.rights), code: E.ERIGHTS },
        { name: 'd', ok: () => o.eq(x.dom(s, a.caller), o.select(s.ntfDom, n)), code: E.EPERM },
        { name: 'i', ok: () => o.or(o.not(none), x.isNone(x.waiter(s, BLOCKED_NTF, n))), code: E.EBUSY },
      ],
      () =>
        o.ite(
          none,
          () => ({ state: x.block(s, a.caller, BLOCKED_NTF, n), code: x.code(E.BLOCKED), value: x.word(0) }),
          () => ({
            state: { ...s, ntfPending: o.store(s.ntfPending, n, x.word(0)) },
            code: x.code(E.OK),
            value: pending,
          }),
        ),
    );
  },

  notification_poll: (x, s, a) => {
    const { o, k } = x;
    const cap = x.scap(s, a.caller, a.slot);
    const n = cap.obj;
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        { name: 'k', ok: () => x.isType(cap.type, CAP_NOTIFICATION), code: E.ENOCAP },
        { name: 'r', ok: () => x.subset(x.lit(k.Rights, WAIT), cap.rights), code: E.ERIGHTS },
        { name: 'd', ok: () => o.eq(x.dom(s, a.caller), o.select(s.ntfDom, n)), code: E.EPERM },
      ],
      () => ({
        state: { ...s, ntfPending: o.store(s.ntfPending, n, x.word(0)) },
        value: o.select(s.ntfPending, n),
      }),
    );
  },

  cap_copy: (x, s, a) => {
    const { o, k, c } = x;
    const src = x.scap(s, a.from, a.slot);
    const ep = x.isType(src.type, CAP_ENDPOINT);
    const dom = o.ite(
      ep,
      () => o.select(s.epDom, src.obj),
      () => o.select(s.ntfDom, src.obj),
    );
    const peer = o.ite(
      ep,
      () => o.select(s.epPeer, src.obj),
      () => o.select(s.ntfPeer, src.obj),
    );
    const to = x.dom(s, a.to);
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        { name: 's', ok: () => o.or(o.eq(a.from, a.caller), x.isAdmin(s, a.caller)), code: E.EPERM },
        { name: 'v', ok: () => o.not(x.isType(src.type, CAP_NONE)), code: E.ENOCAP },
        { name: 'g', ok: () => x.subset(x.lit(k.Rights, GRANT), src.rights), code: E.ERIGHTS },
        { name: 'r', ok: () => x.subset(a.rights, src.rights), code: E.ERIGHTS },
        inRange(x, a.to, c.p.partitions, 't'),
        { name: 'm', ok: () => o.or(o.eq(to, x.dom(s, a.caller)), x.isAdmin(s, a.caller)), code: E.EPERM },
        { name: 'd', ok: () => o.or(o.eq(to, dom), o.eq(to, peer)), code: E.EPERM },
        { name: 'h', ok: () => o.implies(x.secureDom(s, dom), x.secureDom(s, to)), code: E.EWORLD },
        inRange(x, a.toSlot, c.p.capSlots, 'n'),
        { name: 'l', ok: () => x.live(s, a.to), code: E.ESTATE },
        { name: 'e', ok: () => x.empty(s, a.to, a.toSlot), code: E.EEXIST },
      ],
      () => ({
        state: x.putCap(s, a.to, a.toSlot, {
          type: src.type,
          obj: src.obj,
          rights: a.rights,
          badge: o.ite(
            o.eq(src.badge, x.word(0)),
            () => a.badge,
            () => src.badge,
          ),
        }),
      }),
    );
  },

  cap_revoke: (x, s, a) => {
    const { o, k } = x;
    const cap = x.scap(s, a.caller, a.slot);
    const gen = x.sObjGen(s, cap.type, cap.obj);
    const next = x.inc(gen, k.Gen);
    const ep = x.isType(cap.type, CAP_ENDPOINT);
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        { name: 'v', ok: () => o.not(x.isType(cap.type, CAP_NONE)), code: E.ENOCAP },
        { name: 'o', ok: () => o.eq(x.sObjOwner(s, cap.type, cap.obj), a.caller), code: E.EPERM },
        { name: 'g', ok: () => o.ne(gen, o.lit(k.Gen, k.Gen.mask)), code: E.EOVERFLOW },
      ],
      () => {
        const s1 = x.removeCaps(s, cap.type, cap.obj, { p: a.caller, slot: a.slot });
        return {
          state: o.ite(
            ep,
            () => ({ ...s1, epGen: o.store(s1.epGen, cap.obj, next) }),
            () => ({ ...x.unbind(s1, cap.obj), ntfGen: o.store(s1.ntfGen, cap.obj, next) }),
          ),
        };
      },
    );
  },

  cap_delete: (x, s, a) =>
    x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        { name: 'v', ok: () => x.o.not(x.empty(s, a.caller, a.slot)), code: E.ENOENT },
      ],
      () => ({ state: x.clearCap(s, a.caller, a.slot) }),
    ),

  device_claim: (x, s, a) => {
    const { o, c } = x;
    const v = a.device;
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        inRange(x, v, c.p.devices, 'v'),
        { name: 'p', ok: () => o.eq(o.select(s.devDom, v), x.dom(s, a.caller)), code: E.EPERM },
        { name: 'f', ok: () => x.isNone(o.select(s.devOwner, v)), code: E.EBUSY },
      ],
      () => ({ state: { ...s, devOwner: o.store(s.devOwner, v, a.caller) } }),
    );
  },

  device_release: (x, s, a) => {
    const { o, k, c } = x;
    const v = a.device;
    const window = (j: number) => {
      const r = x.idx(j);
      return o.and(
        o.eq(o.select(s.regionKind, r), x.lit(k.Small, DEVICE)),
        o.eq(o.select(s.regionDev, r), v),
        o.not(x.isNone(o.select(s.regionOwner, r))),
      );
    };
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        inRange(x, v, c.p.devices, 'v'),
        ownerOrAdmin(x, s, o.select(s.devOwner, v), a.caller, 'o'),
        { name: 'w', ok: () => o.not(o.any(c.p.regions, window)), code: E.EBUSY },
      ],
      () => ({
        state: {
          ...s,
          devOwner: o.store(s.devOwner, v, x.NONE),
          devNtf: o.store(s.devNtf, v, x.NONE),
          devBit: o.store(s.devBit, v, x.lit(k.BitNo, 0)),
          devMasked: o.store(s.devMasked, v, x.lit(k.Bit, 0)),
        },
      }),
    );
  },

  irq_bind: (x, s, a) => {
    const { o, k, c } = x;
    const v = a.device;
    const cap = x.scap(s, a.caller, a.slot);
    return x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        inRange(x, v, c.p.devices, 'v'),
        { name: 'o', ok: () => o.eq(o.select(s.devOwner, v), a.caller), code: E.EPERM },
        { name: 'k', ok: () => x.isType(cap.type, CAP_NOTIFICATION), code: E.ENOCAP },
        { name: 'r', ok: () => x.subset(x.lit(k.Rights, SIGNAL), cap.rights), code: E.ERIGHTS },
        { name: 'd', ok: () => o.eq(o.select(s.ntfDom, cap.obj), o.select(s.devDom, v)), code: E.EPERM },
      ],
      () => ({ state: { ...s, devNtf: o.store(s.devNtf, v, cap.obj), devBit: o.store(s.devBit, v, a.bit) } }),
    );
  },

  irq_ack: (x, s, a) =>
    x.go(
      s,
      [
        caller(x, s, a.caller, 'c'),
        inRange(x, a.device, x.c.p.devices, 'v'),
        { name: 'o', ok: () => x.o.eq(x.o.select(s.devOwner, a.device), a.caller), code: E.EPERM },
      ],
      () => ({ state: { ...s, devMasked: x.o.store(s.devMasked, a.device, x.lit(x.k.Bit, 0)) } }),
    ),

  irq_raise: (x, s, a) => {
    const { o, k, c } = x;
    const v = a.device;
    const n = o.select(s.devNtf, v);
    return x.go(
      s,
      [
        inRange(x, v, c.p.devices, 'v'),
        { name: 'b', ok: () => o.not(x.isNone(n)), code: E.EMASKED },
        { name: 'm', ok: () => o.eq(o.select(s.devMasked, v), x.lit(k.Bit, 0)), code: E.EMASKED },
      ],
      () => {
        const bit = o.shl(k.Word, x.word(1), o.zext(k.Word, o.select(s.devBit, v)));
        const s1 = x.raise(s, n, bit);
        return { state: { ...s1, devMasked: o.store(s1.devMasked, v, x.lit(k.Bit, 1)) } };
      },
    );
  },
};

/**
 * The specification machine of a profile (same initial configuration as the implementation's). `g`
 * disables specification guards for the mutation check's same-way mutants (production: none).
 */
export function specMachine(p: KernelProfile, g: Guards = productionGuards): MachineDef<SpecSchema> {
  const c: Ctx = makeCtx(p, g);
  const calls: Record<string, CallDef<SpecSchema, RecordSort>> = {};
  for (const n of callNames) {
    const impl = specCalls[n] as SpecImpl<typeof n>;
    calls[n] = {
      args: argsSchema(p, n),
      run: <T extends Theory>(o: Ops<T>, s: SState<T>, a: unknown) =>
        impl(new SpecKit(c, o, n), s, a as Args<T, typeof n>),
    } as CallDef<SpecSchema, RecordSort>;
  }
  const tables = checkConfig(p, sampleConfig(p), `sample configuration of profile ${p.name}`);
  const schema = specStateSchema(p);
  return {
    name: 'kernel-spec',
    state: schema,
    init: (o) => {
      const full = initialState(p, o, configValues(p, o, tables)) as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of Object.keys(schema.fields)) out[f] = full[f];
      return out as SState<never>;
    },
    calls,
  };
}
