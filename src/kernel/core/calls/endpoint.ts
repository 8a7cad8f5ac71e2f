/**
 * Endpoints: synchronous IPC between the endpoint's domain (receivers) and its peer domain (clients).
 * A send never queues: it meets a waiting receiver or fails with ENORECV, so nothing a client does is
 * visible to anyone but the endpoint's two domains. A call leaves the receiver a one-shot reply
 * capability (`partReplyTo`). The SMC entry is a call through the monitor's table instead of a capability.
 */
import type { Theory } from '../../../proof/sorts.js';
import { E } from '../errors.js';
import type { Guard, Kit } from '../kit.js';
import { BLOCKED_RECV, BLOCKED_REPLY, CAP_ALL, CAP_ENDPOINT, RECV, SEND, type KState } from '../state.js';
import type { Args } from '../table.js';
import type { CallImpls } from './define.js';

type Message<T extends Theory> = Args<T, 'endpoint_send'>;

function mrs<T extends Theory>(a: Pick<Message<T>, 'mr0' | 'mr1' | 'mr2' | 'mr3'>): T['bv'][] {
  return [a.mr0, a.mr1, a.mr2, a.mr3];
}

/** Delivers a message to the receiver waiting on `e` (optionally leaving it a reply capability to `client`). */
function deliver<T extends Theory>(
  x: Kit<T>,
  s: KState<T>,
  e: T['bv'],
  badge: T['bv'],
  m: Pick<Message<T>, 'label' | 'mr0' | 'mr1' | 'mr2' | 'mr3'>,
  call: string,
): { state: KState<T>; receiver: T['bv'] } {
  const { o } = x;
  const w = o.select(s.epWaiter, e);
  const woken = x.wake(s, w, { status: E.OK, label: m.label, badge, mr: mrs(m) });
  return {
    receiver: w,
    state: x.set(woken, {
      epWaiter: x.upd(`${call}.dequeue`, () => o.store(woken.epWaiter, e, x.NONE), woken.epWaiter),
    }),
  };
}

/** The caller blocks for the reply of `w`, which gets the one-shot reply capability. */
function awaitReply<T extends Theory>(
  x: Kit<T>,
  s: KState<T>,
  caller: T['bv'],
  w: T['bv'],
  call: string,
): KState<T> {
  const s1 = x.block(s, caller, BLOCKED_REPLY, w);
  return x.set(s1, {
    partReplyTo: x.upd(`${call}.reply-cap`, () => x.o.store(s1.partReplyTo, w, caller), s1.partReplyTo),
  });
}

/** The checks before the caller may wait on the endpoint its slot names (`cap` is that slot's). */
function receiveGuards<T extends Theory>(
  x: Kit<T>,
  s: KState<T>,
  caller: T['bv'],
  cap: ReturnType<Kit<T>['cap']>,
  call: string,
): Guard<T>[] {
  const { o } = x;
  return [
    { name: `${call}.cap`, ok: () => x.capIs(s, cap, CAP_ENDPOINT), code: E.ENOCAP },
    { name: `${call}.right`, ok: () => x.subset(x.lit(x.k.Rights, RECV), cap.rights), code: E.ERIGHTS },
    { name: `${call}.domain`, ok: () => o.eq(x.dom(s, caller), o.select(s.epDom, cap.obj)), code: E.EPERM },
    { name: `${call}.idle`, ok: () => x.isNone(o.select(s.epWaiter, cap.obj)), code: E.EBUSY },
  ];
}

/** The caller blocks as the receiver waiting on `e`. */
function awaitMessage<T extends Theory>(x: Kit<T>, s: KState<T>, caller: T['bv'], e: T['bv'], call: string) {
  const s1 = x.block(s, caller, BLOCKED_RECV, e);
  return x.set(s1, {
    epWaiter: x.upd(`${call}.enqueue`, () => x.o.store(s1.epWaiter, e, caller), s1.epWaiter),
  });
}

/** Wakes the caller's client with the answer and consumes the reply capability. */
function answer<T extends Theory>(
  x: Kit<T>,
  s: KState<T>,
  a: Pick<Message<T>, 'caller' | 'label' | 'mr0' | 'mr1' | 'mr2' | 'mr3'>,
  client: T['bv'],
  call: string,
): KState<T> {
  const s1 = x.wake(s, client, { status: E.OK, label: a.label, badge: x.word(0), mr: mrs(a) });
  return x.set(s1, {
    partReplyTo: x.upd(`${call}.consume`, () => x.o.store(s1.partReplyTo, a.caller, x.NONE), s1.partReplyTo),
  });
}

export const endpointCalls: CallImpls<
  | 'endpoint_create'
  | 'endpoint_destroy'
  | 'endpoint_send'
  | 'endpoint_call'
  | 'endpoint_receive'
  | 'endpoint_reply'
  | 'endpoint_reply_receive'
  | 'smc_register'
  | 'smc'
> = {
  endpoint_create: (x, s, a) => {
    const { o, k, c } = x;
    const e = a.endpoint;
    return x.run(
      s,
      [
        { name: 'endpoint_create.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'endpoint_create.endpoint', ok: () => x.inRange(e, c.p.endpoints), code: E.EINVAL },
        {
          name: 'endpoint_create.pool',
          ok: () => o.eq(o.select(s.epDom, e), x.dom(s, a.caller)),
          code: E.EPERM,
        },
        { name: 'endpoint_create.free', ok: () => x.isNone(o.select(s.epOwner, e)), code: E.EBUSY },
        { name: 'endpoint_create.slot', ok: () => x.inRange(a.slot, c.p.capSlots), code: E.EINVAL },
        { name: 'endpoint_create.slot-free', ok: () => x.slotFree(s, a.caller, a.slot), code: E.EEXIST },
      ],
      () => {
        const s1 = x.writeCap(s, a.caller, a.slot, {
          type: x.lit(k.Small, CAP_ENDPOINT),
          obj: e,
          rights: x.lit(k.Rights, CAP_ALL),
          gen: o.select(s.epGen, e),
          badge: x.word(0),
        });
        return {
          state: x.set(s1, {
            epOwner: o.store(s1.epOwner, e, a.caller),
            partOwned: x.upd(
              'endpoint_create.owned',
              () => x.bump(s1.partOwned, a.caller, k.Count),
              s1.partOwned,
            ),
          }),
        };
      },
    );
  },

  endpoint_destroy: (x, s, a) => {
    const { o, k, c } = x;
    const e = a.endpoint;
    const owner = o.select(s.epOwner, e);
    const gen = o.select(s.epGen, e);
    return x.run(
      s,
      [
        { name: 'endpoint_destroy.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'endpoint_destroy.endpoint', ok: () => x.inRange(e, c.p.endpoints), code: E.EINVAL },
        {
          name: 'endpoint_destroy.owner',
          ok: () => o.or(o.eq(owner, a.caller), o.and(x.isAdmin(s, a.caller), o.not(x.isNone(owner)))),
          code: E.EPERM,
        },
        {
          name: 'endpoint_destroy.generation',
          ok: () => o.ne(gen, o.lit(k.Gen, k.Gen.mask)),
          code: E.EOVERFLOW,
        },
      ],
      () => {
        const w = o.select(s.epWaiter, e);
        const s1 = x.upd(
          'endpoint_destroy.cancel',
          () =>
            o.ite(
              x.isNone(w),
              () => s,
              () => x.set(x.cancel(s, w), { epWaiter: o.store(s.epWaiter, e, x.NONE) }),
            ),
          s,
        );
        return {
          state: x.set(s1, {
            epOwner: o.store(s1.epOwner, e, x.NONE),
            epGen: x.upd('endpoint_destroy.revoke', () => o.store(s1.epGen, e, x.inc(gen, k.Gen)), s1.epGen),
            partOwned: x.upd(
              'endpoint_destroy.owned',
              () => x.drop(s1.partOwned, owner, k.Count),
              s1.partOwned,
            ),
          }),
        };
      },
    );
  },

  endpoint_send: (x, s, a) => {
    const cap = x.cap(s, a.caller, a.slot);
    return x.run(
      s,
      [
        { name: 'endpoint_send.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'endpoint_send.cap', ok: () => x.capIs(s, cap, CAP_ENDPOINT), code: E.ENOCAP },
        {
          name: 'endpoint_send.right',
          ok: () => x.subset(x.lit(x.k.Rights, SEND), cap.rights),
          code: E.ERIGHTS,
        },
        {
          name: 'endpoint_send.receiver',
          ok: () => x.o.not(x.isNone(x.o.select(s.epWaiter, cap.obj))),
          code: E.ENORECV,
        },
      ],
      () => ({ state: deliver(x, s, cap.obj, cap.badge, a, 'endpoint_send').state }),
    );
  },

  endpoint_call: (x, s, a) => {
    const { o } = x;
    const cap = x.cap(s, a.caller, a.slot);
    return x.run(
      s,
      [
        { name: 'endpoint_call.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'endpoint_call.cap', ok: () => x.capIs(s, cap, CAP_ENDPOINT), code: E.ENOCAP },
        {
          name: 'endpoint_call.right',
          ok: () => x.subset(x.lit(x.k.Rights, SEND), cap.rights),
          code: E.ERIGHTS,
        },
        {
          // A secure partition never waits on a reply from the Normal World.
          name: 'endpoint_call.world',
          ok: () => o.implies(x.securePart(s, a.caller), x.secureDom(s, o.select(s.epDom, cap.obj))),
          code: E.EWORLD,
        },
        {
          name: 'endpoint_call.receiver',
          ok: () => o.not(x.isNone(o.select(s.epWaiter, cap.obj))),
          code: E.ENORECV,
        },
      ],
      () => {
        const d = deliver(x, s, cap.obj, cap.badge, a, 'endpoint_call');
        return {
          state: awaitReply(x, d.state, a.caller, d.receiver, 'endpoint_call'),
          code: x.code(E.BLOCKED),
        };
      },
    );
  },

  endpoint_receive: (x, s, a) => {
    const { o } = x;
    const cap = x.cap(s, a.caller, a.slot);
    return x.run(
      s,
      [
        { name: 'endpoint_receive.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        ...receiveGuards(x, s, a.caller, cap, 'endpoint_receive'),
        {
          name: 'endpoint_receive.replied',
          ok: () => x.isNone(o.select(s.partReplyTo, a.caller)),
          code: E.EBUSY,
        },
      ],
      () => ({ state: awaitMessage(x, s, a.caller, cap.obj, 'endpoint_receive'), code: x.code(E.BLOCKED) }),
    );
  },

  endpoint_reply: (x, s, a) => {
    const { o } = x;
    const client = o.select(s.partReplyTo, a.caller);
    return x.run(
      s,
      [
        { name: 'endpoint_reply.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'endpoint_reply.reply-cap', ok: () => o.not(x.isNone(client)), code: E.ENOREPLY },
      ],
      () => ({ state: answer(x, s, a, client, 'endpoint_reply') }),
    );
  },

  endpoint_reply_receive: (x, s, a) => {
    const { o } = x;
    const client = o.select(s.partReplyTo, a.caller);
    const cap = x.cap(s, a.caller, a.slot);
    const call = 'endpoint_reply_receive';
    return x.run(
      s,
      [
        { name: `${call}.caller`, ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: `${call}.reply-cap`, ok: () => o.not(x.isNone(client)), code: E.ENOREPLY },
        ...receiveGuards(x, s, a.caller, cap, call),
      ],
      () => ({
        state: awaitMessage(x, answer(x, s, a, client, call), a.caller, cap.obj, call),
        code: x.code(E.BLOCKED),
      }),
    );
  },

  smc_register: (x, s, a) => {
    const { o, k, c } = x;
    const valid = o.eq(a.valid, x.lit(k.Bit, 1));
    return x.run(
      s,
      [
        { name: 'smc_register.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'smc_register.admin', ok: () => x.isAdmin(s, a.caller), code: E.EPERM },
        { name: 'smc_register.entry', ok: () => x.inRange(a.entry, c.p.smcEntries), code: E.EINVAL },
        {
          name: 'smc_register.endpoint',
          ok: () => o.implies(valid, x.inRange(a.endpoint, c.p.endpoints)),
          code: E.EINVAL,
        },
        {
          // An entry leads from a non-secure domain into a secure one, nowhere else.
          name: 'smc_register.world',
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
        state: x.set(s, {
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
        }),
      }),
    );
  },

  smc: (x, s, a) => {
    const { o, k } = x;
    const e = o.select(s.smcEp, a.entry);
    return x.run(
      s,
      [
        { name: 'smc.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'smc.entry', ok: () => o.eq(o.select(s.smcValid, a.entry), x.lit(k.Bit, 1)), code: E.ENOENT },
        { name: 'smc.peer', ok: () => o.eq(o.select(s.epPeer, e), x.dom(s, a.caller)), code: E.EPERM },
        { name: 'smc.receiver', ok: () => o.not(x.isNone(o.select(s.epWaiter, e))), code: E.ENORECV },
      ],
      () => {
        const d = deliver(x, s, e, o.zext(k.Word, a.entry), a, 'smc');
        return { state: awaitReply(x, d.state, a.caller, d.receiver, 'smc'), code: x.code(E.BLOCKED) };
      },
    );
  },
};
