/**
 * The abstraction function: the specification state an implementation state stands for. Bookkeeping is
 * dropped (reference counts, waiter fields); a capability is in the abstract state only while its
 * generation is its object's (a stale one reads as an empty slot, all zero); an interrupt binding only
 * while its generation is its notification's.
 */
import type { Ops } from '../../proof/ops.js';
import type { Theory } from '../../proof/sorts.js';
import { Kit, type Ctx } from '../core/kit.js';
import { CAP_ENDPOINT, CAP_NOTIFICATION, type KState } from '../core/state.js';
import { specStateSchema, type SState } from './machine.js';

/** Whether the capability in (p, slot) — concrete indices — is valid, object by object. */
export function capValidAt<T extends Theory>(x: Kit<T>, s: KState<T>, p: number, slot: number): T['bool'] {
  const { o, k, c } = x;
  const cap = x.cap(s, x.idx(p), x.idx(slot));
  const cases: T['bool'][] = [];
  for (const [type, size, gen] of [
    [CAP_ENDPOINT, c.p.endpoints, s.epGen],
    [CAP_NOTIFICATION, c.p.notifications, s.ntfGen],
  ] as const) {
    const typed = o.eq(cap.type, x.lit(k.Small, type));
    for (let n = 0; n < size; n++)
      cases.push(o.and(typed, o.eq(cap.obj, x.idx(n)), o.eq(cap.gen, o.select(gen, x.idx(n)))));
  }
  return o.or(...cases);
}

/** Whether device v's interrupt binding is live, notification by notification. */
export function bindingLiveAt<T extends Theory>(x: Kit<T>, s: KState<T>, v: number): T['bool'] {
  const { o, c } = x;
  const n = o.select(s.devNtf, x.idx(v));
  const gen = o.select(s.devBindGen, x.idx(v));
  return o.or(
    ...Array.from({ length: c.p.notifications }, (_, j) =>
      o.and(o.eq(n, x.idx(j)), o.eq(gen, o.select(s.ntfGen, x.idx(j)))),
    ),
  );
}

export function abstraction<T extends Theory>(c: Ctx, o: Ops<T>, s: KState<T>): SState<T> {
  const x = new Kit(c, o);
  const { k } = x;
  const p = c.p;
  let { capType, capObj, capRights, capBadge, devNtf, devBit } = s;
  for (let i = 0; i < p.partitions; i++)
    for (let j = 0; j < p.capSlots; j++) {
      const q = x.idx(i);
      const sl = x.idx(j);
      const valid = capValidAt(x, s, i, j);
      const keep = (a: T['arr'], zero: T['bv']) =>
        o.store2(
          a,
          q,
          sl,
          o.ite(
            valid,
            () => o.select2(a, q, sl),
            () => zero,
          ),
        );
      capType = keep(capType, x.lit(k.Small, 0));
      capObj = keep(capObj, x.idx(0));
      capRights = keep(capRights, x.lit(k.Rights, 0));
      capBadge = keep(capBadge, x.word(0));
    }
  for (let i = 0; i < p.devices; i++) {
    const v = x.idx(i);
    const live = bindingLiveAt(x, s, i);
    devNtf = o.store(
      devNtf,
      v,
      o.ite(
        live,
        () => o.select(s.devNtf, v),
        () => x.NONE,
      ),
    );
    devBit = o.store(
      devBit,
      v,
      o.ite(
        live,
        () => o.select(s.devBit, v),
        () => x.lit(k.BitNo, 0),
      ),
    );
  }
  const out: Record<string, unknown> = {};
  const full = { ...s, capType, capObj, capRights, capBadge, devNtf, devBit } as Record<string, unknown>;
  for (const f of Object.keys(specStateSchema(p).fields)) out[f] = full[f];
  return out as SState<T>;
}
