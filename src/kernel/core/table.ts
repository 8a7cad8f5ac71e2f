/**
 * The call table: the one declaration of every system call's number, name, arguments and authority.
 * Dispatch (`step.ts`), the argument schemas the proofs quantify over, the argument generator of the
 * property-based tests and the table in `docs/kernel.md` are all generated from it.
 *
 * ABI: the runtime names the caller (the partition whose request it is serving; the partition cannot
 * choose it); the other arguments come from the partition's request words a0…a7 in the order listed.
 */
import { record, type BvSort, type RecordSort, type Theory } from '../../proof/sorts.js';
import type { KernelCodeName } from './errors.js';
import { kernelSorts, type KernelProfile } from './profile.js';

/** What an argument names; decides its sort and how it is documented and generated. */
export type ArgKind =
  | 'caller'
  | 'partition'
  | 'region'
  | 'endpoint'
  | 'notification'
  | 'device'
  | 'slot'
  | 'entry'
  | 'rights'
  | 'word'
  | 'bit'
  | 'flag';

/** Who may issue the call (the core decides; this is what the guards enforce, for the docs). */
export type Authority =
  | 'any partition'
  | 'admin authority'
  | 'object owner'
  | 'object owner or admin'
  | 'Normal World'
  | 'runtime (interrupt line)';

export interface CallSpec {
  readonly number: number;
  readonly group: string;
  readonly who: Authority;
  readonly args: Readonly<Record<string, ArgKind>>;
  readonly summary: string;
  /** Codes the call may return (OK and BLOCKED included where they apply). */
  readonly returns: readonly KernelCodeName[];
}

const mr = { label: 'word', mr0: 'word', mr1: 'word', mr2: 'word', mr3: 'word' } as const;

export const callTable = {
  yield: {
    number: 1,
    group: 'scheduling',
    who: 'any partition',
    args: { caller: 'caller' },
    summary: 'gives up the rest of the time slice (the runtime schedules; the state does not change)',
    returns: ['OK', 'ENOTRUNNING'],
  },
  partition_create: {
    number: 2,
    group: 'partitions',
    who: 'admin authority',
    args: { caller: 'caller', target: 'partition', budget: 'word' },
    summary:
      'takes a FREE partition slot (its domain is fixed by the configuration) to STOPPED with a CPU budget',
    returns: ['OK', 'ENOTRUNNING', 'EPERM', 'EINVAL', 'EBUSY'],
  },
  partition_start: {
    number: 3,
    group: 'partitions',
    who: 'admin authority',
    args: { caller: 'caller', target: 'partition' },
    summary: 'makes a STOPPED partition RUNNABLE',
    returns: ['OK', 'ENOTRUNNING', 'EPERM', 'EINVAL', 'ESTATE'],
  },
  partition_stop: {
    number: 4,
    group: 'partitions',
    who: 'admin authority',
    args: { caller: 'caller', target: 'partition' },
    summary:
      'stops a partition: it leaves any wait, its pending reply is cancelled, and its own client is woken with ECANCELED',
    returns: ['OK', 'ENOTRUNNING', 'EPERM', 'EINVAL', 'ESTATE'],
  },
  partition_destroy: {
    number: 5,
    group: 'partitions',
    who: 'admin authority',
    args: { caller: 'caller', target: 'partition' },
    summary: 'frees a STOPPED partition that owns nothing: its capabilities and mappings are dropped',
    returns: ['OK', 'ENOTRUNNING', 'EPERM', 'EINVAL', 'ESTATE', 'EBUSY'],
  },
  set_budget: {
    number: 6,
    group: 'partitions',
    who: 'admin authority',
    args: { caller: 'caller', target: 'partition', budget: 'word' },
    summary: "sets a live partition's CPU budget (what the runtime enforces per period)",
    returns: ['OK', 'ENOTRUNNING', 'EPERM', 'EINVAL', 'ESTATE'],
  },
  region_alloc: {
    number: 10,
    group: 'regions',
    who: 'any partition',
    args: { caller: 'caller', region: 'region' },
    summary:
      "takes a free region of the caller's domain pool (a device window needs the device); the runtime zeroes it",
    returns: ['OK', 'ENOTRUNNING', 'EINVAL', 'EPERM', 'EBUSY'],
  },
  region_free: {
    number: 11,
    group: 'regions',
    who: 'object owner or admin',
    args: { caller: 'caller', region: 'region' },
    summary: 'returns an unmapped region to its pool',
    returns: ['OK', 'ENOTRUNNING', 'EINVAL', 'EPERM', 'EBUSY'],
  },
  region_map: {
    number: 12,
    group: 'regions',
    who: 'any partition',
    args: { caller: 'caller', region: 'region', rights: 'rights' },
    summary:
      "maps a region into the caller: the owner with any rights its kind allows, the region's domains within the shared rights",
    returns: ['OK', 'ENOTRUNNING', 'EINVAL', 'ERIGHTS', 'EPERM', 'ENOENT', 'ELIMIT'],
  },
  region_unmap: {
    number: 13,
    group: 'regions',
    who: 'any partition',
    args: { caller: 'caller', region: 'region' },
    summary: "removes the caller's own mapping of a region",
    returns: ['OK', 'ENOTRUNNING', 'ENOENT'],
  },
  region_share: {
    number: 14,
    group: 'regions',
    who: 'object owner',
    args: { caller: 'caller', region: 'region', rights: 'rights' },
    summary:
      "sets the rights the other partitions of the region's domains (its peer domain for a shared region) may map it with",
    returns: ['OK', 'ENOTRUNNING', 'EINVAL', 'EPERM', 'ERIGHTS'],
  },
  region_revoke: {
    number: 15,
    group: 'regions',
    who: 'object owner',
    args: { caller: 'caller', region: 'region' },
    summary:
      'stops sharing a region and unmaps it from every partition but its owner; a Normal World owner may not while others map a region it shares with a secure peer',
    returns: ['OK', 'ENOTRUNNING', 'EINVAL', 'EPERM', 'EWORLD'],
  },
  endpoint_create: {
    number: 20,
    group: 'endpoints',
    who: 'any partition',
    args: { caller: 'caller', endpoint: 'endpoint', slot: 'slot' },
    summary:
      "takes a free endpoint of the caller's domain pool; the caller gets a SEND|RECV|GRANT capability in the slot",
    returns: ['OK', 'ENOTRUNNING', 'EINVAL', 'EPERM', 'EBUSY', 'EEXIST'],
  },
  endpoint_destroy: {
    number: 21,
    group: 'endpoints',
    who: 'object owner or admin',
    args: { caller: 'caller', endpoint: 'endpoint' },
    summary:
      'frees an endpoint: every capability to it is revoked and its waiting receiver woken with ECANCELED',
    returns: ['OK', 'ENOTRUNNING', 'EINVAL', 'EPERM', 'EOVERFLOW'],
  },
  endpoint_send: {
    number: 22,
    group: 'endpoints',
    who: 'any partition',
    args: { caller: 'caller', slot: 'slot', ...mr },
    summary:
      "delivers a message to the endpoint's waiting receiver, with the capability's badge; never queues",
    returns: ['OK', 'ENOTRUNNING', 'ENOCAP', 'ERIGHTS', 'ENORECV'],
  },
  endpoint_call: {
    number: 23,
    group: 'endpoints',
    who: 'any partition',
    args: { caller: 'caller', slot: 'slot', ...mr },
    summary:
      'like send, and the receiver gets a one-shot reply capability to the caller, which blocks for the reply',
    returns: ['BLOCKED', 'ENOTRUNNING', 'ENOCAP', 'ERIGHTS', 'EWORLD', 'ENORECV'],
  },
  endpoint_receive: {
    number: 24,
    group: 'endpoints',
    who: 'any partition',
    args: { caller: 'caller', slot: 'slot' },
    summary: "blocks the caller (of the endpoint's own domain) until a message arrives",
    returns: ['BLOCKED', 'ENOTRUNNING', 'ENOCAP', 'ERIGHTS', 'EPERM', 'EBUSY'],
  },
  endpoint_reply: {
    number: 25,
    group: 'endpoints',
    who: 'any partition',
    args: { caller: 'caller', ...mr },
    summary: 'answers the pending call and consumes the reply capability',
    returns: ['OK', 'ENOTRUNNING', 'ENOREPLY'],
  },
  endpoint_reply_receive: {
    number: 26,
    group: 'endpoints',
    who: 'any partition',
    args: { caller: 'caller', slot: 'slot', ...mr },
    summary:
      "answers the pending call, then blocks for the next message on the slot's endpoint, in one call (seL4's ReplyRecv); a failing check changes nothing, the reply included",
    returns: ['BLOCKED', 'ENOTRUNNING', 'ENOREPLY', 'ENOCAP', 'ERIGHTS', 'EPERM', 'EBUSY'],
  },
  notification_create: {
    number: 30,
    group: 'notifications',
    who: 'any partition',
    args: { caller: 'caller', notification: 'notification', slot: 'slot' },
    summary:
      "takes a free notification of the caller's domain pool; the caller gets a SIGNAL|WAIT|GRANT capability",
    returns: ['OK', 'ENOTRUNNING', 'EINVAL', 'EPERM', 'EBUSY', 'EEXIST'],
  },
  notification_destroy: {
    number: 31,
    group: 'notifications',
    who: 'object owner or admin',
    args: { caller: 'caller', notification: 'notification' },
    summary:
      'frees a notification: capabilities and interrupt bindings are revoked, its waiter woken with ECANCELED',
    returns: ['OK', 'ENOTRUNNING', 'EINVAL', 'EPERM', 'EOVERFLOW'],
  },
  notification_signal: {
    number: 32,
    group: 'notifications',
    who: 'any partition',
    args: { caller: 'caller', slot: 'slot', bits: 'word' },
    summary: 'ORs bits into the notification word, or wakes its waiter with them',
    returns: ['OK', 'ENOTRUNNING', 'ENOCAP', 'ERIGHTS', 'EINVAL'],
  },
  notification_wait: {
    number: 33,
    group: 'notifications',
    who: 'any partition',
    args: { caller: 'caller', slot: 'slot' },
    summary: 'takes the pending bits (value), or blocks until some arrive',
    returns: ['OK', 'BLOCKED', 'ENOTRUNNING', 'ENOCAP', 'ERIGHTS', 'EPERM', 'EBUSY'],
  },
  notification_poll: {
    number: 34,
    group: 'notifications',
    who: 'any partition',
    args: { caller: 'caller', slot: 'slot' },
    summary: 'takes the pending bits (value, possibly 0) without blocking',
    returns: ['OK', 'ENOTRUNNING', 'ENOCAP', 'ERIGHTS', 'EPERM'],
  },
  cap_copy: {
    number: 40,
    group: 'capabilities',
    who: 'any partition',
    args: {
      caller: 'caller',
      from: 'partition',
      slot: 'slot',
      to: 'partition',
      toSlot: 'slot',
      rights: 'rights',
      badge: 'word',
    },
    summary:
      "copies a GRANT capability, with fewer or equal rights, to a partition of the caller's own domain; an unbadged endpoint capability takes the badge. The admin authority copies from any partition to any partition of the object's two domains (it wires the channels between domains)",
    returns: ['OK', 'ENOTRUNNING', 'EPERM', 'ENOCAP', 'ERIGHTS', 'EINVAL', 'EWORLD', 'ESTATE', 'EEXIST'],
  },
  cap_revoke: {
    number: 41,
    group: 'capabilities',
    who: 'object owner',
    args: { caller: 'caller', slot: 'slot' },
    summary: "revokes every other capability to the object the owner's slot names, in O(1) (generation bump)",
    returns: ['OK', 'ENOTRUNNING', 'ENOCAP', 'EPERM', 'EOVERFLOW'],
  },
  cap_delete: {
    number: 42,
    group: 'capabilities',
    who: 'any partition',
    args: { caller: 'caller', slot: 'slot' },
    summary: "empties one of the caller's slots",
    returns: ['OK', 'ENOTRUNNING', 'ENOENT'],
  },
  device_claim: {
    number: 50,
    group: 'devices',
    who: 'any partition',
    args: { caller: 'caller', device: 'device' },
    summary: "takes a free device of the caller's domain pool (its world is fixed by the TZPC)",
    returns: ['OK', 'ENOTRUNNING', 'EINVAL', 'EPERM', 'EBUSY'],
  },
  device_release: {
    number: 51,
    group: 'devices',
    who: 'object owner or admin',
    args: { caller: 'caller', device: 'device' },
    summary: 'returns a device whose windows are freed; its interrupt is unbound',
    returns: ['OK', 'ENOTRUNNING', 'EINVAL', 'EPERM', 'EBUSY'],
  },
  irq_bind: {
    number: 52,
    group: 'devices',
    who: 'object owner',
    args: { caller: 'caller', device: 'device', slot: 'slot', bit: 'bit' },
    summary:
      "binds the device's interrupt to a bit of a notification of the device's domain (SIGNAL capability)",
    returns: ['OK', 'ENOTRUNNING', 'EINVAL', 'EPERM', 'ENOCAP', 'ERIGHTS'],
  },
  irq_ack: {
    number: 53,
    group: 'devices',
    who: 'object owner',
    args: { caller: 'caller', device: 'device' },
    summary: "unmasks the device's interrupt after the driver handled it",
    returns: ['OK', 'ENOTRUNNING', 'EINVAL', 'EPERM'],
  },
  irq_raise: {
    number: 54,
    group: 'devices',
    who: 'runtime (interrupt line)',
    args: { device: 'device' },
    summary:
      "the line rose: signal the bound notification bit and mask the line until acknowledged (acts for the device's domain)",
    returns: ['OK', 'EINVAL', 'EMASKED'],
  },
  smc_register: {
    number: 60,
    group: 'secure monitor',
    who: 'admin authority',
    args: { caller: 'caller', entry: 'entry', endpoint: 'endpoint', valid: 'flag' },
    summary: 'sets SMC entry `entry` to a secure endpoint whose peer domain is non-secure (or clears it)',
    returns: ['OK', 'ENOTRUNNING', 'EPERM', 'EINVAL', 'EWORLD'],
  },
  smc: {
    number: 61,
    group: 'secure monitor',
    who: 'Normal World',
    args: { caller: 'caller', entry: 'entry', ...mr },
    summary:
      "world switch: calls the registered entry's secure endpoint (badge = entry number); the only way from the Normal World into a secure domain",
    returns: ['BLOCKED', 'ENOTRUNNING', 'ENOENT', 'EPERM', 'ENORECV'],
  },
} as const satisfies Record<string, CallSpec>;

export type CallName = keyof typeof callTable;
export const callNames = Object.keys(callTable) as CallName[];

/** The arguments of call N, each a bitvector of its interpretation. */
export type Args<T extends Theory, N extends CallName> = {
  -readonly [K in keyof (typeof callTable)[N]['args']]: T['bv'];
};

export function argSort(p: KernelProfile, kind: ArgKind): BvSort {
  const k = kernelSorts(p);
  switch (kind) {
    case 'rights':
      return k.Rights;
    case 'word':
      return k.Word;
    case 'bit':
      return k.BitNo;
    case 'flag':
      return k.Bit;
    default:
      return k.Idx;
  }
}

/** The argument record sort of a call (what the proofs quantify over). */
export function argsSchema(p: KernelProfile, name: CallName): RecordSort {
  const spec: CallSpec = callTable[name];
  const fields: Record<string, BvSort> = {};
  for (const [a, kind] of Object.entries(spec.args)) fields[a] = argSort(p, kind);
  return record(fields);
}

/** The call of a number, for dispatch. */
const byNumber = new Map<number, CallName>(callNames.map((n) => [callTable[n].number, n]));
export function callByNumber(n: number): CallName | undefined {
  return byNumber.get(n);
}
