/**
 * The API sketch of docs/proof.md, compiled and proven by the test suite: a capability copy in the style
 * the separation kernel uses (per-partition capability tables as a matrix, rights as a bitmask, one
 * `ite` over the whole state, errors as codes, guards named for the mutation check).
 */
import {
  array,
  bv,
  defineCall,
  invariantObligations,
  lemma,
  matrix,
  productionGuards,
  record,
  type Guards,
  type Obligation,
  type Ops,
  type Theory,
  type Val,
} from '../../src/proof/index.js';

export const NPART = 4;
export const NSLOT = 4;
export const NOBJ = 8;
const Part = bv(2);
const SlotIdx = bv(2);
const Obj = bv(3);
const Rights = bv(4);
const Errno = bv(8);
export const GRANT = 0b1000;
export const [OK, EINVAL, EPERM, EBUSY] = [0, 1, 2, 3];

export const KState = record({
  capObj: matrix(NPART, NSLOT, Obj, Part, SlotIdx),
  capRights: matrix(NPART, NSLOT, Rights, Part, SlotIdx),
  /** The most an object's capabilities may ever grant. */
  maxRights: array(NOBJ, Rights, Obj),
});
export type KState<T extends Theory> = Val<T, typeof KState>;

const CopyArgs = record({ caller: Part, slot: SlotIdx, to: Part, toSlot: SlotIdx, mask: Rights });

/** cap_copy: give partition `to` a copy of the caller's capability in `slot`, with at most `mask` rights. */
export function capCopy<T extends Theory>(
  o: Ops<T>,
  s: KState<T>,
  a: Val<T, typeof CopyArgs>,
  g: Guards = productionGuards,
) {
  const rights = o.select2(s.capRights, a.caller, a.slot);
  const mayGrant = g.check(o, 'copy.grant', o.ne(o.band(rights, o.lit(Rights, GRANT)), o.lit(Rights, 0)));
  const empty = g.check(o, 'copy.empty', o.eq(o.select2(s.capRights, a.to, a.toSlot), o.lit(Rights, 0)));
  const next = {
    ...s,
    capObj: o.store2(s.capObj, a.to, a.toSlot, o.select2(s.capObj, a.caller, a.slot)),
    capRights: o.store2(
      s.capRights,
      a.to,
      a.toSlot,
      g.update(
        'copy.attenuate',
        () => o.band(rights, a.mask),
        () => a.mask,
      ),
    ),
  };
  return {
    state: o.ite(
      o.and(mayGrant, empty),
      () => next,
      () => s,
    ),
    ret: o.ite(
      mayGrant,
      () =>
        o.ite(
          empty,
          () => o.lit(Errno, OK),
          () => o.lit(Errno, EBUSY),
        ),
      () => o.lit(Errno, EPERM),
    ),
  };
}

/** No capability holds a right its object does not allow. */
export function noAmplification<T extends Theory>(o: Ops<T>, s: KState<T>) {
  return {
    'rights ⊆ maxRights(object)': o.forall2(Part, NPART, SlotIdx, NSLOT, (p, i) => {
      const max = o.select(s.maxRights, o.select2(s.capObj, p, i));
      return o.eq(o.band(o.select2(s.capRights, p, i), o.bnot(Rights, max)), o.lit(Rights, 0));
    }),
  };
}

export function kernelSketchObligations(g: Guards = productionGuards): Obligation[] {
  const machine = {
    name: 'caps',
    state: KState,
    init: <T extends Theory>(o: Ops<T>) => ({
      capObj: o.constArray(KState.fields.capObj, o.lit(Obj, 0)),
      capRights: o.constArray(KState.fields.capRights, o.lit(Rights, 0)),
      maxRights: o.constArray(KState.fields.maxRights, o.lit(Rights, 0b1111)),
    }),
    calls: { copy: defineCall(KState, CopyArgs, (o, s, a) => capCopy(o, s, a, g)) },
  };
  const integrity = record({ before: KState, args: CopyArgs });
  return [
    ...invariantObligations('sketch/caps', machine, noAmplification),
    // Integrity, as a plain lemma: without GRANT, or onto an occupied slot, copy changes nothing.
    lemma('sketch/caps/integrity/copy', integrity, (o, x) => {
      const after = capCopy(o, x.before, x.args, g).state;
      const rights = o.select2(x.before.capRights, x.args.caller, x.args.slot);
      const grant = o.ne(o.band(rights, o.lit(Rights, GRANT)), o.lit(Rights, 0));
      const occupied = o.ne(o.select2(x.before.capRights, x.args.to, x.args.toSlot), o.lit(Rights, 0));
      return {
        prove: {
          'no GRANT ⇒ unchanged': o.implies(o.not(grant), o.equal(after, x.before)),
          'occupied target ⇒ unchanged': o.implies(occupied, o.equal(after, x.before)),
        },
        show: { before: x.before, args: x.args, after },
      };
    }),
  ];
}
