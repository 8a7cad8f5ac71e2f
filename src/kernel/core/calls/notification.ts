/**
 * Notifications: a word of signal bits between the notification's domain (the waiter) and its peer
 * domain (the signaller). Signals OR bits in, or wake the waiter with them; the waiter takes them all.
 */
import type { Theory } from '../../../proof/sorts.js';
import { E } from '../errors.js';
import type { Kit } from '../kit.js';
import { BLOCKED_NTF, CAP_NOTIFICATION, GRANT, SIGNAL, WAIT, type KState } from '../state.js';
import type { CallImpls } from './define.js';

/** Raises `bits` on notification n: wakes its waiter with them, or leaves them pending. */
export function raise<T extends Theory>(
  x: Kit<T>,
  s: KState<T>,
  n: T['bv'],
  bits: T['bv'],
  call: string,
): KState<T> {
  const { o } = x;
  const w = o.select(s.ntfWaiter, n);
  const pending = o.bor(o.select(s.ntfPending, n), bits);
  const z = x.word(0);
  return o.ite(
    x.isNone(w),
    () => x.set(s, { ntfPending: o.store(s.ntfPending, n, pending) }),
    () => {
      const s1 = x.wake(s, w, { status: E.OK, label: z, badge: pending, mr: [z, z, z, z] });
      return x.set(s1, {
        ntfWaiter: x.upd(`${call}.dequeue`, () => o.store(s1.ntfWaiter, n, x.NONE), s1.ntfWaiter),
        ntfPending: o.store(s1.ntfPending, n, z),
      });
    },
  );
}

export const notificationCalls: CallImpls<
  | 'notification_create'
  | 'notification_destroy'
  | 'notification_signal'
  | 'notification_wait'
  | 'notification_poll'
> = {
  notification_create: (x, s, a) => {
    const { o, k, c } = x;
    const n = a.notification;
    return x.run(
      s,
      [
        { name: 'notification_create.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        {
          name: 'notification_create.notification',
          ok: () => x.inRange(n, c.p.notifications),
          code: E.EINVAL,
        },
        {
          name: 'notification_create.pool',
          ok: () => o.eq(o.select(s.ntfDom, n), x.dom(s, a.caller)),
          code: E.EPERM,
        },
        { name: 'notification_create.free', ok: () => x.isNone(o.select(s.ntfOwner, n)), code: E.EBUSY },
        { name: 'notification_create.slot', ok: () => x.inRange(a.slot, c.p.capSlots), code: E.EINVAL },
        { name: 'notification_create.slot-free', ok: () => x.slotFree(s, a.caller, a.slot), code: E.EEXIST },
      ],
      () => {
        const s1 = x.writeCap(s, a.caller, a.slot, {
          type: x.lit(k.Small, CAP_NOTIFICATION),
          obj: n,
          rights: x.lit(k.Rights, SIGNAL | WAIT | GRANT),
          gen: o.select(s.ntfGen, n),
          badge: x.word(0),
        });
        return {
          state: x.set(s1, {
            ntfOwner: o.store(s1.ntfOwner, n, a.caller),
            partOwned: x.upd(
              'notification_create.owned',
              () => x.bump(s1.partOwned, a.caller, k.Count),
              s1.partOwned,
            ),
          }),
        };
      },
    );
  },

  notification_destroy: (x, s, a) => {
    const { o, k, c } = x;
    const n = a.notification;
    const owner = o.select(s.ntfOwner, n);
    const gen = o.select(s.ntfGen, n);
    return x.run(
      s,
      [
        { name: 'notification_destroy.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        {
          name: 'notification_destroy.notification',
          ok: () => x.inRange(n, c.p.notifications),
          code: E.EINVAL,
        },
        {
          name: 'notification_destroy.owner',
          ok: () => o.or(o.eq(owner, a.caller), o.and(x.isAdmin(s, a.caller), o.not(x.isNone(owner)))),
          code: E.EPERM,
        },
        {
          name: 'notification_destroy.generation',
          ok: () => o.ne(gen, o.lit(k.Gen, k.Gen.mask)),
          code: E.EOVERFLOW,
        },
      ],
      () => {
        const w = o.select(s.ntfWaiter, n);
        const s1 = x.upd(
          'notification_destroy.cancel',
          () =>
            o.ite(
              x.isNone(w),
              () => s,
              () => x.set(x.cancel(s, w), { ntfWaiter: o.store(s.ntfWaiter, n, x.NONE) }),
            ),
          s,
        );
        return {
          state: x.set(s1, {
            ntfOwner: o.store(s1.ntfOwner, n, x.NONE),
            ntfPending: x.upd(
              'notification_destroy.clear',
              () => o.store(s1.ntfPending, n, x.word(0)),
              s1.ntfPending,
            ),
            ntfGen: x.upd(
              'notification_destroy.revoke',
              () => o.store(s1.ntfGen, n, x.inc(gen, k.Gen)),
              s1.ntfGen,
            ),
            partOwned: x.upd(
              'notification_destroy.owned',
              () => x.drop(s1.partOwned, owner, k.Count),
              s1.partOwned,
            ),
          }),
        };
      },
    );
  },

  notification_signal: (x, s, a) => {
    const { o, k } = x;
    const cap = x.cap(s, a.caller, a.slot);
    return x.run(
      s,
      [
        { name: 'notification_signal.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'notification_signal.cap', ok: () => x.capIs(s, cap, CAP_NOTIFICATION), code: E.ENOCAP },
        {
          name: 'notification_signal.right',
          ok: () => x.subset(x.lit(k.Rights, SIGNAL), cap.rights),
          code: E.ERIGHTS,
        },
        { name: 'notification_signal.bits', ok: () => o.ne(a.bits, x.word(0)), code: E.EINVAL },
      ],
      () => ({ state: raise(x, s, cap.obj, a.bits, 'notification_signal') }),
    );
  },

  notification_wait: (x, s, a) => {
    const { o, k } = x;
    const cap = x.cap(s, a.caller, a.slot);
    const n = cap.obj;
    const pending = o.select(s.ntfPending, n);
    const none = o.eq(pending, x.word(0));
    return x.run(
      s,
      [
        { name: 'notification_wait.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'notification_wait.cap', ok: () => x.capIs(s, cap, CAP_NOTIFICATION), code: E.ENOCAP },
        {
          name: 'notification_wait.right',
          ok: () => x.subset(x.lit(k.Rights, WAIT), cap.rights),
          code: E.ERIGHTS,
        },
        {
          name: 'notification_wait.domain',
          ok: () => o.eq(x.dom(s, a.caller), o.select(s.ntfDom, n)),
          code: E.EPERM,
        },
        {
          name: 'notification_wait.idle',
          ok: () => o.or(o.not(none), x.isNone(o.select(s.ntfWaiter, n))),
          code: E.EBUSY,
        },
      ],
      () =>
        o.ite(
          none,
          () => {
            const s1 = x.block(s, a.caller, BLOCKED_NTF, n);
            return {
              state: x.set(s1, {
                ntfWaiter: x.upd(
                  'notification_wait.enqueue',
                  () => o.store(s1.ntfWaiter, n, a.caller),
                  s1.ntfWaiter,
                ),
              }),
              code: x.code(E.BLOCKED),
              value: x.word(0),
            };
          },
          () => ({
            state: x.set(s, {
              ntfPending: x.upd(
                'notification_wait.take',
                () => o.store(s.ntfPending, n, x.word(0)),
                s.ntfPending,
              ),
            }),
            code: x.code(E.OK),
            value: pending,
          }),
        ),
    );
  },

  notification_poll: (x, s, a) => {
    const { o, k } = x;
    const cap = x.cap(s, a.caller, a.slot);
    const n = cap.obj;
    return x.run(
      s,
      [
        { name: 'notification_poll.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'notification_poll.cap', ok: () => x.capIs(s, cap, CAP_NOTIFICATION), code: E.ENOCAP },
        {
          name: 'notification_poll.right',
          ok: () => x.subset(x.lit(k.Rights, WAIT), cap.rights),
          code: E.ERIGHTS,
        },
        {
          name: 'notification_poll.domain',
          ok: () => o.eq(x.dom(s, a.caller), o.select(s.ntfDom, n)),
          code: E.EPERM,
        },
      ],
      () => ({
        state: x.set(s, {
          ntfPending: x.upd(
            'notification_poll.take',
            () => o.store(s.ntfPending, n, x.word(0)),
            s.ntfPending,
          ),
        }),
        value: o.select(s.ntfPending, n),
      }),
    );
  },
};
