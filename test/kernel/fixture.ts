/**
 * A small system for the kernel's concrete tests: four domains (admin; two trusted applications, TA1 and
 * TA2; the Normal World), two or three partitions each, and every channel shape — an SMC endpoint, a
 * secure client of a Normal World service, Secure-to-Normal signals, shared memory both ways, device
 * windows and interrupts — wired by the admin authority the way the runtime does at boot.
 */
import assert from 'node:assert/strict';
import type { ConcreteTheory } from '../../src/proof/concrete.js';
import { concreteOps } from '../../src/proof/concrete.js';
import { productionGuards } from '../../src/proof/guards.js';
import type { KernelConfig } from '../../src/kernel/core/config.js';
import { makeCtx, Kit } from '../../src/kernel/core/kit.js';
import { R, W, X, type KernelProfile } from '../../src/kernel/core/profile.js';
import type { KState } from '../../src/kernel/core/state.js';
import {
  createKernel,
  step,
  type CallArgs,
  type KernelState,
  type StepResult,
} from '../../src/kernel/core/step.js';
import type { CallName } from '../../src/kernel/core/table.js';
import {
  capabilityInvariant,
  configInvariant,
  countInvariant,
  objectInvariant,
  partitionInvariant,
} from '../../src/kernel/spec/invariant.js';
import { worldStateClauses } from '../../src/kernel/spec/world.js';

export const ADMIN = 0;
export const TA1 = 1;
export const TA2 = 2;
export const NW = 3;

export const testProfile: KernelProfile = Object.freeze({
  name: 'test',
  description: 'the concrete tests: 4 domains, 8 partitions',
  domains: 4,
  partitions: 8,
  regions: 8,
  endpoints: 4,
  notifications: 4,
  devices: 3,
  capSlots: 4,
  smcEntries: 2,
  genBits: 8,
  regionRules: Object.freeze({
    privateRights: R | W | X,
    sharedRights: R | W,
    deviceRights: R | W,
    wxorx: true,
    maxMapsPerPartition: 3,
  }),
});

/** Partitions: 0 admin; 1, 2 TA1; 3, 4 TA2; 5, 6, 7 the Normal World. */
export const P = { admin: 0, ta1: 1, ta1b: 2, ta2: 3, ta2b: 4, nw: 5, nwb: 6, nwc: 7 } as const;

export const testConfig: KernelConfig = {
  domains: [{ world: 'secure' }, { world: 'secure' }, { world: 'secure' }, { world: 'non-secure' }],
  partitions: [
    { domain: ADMIN },
    { domain: TA1 },
    { domain: TA1 },
    { domain: TA2 },
    { domain: TA2 },
    { domain: NW },
    { domain: NW },
    { domain: NW },
  ],
  regions: [
    { domain: TA1, world: 'secure', kind: 'private' }, // 0
    { domain: NW, peer: TA1, world: 'non-secure', kind: 'shared' }, // 1: TEE shared memory
    { domain: TA1, world: 'secure', kind: 'device', device: 0 }, // 2: window of the secure NIC
    { domain: NW, world: 'non-secure', kind: 'private' }, // 3
    { domain: TA1, peer: TA2, world: 'secure', kind: 'shared' }, // 4: a ring between the TAs
    { domain: NW, world: 'non-secure', kind: 'device', device: 1 }, // 5: window of the NW UART
    { domain: TA2, world: 'secure', kind: 'private' }, // 6
    { domain: TA1, world: 'non-secure', kind: 'private' }, // 7: NS memory a TA owns
  ],
  endpoints: [
    { domain: TA1, peer: NW }, // 0: the SMC endpoint
    { domain: TA1, peer: TA2 }, // 1
    { domain: TA2 }, // 2
    { domain: NW, peer: TA1 }, // 3: a Normal World service with a secure client
  ],
  notifications: [
    { domain: TA1 }, // 0: TA1's interrupts
    { domain: NW, peer: TA1 }, // 1: TA1 signals the Normal World
    { domain: TA2, peer: TA1 }, // 2
    { domain: NW }, // 3
  ],
  devices: [
    { domain: TA1, world: 'secure' },
    { domain: NW, world: 'non-secure' },
    { domain: TA2, world: 'secure' },
  ],
};

/** Runs a call and insists on its result code. */
export function expectCall(s: KernelState, call: CallName, args: CallArgs, code: string): StepResult {
  const r = step(s, call, args);
  assert.equal(r.ret.name, code, `${call} ${JSON.stringify(args)} returned ${r.ret.name}, expected ${code}`);
  return r;
}

/**
 * The booted test system: every partition started; TA1 owns the SMC endpoint (entry 0) and its
 * interrupt notification; TA2 holds a SEND capability to TA1's endpoint 1; TA1 holds a SIGNAL
 * capability to the Normal World's notification 1 and a SEND capability to its endpoint 3.
 */
export function bootTestSystem(): KernelState {
  let s = createKernel(testProfile, testConfig, 'test configuration');
  const run = (call: CallName, args: CallArgs, code = 'OK'): void => {
    s = expectCall(s, call, args, code).state;
  };
  for (let q = 1; q < testProfile.partitions; q++) {
    run('partition_create', { caller: P.admin, target: q, budget: 1000 });
    run('partition_start', { caller: P.admin, target: q });
  }
  run('endpoint_create', { caller: P.ta1, endpoint: 0, slot: 0 });
  run('smc_register', { caller: P.admin, entry: 0, endpoint: 0, valid: 1 });
  run('notification_create', { caller: P.ta1, notification: 0, slot: 1 });
  run('endpoint_create', { caller: P.ta1, endpoint: 1, slot: 2 });
  run('cap_copy', { caller: P.admin, from: P.ta1, slot: 2, to: P.ta2, toSlot: 0, rights: 1 | 8, badge: 42 });
  run('notification_create', { caller: P.nw, notification: 1, slot: 0 });
  run('cap_copy', { caller: P.admin, from: P.nw, slot: 0, to: P.ta1, toSlot: 3, rights: 1, badge: 0 });
  run('endpoint_create', { caller: P.nw, endpoint: 3, slot: 1 });
  run('notification_create', { caller: P.ta2, notification: 2, slot: 1 });
  run('cap_copy', { caller: P.admin, from: P.ta2, slot: 1, to: P.ta1b, toSlot: 0, rights: 1, badge: 0 });
  run('cap_copy', { caller: P.admin, from: P.nw, slot: 1, to: P.ta1b, toSlot: 1, rights: 1, badge: 7 });
  run('endpoint_create', { caller: P.ta2b, endpoint: 2, slot: 0 });
  run('notification_create', { caller: P.nwb, notification: 3, slot: 0 });
  return s;
}

const ctx = makeCtx(testProfile, productionGuards);

/** The clauses of the representation invariant and of world separation that a state violates. */
export function violations(tables: KState<ConcreteTheory>): string[] {
  const x = new Kit(ctx, concreteOps);
  const out: string[] = [];
  for (const group of [
    configInvariant,
    partitionInvariant,
    objectInvariant,
    countInvariant,
    capabilityInvariant,
    worldStateClauses,
  ])
    for (const [name, holds] of Object.entries(group(x, tables))) if (holds !== true) out.push(name);
  return out;
}
