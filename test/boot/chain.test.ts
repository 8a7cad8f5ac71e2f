/**
 * The whole chain on in-memory hardware: ROM → kernel → trusted applications → Normal World, A/B
 * fallback, anti-rollback, measured boot, and the security configuration locked before the Normal World.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readBootState, writeBootState } from '../../src/boot/boot-state.js';
import { sha256, toHex } from '../../src/boot/keys.js';
import { checkEventLog, extendPcr, PCR, replayEventLog } from '../../src/boot/measured-boot.js';
import { coldBoot, outcomeReport, type BootOutcome, type RunningOutcome } from '../../src/boot/rom.js';
import { securityConfigurationDigest } from '../../src/boot/security-config.js';
import { signImage } from '../../src/boot/sign.js';
import { confirmBoot, provisionDevice, stageUpdate } from '../../src/boot/update.js';
import { memoryDevice, PowerCut, type MemoryDevice } from './fakes.js';
import {
  bundleSpec,
  ERASE_BLOCK,
  FLASH_SIZE,
  goodImages,
  otherKey,
  policy,
  rootKey,
  rootKeyHash,
} from './images.js';
import { componentOffset, imageAttacks } from './attacks.js';

const layout = policy.layout;
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

function newDevice(rotpkHash = rootKeyHash): MemoryDevice {
  return memoryDevice({ rotpkHash, flashSize: FLASH_SIZE, eraseBlockSize: ERASE_BLOCK });
}

/** Power on and run the ROM. */
async function boot(d: MemoryDevice): Promise<BootOutcome> {
  d.powerCycle();
  return coldBoot(d, policy);
}

function running(o: BootOutcome): RunningOutcome {
  assert.equal(o.status, 'running', `device halted: ${JSON.stringify(outcomeReport(o))}`);
  return o as RunningOutcome;
}

/** A device provisioned with genuine images at `counter`, booted once (which raises the NV counters). */
async function deviceAt(counter: number): Promise<MemoryDevice> {
  const d = newDevice();
  provisionDevice(d.flash, layout, goodImages(counter, `v${counter}`));
  const o = running(await boot(d));
  assert.equal(o.mode, 'confirmed');
  assert.deepEqual(d.counters.values.slice(0, 2), [counter, counter]);
  d.trace.length = 0;
  return d;
}

test('a factory device boots bank A: kernel, each trusted application, lock, then the Normal World', async () => {
  const d = newDevice();
  provisionDevice(d.flash, layout, goodImages(1));
  const o = running(await boot(d));
  assert.equal(o.bank, 0);
  assert.equal(o.mode, 'confirmed');
  assert.deepEqual(o.refused, []);
  assert.deepEqual(o.trustedApplications, ['hello', 'storage']);
  assert.deepEqual(d.trace, [
    'kernel start (bank 0, 1.1.0+7)',
    'ta start hello',
    'ta start storage',
    'security apply',
    'security lock',
    'normal world start (bank 0)',
    'counter 0 → 1',
    'counter 1 → 1',
  ]);
  assert.deepEqual(d.secureWorld.kernel?.config.bytes, bundleSpec().components[0]!.bytes);
  assert.deepEqual(
    d.secureWorld.apps.map((a) => [a.name, decode(a.code.bytes)]),
    [
      ['hello', decode(bundleSpec().components[2]!.bytes)],
      ['storage', decode(bundleSpec().components[4]!.bytes)],
    ],
  );
  assert.deepEqual(
    d.normalWorld.started?.components.map((c) => c.name),
    ['rich-os', 'tee-client'],
  );
  assert.equal(d.normalWorld.lockedAtStart, true);
  assert.deepEqual(o.countersAdvanced, [
    { index: 0, from: 0, to: 1 },
    { index: 1, from: 0, to: 1 },
  ]);
});

const attacks = imageAttacks(rootKey, otherKey);

for (const attack of attacks) {
  test(`attack refused, device recovers on the other bank: ${attack.name}`, async () => {
    const d = await deviceAt(2);
    stageUpdate(d.flash, layout, attack.images());
    attack.after?.((offset) => d.flash.corrupt(offset), layout);
    const o = running(await boot(d));
    // The update was tried first and refused with the expected reason…
    assert.equal(o.refused.length, 1);
    const [refusal] = o.refused;
    assert.equal(refusal!.bank, 1);
    assert.equal(refusal!.mode, 'trial');
    assert.equal(refusal!.failure.code, attack.code, refusal!.failure.detail);
    assert.equal(refusal!.failure.stage, attack.stage);
    assert.equal(refusal!.failure.image, attack.image);
    assert.ok(refusal!.failure.field, 'the refusal names a field');
    assert.equal(typeof refusal!.failure.offset, 'number');
    // …nothing of the Normal World ran from it, the SoC was reset, and bank A booted.
    const reset = d.trace.indexOf('warm reset');
    assert.ok(reset >= 0);
    assert.ok(!d.trace.slice(0, reset).some((t) => t.startsWith('normal world start')));
    assert.equal(o.bank, 0);
    assert.equal(o.mode, 'confirmed');
    assert.match(decode(d.secureWorld.kernel!.config.bytes), /"tag":"v2"/);
    assert.deepEqual(d.counters.values.slice(0, 2), [2, 2], 'counters unchanged');
    // The refused update is dropped: the next boot goes straight to bank A.
    assert.equal(readBootState(d.flash, layout).state.trial, undefined);
    const again = running(await boot(d));
    assert.deepEqual([again.bank, again.mode, again.refused.length], [0, 'confirmed', 0]);
  });
}

test('a genuine update boots on trial, raises no counter until confirmed, then becomes the confirmed bank', async () => {
  const d = await deviceAt(1);
  stageUpdate(d.flash, layout, goodImages(2, 'v2'));
  const trial = running(await boot(d));
  assert.deepEqual([trial.bank, trial.mode], [1, 'trial']);
  assert.deepEqual(trial.countersAdvanced, []);
  assert.deepEqual(d.counters.values.slice(0, 2), [1, 1], 'no counter moves on a trial boot');
  const confirmed = confirmBoot(d, policy, trial);
  assert.deepEqual(confirmed.countersAdvanced, [
    { index: 0, from: 1, to: 2 },
    { index: 1, from: 1, to: 2 },
  ]);
  assert.deepEqual([confirmed.bootState.activeBank, confirmed.bootState.trial], [1, undefined]);
  const next = running(await boot(d));
  assert.deepEqual([next.bank, next.mode, next.countersAdvanced.length], [1, 'confirmed', 0]);
});

test('an update never confirmed is reverted after its attempts; counters stay', async () => {
  const d = await deviceAt(1);
  stageUpdate(d.flash, layout, goodImages(2, 'v2'), 2);
  for (let i = 0; i < 2; i++) {
    const o = running(await boot(d));
    assert.deepEqual([o.bank, o.mode], [1, 'trial'], `attempt ${i + 1}`);
    assert.equal(o.bootState.trial?.attemptsLeft, 1 - i);
  }
  const reverted = running(await boot(d));
  assert.deepEqual([reverted.bank, reverted.mode], [0, 'confirmed']);
  assert.equal(reverted.bootState.trial, undefined);
  assert.deepEqual(d.counters.values.slice(0, 2), [1, 1]);
});

test('a genuine update whose trusted application crashes falls back in the same power cycle', async () => {
  const d = await deviceAt(1);
  d.secureWorld.failing = (app) => app.name === 'storage' && decode(app.code.bytes).includes('v2');
  stageUpdate(d.flash, layout, goodImages(2, 'v2'), 2);
  const o = running(await boot(d));
  assert.deepEqual([o.bank, o.mode], [0, 'confirmed']);
  assert.equal(o.refused[0]?.failure.code, 'STAGE_FAILED');
  assert.equal(o.refused[0]?.failure.stage, 'kernel');
  assert.match(o.refused[0]!.failure.detail, /storage crashed/);
  assert.deepEqual(d.trace.slice(0, 4), [
    'kernel start (bank 1, 1.2.0+7)',
    'ta start hello',
    'warm reset',
    'kernel start (bank 0, 1.1.0+7)',
  ]);
  // Not an image fault: the trial keeps its remaining attempt, then is reverted.
  assert.equal(o.bootState.trial?.attemptsLeft, 1);
  running(await boot(d));
  const third = running(await boot(d));
  assert.equal(third.bootState.trial, undefined);
  assert.deepEqual(d.counters.values.slice(0, 2), [1, 1]);
});

test('after a confirmed update the old bank is rolled back: corrupt the new one and the device halts, an update repairs it', async () => {
  const d = await deviceAt(1);
  stageUpdate(d.flash, layout, goodImages(2, 'v2'));
  confirmBoot(d, policy, running(await boot(d)));
  d.flash.corrupt(
    componentOffset(goodImages(2, 'v2').secureBundle, 'kernel-config', 'kernel') +
      layout.banks[1].secure.offset,
  );
  d.trace.length = 0;
  const halted = await boot(d);
  assert.equal(halted.status, 'halted');
  assert.deepEqual(
    halted.refused.map((a) => [a.bank, a.mode, a.failure.code]),
    [
      [1, 'confirmed', 'COMPONENT_TAMPERED'],
      [0, 'fallback', 'ROLLED_BACK'],
    ],
  );
  assert.ok(!d.trace.some((t) => t.startsWith('normal world start')));
  // Recoverable: a genuine update staged into the free bank boots.
  stageUpdate(d.flash, layout, goodImages(3, 'v3'));
  const repaired = running(await boot(d));
  assert.deepEqual([repaired.bank, repaired.mode], [0, 'trial']);
});

test('the fallback bank boots when the confirmed one is damaged, without raising counters', async () => {
  const d = newDevice();
  provisionDevice(d.flash, layout, goodImages(1, 'v1'), 1);
  provisionDevice(d.flash, layout, goodImages(1, 'v1b'), 0);
  d.flash.corrupt(layout.banks[0].normal.offset + 40);
  const o = running(await boot(d));
  assert.deepEqual([o.bank, o.mode, o.refused[0]?.failure.code], [1, 'fallback', 'DIGEST_MISMATCH']);
  assert.deepEqual(d.counters.values.slice(0, 2), [0, 0]);
});

test('measured boot: the event log replays to the PCRs, and names what ran, in order', async () => {
  const d = newDevice();
  const images = goodImages(1);
  provisionDevice(d.flash, layout, images);
  const o = running(await boot(d));
  assert.deepEqual(checkEventLog(o.events, o.pcrs), { ok: true });
  assert.deepEqual(
    o.events.map((e) => [e.pcr, e.stage, e.name]),
    [
      [0, 'rom', 'secure-bundle'],
      [0, 'rom', 'kernel-config:kernel'],
      [1, 'kernel', 'ta-manifest:hello'],
      [1, 'kernel', 'ta-code:hello'],
      [1, 'kernel', 'ta-manifest:storage'],
      [1, 'kernel', 'ta-code:storage'],
      [3, 'kernel', 'normal-world'],
      [3, 'kernel', 'nw-code:rich-os'],
      [3, 'kernel', 'nw-code:tee-client'],
      [2, 'kernel', 'tzasc+tzpc+interrupt-groups'],
    ],
  );
  // PCR 0 by hand: the manifest digest (SHA-256 of header ‖ manifest), then the kernel configuration.
  const manifestSize = new DataView(images.secureBundle.buffer).getUint32(8, true);
  const pcr0 = extendPcr(
    extendPcr(new Uint8Array(32), sha256(images.secureBundle.subarray(0, 32 + manifestSize))),
    sha256(bundleSpec().components[0]!.bytes),
  );
  assert.equal(toHex(o.pcrs[PCR.SECURE_FIRMWARE]!), toHex(pcr0));
  assert.equal(toHex(o.events[9]!.digest), toHex(securityConfigurationDigest(policy.security)));
  // An edited, dropped or reordered event no longer accounts for the PCRs.
  const edited = o.events.map((e, i) => (i === 3 ? { ...e, digest: sha256(new Uint8Array([1])) } : e));
  assert.deepEqual(checkEventLog(edited, o.pcrs).ok, false);
  const dropped = o.events.filter((_, i) => i !== 7);
  assert.equal((checkEventLog(dropped, o.pcrs) as { pcr: number }).pcr, 3);
  const swapped = [...o.events];
  [swapped[2], swapped[3]] = [swapped[3]!, swapped[2]!];
  assert.equal((checkEventLog(swapped, o.pcrs) as { pcr: number }).pcr, 1);
  // A different trusted application gives a different PCR 1, the same PCR 0.
  const d2 = newDevice();
  provisionDevice(d2.flash, layout, {
    ...images,
    secureBundle: signImage({ ...bundleSpec(), components: bundleSpecWithCode('x') }, rootKey),
  });
  const o2 = running(await boot(d2));
  assert.notEqual(toHex(o2.pcrs[1]!), toHex(o.pcrs[1]!));
  assert.equal(toHex(replayEventLog(o2.events)[1]!), toHex(o2.pcrs[1]!));
});

function bundleSpecWithCode(extra: string) {
  return bundleSpec().components.map((c) =>
    c.kind === 'ta-code' && c.name === 'storage'
      ? { ...c, bytes: new TextEncoder().encode(decode(c.bytes) + extra) }
      : c,
  );
}

test('the security configuration is locked before the Normal World starts; a lock that does not hold stops the boot', async () => {
  const d = newDevice();
  provisionDevice(d.flash, layout, goodImages(1));
  running(await boot(d));
  assert.ok(d.trace.indexOf('security lock') < d.trace.indexOf('normal world start (bank 0)'));
  assert.equal(d.normalWorld.lockedAtStart, true);
  assert.deepEqual(d.security.readBack().regions.length, 2);

  for (const [faulty, code] of [
    ['lock-does-not-stick', 'SECURITY_CONFIG_NOT_LOCKED'],
    ['drops-a-region', 'SECURITY_CONFIG_MISMATCH'],
  ] as const) {
    const bad = newDevice();
    provisionDevice(bad.flash, layout, goodImages(1));
    provisionDevice(bad.flash, layout, goodImages(1), 1);
    bad.security.faulty = faulty;
    const o = await boot(bad);
    assert.equal(o.status, 'halted');
    assert.deepEqual(
      o.refused.map((a) => a.failure.code),
      [code, code],
    );
    assert.ok(
      !bad.trace.some((t) => t.startsWith('normal world start')),
      `${faulty}: the Normal World never ran`,
    );
    assert.deepEqual(bad.counters.values.slice(0, 2), [0, 0]);
  }
});

test('blank fuses: nothing can be verified, nothing runs', async () => {
  for (const blank of [new Uint8Array(32), new Uint8Array(32).fill(0xff), new Uint8Array(0)]) {
    const d = newDevice(blank);
    provisionDevice(d.flash, layout, goodImages(1));
    const o = await boot(d);
    assert.equal(o.status, 'halted');
    assert.equal(o.refused[0]?.failure.code, 'NO_ROOT_OF_TRUST');
    assert.deepEqual(d.trace, []);
  }
});

test('an empty device halts, naming both empty banks', async () => {
  const o = await boot(newDevice());
  assert.equal(o.status, 'halted');
  assert.deepEqual(
    o.refused.map((a) => [a.bank, a.failure.code]),
    [
      [0, 'EMPTY_SLOT'],
      [1, 'EMPTY_SLOT'],
    ],
  );
});

test('the chain runs from the ROM’s copy: rewriting flash after verification changes nothing that runs', async () => {
  const d = newDevice();
  const images = goodImages(1);
  provisionDevice(d.flash, layout, images);
  const ta = layout.banks[0].secure.offset + componentOffset(images.secureBundle, 'ta-code', 'hello');
  d.secureWorld.onKernelStart = () => d.flash.bytes.set(new TextEncoder().encode('evil()'), ta);
  running(await boot(d));
  assert.equal(decode(d.secureWorld.apps[0]!.code.bytes), decode(bundleSpec().components[2]!.bytes));
});

test('confirming refuses when an update was staged since the boot', async () => {
  const d = await deviceAt(1);
  stageUpdate(d.flash, layout, goodImages(2, 'v2'));
  const trial = running(await boot(d));
  stageUpdate(d.flash, layout, goodImages(3, 'v3'));
  assert.throws(() => confirmBoot(d, policy, trial), { code: 'BOOT_STATE_CHANGED' });
  assert.deepEqual(d.counters.values.slice(0, 2), [1, 1]);
});

test('a power cut at every flash operation of update and confirm leaves a device that boots and updates', async () => {
  // Count the operations of the whole scenario once, then cut at each of them in turn.
  const scenario = async (d: MemoryDevice) => {
    stageUpdate(d.flash, layout, goodImages(2, 'v2'));
    confirmBoot(d, policy, running(await boot(d)));
    stageUpdate(d.flash, layout, goodImages(3, 'v3'));
    const o = running(await boot(d));
    assert.equal(o.mode, 'trial');
    confirmBoot(d, policy, o);
  };
  const probe = await deviceAt(1);
  const start = probe.flash.operations;
  await scenario(probe);
  const total = probe.flash.operations - start;
  assert.ok(total >= 20, `scenario has ${total} flash operations`);
  for (let cut = 1; cut <= total; cut++) {
    const d = await deviceAt(1);
    d.flash.cutAtOperation = cut;
    await assert.rejects(scenario(d), PowerCut, `cut at operation ${cut}`);
    // Power returns: the device boots, on images whose counters it has not passed.
    const after = running(await boot(d));
    const counters = d.counters.values.slice(0, 2);
    assert.ok(after.secureBundle.securityCounter >= counters[0]!, `cut ${cut}`);
    assert.ok(after.normalWorld.securityCounter >= counters[1]!, `cut ${cut}`);
    // And it can still be updated.
    stageUpdate(d.flash, layout, goodImages(4, 'v4'));
    const updated = running(await boot(d));
    assert.deepEqual([updated.mode, updated.secureBundle.securityCounter], ['trial', 4], `cut ${cut}`);
    confirmBoot(d, policy, updated);
    assert.deepEqual(d.counters.values.slice(0, 2), [4, 4]);
  }
});

test('boot state survives a torn write of either copy', () => {
  const d = newDevice();
  const first = writeBootState(d.flash, layout, { activeBank: 0, trial: undefined });
  const second = writeBootState(d.flash, layout, { activeBank: 0, trial: { bank: 1, attemptsLeft: 1 } });
  assert.equal(second.sequence, first.sequence + 1);
  for (let cut = 1; cut <= 2; cut++) {
    const before = readBootState(d.flash, layout).state;
    d.flash.cutAtOperation = cut;
    assert.throws(() => writeBootState(d.flash, layout, { activeBank: 1, trial: undefined }), PowerCut);
    assert.deepEqual(readBootState(d.flash, layout).state, before);
  }
  const done = writeBootState(d.flash, layout, { activeBank: 1, trial: undefined });
  assert.deepEqual(readBootState(d.flash, layout).state, done);
});

test('a board whose flash layout does not fit its flash is refused before anything runs', async () => {
  const d = memoryDevice({ rotpkHash: rootKeyHash, flashSize: 64 * 1024, eraseBlockSize: ERASE_BLOCK });
  await assert.rejects(coldBoot(d, policy), {
    code: 'FLASH_LAYOUT',
    message: /ends past the 65536-byte flash/,
  });
  assert.deepEqual(d.trace, []);
});

test('an event log naming a PCR that does not exist is bad input, located', async () => {
  const d = newDevice();
  provisionDevice(d.flash, layout, goodImages(1));
  const o = running(await boot(d));
  const bad = o.events.map((e, i) => (i === 4 ? { ...e, pcr: 9 } : e));
  assert.throws(() => replayEventLog(bad), { code: 'BAD_EVENT_LOG', message: /field events\[4\]/ });
});
