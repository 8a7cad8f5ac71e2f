/**
 * A bounded FIFO as a ring buffer (head index + count, wrapping by bitvector arithmetic), refining an
 * abstract queue whose front is always entry 0.
 */
import type { Guards } from '../guards.js';
import { productionGuards } from '../guards.js';
import {
  defineCall,
  invariantObligations,
  refinementObligations,
  type MachineDef,
  type Obligation,
} from '../obligation.js';
import type { Ops } from '../ops.js';
import { array, bv, record, type Theory, type Val } from '../sorts.js';

export const CAPACITY = 8;
export const Slot = bv(3);
export const Length = bv(4);
export const Item = bv(8);
export const Status = bv(8);
export const OK = 0;
export const EFULL = 1;
export const EEMPTY = 2;

export const FifoState = record({ buf: array(CAPACITY, Item, Slot), head: Slot, count: Length });
export type FifoState<T extends Theory> = Val<T, typeof FifoState>;

const PushArgs = record({ item: Item });
const NoArgs = record({});

export function fifoMachine(g: Guards = productionGuards): MachineDef<typeof FifoState> {
  return {
    name: 'fifo',
    state: FifoState,
    init: (o) => ({
      buf: o.constArray(FifoState.fields.buf, o.lit(Item, 0)),
      head: o.lit(Slot, 0),
      count: o.lit(Length, 0),
    }),
    calls: {
      push: defineCall(FifoState, PushArgs, (o, s, a) => {
        const room = g.check(o, 'push.room', o.ult(s.count, o.lit(Length, CAPACITY)));
        const tail = o.add(Slot, s.head, o.extract(2, 0, s.count));
        const next = {
          buf: o.store(s.buf, tail, a.item),
          head: s.head,
          count: o.add(Length, s.count, o.lit(Length, 1)),
        };
        return {
          state: o.ite(
            room,
            () => next,
            () => s,
          ),
          ret: o.ite(
            room,
            () => o.lit(Status, OK),
            () => o.lit(Status, EFULL),
          ),
        };
      }),
      pop: defineCall(FifoState, NoArgs, (o, s) => {
        const some = g.check(o, 'pop.some', o.ne(s.count, o.lit(Length, 0)));
        const next = {
          // The slot is cleared so that the abstraction (and a later observer) sees no stale item.
          buf: g.update(
            'pop.clear',
            () => o.store(s.buf, s.head, o.lit(Item, 0)),
            () => s.buf,
          ),
          head: o.add(Slot, s.head, o.lit(Slot, 1)),
          count: o.sub(Length, s.count, o.lit(Length, 1)),
        };
        return {
          state: o.ite(
            some,
            () => next,
            () => s,
          ),
          ret: o.ite(
            some,
            () => ({ status: o.lit(Status, OK), item: o.select(s.buf, s.head) }),
            () => ({ status: o.lit(Status, EEMPTY), item: o.lit(Item, 0) }),
          ),
        };
      }),
    },
  };
}

/** RI: at most CAPACITY items, and every slot outside the live window is 0. */
export function fifoInvariant<T extends Theory>(o: Ops<T>, s: FifoState<T>): Record<string, T['bool']> {
  return {
    'count ≤ capacity': o.ule(s.count, o.lit(Length, CAPACITY)),
    // Quantified (not unrolled): proven for a witness slot, assumed at the slots the step touches.
    'slots outside the window are 0': o.forall(Slot, CAPACITY, (k) => {
      // slot head + k is live iff k < count
      const slot = o.add(Slot, s.head, k);
      return o.implies(o.uge(o.zext(Length, k), s.count), o.eq(o.select(s.buf, slot), o.lit(Item, 0)));
    }),
  };
}

// ---- the specification: a queue whose front is items[0]

export const QueueState = record({ items: array(CAPACITY, Item, Slot), length: Length });

export const queueSpec: MachineDef<typeof QueueState> = {
  name: 'queue',
  state: QueueState,
  init: (o) => ({ items: o.constArray(QueueState.fields.items, o.lit(Item, 0)), length: o.lit(Length, 0) }),
  calls: {
    push: defineCall(QueueState, PushArgs, (o, s, a) => {
      const room = o.ult(s.length, o.lit(Length, CAPACITY));
      const next = {
        items: o.store(s.items, o.extract(2, 0, s.length), a.item),
        length: o.add(Length, s.length, o.lit(Length, 1)),
      };
      return {
        state: o.ite(
          room,
          () => next,
          () => s,
        ),
        ret: o.ite(
          room,
          () => o.lit(Status, OK),
          () => o.lit(Status, EFULL),
        ),
      };
    }),
    pop: defineCall(QueueState, NoArgs, (o, s) => {
      const some = o.ne(s.length, o.lit(Length, 0));
      const shifted = o.fold(CAPACITY, s.items, (items, k) =>
        o.store(
          items,
          o.lit(Slot, k),
          k + 1 < CAPACITY ? o.select(s.items, o.lit(Slot, k + 1)) : o.lit(Item, 0),
        ),
      );
      return {
        state: o.ite(
          some,
          () => ({ items: shifted, length: o.sub(Length, s.length, o.lit(Length, 1)) }),
          () => s,
        ),
        ret: o.ite(
          some,
          () => ({ status: o.lit(Status, OK), item: o.select(s.items, o.lit(Slot, 0)) }),
          () => ({ status: o.lit(Status, EEMPTY), item: o.lit(Item, 0) }),
        ),
      };
    }),
  },
};

function queueInvariant<T extends Theory>(
  o: Ops<T>,
  s: Val<T, typeof QueueState>,
): Record<string, T['bool']> {
  return {
    'length ≤ capacity': o.ule(s.length, o.lit(Length, CAPACITY)),
    'entries past the end are 0': o.all(CAPACITY, (k) =>
      o.implies(o.uge(o.lit(Length, k), s.length), o.eq(o.select(s.items, o.lit(Slot, k)), o.lit(Item, 0))),
    ),
  };
}

/** AF: items[k] = buf[head + k] for k < count, 0 beyond. */
export function fifoAbstraction<T extends Theory>(o: Ops<T>, s: FifoState<T>): Val<T, typeof QueueState> {
  const items = o.fold(CAPACITY, o.constArray(QueueState.fields.items, o.lit(Item, 0)), (acc, k) =>
    o.store(acc, o.lit(Slot, k), o.select(s.buf, o.add(Slot, s.head, o.lit(Slot, k)))),
  );
  return { items, length: s.count };
}

export function fifoObligations(prefix: string, g: Guards = productionGuards): Obligation[] {
  const m = fifoMachine(g);
  return [
    ...invariantObligations(`${prefix}/fifo`, m, fifoInvariant),
    ...invariantObligations(`${prefix}/queue`, queueSpec, queueInvariant),
    ...refinementObligations(`${prefix}/fifo`, {
      impl: m,
      spec: queueSpec,
      abstraction: fifoAbstraction,
      invariant: fifoInvariant,
    }),
  ];
}
