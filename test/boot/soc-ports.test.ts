/**
 * The SoC adapters meet the port contracts the ROM relies on (the same suites as the in-memory fakes), and
 * they reach the devices only as the hardware allows: through the bus, as the secure boot CPU.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEVELOPMENT_KEYS, developmentKeyFor } from '../../src/boot/defaults.js';
import { keyHash, loadPublicKey, toHex } from '../../src/boot/keys.js';
import { packagePath } from '../../src/common/paths.js';
import {
  boardBootPolicy,
  boardSecurityConfiguration,
  bootMachine,
  factoryFlash,
  socBootDevice,
  type WorldPorts,
} from '../../src/boot/machine-boot.js';
import { BusFaultError, FlashPowerLoss } from '../../src/boot/soc-adapters.js';
import { bringUp, type NorFlash, type NvCounters, type OtpFuses } from '../../src/soc/index.js';
import {
  checkFlashMedium,
  checkMonotonicCounters,
  checkRootOfTrust,
  checkSecurityConfigurator,
} from './port-conformance.js';
import { board, GATEWAY, machine, SOC } from './soc-harness.js';

const idle: WorldPorts = {
  secureWorld: { startKernel() {}, startTrustedApplication() {} },
  normalWorld: { start() {} },
};

function adapters(seed = 3) {
  const m = machine(board(), seed);
  const chip = m.chip(SOC);
  return { m, chip, device: socBootDevice(m, SOC, idle), flash: chip.device<NorFlash>('flash', 'nor-flash') };
}

test('the flash adapter (registers, DMA through secure SRAM) is a FlashMedium, in virtual time', () => {
  const { m, device, flash } = adapters();
  const before = flash.operations;
  checkFlashMedium(device.flash);
  // Every erase and program went to the device, one block or one page at a time, and took its time.
  assert.ok(flash.operations - before >= 6);
  assert.ok(m.clock.nowNs >= 4 * 50_000_000, `${m.clock.nowNs} ns: four erases of 50 ms`);
  assert.equal(m.chip(SOC).bus.faultCount, 0, 'the conformance suite’s bad calls never reached the bus');
});

test('the factory programmer is a FlashMedium too', () => {
  const { m } = adapters();
  checkFlashMedium(factoryFlash(m, SOC));
  assert.equal(m.clock.nowNs, 0, 'host-side programming takes no virtual time');
});

test('the NV counter, OTP and security fabric adapters meet their contracts', () => {
  const { m, chip, device } = adapters();
  checkMonotonicCounters(device.counters);
  checkRootOfTrust(device.rootOfTrust);
  checkSecurityConfigurator(device.security, boardBootPolicy(m.board, SOC).security);
  // What the adapters said is what the devices hold.
  const nvc = chip.device<NvCounters>('nvc', 'nv-counters');
  assert.equal(device.counters.read(3), nvc.valueOf(3));
  assert.equal(toHex(device.rootOfTrust.rotpkHash()), developmentKeyFor(GATEWAY)?.keyHash);
  assert.equal(
    toHex(chip.device<OtpFuses>('otp', 'otp-fuses').rotpkHash()),
    developmentKeyFor(GATEWAY)?.keyHash,
  );
  assert.deepEqual([chip.tzasc?.isLocked, chip.tzpc?.isLocked, chip.gic.isLocked], [true, true, true]);
});

test('a counter the hardware refuses to lower surfaces as a bus fault; nothing changes', () => {
  const { chip, device } = adapters();
  device.counters.advanceTo(0, 5);
  assert.throws(
    () => device.counters.advanceTo(0, 4),
    (e: unknown) => {
      assert.ok(e instanceof BusFaultError);
      assert.equal(e.fault.code, 'DEVICE_DENIED');
      assert.match(e.fault.reason, /cannot decrease/);
      return true;
    },
  );
  assert.equal(device.counters.read(0), 5);
  assert.throws(() => device.counters.advanceTo(0, 2 ** 32), RangeError);
  assert.equal(chip.bus.faults.at(-1)?.target, 'nvc');
});

test('flash programs are split by page, reads by the DMA buffer, and land where they should', () => {
  const { device, flash } = adapters();
  device.flash.erase(0, 2 * device.flash.eraseBlockSize);
  const data = Uint8Array.from({ length: 600 }, (_, i) => (i * 7) & 0xff);
  const before = flash.operations;
  device.flash.program(0x1f0, data);
  assert.equal(flash.operations - before, 4, 'pages 0x100, 0x200, 0x300, 0x400');
  assert.deepEqual(device.flash.read(0x1f0, 600), data);
  const host = flash.read(0x1f0, 600);
  assert.ok(host.ok);
  assert.deepEqual(host.value, data);
  // A read larger than the 64 KiB buffer comes back whole.
  const big = device.flash.read(0, 200 * 1024);
  assert.equal(big.length, 200 * 1024);
  assert.deepEqual(big.subarray(0x1f0, 0x1f0 + 600), data);
  assert.ok(big.subarray(0x2000).every((b) => b === 0xff));
});

test('power lost during a flash operation, or before it, is an exception, through registers and from the host', () => {
  for (const through of ['registers', 'factory'] as const) {
    const { m, device, flash } = adapters();
    const medium = through === 'registers' ? device.flash : factoryFlash(m, SOC);
    medium.erase(0, medium.eraseBlockSize);
    flash.cutPowerAfter(2);
    assert.throws(
      () => medium.program(0, new Uint8Array(300)), // two pages: the second one is torn
      (e: unknown) => e instanceof FlashPowerLoss && e.code === 'POWER_CUT',
      through,
    );
    assert.throws(
      () => medium.read(0, 4),
      (e: unknown) => e instanceof FlashPowerLoss && e.code === 'POWERED_OFF',
      through,
    );
    flash.powerOn();
    assert.deepEqual([...medium.read(0, 4)], [0, 0, 0, 0], `${through}: the first page was programmed`);
  }
});

test('the adapters reach the devices only as the hardware allows', () => {
  // The flash assigned to the Normal World: its DMA into the secure buffer faults, and so does the command.
  const m = bringUp(board(), { seed: 3, lock: false });
  const chip = m.chip(SOC);
  const device = socBootDevice(m, SOC, idle);
  const cpu = chip.cpus[0]!;
  const flashSlot = 0x100 + 4 * chip.tzpc!.indexOf('flash');
  assert.ok(chip.writeRegister(cpu, 'tzpc', flashSlot, 1).ok);
  assert.throws(() => device.flash.program(0, Uint8Array.of(1)), {
    code: 'FLASH_ERROR',
    message: /DMA_FAULT/,
  });
  assert.ok(chip.writeRegister(cpu, 'tzpc', flashSlot, 0).ok);
  // Run as a non-secure CPU, the adapters fault on the secure devices.
  const control = chip.takeCpuControl();
  control.setWorld(cpu, 'non-secure');
  assert.throws(
    () => device.counters.read(0),
    (e: unknown) => e instanceof BusFaultError && e.fault.code === 'TZPC_DENIED',
  );
  assert.throws(() => device.rootOfTrust.rotpkHash(), BusFaultError);
  assert.throws(() => device.security.isLocked(), BusFaultError);
});

test('a warm reset clears the configuration and its lock, wipes RAM, keeps fuses, counters and flash', () => {
  const order: string[] = [];
  const m = machine();
  const chip = m.chip(SOC);
  const device = socBootDevice(m, SOC, {
    ...idle,
    beforeWarmReset: () => order.push(`hook, locked=${chip.tzasc?.isLocked}`),
  });
  const policy = boardBootPolicy(m.board, SOC);
  device.security.apply(policy.security);
  device.security.lock();
  device.counters.advanceTo(1, 9);
  device.flash.erase(0, device.flash.eraseBlockSize);
  device.flash.program(0, Uint8Array.of(0x12, 0x34));
  const sram = chip.region('secure-sram');
  sram.bytes[0] = 0xaa;
  device.reset.warmReset();
  assert.deepEqual(order, ['hook, locked=true'], 'the ports are stopped before the chip resets');
  assert.equal(device.security.isLocked(), false);
  assert.deepEqual([chip.tzasc?.isLocked, chip.tzpc?.isLocked, chip.gic.isLocked], [false, false, false]);
  assert.equal(sram.bytes[0], 0);
  assert.equal(device.counters.read(1), 9);
  assert.deepEqual([...device.flash.read(0, 2)], [0x12, 0x34]);
  assert.equal(toHex(device.rootOfTrust.rotpkHash()), developmentKeyFor(GATEWAY)?.keyHash);
  // The bring-up ran again: the board's configuration, unlocked, ready for the chain to check and lock.
  checkSecurityConfigurator(device.security, policy.security);
});

test('the board declares the boot policy: flash layout, counters, and its whole security policy', () => {
  const policy = boardBootPolicy(board(), SOC);
  assert.deepEqual(policy.layout, {
    bootState: [
      { offset: 0, size: 0x1000 },
      { offset: 0x1000, size: 0x1000 },
    ],
    banks: [
      { secure: { offset: 0x2000, size: 0x200000 }, normal: { offset: 0x202000, size: 0x400000 } },
      { secure: { offset: 0x602000, size: 0x200000 }, normal: { offset: 0x802000, size: 0x400000 } },
    ],
  });
  assert.deepEqual(policy.counters, { secureBundle: 0, normalWorld: 1 });
  assert.equal(policy.trialAttempts, 1);
  const { regions, peripherals, interrupts } = policy.security;
  assert.deepEqual(
    regions.map((r) => [r.name, r.world]),
    [
      ['boot-rom', 'secure'],
      ['secure-sram', 'secure'],
      ['secure-dram', 'secure'],
      ['shared-dram', 'non-secure'],
      ['normal-dram', 'non-secure'],
    ],
  );
  assert.deepEqual(
    peripherals.filter((p) => p.world === 'non-secure').map((p) => p.name),
    ['uart0'],
  );
  assert.equal(peripherals.length, 7);
  assert.equal(interrupts.length, 96, 'every line of the controller');
  assert.deepEqual(
    interrupts.filter((i) => i.group === 'non-secure').map((i) => i.line),
    [33],
  );
  const headUnit = board('uconnect-headunit');
  assert.deepEqual(
    boardSecurityConfiguration(headUnit.chips[0]!)
      .peripherals.filter((p) => p.world === 'non-secure')
      .map((p) => p.name),
    ['uart0', 'gps'],
  );
  assert.throws(() => boardBootPolicy(headUnit, 'ioc'), { code: 'NO_BOOT_DECLARATION' });
  assert.throws(() => boardBootPolicy(headUnit, 'nope'), { code: 'NO_SUCH_CHIP', message: /ap, ioc/ });
  assert.throws(() => boardSecurityConfiguration(headUnit.chips[1]!), { code: 'NO_TRUSTZONE' });
});

test('bootMachine refuses a chip whose fabric is already locked, or a boot CPU not in the secure world', async () => {
  const locked = bringUp(board(), { seed: 1 });
  await assert.rejects(bootMachine(locked, SOC, idle), {
    code: 'SECURITY_FABRIC_LOCKED',
    message: /lock: false/,
  });
  const m = machine();
  const chip = m.chip(SOC);
  chip.takeCpuControl().setWorld(chip.cpus[0]!, 'non-secure');
  await assert.rejects(bootMachine(m, SOC, idle), { code: 'BOOT_CPU_NOT_SECURE' });
});

test('the default boards are provisioned with the hashes of their development keys', () => {
  for (const dev of DEVELOPMENT_KEYS) {
    const chip = board(dev.board).chips.find((c) => c.boot);
    assert.ok(chip?.boot, `${dev.board} declares a secure boot`);
    const otp = chip.devices.find((d) => d.name === chip.boot!.fuses);
    assert.ok(otp?.kind === 'otp-fuses');
    assert.equal(otp.rotpkHash, dev.keyHash, dev.board);
    const pub = loadPublicKey(readFileSync(packagePath(dev.publicKey), 'utf8'), dev.publicKey);
    assert.equal(
      toHex(keyHash(pub.key)),
      dev.keyHash,
      `${dev.board}: the key file hashes to the fused value`,
    );
  }
});
