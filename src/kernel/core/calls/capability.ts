/**
 * Capabilities: per-partition slots naming an endpoint or a notification with rights and the object's
 * generation. A partition copies within its own domain; the admin authority wires the channels between
 * domains (the static configuration says which). Copies never carry more rights, go only to partitions
 * of the object's two domains, and never give the Normal World a capability to a secure object.
 * Revocation bumps the object's generation: every other capability goes stale in O(1).
 */
import type { Theory } from '../../../proof/sorts.js';
import { E } from '../errors.js';
import type { Kit } from '../kit.js';
import { CAP_ENDPOINT, CAP_NONE, GRANT, type KState } from '../state.js';
import type { CallImpls } from './define.js';

/** The pool domain and the peer domain of the object a capability of `type` names. */
export function objDomains<T extends Theory>(x: Kit<T>, s: KState<T>, type: T['bv'], obj: T['bv']) {
  const { o, k } = x;
  const ep = o.eq(type, x.lit(k.Small, CAP_ENDPOINT));
  return {
    dom: o.ite(
      ep,
      () => o.select(s.epDom, obj),
      () => o.select(s.ntfDom, obj),
    ),
    peer: o.ite(
      ep,
      () => o.select(s.epPeer, obj),
      () => o.select(s.ntfPeer, obj),
    ),
  };
}

export function objOwner<T extends Theory>(x: Kit<T>, s: KState<T>, type: T['bv'], obj: T['bv']): T['bv'] {
  const { o, k } = x;
  return o.ite(
    o.eq(type, x.lit(k.Small, CAP_ENDPOINT)),
    () => o.select(s.epOwner, obj),
    () => o.select(s.ntfOwner, obj),
  );
}

export const capabilityCalls: CallImpls<'cap_copy' | 'cap_revoke' | 'cap_delete'> = {
  cap_copy: (x, s, a) => {
    const { o, k, c } = x;
    const src = x.cap(s, a.from, a.slot);
    const d = objDomains(x, s, src.type, src.obj);
    const to = x.dom(s, a.to);
    return x.run(
      s,
      [
        { name: 'cap_copy.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        {
          name: 'cap_copy.source',
          ok: () => o.or(o.eq(a.from, a.caller), x.isAdmin(s, a.caller)),
          code: E.EPERM,
        },
        { name: 'cap_copy.cap', ok: () => x.capValid(s, src), code: E.ENOCAP },
        { name: 'cap_copy.grant', ok: () => x.subset(x.lit(k.Rights, GRANT), src.rights), code: E.ERIGHTS },
        { name: 'cap_copy.rights', ok: () => x.subset(a.rights, src.rights), code: E.ERIGHTS },
        { name: 'cap_copy.target', ok: () => x.inRange(a.to, c.p.partitions), code: E.EINVAL },
        {
          // Across domains only the admin authority copies: a copy into another domain's slot would tell
          // the copier whether that slot (and that partition) is in use.
          name: 'cap_copy.local',
          ok: () => o.or(o.eq(to, x.dom(s, a.caller)), x.isAdmin(s, a.caller)),
          code: E.EPERM,
        },
        { name: 'cap_copy.domain', ok: () => o.or(o.eq(to, d.dom), o.eq(to, d.peer)), code: E.EPERM },
        {
          // The Normal World never holds a capability to a secure object.
          name: 'cap_copy.world',
          ok: () => o.implies(x.secureDom(s, d.dom), x.secureDom(s, to)),
          code: E.EWORLD,
        },
        { name: 'cap_copy.slot', ok: () => x.inRange(a.toSlot, c.p.capSlots), code: E.EINVAL },
        { name: 'cap_copy.live', ok: () => x.live(s, a.to), code: E.ESTATE },
        { name: 'cap_copy.slot-free', ok: () => x.slotFree(s, a.to, a.toSlot), code: E.EEXIST },
      ],
      () => ({
        state: x.writeCap(s, a.to, a.toSlot, {
          type: src.type,
          obj: src.obj,
          rights: a.rights,
          gen: src.gen,
          // A badge, once set, stays: only an unbadged capability can be badged.
          badge: x.upd(
            'cap_copy.badge',
            () =>
              o.ite(
                o.eq(src.badge, x.word(0)),
                () => a.badge,
                () => src.badge,
              ),
            a.badge,
          ),
        }),
      }),
    );
  },

  cap_revoke: (x, s, a) => {
    const { o, k } = x;
    const cap = x.cap(s, a.caller, a.slot);
    const gen = x.objGen(s, cap.type, cap.obj);
    const next = x.inc(gen, k.Gen);
    const ep = o.eq(cap.type, x.lit(k.Small, CAP_ENDPOINT));
    return x.run(
      s,
      [
        { name: 'cap_revoke.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'cap_revoke.cap', ok: () => x.capValid(s, cap), code: E.ENOCAP },
        {
          name: 'cap_revoke.owner',
          ok: () => o.eq(objOwner(x, s, cap.type, cap.obj), a.caller),
          code: E.EPERM,
        },
        { name: 'cap_revoke.generation', ok: () => o.ne(gen, o.lit(k.Gen, k.Gen.mask)), code: E.EOVERFLOW },
      ],
      () => {
        const s1 = x.upd(
          'cap_revoke.bump',
          () =>
            o.ite(
              ep,
              () => x.set(s, { epGen: o.store(s.epGen, cap.obj, next) }),
              () => x.set(s, { ntfGen: o.store(s.ntfGen, cap.obj, next) }),
            ),
          s,
        );
        // The owner's own capability survives, at the new generation.
        return {
          state: x.set(s1, {
            capGen: x.upd('cap_revoke.keep', () => o.store2(s1.capGen, a.caller, a.slot, next), s1.capGen),
          }),
        };
      },
    );
  },

  cap_delete: (x, s, a) => {
    const { o, k } = x;
    return x.run(
      s,
      [
        { name: 'cap_delete.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'cap_delete.cap', ok: () => x.capValid(s, x.cap(s, a.caller, a.slot)), code: E.ENOENT },
      ],
      () => ({
        state: x.set(s, { capType: o.store2(s.capType, a.caller, a.slot, x.lit(k.Small, CAP_NONE)) }),
      }),
    );
  },
};
