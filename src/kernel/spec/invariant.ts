/**
 * The representation invariant of the implementation state, in named groups: the configuration clauses
 * (what `checkConfig` guarantees at boot), partitions and their waits, objects and their owners, exact
 * reference counts, capabilities, devices and the SMC table. Every call preserves all of it (the
 * `invariant/<call>` obligations). The world-separation state property follows from it (one lemma).
 */
import type { Ops } from '../../proof/ops.js';
import type { Theory } from '../../proof/sorts.js';
import { kindRights, wxorx } from '../core/calls/region.js';
import { Kit, type Ctx } from '../core/kit.js';
import {
  ADMIN,
  BLOCKED_NTF,
  BLOCKED_RECV,
  BLOCKED_REPLY,
  CAP_ENDPOINT,
  CAP_NONE,
  CAP_NOTIFICATION,
  DEVICE,
  FREE,
  SECURE,
  SHARED,
  STOPPED,
  type KState,
} from '../core/state.js';

export type Clauses<T extends Theory> = Record<string, T['bool']>;

/** What `checkConfig` guarantees of the static configuration. */
export function configInvariant<T extends Theory>(x: Kit<T>, s: KState<T>): Clauses<T> {
  const { o, k, c } = x;
  const p = c.p;
  // Every value of the domain sort names a domain when the count is a power of two.
  const isDom = (d: T['bv']) => (p.domains > k.Dom.mask ? o.true : o.ult(d, o.lit(k.Dom, p.domains)));
  const both = (a: T['bv'], b: T['bv']) => o.and(x.flows(s, a, b), x.flows(s, b, a));
  const at = (i: number) => x.idx(i);
  const admin = o.lit(k.Dom, ADMIN);
  return {
    'config: the admin domain is secure': x.secureDom(s, admin),
    'config: flow is reflexive, and to and from the admin': o.all(p.domains, (d) => {
      const dd = o.lit(k.Dom, d);
      return o.and(x.flows(s, dd, dd), x.flows(s, admin, dd), x.flows(s, dd, admin));
    }),
    'config: partition domains exist': o.all(p.partitions, (i) => isDom(o.select(s.partDom, at(i)))),
    'config: regions are channels of their pool and peer domains': o.all(p.regions, (i) => {
      const r = at(i);
      const dom = o.select(s.regionDom, r);
      const peer = o.select(s.regionPeer, r);
      const kind = o.select(s.regionKind, r);
      const dev = o.select(s.regionDev, r);
      return o.and(
        isDom(dom),
        isDom(peer),
        o.ule(kind, x.lit(k.Small, DEVICE)),
        o.implies(o.ne(kind, x.lit(k.Small, SHARED)), o.eq(peer, dom)),
        both(dom, peer),
        o.implies(
          o.eq(kind, x.lit(k.Small, DEVICE)),
          o.and(
            x.inRange(dev, p.devices),
            o.eq(o.select(s.devDom, dev), dom),
            o.eq(o.select(s.devWorld, dev), o.select(s.regionWorld, r)),
          ),
        ),
      );
    }),
    'config: secure memory belongs to, and is shared with, secure domains only': o.all(p.regions, (i) => {
      const r = at(i);
      return o.implies(
        o.eq(o.select(s.regionWorld, r), x.lit(k.Bit, SECURE)),
        o.and(x.secureDom(s, o.select(s.regionDom, r)), x.secureDom(s, o.select(s.regionPeer, r))),
      );
    }),
    'config: a secure pool shares memory only with secure domains': o.all(p.regions, (i) =>
      o.implies(x.secureDom(s, o.select(s.regionDom, at(i))), x.secureDom(s, o.select(s.regionPeer, at(i)))),
    ),
    'config: endpoints are channels': o.all(p.endpoints, (i) => {
      const dom = o.select(s.epDom, at(i));
      const peer = o.select(s.epPeer, at(i));
      return o.and(isDom(dom), isDom(peer), both(dom, peer));
    }),
    'config: notifications are channels': o.all(p.notifications, (i) => {
      const dom = o.select(s.ntfDom, at(i));
      const peer = o.select(s.ntfPeer, at(i));
      return o.and(isDom(dom), isDom(peer), both(dom, peer));
    }),
    'config: secure devices belong to secure domains': o.all(p.devices, (i) => {
      const v = at(i);
      const dom = o.select(s.devDom, v);
      return o.and(
        isDom(dom),
        o.implies(o.eq(o.select(s.devWorld, v), x.lit(k.Bit, SECURE)), x.secureDom(s, dom)),
      );
    }),
  };
}

/** Partitions: states, waits and the one-shot reply capabilities agree with the objects' waiter fields. */
export function partitionInvariant<T extends Theory>(x: Kit<T>, s: KState<T>): Clauses<T> {
  const { o, k, c } = x;
  const p = c.p;
  const zeroR = o.lit(k.Rights, 0);
  const out: Clauses<T> = {};
  for (let i = 0; i < p.partitions; i++) {
    const q = x.idx(i);
    const on = o.select(s.partBlockedOn, q);
    const client = o.select(s.partReplyTo, q);
    const is = (st: number) => x.stateIs(s, q, st);
    out[`partition ${i}: a valid state`] = o.ule(x.state(s, q), x.lit(k.Small, BLOCKED_NTF));
    out[`partition ${i}: free ⇒ owns, maps, holds and waits for nothing`] = o.implies(
      is(FREE),
      o.and(
        o.eq(o.select(s.partOwned, q), o.lit(k.Count, 0)),
        o.eq(o.select(s.partMaps, q), o.lit(k.Count, 0)),
        x.isNone(client),
        o.all(p.capSlots, (j) => o.eq(o.select2(s.capType, q, x.idx(j)), x.lit(k.Small, CAP_NONE))),
        o.all(p.regions, (r) => o.eq(o.select2(s.map, q, x.idx(r)), zeroR)),
      ),
    );
    out[`partition ${i}: blocked on what it waits for, NONE otherwise`] = o.and(
      o.implies(
        is(BLOCKED_RECV),
        o.and(x.inRange(on, p.endpoints), o.eq(o.select(s.epWaiter, on), q), x.isNone(client)),
      ),
      o.implies(is(BLOCKED_NTF), o.and(x.inRange(on, p.notifications), o.eq(o.select(s.ntfWaiter, on), q))),
      o.implies(is(BLOCKED_REPLY), o.and(x.inRange(on, p.partitions), o.eq(o.select(s.partReplyTo, on), q))),
      o.implies(o.not(o.or(is(BLOCKED_RECV), is(BLOCKED_NTF), is(BLOCKED_REPLY))), x.isNone(on)),
    );
    out[`partition ${i}: its reply capability names a client blocked on it, across a channel`] = o.implies(
      o.not(x.isNone(client)),
      o.and(
        x.inRange(client, p.partitions),
        x.stateIs(s, client, BLOCKED_REPLY),
        o.eq(o.select(s.partBlockedOn, client), q),
        x.flows(s, x.dom(s, q), x.dom(s, client)),
        x.flows(s, x.dom(s, client), x.dom(s, q)),
        o.implies(x.securePart(s, client), x.securePart(s, q)),
        o.not(is(STOPPED)),
      ),
    );
  }
  return out;
}

/** Objects: owners are live partitions of the pool's domain; free objects are unreferenced. */
export function objectInvariant<T extends Theory>(x: Kit<T>, s: KState<T>): Clauses<T> {
  const { o, k, c } = x;
  const p = c.p;
  const ownerOk = (owner: T['bv'], dom: T['bv']) =>
    o.implies(
      o.not(x.isNone(owner)),
      o.and(x.inRange(owner, p.partitions), x.live(s, owner), o.eq(x.dom(s, owner), dom)),
    );
  const waiterOk = (w: T['bv'], dom: T['bv'], st: number, obj: T['bv']) =>
    o.implies(
      o.not(x.isNone(w)),
      o.and(
        x.inRange(w, p.partitions),
        x.stateIs(s, w, st),
        o.eq(o.select(s.partBlockedOn, w), obj),
        o.eq(x.dom(s, w), dom),
      ),
    );
  const out: Clauses<T> = {};
  for (let i = 0; i < p.endpoints; i++) {
    const e = x.idx(i);
    const owner = o.select(s.epOwner, e);
    const w = o.select(s.epWaiter, e);
    const dom = o.select(s.epDom, e);
    out[`endpoint ${i}: owner and waiter`] = o.and(
      ownerOk(owner, dom),
      waiterOk(w, dom, BLOCKED_RECV, e),
      o.implies(x.isNone(owner), x.isNone(w)),
    );
  }
  for (let i = 0; i < p.notifications; i++) {
    const n = x.idx(i);
    const owner = o.select(s.ntfOwner, n);
    const w = o.select(s.ntfWaiter, n);
    const dom = o.select(s.ntfDom, n);
    const pending = o.select(s.ntfPending, n);
    out[`notification ${i}: owner, waiter and pending bits`] = o.and(
      ownerOk(owner, dom),
      waiterOk(w, dom, BLOCKED_NTF, n),
      o.implies(x.isNone(owner), o.and(x.isNone(w), o.eq(pending, x.word(0)))),
      o.implies(o.not(x.isNone(w)), o.eq(pending, x.word(0))),
    );
  }
  for (let i = 0; i < p.regions; i++) {
    const r = x.idx(i);
    const owner = o.select(s.regionOwner, r);
    const dom = o.select(s.regionDom, r);
    const peer = o.select(s.regionPeer, r);
    const allowed = kindRights(x, s, r);
    const dev = o.select(s.regionDev, r);
    out[`region ${i}: owner, sharing and mappings`] = o.and(
      ownerOk(owner, dom),
      o.implies(
        x.isNone(owner),
        o.and(
          o.eq(o.select(s.regionShare, r), o.lit(k.Rights, 0)),
          o.eq(o.select(s.regionRefs, r), o.lit(k.Count, 0)),
        ),
      ),
      x.subset(o.select(s.regionShare, r), allowed),
      o.all(p.partitions, (j) => {
        const q = x.idx(j);
        const m = o.select2(s.map, q, r);
        const d = x.dom(s, q);
        return o.implies(
          o.ne(m, o.lit(k.Rights, 0)),
          o.and(
            o.or(o.eq(d, dom), o.eq(d, peer)),
            x.subset(m, allowed),
            ...(p.regionRules.wxorx ? [wxorx(x, m)] : []),
          ),
        );
      }),
      o.implies(
        o.and(o.eq(o.select(s.regionKind, r), x.lit(k.Small, DEVICE)), o.not(x.isNone(owner))),
        o.eq(o.select(s.devOwner, dev), owner),
      ),
    );
  }
  for (let i = 0; i < p.devices; i++) {
    const v = x.idx(i);
    const owner = o.select(s.devOwner, v);
    const n = o.select(s.devNtf, v);
    out[`device ${i}: owner and interrupt binding`] = o.and(
      ownerOk(owner, o.select(s.devDom, v)),
      o.implies(x.isNone(owner), o.and(x.isNone(n), o.eq(o.select(s.devMasked, v), x.lit(k.Bit, 0)))),
      o.implies(
        o.not(x.isNone(n)),
        o.and(x.inRange(n, p.notifications), o.eq(o.select(s.ntfDom, n), o.select(s.devDom, v))),
      ),
    );
  }
  for (let i = 0; i < p.smcEntries; i++) {
    const e = o.select(s.smcEp, x.idx(i));
    out[`smc entry ${i}: from a non-secure peer into a secure endpoint`] = o.implies(
      o.eq(o.select(s.smcValid, x.idx(i)), x.lit(k.Bit, 1)),
      o.and(
        x.inRange(e, p.endpoints),
        x.secureDom(s, o.select(s.epDom, e)),
        o.not(x.secureDom(s, o.select(s.epPeer, e))),
      ),
    );
  }
  return out;
}

/** Reference counts kept by the kernel equal what they count. */
export function countInvariant<T extends Theory>(x: Kit<T>, s: KState<T>): Clauses<T> {
  const { o, k, c } = x;
  const p = c.p;
  const zeroR = o.lit(k.Rights, 0);
  const out: Clauses<T> = {};
  for (let i = 0; i < p.partitions; i++) {
    const q = x.idx(i);
    const owned = [s.regionOwner, s.epOwner, s.ntfOwner, s.devOwner]
      .map((a) => o.countEq(k.Count, a, q))
      .reduce((t, n) => o.add(k.Count, t, n));
    const maps = o.select(s.partMaps, q);
    out[`partition ${i}: owned = objects it owns`] = o.eq(o.select(s.partOwned, q), owned);
    out[`partition ${i}: maps = regions it maps ≤ the profile's limit`] = o.and(
      o.eq(
        maps,
        o.count(k.Count, p.regions, (r) => o.ne(o.select2(s.map, q, x.idx(r)), zeroR)),
      ),
      o.ule(maps, o.lit(k.Count, p.regionRules.maxMapsPerPartition)),
    );
  }
  for (let i = 0; i < p.regions; i++) {
    const r = x.idx(i);
    out[`region ${i}: refs = partitions mapping it`] = o.eq(
      o.select(s.regionRefs, r),
      o.count(k.Count, p.partitions, (j) => o.ne(o.select2(s.map, x.idx(j), r), zeroR)),
    );
  }
  for (let i = 0; i < p.devices; i++) {
    const v = x.idx(i);
    out[`device ${i}: windows = its allocated device windows`] = o.eq(
      o.select(s.devWindows, v),
      o.count(k.Count, p.regions, (j) => {
        const r = x.idx(j);
        return o.and(
          o.eq(o.select(s.regionKind, r), x.lit(k.Small, DEVICE)),
          o.eq(o.select(s.regionDev, r), v),
          o.not(x.isNone(o.select(s.regionOwner, r))),
        );
      }),
    );
  }
  return out;
}

/**
 * Capabilities: typed, never ahead of their object's generation (so a bump makes every other one stale),
 * and valid ones only within the object's channel. Stated object by object (for each capability and each
 * object it might name) rather than through a read at the capability's object index: the same property,
 * in a shape the solver handles without relating two symbolic reads.
 */
export function capabilityInvariant<T extends Theory>(x: Kit<T>, s: KState<T>): Clauses<T> {
  const { o, k, c } = x;
  const p = c.p;
  const out: Clauses<T> = {};
  const kinds = [
    { type: CAP_ENDPOINT, size: p.endpoints, gen: s.epGen, owner: s.epOwner, dom: s.epDom, peer: s.epPeer },
    {
      type: CAP_NOTIFICATION,
      size: p.notifications,
      gen: s.ntfGen,
      owner: s.ntfOwner,
      dom: s.ntfDom,
      peer: s.ntfPeer,
    },
  ];
  for (let i = 0; i < p.partitions; i++) {
    const q = x.idx(i);
    const d = x.dom(s, q);
    out[`partition ${i}: capabilities`] = o.all(p.capSlots, (j) => {
      const cap = x.cap(s, q, x.idx(j));
      const clauses: T['bool'][] = [
        o.or(...[CAP_NONE, CAP_ENDPOINT, CAP_NOTIFICATION].map((t) => o.eq(cap.type, x.lit(k.Small, t)))),
      ];
      for (const kd of kinds) {
        const typed = o.eq(cap.type, x.lit(k.Small, kd.type));
        clauses.push(o.implies(typed, x.inRange(cap.obj, kd.size)));
        for (let n = 0; n < kd.size; n++) {
          const obj = x.idx(n);
          const gen = o.select(kd.gen, obj);
          const od = o.select(kd.dom, obj);
          clauses.push(
            o.implies(
              o.and(typed, o.eq(cap.obj, obj)),
              o.and(
                o.ule(cap.gen, gen),
                o.implies(
                  o.eq(cap.gen, gen),
                  o.and(
                    o.not(x.isNone(o.select(kd.owner, obj))),
                    o.or(o.eq(d, od), o.eq(d, o.select(kd.peer, obj))),
                    o.implies(x.secureDom(s, od), x.secureDom(s, d)),
                  ),
                ),
              ),
            ),
          );
        }
      }
      return o.and(...clauses);
    });
  }
  for (let i = 0; i < p.devices; i++) {
    const v = x.idx(i);
    const bound = o.select(s.devNtf, v);
    const bindGen = o.select(s.devBindGen, v);
    out[`device ${i}: the interrupt binding is never ahead of its notification`] = o.all(
      p.notifications,
      (j) => {
        const n = x.idx(j);
        const gen = o.select(s.ntfGen, n);
        return o.implies(
          o.eq(bound, n),
          o.and(o.ule(bindGen, gen), o.implies(o.eq(bindGen, gen), o.not(x.isNone(o.select(s.ntfOwner, n))))),
        );
      },
    );
  }
  return out;
}

/** The whole representation invariant. */
export function kernelInvariant<T extends Theory>(c: Ctx, o: Ops<T>, s: KState<T>): Clauses<T> {
  const x = new Kit(c, o);
  return {
    ...configInvariant(x, s),
    ...partitionInvariant(x, s),
    ...objectInvariant(x, s),
    ...countInvariant(x, s),
    ...capabilityInvariant(x, s),
  };
}
