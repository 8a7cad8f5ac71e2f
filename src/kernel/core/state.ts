/**
 * The kernel state: fixed tables whose sizes come from the profile. The first group of fields is the
 * static configuration (set at boot from the board's security policy, never written by any call — the
 * proofs show it); the rest is the dynamic state the calls change.
 *
 * Encodings chosen so that 0 means "nothing": a FREE partition, an empty capability slot, no rights.
 * References to partitions and objects use the profile's index sort, whose all-ones value is NONE.
 */
import { array, matrix, record, type Theory, type Val } from '../../proof/sorts.js';
import { assert } from '../../common/errors.js';
import { kernelSorts, proofProfile, type KernelProfile } from './profile.js';

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

/**
 * The concrete state record. A call returns a new record with a few fields replaced; copying a
 * 50-field object literal with a spread costs V8 over a microsecond, this constructor a few dozen
 * nanoseconds (measured here). The field list is checked against the schema when the module loads.
 */
export class KernelStateRecord {
  domWorld: unknown;
  flow: unknown;
  partDom: unknown;
  regionDom: unknown;
  regionPeer: unknown;
  regionWorld: unknown;
  regionKind: unknown;
  regionDev: unknown;
  epDom: unknown;
  epPeer: unknown;
  ntfDom: unknown;
  ntfPeer: unknown;
  devDom: unknown;
  devWorld: unknown;
  partState: unknown;
  partBudget: unknown;
  partBlockedOn: unknown;
  partReplyTo: unknown;
  partOwned: unknown;
  partMaps: unknown;
  partStatus: unknown;
  partLabel: unknown;
  partBadge: unknown;
  partMr: unknown;
  regionOwner: unknown;
  regionShare: unknown;
  regionRefs: unknown;
  map: unknown;
  epOwner: unknown;
  epGen: unknown;
  epWaiter: unknown;
  ntfOwner: unknown;
  ntfGen: unknown;
  ntfPending: unknown;
  ntfWaiter: unknown;
  capType: unknown;
  capObj: unknown;
  capRights: unknown;
  capGen: unknown;
  capBadge: unknown;
  devOwner: unknown;
  devNtf: unknown;
  devBindGen: unknown;
  devBit: unknown;
  devMasked: unknown;
  devWindows: unknown;
  smcEp: unknown;
  smcValid: unknown;

  constructor(s: Readonly<Record<(typeof stateFields)[number], unknown>>) {
    this.domWorld = s.domWorld;
    this.flow = s.flow;
    this.partDom = s.partDom;
    this.regionDom = s.regionDom;
    this.regionPeer = s.regionPeer;
    this.regionWorld = s.regionWorld;
    this.regionKind = s.regionKind;
    this.regionDev = s.regionDev;
    this.epDom = s.epDom;
    this.epPeer = s.epPeer;
    this.ntfDom = s.ntfDom;
    this.ntfPeer = s.ntfPeer;
    this.devDom = s.devDom;
    this.devWorld = s.devWorld;
    this.partState = s.partState;
    this.partBudget = s.partBudget;
    this.partBlockedOn = s.partBlockedOn;
    this.partReplyTo = s.partReplyTo;
    this.partOwned = s.partOwned;
    this.partMaps = s.partMaps;
    this.partStatus = s.partStatus;
    this.partLabel = s.partLabel;
    this.partBadge = s.partBadge;
    this.partMr = s.partMr;
    this.regionOwner = s.regionOwner;
    this.regionShare = s.regionShare;
    this.regionRefs = s.regionRefs;
    this.map = s.map;
    this.epOwner = s.epOwner;
    this.epGen = s.epGen;
    this.epWaiter = s.epWaiter;
    this.ntfOwner = s.ntfOwner;
    this.ntfGen = s.ntfGen;
    this.ntfPending = s.ntfPending;
    this.ntfWaiter = s.ntfWaiter;
    this.capType = s.capType;
    this.capObj = s.capObj;
    this.capRights = s.capRights;
    this.capGen = s.capGen;
    this.capBadge = s.capBadge;
    this.devOwner = s.devOwner;
    this.devNtf = s.devNtf;
    this.devBindGen = s.devBindGen;
    this.devBit = s.devBit;
    this.devMasked = s.devMasked;
    this.devWindows = s.devWindows;
    this.smcEp = s.smcEp;
    this.smcValid = s.smcValid;
  }
}

/** The part of a concrete table this module needs (keeps `state.ts` free of the interpreter). */
interface Committable {
  readonly pending: boolean;
  commitInPlace(): Committable;
}

/**
 * Writes the pending writes of every table `next` changed (relative to `before`) into the table itself,
 * field by field by name (property reads by a variable key cost V8 tens of nanoseconds each).
 */
export function commitRecord(next: KernelStateRecord, before: KernelStateRecord): void {
  const commit = (a: unknown, b: unknown): unknown =>
    a !== b && (a as Committable).pending ? (a as Committable).commitInPlace() : a;
  next.domWorld = commit(next.domWorld, before.domWorld);
  next.flow = commit(next.flow, before.flow);
  next.partDom = commit(next.partDom, before.partDom);
  next.regionDom = commit(next.regionDom, before.regionDom);
  next.regionPeer = commit(next.regionPeer, before.regionPeer);
  next.regionWorld = commit(next.regionWorld, before.regionWorld);
  next.regionKind = commit(next.regionKind, before.regionKind);
  next.regionDev = commit(next.regionDev, before.regionDev);
  next.epDom = commit(next.epDom, before.epDom);
  next.epPeer = commit(next.epPeer, before.epPeer);
  next.ntfDom = commit(next.ntfDom, before.ntfDom);
  next.ntfPeer = commit(next.ntfPeer, before.ntfPeer);
  next.devDom = commit(next.devDom, before.devDom);
  next.devWorld = commit(next.devWorld, before.devWorld);
  next.partState = commit(next.partState, before.partState);
  next.partBudget = commit(next.partBudget, before.partBudget);
  next.partBlockedOn = commit(next.partBlockedOn, before.partBlockedOn);
  next.partReplyTo = commit(next.partReplyTo, before.partReplyTo);
  next.partOwned = commit(next.partOwned, before.partOwned);
  next.partMaps = commit(next.partMaps, before.partMaps);
  next.partStatus = commit(next.partStatus, before.partStatus);
  next.partLabel = commit(next.partLabel, before.partLabel);
  next.partBadge = commit(next.partBadge, before.partBadge);
  next.partMr = commit(next.partMr, before.partMr);
  next.regionOwner = commit(next.regionOwner, before.regionOwner);
  next.regionShare = commit(next.regionShare, before.regionShare);
  next.regionRefs = commit(next.regionRefs, before.regionRefs);
  next.map = commit(next.map, before.map);
  next.epOwner = commit(next.epOwner, before.epOwner);
  next.epGen = commit(next.epGen, before.epGen);
  next.epWaiter = commit(next.epWaiter, before.epWaiter);
  next.ntfOwner = commit(next.ntfOwner, before.ntfOwner);
  next.ntfGen = commit(next.ntfGen, before.ntfGen);
  next.ntfPending = commit(next.ntfPending, before.ntfPending);
  next.ntfWaiter = commit(next.ntfWaiter, before.ntfWaiter);
  next.capType = commit(next.capType, before.capType);
  next.capObj = commit(next.capObj, before.capObj);
  next.capRights = commit(next.capRights, before.capRights);
  next.capGen = commit(next.capGen, before.capGen);
  next.capBadge = commit(next.capBadge, before.capBadge);
  next.devOwner = commit(next.devOwner, before.devOwner);
  next.devNtf = commit(next.devNtf, before.devNtf);
  next.devBindGen = commit(next.devBindGen, before.devBindGen);
  next.devBit = commit(next.devBit, before.devBit);
  next.devMasked = commit(next.devMasked, before.devMasked);
  next.devWindows = commit(next.devWindows, before.devWindows);
  next.smcEp = commit(next.smcEp, before.smcEp);
  next.smcValid = commit(next.smcValid, before.smcValid);
}

export const stateFields = [
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
  'partState',
  'partBudget',
  'partBlockedOn',
  'partReplyTo',
  'partOwned',
  'partMaps',
  'partStatus',
  'partLabel',
  'partBadge',
  'partMr',
  'regionOwner',
  'regionShare',
  'regionRefs',
  'map',
  'epOwner',
  'epGen',
  'epWaiter',
  'ntfOwner',
  'ntfGen',
  'ntfPending',
  'ntfWaiter',
  'capType',
  'capObj',
  'capRights',
  'capGen',
  'capBadge',
  'devOwner',
  'devNtf',
  'devBindGen',
  'devBit',
  'devMasked',
  'devWindows',
  'smcEp',
  'smcValid',
] as const;

export type KernelStateSchema = ReturnType<typeof kernelStateSchema>;

// The record class and the schema list the same fields, in the same order.
{
  const schemaFields = Object.keys(kernelStateSchema(proofProfile).fields);
  assert(
    schemaFields.join() === stateFields.join(),
    'KernelStateRecord and the state schema disagree on the fields',
  );
}
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
