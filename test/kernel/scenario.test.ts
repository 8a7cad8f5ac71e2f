/** The kernel core, concretely: the paths a real system takes, and the effects the runtime carries out. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { step } from '../../src/kernel/core/step.js';
import { bootTestSystem, expectCall, P, violations } from './fixture.js';

test('the booted test system satisfies the invariant', () => {
  assert.deepEqual(violations(bootTestSystem().tables), []);
});

test('SMC round trip: the Normal World enters TA1 through entry 0 and gets its reply', () => {
  let s = bootTestSystem();
  let r = expectCall(s, 'endpoint_receive', { caller: P.ta1, slot: 0 }, 'BLOCKED');
  assert.deepEqual(r.effects, [{ kind: 'block', partition: P.ta1, on: 'endpoint', object: 0 }]);
  s = r.state;
  // No capability: the Normal World cannot send to the secure endpoint…
  expectCall(
    s,
    'endpoint_send',
    { caller: P.nw, slot: 0, label: 1, mr0: 0, mr1: 0, mr2: 0, mr3: 0 },
    'ENOCAP',
  );
  // …only enter it through the registered entry.
  r = expectCall(s, 'smc', { caller: P.nw, entry: 0, label: 7, mr0: 1, mr1: 2, mr2: 3, mr3: 4 }, 'BLOCKED');
  assert.deepEqual(r.effects, [
    { kind: 'wake', partition: P.ta1, status: 0, label: 7, badge: 0, mr: [1, 2, 3, 4] },
    { kind: 'block', partition: P.nw, on: 'reply', object: P.ta1 },
  ]);
  s = r.state;
  r = expectCall(s, 'endpoint_reply', { caller: P.ta1, label: 0, mr0: 99, mr1: 0, mr2: 0, mr3: 0 }, 'OK');
  assert.deepEqual(r.effects, [
    { kind: 'wake', partition: P.nw, status: 0, label: 0, badge: 0, mr: [99, 0, 0, 0] },
  ]);
  expectCall(
    r.state,
    'endpoint_reply',
    { caller: P.ta1, label: 0, mr0: 0, mr1: 0, mr2: 0, mr3: 0 },
    'ENOREPLY',
  );
  assert.deepEqual(violations(r.state.tables), []);
});

test('SMC entry 1 is not registered; a secure partition is no SMC caller', () => {
  const s = expectCall(bootTestSystem(), 'endpoint_receive', { caller: P.ta1, slot: 0 }, 'BLOCKED').state;
  expectCall(s, 'smc', { caller: P.nw, entry: 1, label: 0, mr0: 0, mr1: 0, mr2: 0, mr3: 0 }, 'ENOENT');
  expectCall(s, 'smc', { caller: P.ta2, entry: 0, label: 0, mr0: 0, mr1: 0, mr2: 0, mr3: 0 }, 'EPERM');
});

test('a badged call between the trusted applications; the badge identifies the client', () => {
  let s = expectCall(bootTestSystem(), 'endpoint_receive', { caller: P.ta1b, slot: 2 }, 'ENOCAP').state;
  s = expectCall(
    s,
    'cap_copy',
    { caller: P.ta1, from: P.ta1, slot: 2, to: P.ta1b, toSlot: 2, rights: 2, badge: 0 },
    'OK',
  ).state;
  s = expectCall(s, 'endpoint_receive', { caller: P.ta1b, slot: 2 }, 'BLOCKED').state;
  const r = expectCall(
    s,
    'endpoint_call',
    { caller: P.ta2, slot: 0, label: 5, mr0: 0, mr1: 0, mr2: 0, mr3: 0 },
    'BLOCKED',
  );
  assert.equal(
    r.effects.find((e) => e.kind === 'wake' && e.partition === P.ta1b && e.badge === 42) !== undefined,
    true,
  );
});

test('a trusted application may not await a reply from the Normal World', () => {
  const s = expectCall(bootTestSystem(), 'endpoint_receive', { caller: P.nw, slot: 1 }, 'BLOCKED').state;
  expectCall(
    s,
    'endpoint_call',
    { caller: P.ta1b, slot: 1, label: 0, mr0: 0, mr1: 0, mr2: 0, mr3: 0 },
    'EWORLD',
  );
  const r = expectCall(
    s,
    'endpoint_send',
    { caller: P.ta1b, slot: 1, label: 3, mr0: 0, mr1: 0, mr2: 0, mr3: 0 },
    'OK',
  );
  assert.deepEqual(r.effects, [
    { kind: 'wake', partition: P.nw, status: 0, label: 3, badge: 7, mr: [0, 0, 0, 0] },
  ]);
});

test('TEE shared memory: the Normal World owns and shares, the trusted application maps within the grant', () => {
  let s = bootTestSystem();
  let r = expectCall(s, 'region_alloc', { caller: P.nw, region: 1 }, 'OK');
  assert.deepEqual(r.effects, [{ kind: 'region', region: 1, owner: P.nw }]);
  s = r.state;
  expectCall(s, 'region_map', { caller: P.ta1, region: 1, rights: 1 }, 'ERIGHTS');
  s = expectCall(s, 'region_share', { caller: P.nw, region: 1, rights: 1 }, 'OK').state;
  expectCall(s, 'region_map', { caller: P.ta1, region: 1, rights: 3 }, 'ERIGHTS');
  r = expectCall(s, 'region_map', { caller: P.ta1, region: 1, rights: 1 }, 'OK');
  assert.deepEqual(r.effects, [{ kind: 'map', partition: P.ta1, region: 1, rights: 1 }]);
  s = r.state;
  // TA2 is not the region's peer; the Normal World may not yank it from the Secure World, nor free it.
  expectCall(s, 'region_map', { caller: P.ta2, region: 1, rights: 1 }, 'EPERM');
  expectCall(s, 'region_revoke', { caller: P.nw, region: 1 }, 'EWORLD');
  expectCall(s, 'region_free', { caller: P.nw, region: 1 }, 'EBUSY');
  s = expectCall(s, 'region_unmap', { caller: P.ta1, region: 1 }, 'OK').state;
  r = expectCall(s, 'region_revoke', { caller: P.nw, region: 1 }, 'OK');
  r = expectCall(r.state, 'region_free', { caller: P.nw, region: 1 }, 'OK');
  assert.deepEqual(r.effects, [{ kind: 'region', region: 1, owner: null }]);
});

test('secure memory is never reachable from the Normal World; a TA revokes what it shared', () => {
  let s = bootTestSystem();
  expectCall(s, 'region_alloc', { caller: P.nw, region: 0 }, 'EPERM');
  s = expectCall(s, 'region_alloc', { caller: P.ta1, region: 4 }, 'OK').state;
  s = expectCall(s, 'region_share', { caller: P.ta1, region: 4, rights: 3 }, 'OK').state;
  expectCall(s, 'region_map', { caller: P.nw, region: 4, rights: 1 }, 'EPERM');
  s = expectCall(s, 'region_map', { caller: P.ta2, region: 4, rights: 3 }, 'OK').state;
  s = expectCall(s, 'region_map', { caller: P.ta2b, region: 4, rights: 1 }, 'OK').state;
  const r = expectCall(s, 'region_revoke', { caller: P.ta1, region: 4 }, 'OK');
  assert.deepEqual(r.effects, [
    { kind: 'unmap', partition: P.ta2, region: 4 },
    { kind: 'unmap', partition: P.ta2b, region: 4 },
  ]);
  assert.deepEqual(violations(r.state.tables), []);
});

test('write xor execute and the per-partition mapping limit', () => {
  let s = bootTestSystem();
  s = expectCall(s, 'region_alloc', { caller: P.ta1, region: 0 }, 'OK').state;
  expectCall(s, 'region_map', { caller: P.ta1, region: 0, rights: 6 }, 'ERIGHTS');
  s = expectCall(s, 'region_map', { caller: P.ta1, region: 0, rights: 5 }, 'OK').state;
  s = expectCall(s, 'region_alloc', { caller: P.ta1, region: 7 }, 'OK').state;
  s = expectCall(s, 'region_map', { caller: P.ta1, region: 7, rights: 3 }, 'OK').state;
  s = expectCall(s, 'region_alloc', { caller: P.ta1, region: 4 }, 'OK').state;
  s = expectCall(s, 'region_map', { caller: P.ta1, region: 4, rights: 3 }, 'OK').state;
  s = expectCall(s, 'device_claim', { caller: P.ta1, device: 0 }, 'OK').state;
  s = expectCall(s, 'region_alloc', { caller: P.ta1, region: 2 }, 'OK').state;
  expectCall(s, 'region_map', { caller: P.ta1, region: 2, rights: 3 }, 'ELIMIT');
  // Remapping an already mapped region is not a new mapping.
  expectCall(s, 'region_map', { caller: P.ta1, region: 0, rights: 1 }, 'OK');
});

test('device interrupts reach the owning domain as notification bits, masked until acknowledged', () => {
  let s = bootTestSystem();
  expectCall(s, 'irq_raise', { device: 0 }, 'EMASKED');
  s = expectCall(s, 'device_claim', { caller: P.ta1, device: 0 }, 'OK').state;
  expectCall(s, 'irq_bind', { caller: P.ta1, device: 0, slot: 3, bit: 0 }, 'EPERM'); // an NW notification
  s = expectCall(s, 'irq_bind', { caller: P.ta1, device: 0, slot: 1, bit: 5 }, 'OK').state;
  s = expectCall(s, 'notification_wait', { caller: P.ta1, slot: 1 }, 'BLOCKED').state;
  let r = expectCall(s, 'irq_raise', { device: 0 }, 'OK');
  assert.deepEqual(r.effects, [
    { kind: 'wake', partition: P.ta1, status: 0, label: 0, badge: 1 << 5, mr: [0, 0, 0, 0] },
    { kind: 'irq-mask', device: 0, masked: true },
  ]);
  s = r.state;
  expectCall(s, 'irq_raise', { device: 0 }, 'EMASKED');
  expectCall(s, 'irq_ack', { caller: P.ta1b, device: 0 }, 'EPERM');
  s = expectCall(s, 'irq_ack', { caller: P.ta1, device: 0 }, 'OK').state;
  s = expectCall(s, 'irq_raise', { device: 0 }, 'OK').state;
  r = expectCall(s, 'notification_poll', { caller: P.ta1, slot: 1 }, 'OK');
  assert.equal(r.ret.value, 1 << 5);
  // Revoking the notification unbinds the interrupt in O(1).
  s = expectCall(r.state, 'irq_ack', { caller: P.ta1, device: 0 }, 'OK').state;
  s = expectCall(s, 'cap_revoke', { caller: P.ta1, slot: 1 }, 'OK').state;
  expectCall(s, 'irq_raise', { device: 0 }, 'EMASKED');
});

test('revocation: every other capability goes stale at once, the owner keeps its own', () => {
  let s = bootTestSystem();
  s = expectCall(
    s,
    'cap_copy',
    { caller: P.ta1, from: P.ta1, slot: 2, to: P.ta1b, toSlot: 2, rights: 1, badge: 0 },
    'OK',
  ).state;
  s = expectCall(s, 'cap_revoke', { caller: P.ta1, slot: 2 }, 'OK').state;
  expectCall(
    s,
    'endpoint_send',
    { caller: P.ta2, slot: 0, label: 0, mr0: 0, mr1: 0, mr2: 0, mr3: 0 },
    'ENOCAP',
  );
  expectCall(
    s,
    'endpoint_send',
    { caller: P.ta1b, slot: 2, label: 0, mr0: 0, mr1: 0, mr2: 0, mr3: 0 },
    'ENOCAP',
  );
  expectCall(
    s,
    'endpoint_send',
    { caller: P.ta1, slot: 2, label: 0, mr0: 0, mr1: 0, mr2: 0, mr3: 0 },
    'ENORECV',
  );
  // A stale slot is free for a new capability.
  expectCall(
    s,
    'cap_copy',
    { caller: P.ta1, from: P.ta1, slot: 2, to: P.ta1b, toSlot: 2, rights: 1, badge: 0 },
    'OK',
  );
  // Only the owner revokes.
  expectCall(s, 'cap_revoke', { caller: P.ta1b, slot: 0 }, 'EPERM');
});

test('stopping and destroying a partition: waits are left, clients cancelled, the slot reused', () => {
  let s = bootTestSystem();
  s = expectCall(s, 'endpoint_receive', { caller: P.ta1, slot: 0 }, 'BLOCKED').state;
  s = expectCall(
    s,
    'smc',
    { caller: P.nw, entry: 0, label: 0, mr0: 0, mr1: 0, mr2: 0, mr3: 0 },
    'BLOCKED',
  ).state;
  let r = expectCall(s, 'partition_stop', { caller: P.admin, target: P.ta1 }, 'OK');
  assert.deepEqual(r.effects, [
    { kind: 'partition', partition: P.ta1, from: 'runnable', to: 'stopped' },
    { kind: 'wake', partition: P.nw, status: 17, label: 0, badge: 0, mr: [0, 0, 0, 0] },
  ]);
  s = r.state;
  expectCall(s, 'partition_destroy', { caller: P.admin, target: P.ta1 }, 'EBUSY');
  for (const [call, args] of [
    ['endpoint_destroy', { caller: P.admin, endpoint: 0 }],
    ['endpoint_destroy', { caller: P.admin, endpoint: 1 }],
    ['notification_destroy', { caller: P.admin, notification: 0 }],
  ] as const)
    s = expectCall(s, call, args, 'OK').state;
  r = expectCall(s, 'partition_destroy', { caller: P.admin, target: P.ta1 }, 'OK');
  assert.deepEqual(r.effects, [
    { kind: 'partition', partition: P.ta1, from: 'stopped', to: 'free' },
    { kind: 'budget', partition: P.ta1, budget: 0 },
  ]);
  s = expectCall(r.state, 'partition_create', { caller: P.admin, target: P.ta1, budget: 5 }, 'OK').state;
  expectCall(s, 'yield', { caller: P.ta1 }, 'ENOTRUNNING');
  assert.deepEqual(violations(s.tables), []);
});

test('step is persistent: the state before a call is unchanged', () => {
  const s = bootTestSystem();
  const before = JSON.stringify(violations(s.tables));
  const r = step(s, 'region_alloc', { caller: P.ta1, region: 0 });
  assert.equal(r.ret.name, 'OK');
  assert.equal(step(s, 'region_alloc', { caller: P.ta1, region: 0 }).ret.name, 'OK');
  assert.equal(step(r.state, 'region_alloc', { caller: P.ta1, region: 0 }).ret.name, 'EBUSY');
  assert.equal(JSON.stringify(violations(s.tables)), before);
});
