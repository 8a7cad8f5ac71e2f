/**
 * The concrete entry point the runtime uses: `step(state, call, args) → { state, ret, effects }`. It runs
 * the very code the proofs are about through the concrete interpreter (production guards), and reports
 * what the runtime must carry out as effects, derived from the state change itself: who was woken with
 * which registers, who blocked on what, which region is (un)mapped into which partition with which
 * rights, which region or device changed hands, which line is masked. The runtime decides nothing.
 *
 * `step` is persistent (the old state stays valid; tables are copy-on-write). `Kernel` keeps one state
 * and writes each step into its tables in place, for throughput.
 */
import { InputError } from '../../common/errors.js';
import type { CArray } from '../../proof/concrete.js';
import { concreteOps, copyValue, type ConcreteTheory } from '../../proof/concrete.js';
import type { CallDef } from '../../proof/obligation.js';
import type { RecordSort } from '../../proof/sorts.js';
import { bootState, type KernelConfig } from './config.js';
import { codeName, E, type KernelCodeName } from './errors.js';
import { kernelMachine } from './machine.js';
import { kernelSorts, type KernelProfile } from './profile.js';
import {
  BLOCKED_NTF,
  BLOCKED_RECV,
  BLOCKED_REPLY,
  MRS,
  RUNNABLE,
  KernelStateRecord,
  commitRecord,
  kernelStateSchema,
  partitionStateNames,
  type KernelStateSchema,
  type KState,
} from './state.js';
import { argSort, callByNumber, callTable, type CallName, type CallSpec } from './table.js';

/** A concrete kernel state and the profile it was built for. */
export interface KernelState {
  readonly profile: KernelProfile;
  readonly tables: KState<ConcreteTheory>;
}

export interface KernelRet {
  readonly code: number;
  readonly name: KernelCodeName;
  readonly value: number;
}

export type PartitionStateName = (typeof partitionStateNames)[number];

/** What the runtime must carry out after a call. */
export type Effect =
  /** A blocked partition became runnable; its registers hold the result of the call it blocked in. */
  | {
      readonly kind: 'wake';
      readonly partition: number;
      readonly status: number;
      readonly label: number;
      readonly badge: number;
      readonly mr: readonly number[];
    }
  /** A partition blocked (the caller of a blocking call). */
  | {
      readonly kind: 'block';
      readonly partition: number;
      readonly on: 'endpoint' | 'notification' | 'reply';
      readonly object: number;
    }
  /** Any other change of a partition's state (created, started, stopped, destroyed). */
  | {
      readonly kind: 'partition';
      readonly partition: number;
      readonly from: PartitionStateName;
      readonly to: PartitionStateName;
    }
  | { readonly kind: 'budget'; readonly partition: number; readonly budget: number }
  /** Map `region` into `partition` with `rights` (R=1 W=2 X=4), replacing any earlier mapping. */
  | { readonly kind: 'map'; readonly partition: number; readonly region: number; readonly rights: number }
  | { readonly kind: 'unmap'; readonly partition: number; readonly region: number }
  /** A region was allocated (owner: the runtime zeroes its memory first) or freed (owner null). */
  | { readonly kind: 'region'; readonly region: number; readonly owner: number | null }
  /** A device was claimed or released (owner null): grant or withdraw its registers and line. */
  | { readonly kind: 'device'; readonly device: number; readonly owner: number | null }
  | { readonly kind: 'irq-mask'; readonly device: number; readonly masked: boolean }
  | { readonly kind: 'smc-entry'; readonly entry: number; readonly endpoint: number | null };

export interface StepResult {
  readonly state: KernelState;
  readonly ret: KernelRet;
  readonly effects: readonly Effect[];
}

/** A call ready to dispatch: its step function and each argument's name and largest value. */
interface Compiled {
  readonly def: CallDef<KernelStateSchema, RecordSort>;
  readonly args: readonly (readonly [string, number])[];
}
type Calls = ReadonlyMap<string, Compiled>;
const machines = new WeakMap<KernelProfile, Calls>();

function calls(p: KernelProfile): Calls {
  let m = machines.get(p);
  if (!m) {
    const defs = kernelMachine(p).calls;
    const out = new Map<string, Compiled>();
    for (const n of Object.keys(callTable) as CallName[]) {
      const spec: CallSpec = callTable[n];
      out.set(n, {
        def: defs[n] as CallDef<KernelStateSchema, RecordSort>,
        args: Object.entries(spec.args).map(([name, kind]) => [name, argSort(p, kind).mask] as const),
      });
    }
    m = out;
    machines.set(p, m);
  }
  return m;
}

/** A state's fields as a `KernelStateRecord` (what the calls copy fast). */
export function asRecord(tables: KState<ConcreteTheory>): KState<ConcreteTheory> {
  return tables instanceof KernelStateRecord
    ? tables
    : (new KernelStateRecord(tables) as unknown as KState<ConcreteTheory>);
}

/** The boot state of a configuration (checked; errors name the field). */
export function createKernel(profile: KernelProfile, config: KernelConfig, file?: string): KernelState {
  return { profile, tables: bootState(profile, config, file) };
}

export type CallArgs = Readonly<Record<string, number>>;

/** The compiled call, or throws for a name that is no call. */
function compiled(p: KernelProfile, call: CallName): Compiled {
  const c = calls(p).get(call);
  if (!c) throw new InputError('NO_SUCH_CALL', `no kernel call '${String(call)}'`, { field: 'call' });
  return c;
}

/** Whether every argument is present and fits its sort. */
function argsFit(c: Compiled, args: CallArgs): boolean {
  for (const [name, mask] of c.args) {
    const v = args[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > mask) return false;
  }
  return true;
}

function retOf(code: number, value: number): KernelRet {
  return { code, name: codeName(code) ?? 'EINVAL', value };
}

/** Runs one call. Arguments out of their sort (or missing) are EINVAL; the core is not reached. */
export function step(state: KernelState, call: CallName, args: CallArgs): StepResult {
  const p = state.profile;
  const c = compiled(p, call);
  if (!argsFit(c, args)) return { state, ret: retOf(E.EINVAL, 0), effects: [] };
  const r = c.def.run(concreteOps, state.tables, args as never) as {
    state: KState<ConcreteTheory>;
    ret: { code: number; value: number };
  };
  return {
    state: r.state === state.tables ? state : { profile: p, tables: r.state },
    ret: retOf(r.ret.code, r.ret.value),
    effects: effectsOf(p, state.tables, r.state),
  };
}

/**
 * A request as the runtime receives it: the caller it serves, a call number and argument words a0… in
 * the table's order (the caller is not among them). Unknown numbers are ENOSYS.
 */
export function decodeRequest(
  caller: number,
  number: number,
  words: ArrayLike<number>,
):
  { readonly call: CallName; readonly args: CallArgs } | { readonly call: undefined; readonly code: number } {
  const call = callByNumber(number);
  if (call === undefined) return { call: undefined, code: E.ENOSYS };
  const spec: CallSpec = callTable[call];
  const args: Record<string, number> = {};
  let w = 0;
  for (const name of Object.keys(spec.args)) {
    if (spec.args[name] === 'caller') args[name] = caller;
    else args[name] = words[w++] ?? 0;
  }
  return { call, args };
}

// ---- effects, from the tables' pending writes

/** Indices written between `before` and `after` (exact when `after` was built from `before` by stores). */
function written(before: CArray, after: CArray): number[] {
  if (before === after) return [];
  const out = new Set<number>();
  for (let n: CArray | null = after; n !== null; n = n.parent) {
    if (n === before) return [...out];
    if (n.parent === null) break;
    out.add(n.at);
  }
  // Not a descendant (flattened): compare entry by entry.
  const all: number[] = [];
  for (let i = 0; i < after.sort.size; i++) if (before.get(i) !== after.get(i)) all.push(i);
  return all;
}

function changed(before: CArray, after: CArray): number[] {
  return written(before, after).filter((i) => before.get(i) !== after.get(i));
}

const blockKind = {
  [BLOCKED_RECV]: 'endpoint',
  [BLOCKED_REPLY]: 'reply',
  [BLOCKED_NTF]: 'notification',
} as const;

/** The effects of going from `b` to `a`. */
export function effectsOf(p: KernelProfile, b: KState<ConcreteTheory>, a: KState<ConcreteTheory>): Effect[] {
  if (a === b) return [];
  const NONE = kernelSorts(p).NONE;
  const out: Effect[] = [];
  const owner = (v: number): number | null => (v === NONE ? null : v);
  const name = (st: number): PartitionStateName => partitionStateNames[st] ?? 'free';
  // Partitions whose state changed, or that were woken again with new registers.
  const parts = new Set([...changed(b.partState, a.partState), ...written(b.partStatus, a.partStatus)]);
  for (const q of [...parts].sort((x, y) => x - y)) {
    const from = b.partState.get(q);
    const to = a.partState.get(q);
    const wasBlocked = from === BLOCKED_RECV || from === BLOCKED_REPLY || from === BLOCKED_NTF;
    if (to === RUNNABLE && wasBlocked) {
      const mr: number[] = [];
      for (let i = 0; i < MRS; i++) mr.push(a.partMr.get(q * MRS + i));
      out.push({
        kind: 'wake',
        partition: q,
        status: a.partStatus.get(q),
        label: a.partLabel.get(q),
        badge: a.partBadge.get(q),
        mr,
      });
    } else if (from === RUNNABLE && (to === BLOCKED_RECV || to === BLOCKED_REPLY || to === BLOCKED_NTF)) {
      out.push({ kind: 'block', partition: q, on: blockKind[to], object: a.partBlockedOn.get(q) });
    } else if (from !== to) {
      out.push({ kind: 'partition', partition: q, from: name(from), to: name(to) });
    }
  }
  for (const q of changed(b.partBudget, a.partBudget))
    out.push({ kind: 'budget', partition: q, budget: a.partBudget.get(q) });
  const R = p.regions;
  for (const i of changed(b.map, a.map).sort((x, y) => x - y)) {
    const partition = Math.floor(i / R);
    const region = i % R;
    const rights = a.map.get(i);
    out.push(
      rights === 0 ? { kind: 'unmap', partition, region } : { kind: 'map', partition, region, rights },
    );
  }
  for (const r of changed(b.regionOwner, a.regionOwner))
    out.push({ kind: 'region', region: r, owner: owner(a.regionOwner.get(r)) });
  for (const v of changed(b.devOwner, a.devOwner))
    out.push({ kind: 'device', device: v, owner: owner(a.devOwner.get(v)) });
  for (const v of changed(b.devMasked, a.devMasked))
    out.push({ kind: 'irq-mask', device: v, masked: a.devMasked.get(v) === 1 });
  for (const i of [...new Set([...changed(b.smcEp, a.smcEp), ...changed(b.smcValid, a.smcValid)])])
    out.push({ kind: 'smc-entry', entry: i, endpoint: a.smcValid.get(i) === 1 ? a.smcEp.get(i) : null });
  return out;
}

/**
 * A kernel that owns its state: each call's writes go into the tables in place. `state` is a view of
 * the current state (valid until the next call); `snapshot()` copies it.
 */
export class Kernel {
  private current: KState<ConcreteTheory>;

  constructor(
    readonly profile: KernelProfile,
    initial: KState<ConcreteTheory>,
  ) {
    const schema = kernelStateSchema(profile);
    this.current = asRecord(copyValue(schema, initial));
  }

  static boot(profile: KernelProfile, config: KernelConfig, file?: string): Kernel {
    return new Kernel(profile, bootState(profile, config, file));
  }

  get state(): KernelState {
    return { profile: this.profile, tables: this.current };
  }

  snapshot(): KernelState {
    return {
      profile: this.profile,
      tables: asRecord(copyValue(kernelStateSchema(this.profile), this.current)),
    };
  }

  /** Runs one call; `effects` false skips computing them (for benchmarks of the core alone). */
  call(
    call: CallName,
    args: CallArgs,
    effects = true,
  ): { readonly ret: KernelRet; readonly effects: readonly Effect[] } {
    const c = compiled(this.profile, call);
    if (!argsFit(c, args)) return { ret: retOf(E.EINVAL, 0), effects: [] };
    const before = this.current;
    const r = c.def.run(concreteOps, before, args as never) as {
      state: KState<ConcreteTheory>;
      ret: { code: number; value: number };
    };
    const fx = effects ? effectsOf(this.profile, before, r.state) : [];
    if (r.state !== before) {
      // The new state record is fresh (built by the call); write its tables' pending writes into the tables
      // themselves: every table belongs to one field of the state this kernel owns, and the previous state
      // is not kept.
      commitRecord(r.state as unknown as KernelStateRecord, before as unknown as KernelStateRecord);
      this.current = r.state;
    }
    return { ret: retOf(r.ret.code, r.ret.value), effects: fx };
  }
}
