/**
 * The kernel state: fixed tables whose sizes come from the profile. The first group of fields is the
 * static configuration (set at boot from the board's security policy, never written by any call — the
 * proofs show it); the rest is the dynamic state the calls change.
 *
 * Encodings chosen so that 0 means "nothing": a FREE partition, an empty capability slot, no rights.
 * References to partitions and objects use the profile's index sort, whose all-ones value is NONE.
 */
import { array, matrix, record, type Theory, type Val } from '../../proof/sorts.js';
import { kernelSorts, type KernelProfile } from './profile.js';

/** Partition states. */
export const FREE = 0;
export const STOPPED = 1;
export const RUNNABLE = 2;
export const BLOCKED_RECV = 3;
export const BLOCKED_REPLY = 4;
export const BLOCKED_NTF = 5;
export const partitionStateNames = [
  'free',
  'stopped',
  'runnable',
  'blocked-recv',
  'blocked-reply',
  'blocked-ntf',
] as const;

/** Worlds (the TrustZone NS bit, inverted: 1 is secure). */
export const NONSECURE = 0;
export const SECURE = 1;

/** Region kinds. */
export const PRIVATE = 0;
export const SHARED = 1;
export const DEVICE = 2;
export const regionKindNames = ['private', 'shared', 'device'] as const;

/** Capability types. */
export const CAP_NONE = 0;
export const CAP_ENDPOINT = 1;
export const CAP_NOTIFICATION = 2;

/** Capability rights: endpoints SEND/RECV, notifications SIGNAL/WAIT; GRANT allows copying. */
export const SEND = 1;
export const RECV = 2;
export const SIGNAL = 1;
export const WAIT = 2;
export const GRANT = 8;
export const CAP_ALL = SEND | RECV | GRANT;

/** The admin authority's domain. */
export const ADMIN = 0;

/** Message registers per partition. */
export const MRS = 4;

export function kernelStateSchema(p: KernelProfile) {
  const k = kernelSorts(p);
  const { Idx, Dom, Bit, Word, Gen, Count, Rights, Small, Code, BitNo, MrNo } = k;
  const P = p.partitions;
  const perPart = <S extends typeof Word>(v: S) => array(P, v, Idx);
  return record({
    // ---- static configuration
    domWorld: array(p.domains, Bit, Dom),
    flow: matrix(p.domains, p.domains, Bit, Dom, Dom),
    partDom: array(P, Dom, Idx),
    regionDom: array(p.regions, Dom, Idx),
    regionPeer: array(p.regions, Dom, Idx),
    regionWorld: array(p.regions, Bit, Idx),
    regionKind: array(p.regions, Small, Idx),
    regionDev: array(p.regions, Idx, Idx),
    epDom: array(p.endpoints, Dom, Idx),
    epPeer: array(p.endpoints, Dom, Idx),
    ntfDom: array(p.notifications, Dom, Idx),
    ntfPeer: array(p.notifications, Dom, Idx),
    devDom: array(p.devices, Dom, Idx),
    devWorld: array(p.devices, Bit, Idx),
    // ---- partitions
    partState: array(P, Small, Idx),
    partBudget: perPart(Word),
    /** The endpoint, notification or server partition a blocked partition waits on; NONE otherwise. */
    partBlockedOn: array(P, Idx, Idx),
    /** The one-shot reply capability: the client this partition must reply to, or NONE. */
    partReplyTo: array(P, Idx, Idx),
    /** How many regions, endpoints, notifications and devices the partition owns (exact). */
    partOwned: array(P, Count, Idx),
    /** How many regions the partition maps (exact; bounded by the profile's region rules). */
    partMaps: array(P, Count, Idx),
    /** Registers written when the partition is woken: status, label, badge, message registers. */
    partStatus: array(P, Code, Idx),
    partLabel: perPart(Word),
    partBadge: perPart(Word),
    partMr: matrix(P, MRS, Word, Idx, MrNo),
    // ---- regions
    regionOwner: array(p.regions, Idx, Idx),
    /** Rights the owner grants to the other partitions of the region's domains (0: not shared). */
    regionShare: array(p.regions, Rights, Idx),
    /** How many partitions map the region (exact). */
    regionRefs: array(p.regions, Count, Idx),
    map: matrix(P, p.regions, Rights, Idx, Idx),
    // ---- endpoints
    epOwner: array(p.endpoints, Idx, Idx),
    epGen: array(p.endpoints, Gen, Idx),
    epWaiter: array(p.endpoints, Idx, Idx),
    // ---- notifications
    ntfOwner: array(p.notifications, Idx, Idx),
    ntfGen: array(p.notifications, Gen, Idx),
    ntfPending: array(p.notifications, Word, Idx),
    ntfWaiter: array(p.notifications, Idx, Idx),
    // ---- capabilities: one row of slots per partition
    capType: matrix(P, p.capSlots, Small, Idx, Idx),
    capObj: matrix(P, p.capSlots, Idx, Idx, Idx),
    capRights: matrix(P, p.capSlots, Rights, Idx, Idx),
    capGen: matrix(P, p.capSlots, Gen, Idx, Idx),
    capBadge: matrix(P, p.capSlots, Word, Idx, Idx),
    // ---- devices
    devOwner: array(p.devices, Idx, Idx),
    /** The notification the device's interrupt is bound to (valid while its generation matches). */
    devNtf: array(p.devices, Idx, Idx),
    devBindGen: array(p.devices, Gen, Idx),
    devBit: array(p.devices, BitNo, Idx),
    /** Masked from delivery until the owner acknowledges. */
    devMasked: array(p.devices, Bit, Idx),
    /** How many device-window regions of the device are allocated (exact). */
    devWindows: array(p.devices, Count, Idx),
    // ---- the SMC entry table (written by the admin authority)
    smcEp: array(p.smcEntries, Idx, Idx),
    smcValid: array(p.smcEntries, Bit, Idx),
  });
}

export type KernelStateSchema = ReturnType<typeof kernelStateSchema>;
export type KState<T extends Theory> = Val<T, KernelStateSchema>;

/** The fields of the static configuration (never written by any call). */
export const configFields = [
  'domWorld',
  'flow',
  'partDom',
  'regionDom',
  'regionPeer',
  'regionWorld',
  'regionKind',
  'regionDev',
  'epDom',
  'epPeer',
  'ntfDom',
  'ntfPeer',
  'devDom',
  'devWorld',
] as const;
