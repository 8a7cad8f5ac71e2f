/**
 * Page ownership with exact reference counts (Hyperkernel's pattern, with the count kept by the kernel and
 * proven equal to the number of owned pages). The caller names the page; the kernel never searches.
 */
import type { Guards } from '../guards.js';
import { productionGuards } from '../guards.js';
import {
  defineCall,
  integrityObligations,
  invariantObligations,
  refinementObligations,
  type MachineDef,
  type Obligation,
} from '../obligation.js';
import type { Ops } from '../ops.js';
import { array, bv, record, type Theory, type Val } from '../sorts.js';

export const NPAGES = 8;
export const NDOMAINS = 4;
export const Domain = bv(3);
export const Page = bv(3);
export const Count = bv(4);
/** Owner value of a free page. */
export const FREE = 7;

export const Errno = bv(8);
export const OK = 0;
export const EINVAL = 1;
export const EPERM = 2;
export const EBUSY = 3;

export const PagesState = record({
  owner: array(NPAGES, Domain, Page),
  refs: array(NDOMAINS, Count, Domain),
});
export type PagesState<T extends Theory> = Val<T, typeof PagesState>;

const AllocArgs = record({ caller: Domain, page: Page });
const TransferArgs = record({ caller: Domain, page: Page, to: Domain });

function isDomain<T extends Theory>(o: Ops<T>, d: T['bv']): T['bool'] {
  return o.ult(d, o.lit(Domain, NDOMAINS));
}

/** The pages machine; `g` lets tests build mutants with one guard disabled. */
export function pagesMachine(g: Guards = productionGuards): MachineDef<typeof PagesState> {
  const one = <T extends Theory>(o: Ops<T>) => o.lit(Count, 1);
  return {
    name: 'pages',
    state: PagesState,
    init: (o) => ({
      owner: o.constArray(PagesState.fields.owner, o.lit(Domain, FREE)),
      refs: o.constArray(PagesState.fields.refs, o.lit(Count, 0)),
    }),
    calls: {
      alloc: defineCall(PagesState, AllocArgs, (o, s, a) => {
        const valid = g.check(o, 'alloc.caller', isDomain(o, a.caller));
        const free = g.check(o, 'alloc.free', o.eq(o.select(s.owner, a.page), o.lit(Domain, FREE)));
        const next = {
          owner: o.store(s.owner, a.page, a.caller),
          refs: o.store(s.refs, a.caller, o.add(Count, o.select(s.refs, a.caller), one(o))),
        };
        return {
          state: o.ite(
            o.and(valid, free),
            () => next,
            () => s,
          ),
          ret: o.ite(
            valid,
            () =>
              o.ite(
                free,
                () => o.lit(Errno, OK),
                () => o.lit(Errno, EBUSY),
              ),
            () => o.lit(Errno, EINVAL),
          ),
        };
      }),
      free: defineCall(PagesState, AllocArgs, (o, s, a) => {
        const mine = g.check(o, 'free.owner', o.eq(o.select(s.owner, a.page), a.caller));
        const next = {
          owner: o.store(s.owner, a.page, o.lit(Domain, FREE)),
          refs: o.store(s.refs, a.caller, o.sub(Count, o.select(s.refs, a.caller), one(o))),
        };
        return {
          state: o.ite(
            mine,
            () => next,
            () => s,
          ),
          ret: o.ite(
            mine,
            () => o.lit(Errno, OK),
            () => o.lit(Errno, EPERM),
          ),
        };
      }),
      transfer: defineCall(PagesState, TransferArgs, (o, s, a) => {
        const mine = g.check(o, 'transfer.owner', o.eq(o.select(s.owner, a.page), a.caller));
        const valid = g.check(o, 'transfer.to', isDomain(o, a.to));
        const refs1 = o.store(s.refs, a.caller, o.sub(Count, o.select(s.refs, a.caller), one(o)));
        const next = {
          owner: o.store(s.owner, a.page, a.to),
          refs: o.store(refs1, a.to, o.add(Count, o.select(refs1, a.to), one(o))),
        };
        const ok = o.and(mine, valid);
        return {
          state: o.ite(
            ok,
            () => next,
            () => s,
          ),
          ret: o.ite(
            mine,
            () =>
              o.ite(
                valid,
                () => o.lit(Errno, OK),
                () => o.lit(Errno, EINVAL),
              ),
            () => o.lit(Errno, EPERM),
          ),
        };
      }),
    },
  };
}

/** Representation invariant: every owner is a domain or FREE, and refs[d] counts the pages d owns. */
export function pagesInvariant<T extends Theory>(o: Ops<T>, s: PagesState<T>): Record<string, T['bool']> {
  const out: Record<string, T['bool']> = {
    'owners are domains or FREE': o.all(NPAGES, (p) => {
      const w = o.select(s.owner, o.lit(Page, p));
      return o.or(isDomain(o, w), o.eq(w, o.lit(Domain, FREE)));
    }),
  };
  for (let d = 0; d < NDOMAINS; d++) {
    out[`refs[${d}] = pages owned by ${d}`] = o.eq(
      o.select(s.refs, o.lit(Domain, d)),
      o.countEq(Count, s.owner, o.lit(Domain, d)),
    );
  }
  return out;
}

// ---- the specification: ownership only; counts are an implementation detail

export const PagesSpecState = record({ owner: array(NPAGES, Domain, Page) });

export const pagesSpec: MachineDef<typeof PagesSpecState> = {
  name: 'pages-spec',
  state: PagesSpecState,
  init: (o) => ({ owner: o.constArray(PagesSpecState.fields.owner, o.lit(Domain, FREE)) }),
  calls: {
    alloc: defineCall(PagesSpecState, AllocArgs, (o, s, a) => {
      const valid = isDomain(o, a.caller);
      const free = o.eq(o.select(s.owner, a.page), o.lit(Domain, FREE));
      return {
        state: o.ite(
          o.and(valid, free),
          () => ({ owner: o.store(s.owner, a.page, a.caller) }),
          () => s,
        ),
        ret: o.ite(
          valid,
          () =>
            o.ite(
              free,
              () => o.lit(Errno, OK),
              () => o.lit(Errno, EBUSY),
            ),
          () => o.lit(Errno, EINVAL),
        ),
      };
    }),
    free: defineCall(PagesSpecState, AllocArgs, (o, s, a) => {
      const mine = o.eq(o.select(s.owner, a.page), a.caller);
      return {
        state: o.ite(
          mine,
          () => ({ owner: o.store(s.owner, a.page, o.lit(Domain, FREE)) }),
          () => s,
        ),
        ret: o.ite(
          mine,
          () => o.lit(Errno, OK),
          () => o.lit(Errno, EPERM),
        ),
      };
    }),
    transfer: defineCall(PagesSpecState, TransferArgs, (o, s, a) => {
      const mine = o.eq(o.select(s.owner, a.page), a.caller);
      const valid = isDomain(o, a.to);
      return {
        state: o.ite(
          o.and(mine, valid),
          () => ({ owner: o.store(s.owner, a.page, a.to) }),
          () => s,
        ),
        ret: o.ite(
          mine,
          () =>
            o.ite(
              valid,
              () => o.lit(Errno, OK),
              () => o.lit(Errno, EINVAL),
            ),
          () => o.lit(Errno, EPERM),
        ),
      };
    }),
  },
};

/** Integrity of the spec: a call changes only pages its caller owned (or, for alloc, a free page). */
function specInvariant<T extends Theory>(
  o: Ops<T>,
  s: Val<T, typeof PagesSpecState>,
): Record<string, T['bool']> {
  return {
    'owners are domains or FREE': o.all(NPAGES, (p) => {
      const w = o.select(s.owner, o.lit(Page, p));
      return o.or(isDomain(o, w), o.eq(w, o.lit(Domain, FREE)));
    }),
  };
}

export function pagesObligations(prefix: string, g: Guards = productionGuards): Obligation[] {
  const m = pagesMachine(g);
  return [
    ...invariantObligations(`${prefix}/pages`, m, pagesInvariant),
    ...invariantObligations(`${prefix}/pages-spec`, pagesSpec, specInvariant),
    // A domain changes only the ownership of pages it owns or that are free (counts follow ownership).
    ...integrityObligations(`${prefix}/pages`, {
      machine: m,
      actor: (_o, _call, _s, args) => args['caller'],
      mayWrite: (o, s, actor, at) => {
        if (at.field === 'refs') return o.true;
        const owner = o.select(s.owner, o.lit(Page, at.index ?? 0));
        return o.or(o.eq(owner, actor), o.eq(owner, o.lit(Domain, FREE)));
      },
    }),
    ...refinementObligations(`${prefix}/pages`, {
      impl: m,
      spec: pagesSpec,
      abstraction: (_o, s) => ({ owner: s.owner }),
      invariant: pagesInvariant,
    }),
  ];
}
