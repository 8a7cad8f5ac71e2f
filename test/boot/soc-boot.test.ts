/**
 * Secure boot on the emulated hardware: the iot-gateway machine, its OTP fuses provisioned with the
 * development key's hash, its NV counters and its NOR flash, driven through the bus as the secure boot CPU.
 * ROM → kernel → trusted applications → Normal World; the security fabric locked before the Normal World
 * starts; every image attack refused with the device recovering on the other bank; anti-rollback on the
 * real counters; blank fuses halt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readBootState } from '../../src/boot/boot-state.js';
import { generateSigningKey, toHex } from '../../src/boot/keys.js';
import {
  boardBootPolicy,
  factoryFlash,
  factoryProgramImages,
  factoryStageUpdate,
} from '../../src/boot/machine-boot.js';
import { checkEventLog, PCR } from '../../src/boot/measured-boot.js';
import { securityConfigurationDigest } from '../../src/boot/security-config.js';
import { signImage } from '../../src/boot/sign.js';
import { confirmBoot } from '../../src/boot/update.js';
import { developmentKeyFor } from '../../src/boot/defaults.js';
import type { Board, Machine } from '../../src/soc/index.js';
import { imageAttacks } from './attacks.js';
import { bundleSpec, goodImages, normalSpec } from './images.js';
import {
  board,
  bootOn,
  developmentKey,
  GATEWAY,
  machine,
  powerCycle,
  RecordingWorlds,
  running,
  SOC,
} from './soc-harness.js';

const key = developmentKey();
const otherKey = generateSigningKey('ed25519');
const policy = boardBootPolicy(board(), SOC);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/** NV counters 0 and 1 as the hardware holds them, read through the bus by the secure boot CPU. */
function counters(m: Machine, chipName = SOC): number[] {
  const chip = m.chip(chipName);
  return [0, 1].map((i) => {
    const r = chip.readRegister(chip.cpus[0]!, 'nvc', 0x100 + 4 * i);
    assert.ok(r.ok);
    return r.value;
  });
}

interface Gateway {
  readonly m: Machine;
  readonly worlds: RecordingWorlds;
}

/** Power off and on, then the cold boot. */
async function reboot(g: Gateway) {
  powerCycle(g.m);
  g.worlds.log.length = 0;
  g.worlds.views = [];
  g.worlds.lockAtKernelStart = [];
  return bootOn(g.m, g.worlds);
}

/** A gateway out of the factory with genuine images at `counter` in bank A, booted once. */
async function gatewayAt(counter: number, seed = 7): Promise<Gateway> {
  const m = machine(board(), seed);
  const worlds = new RecordingWorlds(m.chip(SOC));
  factoryProgramImages(m, SOC, goodImages(counter, `v${counter}`, key));
  const o = running((await bootOn(m, worlds)).outcome);
  assert.equal(o.mode, 'confirmed');
  assert.deepEqual(counters(m), [counter, counter]);
  return { m, worlds };
}

test('iot-gateway: ROM → kernel → trusted applications → Normal World on the emulated SoC, fabric locked first', async () => {
  const m = machine();
  const chip = m.chip(SOC);
  const worlds = new RecordingWorlds(chip);
  // The fuses hold the development key's hash, read through the bus; the array is locked.
  const fuse = Array.from({ length: 8 }, (_, i) => chip.readRegister(chip.cpus[0]!, 'otp', 0x100 + 4 * i));
  const hash = Buffer.alloc(32);
  fuse.forEach((w, i) => (assert.ok(w.ok), hash.writeUInt32LE(w.value, 4 * i)));
  assert.equal(hash.toString('hex'), developmentKeyFor(GATEWAY)?.keyHash);
  assert.equal(
    chip.writeRegister(chip.cpus[0]!, 'otp', 0x100, 0xffffffff).ok,
    false,
    'fuses locked at manufacture',
  );

  factoryProgramImages(m, SOC, goodImages(1, 'v1', key));
  const { outcome, device } = await bootOn(m, worlds);
  const o = running(outcome);
  assert.deepEqual([o.bank, o.mode, o.refused], [0, 'confirmed', []]);
  assert.deepEqual(o.trustedApplications, ['hello', 'storage']);
  assert.deepEqual(worlds.log, ['kernel 0 1.1.0+7', 'ta hello', 'ta storage', 'normal world 0']);
  assert.match(decode(worlds.kernel!.config.bytes), /"tag":"v1"/);
  assert.deepEqual(
    worlds.apps.map((a) => decode(a.code.bytes)),
    [decode(bundleSpec().components[2]!.bytes), decode(bundleSpec().components[4]!.bytes)],
  );
  assert.deepEqual(
    worlds.normal?.components.map((c) => c.name),
    ['rich-os', 'tee-client'],
  );

  // When the Normal World started, TZASC, TZPC and interrupt groups were locked, and stayed so.
  const [view] = worlds.views;
  assert.deepEqual(view?.locks, [1, 1, 1]);
  assert.deepEqual(
    view?.nonSecureWrites.map((w) => (w.ok ? 'ok' : w.code)),
    ['TZPC_DENIED', 'TZPC_DENIED', 'TZPC_DENIED', 'DEVICE_DENIED'],
  );
  const rewrite = view!.secureRewrite;
  assert.ok(
    !rewrite.ok && /locked/.test(rewrite.reason),
    'the secure world cannot reassign a peripheral either',
  );
  assert.equal(device.security.isLocked(), true);
  const faults = chip.bus.faults.filter((f) => f.world === 'non-secure');
  assert.deepEqual(
    faults.map((f) => f.target),
    ['tzasc', 'tzasc', 'tzpc', 'gic'],
  );

  // The real NV counters rose to the confirmed images' security counters.
  assert.deepEqual(counters(m), [1, 1]);
  assert.deepEqual(o.countersAdvanced, [
    { index: 0, from: 0, to: 1 },
    { index: 1, from: 0, to: 1 },
  ]);
  // Measured boot: the log replays; PCR 2 measures the board's security policy as locked.
  assert.deepEqual(checkEventLog(o.events, o.pcrs), { ok: true });
  const configEvent = o.events.find((e) => e.pcr === PCR.SECURITY_CONFIGURATION);
  assert.equal(toHex(configEvent!.digest), toHex(securityConfigurationDigest(policy.security)));
  // Reading the images took virtual time on the flash controller.
  assert.ok(m.clock.nowNs > 0);
});

test('the same seed boots to the same PCRs and the same run hash', async () => {
  const runs = [];
  for (let i = 0; i < 2; i++) {
    const m = machine(board(), 11);
    factoryProgramImages(m, SOC, goodImages(1, 'v1', key));
    const o = running((await bootOn(m, new RecordingWorlds(m.chip(SOC)))).outcome);
    runs.push({ pcrs: o.pcrs.map(toHex), runHash: m.runHash, timeNs: m.clock.nowNs });
  }
  assert.deepEqual(runs[0], runs[1]);
});

for (const attack of imageAttacks(key, otherKey)) {
  test(`on the SoC, attack refused and the device recovers on bank A: ${attack.name}`, async () => {
    const g = await gatewayAt(2);
    factoryStageUpdate(g.m, SOC, attack.images());
    // Damage in place: programming zeros over written flash clears bits, as a glitch or a probe would.
    attack.after?.((offset) => factoryFlash(g.m, SOC).program(offset, Uint8Array.of(0)), policy.layout);
    const { outcome, device } = await reboot(g);
    const o = running(outcome);
    assert.equal(o.refused.length, 1);
    const { bank, mode, failure } = o.refused[0]!;
    assert.deepEqual([bank, mode], [1, 'trial']);
    assert.equal(failure.code, attack.code, failure.detail);
    assert.equal(failure.stage, attack.stage);
    assert.equal(failure.image, attack.image);
    // Nothing of the Normal World ran from it; the chip was reset; bank A booted, locked.
    const reset = g.worlds.log.indexOf('warm reset');
    assert.ok(reset >= 0, 'the chip was reset between the attempts');
    assert.ok(!g.worlds.log.slice(0, reset).some((t) => t.startsWith('normal world')));
    assert.deepEqual(
      g.worlds.lockAtKernelStart,
      attack.stage === 'rom' ? [0] : [0, 0],
      'each kernel starts with the fabric unlocked',
    );
    assert.deepEqual([o.bank, o.mode], [0, 'confirmed']);
    assert.match(decode(g.worlds.kernel!.config.bytes), /"tag":"v2"/);
    assert.deepEqual(
      g.worlds.views.map((v) => v.locks),
      [[1, 1, 1]],
    );
    assert.deepEqual(counters(g.m), [2, 2], 'the NV counters did not move');
    assert.equal(readBootState(device.flash, policy.layout).state.trial, undefined, 'the update is dropped');
  });
}

test('a genuine update: trial boot, confirm raises the real NV counters, then an older genuine image is rolled back', async () => {
  const g = await gatewayAt(1);
  factoryStageUpdate(g.m, SOC, goodImages(2, 'v2', key));
  const trial = await reboot(g);
  const t = running(trial.outcome);
  assert.deepEqual([t.bank, t.mode, t.countersAdvanced], [1, 'trial', []]);
  assert.deepEqual(counters(g.m), [1, 1], 'no counter moves on a trial boot');
  const confirmed = confirmBoot(trial.device, trial.policy, t);
  assert.deepEqual(confirmed.countersAdvanced, [
    { index: 0, from: 1, to: 2 },
    { index: 1, from: 1, to: 2 },
  ]);
  assert.deepEqual(counters(g.m), [2, 2]);
  const next = running((await reboot(g)).outcome);
  assert.deepEqual([next.bank, next.mode], [1, 'confirmed']);

  // The v1 images are genuine (signed by the fused key) but older: refused by the counters.
  factoryStageUpdate(g.m, SOC, goodImages(1, 'v1-again', key));
  const rolled = running((await reboot(g)).outcome);
  assert.deepEqual(
    rolled.refused.map((a) => [a.bank, a.mode, a.failure.code, a.failure.stage]),
    [[0, 'trial', 'ROLLED_BACK', 'rom']],
  );
  assert.deepEqual([rolled.bank, rolled.mode], [1, 'confirmed']);
  // Only a Normal World image rolled back: refused by counter 1 at the kernel stage.
  factoryStageUpdate(g.m, SOC, { ...goodImages(3, 'v3', key), normalWorld: signImage(normalSpec(1), key) });
  const nwRolled = running((await reboot(g)).outcome);
  assert.deepEqual(
    nwRolled.refused.map((a) => [a.failure.code, a.failure.stage, a.failure.image]),
    [['ROLLED_BACK', 'kernel', 'normal-world']],
  );
  // And the counters cannot be lowered through the hardware, by either world.
  const chip = g.m.chip(SOC);
  const lower = chip.writeRegister(chip.cpus[0]!, 'nvc', 0x100, 1);
  assert.ok(!lower.ok && lower.code === 'DEVICE_DENIED');
  assert.deepEqual(counters(g.m), [2, 2]);
});

test('a Normal World that fails after the lock: the warm reset clears the lock, bank A boots and locks again', async () => {
  const g = await gatewayAt(1);
  factoryStageUpdate(g.m, SOC, goodImages(2, 'v2', key), 2);
  const start = g.worlds.normalWorld.start;
  g.worlds.normalWorld.start = (h) => {
    start(h);
    if (h.bank === 1) throw new Error('rich OS panicked');
  };
  const o = running((await reboot(g)).outcome);
  assert.deepEqual(
    o.refused.map((a) => [a.bank, a.failure.code, a.failure.stage]),
    [[1, 'STAGE_FAILED', 'kernel']],
  );
  assert.deepEqual(g.worlds.lockAtKernelStart, [0, 0], 'each attempt starts unlocked');
  assert.deepEqual(
    g.worlds.views.map((v) => [v.bank, v.locks]),
    [
      [1, [1, 1, 1]],
      [0, [1, 1, 1]],
    ],
  );
  assert.deepEqual([o.bank, o.mode, o.bootState.trial?.attemptsLeft], [0, 'confirmed', 1]);
});

test('blank fuses: the ROM halts, nothing runs; images for another board’s key are refused', async () => {
  const blank: Board = structuredClone(board());
  const otp = blank.chips[0]!.devices.find((d) => d.kind === 'otp-fuses');
  assert.ok(otp?.kind === 'otp-fuses');
  delete otp.rotpkHash;
  const m = machine(blank);
  const worlds = new RecordingWorlds(m.chip(SOC));
  factoryProgramImages(m, SOC, goodImages(1, 'v1', key));
  const o = (await bootOn(m, worlds)).outcome;
  assert.equal(o.status, 'halted');
  assert.deepEqual(
    o.refused.map((a) => a.failure.code),
    ['NO_ROOT_OF_TRUST'],
  );
  assert.deepEqual(worlds.log, []);
  assert.deepEqual(counters(m), [0, 0]);

  const wrong = machine();
  const w = new RecordingWorlds(wrong.chip(SOC));
  factoryProgramImages(wrong, SOC, goodImages(1, 'v1', developmentKey('uconnect-headunit')));
  const refused = (await bootOn(wrong, w)).outcome;
  assert.equal(refused.status, 'halted');
  assert.deepEqual(
    refused.refused.map((a) => [a.bank, a.failure.code]),
    [
      [0, 'KEY_NOT_TRUSTED'],
      [1, 'EMPTY_SLOT'],
    ],
  );
  assert.deepEqual(w.log, ['warm reset', 'warm reset']);
});

test('uconnect-headunit: its application processor boots images signed with its P-256 development key', async () => {
  const m = machine(board('uconnect-headunit'));
  const worlds = new RecordingWorlds(m.chip('ap'));
  factoryProgramImages(m, 'ap', goodImages(1, 'v1', developmentKey('uconnect-headunit')));
  const o = running((await bootOn(m, worlds, 'ap')).outcome);
  assert.deepEqual([o.bank, o.mode, o.secureBundle.securityCounter], [0, 'confirmed', 1]);
  assert.deepEqual(worlds.views[0]?.locks, [1, 1, 1]);
  assert.ok(worlds.views[0]?.nonSecureWrites.every((w) => !w.ok));
  assert.deepEqual(counters(m, 'ap'), [1, 1]);
});
