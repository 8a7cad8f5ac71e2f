/**
 * Every error path of every call: for each code the call table declares, a state and arguments that
 * produce it are found (a seeded search over scripted states and argument values at and past every
 * boundary), and every failing call returns the state it was given — unchanged, not a copy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../src/common/random.js';
import type { CArray } from '../../src/proof/concrete.js';
import { step, type KernelState } from '../../src/kernel/core/step.js';
import {
  argSort,
  callNames,
  callTable,
  type ArgKind,
  type CallName,
  type CallSpec,
} from '../../src/kernel/core/table.js';
import { bootTestSystem, expectCall, P, testProfile } from './fixture.js';

const p = testProfile;

/** Runs a script of calls from a state, insisting each succeeds (OK or BLOCKED). */
function after(s: KernelState, script: readonly [CallName, Record<string, number>][]): KernelState {
  for (const [call, args] of script) {
    const r = step(s, call, args);
    assert.ok(
      r.ret.name === 'OK' || r.ret.name === 'BLOCKED',
      `${call} ${JSON.stringify(args)}: ${r.ret.name}`,
    );
    s = r.state;
  }
  return s;
}

/** A state with every generation at its last value: the next revocation would overflow. */
function exhausted(s: KernelState): KernelState {
  const t = s.tables;
  const max = 2 ** p.genBits - 1;
  const fill = (a: CArray, n: number): CArray => {
    let out = a;
    for (let i = 0; i < n; i++) out = out.set(i, max);
    return out;
  };
  return {
    profile: p,
    tables: {
      ...t,
      epGen: fill(t.epGen, p.endpoints),
      ntfGen: fill(t.ntfGen, p.notifications),
      capGen: fill(t.capGen, p.partitions * p.capSlots),
      devBindGen: fill(t.devBindGen, p.devices),
    },
  };
}

function states(): KernelState[] {
  const boot = bootTestSystem();
  const m = { mr0: 0, mr1: 0, mr2: 0, mr3: 0 };
  return [
    boot,
    // Receivers waiting on TA1's SMC endpoint and its endpoint 1; bits pending on notification 2.
    after(boot, [
      ['cap_copy', { caller: P.ta1, from: P.ta1, slot: 2, to: P.ta1b, toSlot: 2, rights: 2, badge: 0 }],
      ['endpoint_receive', { caller: P.ta1, slot: 0 }],
      ['notification_signal', { caller: P.ta1b, slot: 0, bits: 4 }],
      ['endpoint_receive', { caller: P.ta1b, slot: 2 }],
    ]),
    // A call in progress, the Normal World inside TA1, a Normal World receiver, a trusted application waiting.
    after(boot, [
      ['endpoint_receive', { caller: P.ta1, slot: 0 }],
      ['smc', { caller: P.nw, entry: 0, label: 1, ...m }],
      ['cap_copy', { caller: P.admin, from: P.nw, slot: 1, to: P.nwb, toSlot: 1, rights: 2, badge: 0 }],
      ['endpoint_receive', { caller: P.nwb, slot: 1 }],
      ['notification_wait', { caller: P.ta2, slot: 1 }],
    ]),
    // Memory in every state: owned, shared, mapped up to the limit; a device and its window; TEE memory in use.
    after(boot, [
      ['region_alloc', { caller: P.ta1, region: 0 }],
      ['region_map', { caller: P.ta1, region: 0, rights: 5 }],
      ['region_alloc', { caller: P.ta1, region: 7 }],
      ['region_map', { caller: P.ta1, region: 7, rights: 3 }],
      ['region_alloc', { caller: P.ta1, region: 4 }],
      ['region_share', { caller: P.ta1, region: 4, rights: 1 }],
      ['region_map', { caller: P.ta2, region: 4, rights: 1 }],
      ['device_claim', { caller: P.ta1b, device: 0 }],
      ['region_alloc', { caller: P.ta1b, region: 2 }],
      ['region_alloc', { caller: P.nw, region: 1 }],
      ['region_share', { caller: P.nw, region: 1, rights: 3 }],
      ['region_map', { caller: P.ta1, region: 1, rights: 3 }],
      ['device_claim', { caller: P.nw, device: 1 }],
      ['partition_stop', { caller: P.admin, target: P.ta1b }],
    ]),
    // Capabilities outside their receiving domain's use (RECV and WAIT rights in a peer domain); a
    // notification waited on by one partition and held by another; a bound interrupt; a free partition
    // slot, a stopped partition that owns nothing, a free endpoint and a free notification.
    after(boot, [
      ['cap_copy', { caller: P.admin, from: P.ta1, slot: 2, to: P.ta2b, toSlot: 1, rights: 2, badge: 0 }],
      ['cap_copy', { caller: P.admin, from: P.nw, slot: 0, to: P.ta1b, toSlot: 2, rights: 2, badge: 0 }],
      [
        'cap_copy',
        { caller: P.ta1, from: P.ta1, slot: 1, to: P.ta1b, toSlot: 3, rights: 1 | 2 | 8, badge: 0 },
      ],
      ['notification_wait', { caller: P.ta1, slot: 1 }],
      ['partition_stop', { caller: P.admin, target: P.nwc }],
      ['partition_destroy', { caller: P.admin, target: P.nwc }],
      ['device_claim', { caller: P.ta1b, device: 0 }],
      ['irq_bind', { caller: P.ta1b, device: 0, slot: 3, bit: 1 }],
      ['endpoint_destroy', { caller: P.ta2b, endpoint: 2 }],
      ['notification_destroy', { caller: P.nwb, notification: 3 }],
      ['partition_stop', { caller: P.admin, target: P.nwb }],
    ]),
    // TA1 holds the Normal World's reply capability, and slot 1 holds an endpoint capability it cannot
    // receive on: without RECV (ERIGHTS), or to the Normal World's endpoint (EPERM); TA1b waits on TA1's
    // endpoint 1 (EBUSY).
    ...[
      ['cap_copy', { caller: P.ta1, from: P.ta1, slot: 2, to: P.ta1, toSlot: 1, rights: 1, badge: 0 }],
      ['cap_copy', { caller: P.admin, from: P.nw, slot: 1, to: P.ta1, toSlot: 1, rights: 2, badge: 0 }],
    ].map((copy) =>
      after(boot, [
        ['cap_copy', { caller: P.ta1, from: P.ta1, slot: 2, to: P.ta1b, toSlot: 2, rights: 2, badge: 0 }],
        ['endpoint_receive', { caller: P.ta1b, slot: 2 }],
        ['endpoint_receive', { caller: P.ta1, slot: 0 }],
        ['smc', { caller: P.nw, entry: 0, label: 1, ...m }],
        ['cap_delete', { caller: P.ta1, slot: 1 }],
        copy as [CallName, Record<string, number>],
      ]),
    ),
    exhausted(boot),
  ];
}

const sizes: Partial<Record<ArgKind, number>> = {
  caller: p.partitions,
  partition: p.partitions,
  region: p.regions,
  endpoint: p.endpoints,
  notification: p.notifications,
  device: p.devices,
  slot: p.capSlots,
  entry: p.smcEntries,
};

function value(rnd: SeededRandom, kind: ArgKind): number {
  const size = sizes[kind];
  if (size !== undefined) {
    const k = rnd.below(10);
    return k === 0 ? argSort(p, kind).mask : k === 1 ? size : rnd.below(size);
  }
  if (kind === 'rights') return rnd.below(16);
  if (kind === 'bit') return rnd.below(32);
  if (kind === 'flag') return rnd.below(2);
  return [0, 1, 5, 0xffffffff][rnd.below(4)] as number;
}

test('every declared result of every call is reachable; a failing call returns the very state it was given', () => {
  const rnd = new SeededRandom(4);
  const pool = states();
  const seen = new Map<string, string>();
  for (const call of callNames) {
    const spec: CallSpec = callTable[call];
    const declared = spec.returns.length;
    const reached = () => spec.returns.filter((c) => seen.has(`${call}:${c}`)).length;
    for (const s of pool)
      for (let i = 0; i < 20_000 && reached() < declared; i++) {
        const args: Record<string, number> = {};
        for (const [name, kind] of Object.entries(spec.args)) args[name] = value(rnd, kind);
        const r = step(s, call, args);
        assert.ok(
          (spec.returns as readonly string[]).includes(r.ret.name),
          `${call} returned undeclared ${r.ret.name}`,
        );
        if (r.ret.name !== 'OK' && r.ret.name !== 'BLOCKED') {
          assert.equal(r.state, s, `${call} ${JSON.stringify(args)} → ${r.ret.name} changed the state`);
          assert.deepEqual(r.effects, []);
          assert.equal(r.ret.value, 0);
        }
        const key = `${call}:${r.ret.name}`;
        if (!seen.has(key)) seen.set(key, JSON.stringify(args));
      }
  }
  const missing = callNames
    .flatMap((n) => (callTable[n] as CallSpec).returns.map((c) => `${n}:${c}`))
    .filter((k) => !seen.has(k));
  assert.deepEqual(missing, []);
});

test('arguments outside their sort never reach the core: EINVAL, state unchanged', () => {
  const s = bootTestSystem();
  for (const [call, args] of [
    ['yield', { caller: 99 }],
    ['region_map', { caller: P.ta1, region: 0, rights: 16 }],
    ['endpoint_send', { caller: P.ta1, slot: 0, label: -1, mr0: 0, mr1: 0, mr2: 0, mr3: 0 }],
    ['irq_bind', { caller: P.ta1, device: 0, slot: 1, bit: 32 }],
    ['smc', { caller: P.nw, entry: 0, label: 0.5, mr0: 0, mr1: 0, mr2: 0, mr3: 0 }],
    ['smc', { caller: P.nw, entry: 0, label: 0, mr0: 0, mr1: 0, mr2: 0 }],
  ] as [CallName, Record<string, number>][]) {
    const r = expectCall(s, call, args, 'EINVAL');
    assert.equal(r.state, s);
  }
});
