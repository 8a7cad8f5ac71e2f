/**
 * Devices: each in one domain's pool with a static world (the TZPC's assignment). The owner binds the
 * interrupt line to a bit of a notification of the device's own domain; `irq_raise` is issued by the
 * runtime when the line rises and acts for the device's domain. A raised line stays masked until the
 * owner acknowledges it (the interrupt controller keeps a line raised meanwhile pending).
 */
import { E } from '../errors.js';
import { CAP_NOTIFICATION, SIGNAL } from '../state.js';
import type { CallImpls } from './define.js';
import { raise } from './notification.js';

export const deviceCalls: CallImpls<
  'device_claim' | 'device_release' | 'irq_bind' | 'irq_ack' | 'irq_raise'
> = {
  device_claim: (x, s, a) => {
    const { o, k, c } = x;
    const v = a.device;
    return x.run(
      s,
      [
        { name: 'device_claim.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'device_claim.device', ok: () => x.inRange(v, c.p.devices), code: E.EINVAL },
        {
          name: 'device_claim.pool',
          ok: () => o.eq(o.select(s.devDom, v), x.dom(s, a.caller)),
          code: E.EPERM,
        },
        { name: 'device_claim.free', ok: () => x.isNone(o.select(s.devOwner, v)), code: E.EBUSY },
      ],
      () => ({
        state: x.set(s, {
          devOwner: o.store(s.devOwner, v, a.caller),
          partOwned: x.upd('device_claim.owned', () => x.bump(s.partOwned, a.caller, k.Count), s.partOwned),
        }),
      }),
    );
  },

  device_release: (x, s, a) => {
    const { o, k, c } = x;
    const v = a.device;
    const owner = o.select(s.devOwner, v);
    return x.run(
      s,
      [
        { name: 'device_release.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'device_release.device', ok: () => x.inRange(v, c.p.devices), code: E.EINVAL },
        {
          name: 'device_release.owner',
          ok: () => o.or(o.eq(owner, a.caller), o.and(x.isAdmin(s, a.caller), o.not(x.isNone(owner)))),
          code: E.EPERM,
        },
        {
          name: 'device_release.windows',
          ok: () => o.eq(o.select(s.devWindows, v), o.lit(k.Count, 0)),
          code: E.EBUSY,
        },
      ],
      () => ({
        state: x.set(s, {
          devOwner: o.store(s.devOwner, v, x.NONE),
          devNtf: x.upd('device_release.unbind', () => o.store(s.devNtf, v, x.NONE), s.devNtf),
          devMasked: x.upd(
            'device_release.unmask',
            () => o.store(s.devMasked, v, x.lit(k.Bit, 0)),
            s.devMasked,
          ),
          partOwned: x.upd('device_release.owned', () => x.drop(s.partOwned, owner, k.Count), s.partOwned),
        }),
      }),
    );
  },

  irq_bind: (x, s, a) => {
    const { o, k, c } = x;
    const v = a.device;
    const cap = x.cap(s, a.caller, a.slot);
    return x.run(
      s,
      [
        { name: 'irq_bind.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'irq_bind.device', ok: () => x.inRange(v, c.p.devices), code: E.EINVAL },
        { name: 'irq_bind.owner', ok: () => o.eq(o.select(s.devOwner, v), a.caller), code: E.EPERM },
        { name: 'irq_bind.cap', ok: () => x.capIs(s, cap, CAP_NOTIFICATION), code: E.ENOCAP },
        { name: 'irq_bind.right', ok: () => x.subset(x.lit(k.Rights, SIGNAL), cap.rights), code: E.ERIGHTS },
        {
          // Interrupts are delivered to the device's own domain, so a secure line never reaches the Normal World.
          name: 'irq_bind.domain',
          ok: () => o.eq(o.select(s.ntfDom, cap.obj), o.select(s.devDom, v)),
          code: E.EPERM,
        },
      ],
      () => ({
        state: x.set(s, {
          devNtf: o.store(s.devNtf, v, cap.obj),
          devBindGen: x.upd('irq_bind.generation', () => o.store(s.devBindGen, v, cap.gen), s.devBindGen),
          devBit: o.store(s.devBit, v, a.bit),
        }),
      }),
    );
  },

  irq_ack: (x, s, a) => {
    const { o, k, c } = x;
    const v = a.device;
    return x.run(
      s,
      [
        { name: 'irq_ack.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'irq_ack.device', ok: () => x.inRange(v, c.p.devices), code: E.EINVAL },
        { name: 'irq_ack.owner', ok: () => o.eq(o.select(s.devOwner, v), a.caller), code: E.EPERM },
      ],
      () => ({ state: x.set(s, { devMasked: o.store(s.devMasked, v, x.lit(k.Bit, 0)) }) }),
    );
  },

  irq_raise: (x, s, a) => {
    const { o, k, c } = x;
    const v = a.device;
    const n = o.select(s.devNtf, v);
    return x.run(
      s,
      [
        { name: 'irq_raise.device', ok: () => x.inRange(v, c.p.devices), code: E.EINVAL },
        {
          name: 'irq_raise.bound',
          ok: () => o.and(o.not(x.isNone(n)), o.eq(o.select(s.devBindGen, v), o.select(s.ntfGen, n))),
          code: E.EMASKED,
        },
        {
          name: 'irq_raise.unmasked',
          ok: () => o.eq(o.select(s.devMasked, v), x.lit(k.Bit, 0)),
          code: E.EMASKED,
        },
      ],
      () => {
        const bit = o.shl(k.Word, x.word(1), o.zext(k.Word, o.select(s.devBit, v)));
        const s1 = raise(x, s, n, bit, 'irq_raise');
        return {
          state: x.set(s1, {
            devMasked: x.upd('irq_raise.mask', () => o.store(s1.devMasked, v, x.lit(k.Bit, 1)), s1.devMasked),
          }),
        };
      },
    );
  },
};
