/**
 * The small vocabulary the system calls are written in: reading capabilities and the configuration,
 * running a call's guards in order (the first that fails decides the error code and the state is
 * returned unchanged), and the writes that wake or block a partition. Everything is generic over the
 * proof tool's `Ops`, so it runs concretely and is proven symbolically.
 */
import type { Guards } from '../../proof/guards.js';
import type { Ops, Step } from '../../proof/ops.js';
import type { BvSort, Theory } from '../../proof/sorts.js';
import { E } from './errors.js';
import { kernelSorts, type KernelProfile, type KernelSorts } from './profile.js';
import type { BLOCKED_NTF, BLOCKED_RECV, BLOCKED_REPLY } from './state.js';
import {
  ADMIN,
  CAP_ENDPOINT,
  CAP_NONE,
  FREE,
  KernelStateRecord,
  MRS,
  RUNNABLE,
  SECURE,
  type KState,
} from './state.js';

/** What every call returns to its caller: a result code and one word. */
export interface Ret<T extends Theory> {
  code: T['bv'];
  value: T['bv'];
}

export type KStep<T extends Theory> = Step<KState<T>, Ret<T>>;

/** The profile, its sorts, and the guards (production, or a mutant with one disabled). */
export interface Ctx {
  readonly p: KernelProfile;
  readonly k: KernelSorts;
  readonly g: Guards;
}

export function makeCtx(p: KernelProfile, g: Guards): Ctx {
  return { p, k: kernelSorts(p), g };
}

/** One guard of a call: its name (`<call>.<what>`), the condition, the error code when it fails. */
export interface Guard<T extends Theory> {
  readonly name: string;
  readonly ok: () => T['bool'];
  readonly code: number;
}

/** The result of a call whose guards all passed. */
export interface Outcome<T extends Theory, S = KState<T>> {
  readonly state: S;
  readonly code?: T['bv'];
  readonly value?: T['bv'];
}

/** The configuration and partition-state fields the helpers read (shared by the implementation and the spec). */
export type Cfg<T extends Theory> = Pick<KState<T>, 'partDom' | 'domWorld' | 'flow' | 'partState'>;
/** The partition fields that waking and blocking write. */
export type PartRegs<T extends Theory> = Pick<
  KState<T>,
  'partState' | 'partBlockedOn' | 'partStatus' | 'partLabel' | 'partBadge' | 'partMr'
>;

export class Kit<T extends Theory> {
  readonly k: KernelSorts;
  readonly NONE: T['bv'];

  constructor(
    readonly c: Ctx,
    readonly o: Ops<T>,
  ) {
    this.k = c.k;
    this.NONE = o.lit(c.k.Idx, c.k.NONE);
  }

  idx(n: number): T['bv'] {
    return this.o.lit(this.k.Idx, n);
  }
  word(n: number): T['bv'] {
    return this.o.lit(this.k.Word, n);
  }
  lit(s: BvSort, n: number): T['bv'] {
    return this.o.lit(s, n);
  }
  code(n: number): T['bv'] {
    return this.o.lit(this.k.Code, n);
  }

  /** Runs `guards` in order; the first that fails returns its code with the state unchanged. */
  run<S = KState<T>>(s: S, guards: readonly Guard<T>[], then: () => Outcome<T, S>): Step<S, Ret<T>> {
    const { o } = this;
    const fail = (code: number): Step<S, Ret<T>> => ({
      state: s,
      ret: { code: this.code(code), value: this.word(0) },
    });
    const go = (i: number): Step<S, Ret<T>> => {
      const gd = guards[i];
      if (gd === undefined) {
        const r = then();
        return { state: r.state, ret: { code: r.code ?? this.code(E.OK), value: r.value ?? this.word(0) } };
      }
      return o.ite(
        this.c.g.check(o, gd.name, gd.ok(), gd.code),
        () => go(i + 1),
        () => fail(gd.code),
      );
    };
    return go(0);
  }

  /**
   * `s` with some fields replaced. A kernel state record is copied with its class's constructor (fast);
   * other records (the specification's, symbolic merges) with a spread.
   */
  set<S extends object>(s: S, changes: Partial<S>): S {
    const n = (s instanceof KernelStateRecord ? new KernelStateRecord(s as never) : { ...s }) as S;
    return Object.assign(n, changes);
  }

  /** A named guarded update: a mutant with `name` disabled keeps the old value. */
  upd<X>(name: string, updated: () => X, original: X): X {
    return this.c.g.update(name, updated, () => original);
  }

  isNone(x: T['bv']): T['bool'] {
    return this.o.eq(x, this.NONE);
  }
  inRange(x: T['bv'], size: number): T['bool'] {
    return this.o.ult(x, this.idx(size));
  }
  /** `need` ⊆ `have` (bit sets). */
  subset(need: T['bv'], have: T['bv']): T['bool'] {
    return this.o.eq(this.o.band(need, have), need);
  }

  // ---- configuration
  dom(s: Cfg<T>, p: T['bv']): T['bv'] {
    return this.o.select(s.partDom, p);
  }
  secureDom(s: Cfg<T>, d: T['bv']): T['bool'] {
    return this.o.eq(this.o.select(s.domWorld, d), this.o.lit(this.k.Bit, SECURE));
  }
  securePart(s: Cfg<T>, p: T['bv']): T['bool'] {
    return this.secureDom(s, this.dom(s, p));
  }
  isAdminDom(d: T['bv']): T['bool'] {
    return this.o.eq(d, this.o.lit(this.k.Dom, ADMIN));
  }
  isAdmin(s: Cfg<T>, p: T['bv']): T['bool'] {
    return this.isAdminDom(this.dom(s, p));
  }
  flows(s: Cfg<T>, from: T['bv'], to: T['bv']): T['bool'] {
    return this.o.eq(this.o.select2(s.flow, from, to), this.o.lit(this.k.Bit, 1));
  }

  // ---- partitions
  state(s: Cfg<T>, p: T['bv']): T['bv'] {
    return this.o.select(s.partState, p);
  }
  stateIs(s: Cfg<T>, p: T['bv'], st: number): T['bool'] {
    return this.o.eq(this.state(s, p), this.lit(this.k.Small, st));
  }
  /** The caller may issue calls: a runnable partition (FREE reads back for an index past the table). */
  runnable(s: Cfg<T>, p: T['bv']): T['bool'] {
    return this.stateIs(s, p, RUNNABLE);
  }
  live(s: Cfg<T>, p: T['bv']): T['bool'] {
    return this.o.not(this.stateIs(s, p, FREE));
  }

  // ---- capabilities
  cap(s: KState<T>, p: T['bv'], slot: T['bv']) {
    const o = this.o;
    return {
      type: o.select2(s.capType, p, slot),
      obj: o.select2(s.capObj, p, slot),
      rights: o.select2(s.capRights, p, slot),
      gen: o.select2(s.capGen, p, slot),
      badge: o.select2(s.capBadge, p, slot),
    };
  }
  /** The current generation of the object a capability of `type` names. */
  objGen(s: KState<T>, type: T['bv'], obj: T['bv']): T['bv'] {
    const o = this.o;
    return o.ite(
      o.eq(type, this.lit(this.k.Small, CAP_ENDPOINT)),
      () => o.select(s.epGen, obj),
      () => o.select(s.ntfGen, obj),
    );
  }
  /** A capability is valid while its generation is its object's (revocation bumps the object's). */
  capValid(s: KState<T>, cap: { type: T['bv']; obj: T['bv']; gen: T['bv'] }): T['bool'] {
    const o = this.o;
    return o.and(
      o.ne(cap.type, this.lit(this.k.Small, CAP_NONE)),
      o.eq(cap.gen, this.objGen(s, cap.type, cap.obj)),
    );
  }
  capIs(s: KState<T>, cap: { type: T['bv']; obj: T['bv']; gen: T['bv'] }, type: number): T['bool'] {
    return this.o.and(
      this.o.eq(cap.type, this.lit(this.k.Small, type)),
      this.o.eq(cap.gen, this.objGen(s, cap.type, cap.obj)),
    );
  }
  /** A slot is free for a new capability when empty or holding a stale one. */
  slotFree(s: KState<T>, p: T['bv'], slot: T['bv']): T['bool'] {
    return this.o.not(this.capValid(s, this.cap(s, p, slot)));
  }
  writeCap(
    s: KState<T>,
    p: T['bv'],
    slot: T['bv'],
    v: { type: T['bv']; obj: T['bv']; rights: T['bv']; gen: T['bv']; badge: T['bv'] },
  ): KState<T> {
    const o = this.o;
    return this.set(s, {
      capType: o.store2(s.capType, p, slot, v.type),
      capObj: o.store2(s.capObj, p, slot, v.obj),
      capRights: o.store2(s.capRights, p, slot, v.rights),
      capGen: o.store2(s.capGen, p, slot, v.gen),
      capBadge: o.store2(s.capBadge, p, slot, v.badge),
    });
  }

  // ---- waking and blocking
  /** Wakes `q` with a result in its registers. */
  wake<S extends PartRegs<T>>(
    s: S,
    q: T['bv'],
    r: { status: number; label: T['bv']; badge: T['bv']; mr: readonly T['bv'][] },
  ): S {
    const o = this.o;
    let mr = s.partMr;
    for (let i = 0; i < MRS; i++) mr = o.store2(mr, q, o.lit(this.k.MrNo, i), r.mr[i] ?? this.word(0));
    return this.set(s, {
      partState: o.store(s.partState, q, this.lit(this.k.Small, RUNNABLE)),
      partBlockedOn: o.store(s.partBlockedOn, q, this.NONE),
      partStatus: o.store(s.partStatus, q, this.code(r.status)),
      partLabel: o.store(s.partLabel, q, r.label),
      partBadge: o.store(s.partBadge, q, r.badge),
      partMr: mr,
    } as Partial<S>);
  }
  /** Wakes `q` with ECANCELED and empty registers (what it waited on is gone). */
  cancel<S extends PartRegs<T>>(s: S, q: T['bv']): S {
    const z = this.word(0);
    return this.wake(s, q, { status: E.ECANCELED, label: z, badge: z, mr: [z, z, z, z] });
  }
  block<S extends PartRegs<T>>(
    s: S,
    p: T['bv'],
    st: typeof BLOCKED_RECV | typeof BLOCKED_REPLY | typeof BLOCKED_NTF,
    on: T['bv'],
  ): S {
    const o = this.o;
    return this.set(s, {
      partState: o.store(s.partState, p, this.lit(this.k.Small, st)),
      partBlockedOn: o.store(s.partBlockedOn, p, on),
    } as Partial<S>);
  }

  inc(x: T['bv'], sort: BvSort): T['bv'] {
    return this.o.add(sort, x, this.o.lit(sort, 1));
  }
  dec(x: T['bv'], sort: BvSort): T['bv'] {
    return this.o.sub(sort, x, this.o.lit(sort, 1));
  }
  /** Adds one to `a[i]` (a reference count). */
  bump(a: T['arr'], i: T['bv'], sort: BvSort): T['arr'] {
    return this.o.store(a, i, this.inc(this.o.select(a, i), sort));
  }
  drop(a: T['arr'], i: T['bv'], sort: BvSort): T['arr'] {
    return this.o.store(a, i, this.dec(this.o.select(a, i), sort));
  }
}
