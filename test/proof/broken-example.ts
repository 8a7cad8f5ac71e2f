/**
 * A deliberately broken example, kept in the test suite: per-domain quotas whose `give` forgets to check
 * that the giver has enough, so a quota underflows and the total is no longer conserved. The prover must
 * find it; `fixed` restores the guard.
 */
import { Guards } from '../../src/proof/guards.js';
import {
  defineCall,
  invariantObligations,
  type MachineDef,
  type Obligation,
} from '../../src/proof/obligation.js';
import { array, bv, record } from '../../src/proof/sorts.js';

export const TOTAL = 50;
const Domain = bv(2);
const Amount = bv(6);
const Wide = bv(8);
const State = record({ quota: array(4, Amount, Domain) });
const GiveArgs = record({ caller: Domain, to: Domain, amount: Amount });

function quotas(g: Guards): MachineDef<typeof State> {
  return {
    name: 'quotas',
    state: State,
    init: (o) => ({
      quota: o.store(
        o.constArray(State.fields.quota, o.lit(Amount, 0)),
        o.lit(Domain, 0),
        o.lit(Amount, TOTAL),
      ),
    }),
    calls: {
      give: defineCall(State, GiveArgs, (o, s, a) => {
        const enough = g.check(o, 'give.enough', o.uge(o.select(s.quota, a.caller), a.amount));
        const distinct = o.ne(a.caller, a.to);
        const q1 = o.store(s.quota, a.caller, o.sub(Amount, o.select(s.quota, a.caller), a.amount));
        const next = { quota: o.store(q1, a.to, o.add(Amount, o.select(q1, a.to), a.amount)) };
        const ok = o.and(enough, distinct);
        return {
          state: o.ite(
            ok,
            () => next,
            () => s,
          ),
          ret: o.ite(
            ok,
            () => o.lit(Amount, 0),
            () => o.lit(Amount, 1),
          ),
        };
      }),
    },
  };
}

function obligations(g: Guards): Obligation[] {
  return invariantObligations('broken/quotas', quotas(g), (o, s) => ({
    'quotas sum to TOTAL': o.eq(o.sum(Wide, s.quota), o.lit(Wide, TOTAL)),
  }));
}

/** The bug: `give` without its `enough` guard. */
export const brokenQuotas = (): Obligation[] => obligations(new Guards(new Set(['give.enough'])));
/** The fix. */
export const fixedQuotas = (): Obligation[] => obligations(new Guards());
