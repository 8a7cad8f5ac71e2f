/**
 * Kernel profiles: the sizes of the fixed object tables and the region rules. The core, its
 * specification and its proofs are written once, parametric in the profile; a profile only chooses
 * numbers. The proof profile is small (every obligation quantifies over all states of these sizes); the
 * board profiles are what the runtime instantiates on each emulated SoC.
 */
import { assert } from '../../common/errors.js';
import { bv, type BvSort } from '../../proof/sorts.js';

/** Region rules: what a mapping may be, per region kind (the MMU of an A-class core vs an MPU). */
export interface RegionRules {
  /** Rights (R=1, W=2, X=4) a mapping of a private region may carry. */
  readonly privateRights: number;
  /** Rights a mapping of a shared region (rings, TEE shared memory) may carry. */
  readonly sharedRights: number;
  /** Rights a mapping of a device window (MMIO) may carry. */
  readonly deviceRights: number;
  /** Write xor execute: no mapping is both writable and executable. */
  readonly wxorx: boolean;
  /** How many regions one partition may have mapped at once (an MPU has a handful of slots). */
  readonly maxMapsPerPartition: number;
}

export interface KernelProfile {
  readonly name: string;
  readonly description: string;
  /** Security domains; domain 0 is the boot/admin authority. */
  readonly domains: number;
  readonly partitions: number;
  readonly regions: number;
  readonly endpoints: number;
  readonly notifications: number;
  readonly devices: number;
  /** Capability slots per partition. */
  readonly capSlots: number;
  readonly smcEntries: number;
  /** Width of object generations; an object whose generation is exhausted can no longer be revoked. */
  readonly genBits: number;
  readonly regionRules: RegionRules;
}

export const R = 1;
export const W = 2;
export const X = 4;
export const RWX = R | W | X;

/** The profile every proof obligation is stated for: tiny tables, every rule exercised. */
export const proofProfile: KernelProfile = Object.freeze({
  name: 'proof',
  description: 'the profile the proofs quantify over: 3 domains, 3 partitions, 3 of each object',
  domains: 3,
  partitions: 3,
  regions: 3,
  endpoints: 2,
  notifications: 2,
  devices: 2,
  capSlots: 3,
  smcEntries: 2,
  // Narrow generations keep the arithmetic small for the solver; the overflow path is proven all the same.
  genBits: 8,
  regionRules: Object.freeze({
    privateRights: RWX,
    sharedRights: R | W,
    deviceRights: R | W,
    wxorx: true,
    // Below the number of regions, so the limit is a live rule in every proof.
    maxMapsPerPartition: 2,
  }),
});

/**
 * An A-class TrustZone application processor (MMU): the iot-gateway and the head unit's main SoC.
 *
 * Sized to what the boards' system configurations boot — the iot-gateway's Secure World of the paper's
 * Figure 1 (5 domains, 6 partitions, 7 regions, 2 endpoints, 3 notifications, 2 devices, 2 SMC entries;
 * `images/iot-gateway/system.yaml`) — with one region to spare. Every obligation is proven at exactly
 * these numbers (docs/kernel.md, "Profiles and what they cost to prove").
 */
export const applicationProfile: KernelProfile = Object.freeze({
  name: 'application',
  description: 'Cortex-A class application processor with an MMU (iot-gateway, uconnect-headunit)',
  domains: 5,
  partitions: 6,
  regions: 8,
  endpoints: 2,
  notifications: 3,
  devices: 2,
  capSlots: 3,
  smcEntries: 2,
  // An object can be revoked or destroyed 255 times; then EOVERFLOW (proven: it never wraps round).
  genBits: 8,
  regionRules: Object.freeze({
    ...proofProfile.regionRules,
    // An MMU maps every region at once: no per-partition limit (the rule is vacuous, not a guard).
    maxMapsPerPartition: 8,
  }),
});

/**
 * A microcontroller with an MPU (the head unit's CAN controller): the proof profile's tables and rules —
 * few regions, at most two of them mapped per partition at once, so the MPU rule is live
 * (`region_map.limit`) — under its own name, proven at that size.
 */
export const microcontrollerProfile: KernelProfile = Object.freeze({
  ...proofProfile,
  name: 'microcontroller',
  description: 'Cortex-M class microcontroller with an MPU (the CAN microcontroller of a head unit)',
});

export const profiles: Readonly<Record<string, KernelProfile>> = Object.freeze({
  proof: proofProfile,
  application: applicationProfile,
  microcontroller: microcontrollerProfile,
});

/** Which profile each board's kernel runs with. */
export const boardProfiles: Readonly<Record<string, KernelProfile>> = Object.freeze({
  'iot-gateway': applicationProfile,
  'uconnect-headunit': applicationProfile,
  'uconnect-headunit/can-mcu': microcontrollerProfile,
});

/** The bitvector sorts of one profile. */
export interface KernelSorts {
  /** Partition, object, slot and SMC entry numbers; the all-ones value is NONE. */
  readonly Idx: BvSort;
  readonly NONE: number;
  readonly Dom: BvSort;
  readonly Bit: BvSort;
  /** Message registers, labels, badges, notification bits, budgets. */
  readonly Word: BvSort;
  readonly Gen: BvSort;
  /** Reference counts. */
  readonly Count: BvSort;
  readonly Rights: BvSort;
  /** Partition state, capability type, region kind. */
  readonly Small: BvSort;
  /** Error codes. */
  readonly Code: BvSort;
  /** A bit number of a notification word (0–31). */
  readonly BitNo: BvSort;
  /** Message register number (0–3). */
  readonly MrNo: BvSort;
}

function bitsFor(n: number): number {
  return Math.max(1, Math.ceil(Math.log2(n + 1)));
}

export function checkProfile(p: KernelProfile): void {
  const positive = [
    'domains',
    'partitions',
    'regions',
    'endpoints',
    'notifications',
    'devices',
    'capSlots',
    'smcEntries',
  ] as const;
  for (const k of positive)
    assert(Number.isInteger(p[k]) && p[k] >= 1 && p[k] <= 1024, `profile ${p.name}: ${k} must be 1..1024`);
  assert(p.domains >= 2, `profile ${p.name}: at least the admin domain and one other`);
  assert(
    Number.isInteger(p.genBits) && p.genBits >= 2 && p.genBits <= 32,
    `profile ${p.name}: genBits must be 2..32`,
  );
  const r = p.regionRules;
  for (const k of ['privateRights', 'sharedRights', 'deviceRights'] as const)
    assert(
      Number.isInteger(r[k]) && r[k] >= 0 && r[k] <= RWX,
      `profile ${p.name}: ${k} must be a subset of RWX`,
    );
  assert(
    Number.isInteger(r.maxMapsPerPartition) && r.maxMapsPerPartition >= 1,
    `profile ${p.name}: maxMapsPerPartition ≥ 1`,
  );
}

const sortCache = new WeakMap<KernelProfile, KernelSorts>();

export function kernelSorts(p: KernelProfile): KernelSorts {
  const hit = sortCache.get(p);
  if (hit) return hit;
  checkProfile(p);
  const largest = Math.max(
    p.partitions,
    p.regions,
    p.endpoints,
    p.notifications,
    p.devices,
    p.capSlots,
    p.smcEntries,
  );
  const Idx = bv(bitsFor(largest));
  const owned = p.regions + p.endpoints + p.notifications + p.devices;
  const s: KernelSorts = Object.freeze({
    Idx,
    NONE: Idx.mask,
    Dom: bv(bitsFor(p.domains - 1)),
    Bit: bv(1),
    Word: bv(32),
    Gen: bv(p.genBits),
    Count: bv(bitsFor(Math.max(owned, p.partitions, p.regions))),
    Rights: bv(4),
    Small: bv(3),
    Code: bv(8),
    BitNo: bv(5),
    MrNo: bv(2),
  });
  sortCache.set(p, s);
  return s;
}
