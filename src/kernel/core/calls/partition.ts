/** Partition life cycle (admin authority only) and yield. */
import { E } from '../errors.js';
import {
  BLOCKED_NTF,
  BLOCKED_RECV,
  BLOCKED_REPLY,
  CAP_NONE,
  FREE,
  MRS,
  RUNNABLE,
  STOPPED,
} from '../state.js';
import type { CallImpls } from './define.js';

export const partitionCalls: CallImpls<
  'yield' | 'partition_create' | 'partition_start' | 'partition_stop' | 'partition_destroy' | 'set_budget'
> = {
  yield: (x, s, a) =>
    x.run(s, [{ name: 'yield.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING }], () => ({
      state: s,
    })),

  partition_create: (x, s, a) => {
    const { o, k } = x;
    return x.run(
      s,
      [
        { name: 'partition_create.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'partition_create.admin', ok: () => x.isAdmin(s, a.caller), code: E.EPERM },
        { name: 'partition_create.target', ok: () => x.inRange(a.target, x.c.p.partitions), code: E.EINVAL },
        { name: 'partition_create.free', ok: () => x.stateIs(s, a.target, FREE), code: E.EBUSY },
      ],
      () => {
        const z = x.word(0);
        let mr = s.partMr;
        for (let i = 0; i < MRS; i++) mr = o.store2(mr, a.target, o.lit(k.MrNo, i), z);
        return {
          state: x.set(s, {
            partState: o.store(s.partState, a.target, x.lit(k.Small, STOPPED)),
            partBudget: o.store(s.partBudget, a.target, a.budget),
            partStatus: o.store(s.partStatus, a.target, x.code(E.OK)),
            partLabel: o.store(s.partLabel, a.target, z),
            partBadge: o.store(s.partBadge, a.target, z),
            partMr: mr,
          }),
        };
      },
    );
  },

  partition_start: (x, s, a) => {
    const { o, k } = x;
    return x.run(
      s,
      [
        { name: 'partition_start.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'partition_start.admin', ok: () => x.isAdmin(s, a.caller), code: E.EPERM },
        { name: 'partition_start.target', ok: () => x.inRange(a.target, x.c.p.partitions), code: E.EINVAL },
        { name: 'partition_start.stopped', ok: () => x.stateIs(s, a.target, STOPPED), code: E.ESTATE },
      ],
      () => ({ state: x.set(s, { partState: o.store(s.partState, a.target, x.lit(k.Small, RUNNABLE)) }) }),
    );
  },

  partition_stop: (x, s, a) => {
    const { o, k } = x;
    const t = a.target;
    return x.run(
      s,
      [
        { name: 'partition_stop.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'partition_stop.admin', ok: () => x.isAdmin(s, a.caller), code: E.EPERM },
        { name: 'partition_stop.target', ok: () => x.inRange(t, x.c.p.partitions), code: E.EINVAL },
        {
          name: 'partition_stop.running',
          ok: () => o.and(o.not(x.stateIs(s, t, FREE)), o.not(x.stateIs(s, t, STOPPED))),
          code: E.ESTATE,
        },
      ],
      () => {
        const on = o.select(s.partBlockedOn, t);
        // Leave whatever the partition waits on.
        const s1 = x.set(s, {
          epWaiter: x.upd(
            'partition_stop.leave-endpoint',
            () =>
              o.ite(
                x.stateIs(s, t, BLOCKED_RECV),
                () => o.store(s.epWaiter, on, x.NONE),
                () => s.epWaiter,
              ),
            s.epWaiter,
          ),
          ntfWaiter: x.upd(
            'partition_stop.leave-notification',
            () =>
              o.ite(
                x.stateIs(s, t, BLOCKED_NTF),
                () => o.store(s.ntfWaiter, on, x.NONE),
                () => s.ntfWaiter,
              ),
            s.ntfWaiter,
          ),
          partReplyTo: x.upd(
            'partition_stop.leave-reply',
            () =>
              o.ite(
                x.stateIs(s, t, BLOCKED_REPLY),
                () => o.store(s.partReplyTo, on, x.NONE),
                () => s.partReplyTo,
              ),
            s.partReplyTo,
          ),
        });
        // The client it was serving is woken with ECANCELED.
        const client = o.select(s.partReplyTo, t);
        const s2 = x.upd(
          'partition_stop.cancel-client',
          () =>
            o.ite(
              x.isNone(client),
              () => s1,
              () => x.set(x.cancel(s1, client), { partReplyTo: o.store(s1.partReplyTo, t, x.NONE) }),
            ),
          s1,
        );
        return {
          state: x.set(s2, {
            partState: o.store(s2.partState, t, x.lit(k.Small, STOPPED)),
            partBlockedOn: o.store(s2.partBlockedOn, t, x.NONE),
          }),
        };
      },
    );
  },

  partition_destroy: (x, s, a) => {
    const { o, k, c } = x;
    const t = a.target;
    return x.run(
      s,
      [
        { name: 'partition_destroy.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'partition_destroy.admin', ok: () => x.isAdmin(s, a.caller), code: E.EPERM },
        { name: 'partition_destroy.target', ok: () => x.inRange(t, c.p.partitions), code: E.EINVAL },
        { name: 'partition_destroy.stopped', ok: () => x.stateIs(s, t, STOPPED), code: E.ESTATE },
        {
          name: 'partition_destroy.owns-nothing',
          ok: () => o.eq(o.select(s.partOwned, t), o.lit(k.Count, 0)),
          code: E.EBUSY,
        },
      ],
      () => {
        // Bounded by the profile: the partition's slots and its row of mappings.
        const capType = x.upd(
          'partition_destroy.caps',
          () => o.fold(c.p.capSlots, s.capType, (m, j) => o.store2(m, t, x.idx(j), x.lit(k.Small, CAP_NONE))),
          s.capType,
        );
        const zero = o.lit(k.Rights, 0);
        const unmapped = o.fold(c.p.regions, { map: s.map, refs: s.regionRefs }, (acc, r) => {
          const ri = x.idx(r);
          const mapped = o.ne(o.select2(acc.map, t, ri), zero);
          return {
            map: x.upd('partition_destroy.unmap', () => o.store2(acc.map, t, ri, zero), acc.map),
            refs: x.upd(
              'partition_destroy.refs',
              () =>
                o.ite(
                  mapped,
                  () => x.drop(acc.refs, ri, k.Count),
                  () => acc.refs,
                ),
              acc.refs,
            ),
          };
        });
        return {
          state: x.set(s, {
            partState: o.store(s.partState, t, x.lit(k.Small, FREE)),
            partBudget: o.store(s.partBudget, t, x.word(0)),
            partMaps: x.upd(
              'partition_destroy.maps',
              () => o.store(s.partMaps, t, o.lit(k.Count, 0)),
              s.partMaps,
            ),
            capType,
            map: unmapped.map,
            regionRefs: unmapped.refs,
          }),
        };
      },
    );
  },

  set_budget: (x, s, a) =>
    x.run(
      s,
      [
        { name: 'set_budget.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'set_budget.admin', ok: () => x.isAdmin(s, a.caller), code: E.EPERM },
        { name: 'set_budget.target', ok: () => x.inRange(a.target, x.c.p.partitions), code: E.EINVAL },
        { name: 'set_budget.live', ok: () => x.live(s, a.target), code: E.ESTATE },
      ],
      () => ({ state: x.set(s, { partBudget: x.o.store(s.partBudget, a.target, a.budget) }) }),
    ),
};
