import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stableStringify } from '../../src/common/json.js';
import { cpu0, everyDeviceMachine, ok, regs } from './helpers.js';
import { bringUp, encodeDescriptor } from '../../src/soc/index.js';

test('a non-secure read of secure memory faults, is recorded, and returns nothing', () => {
  const { m, tz, control } = everyDeviceMachine();
  const cpu = cpu0(tz);
  ok(tz.bus.write(cpu, 0x10000010, 0xdeadbeef)); // secure world writes its secret
  control.setWorld(cpu, 'non-secure');
  const before = { faults: tz.bus.faultCount, trace: m.trace.count };
  const r = tz.bus.read(cpu, 0x10000010);
  assert.equal(r.ok, false);
  assert.ok(!r.ok);
  assert.equal(r.code, 'TZASC_DENIED');
  assert.equal(r.world, 'non-secure');
  assert.equal(r.master, 'tz/cpu0');
  assert.equal(r.target, 'sram');
  assert.equal(tz.bus.faultCount, before.faults + 1);
  assert.deepEqual(tz.bus.faults.at(-1), r);
  const last = m.trace.recent().at(-1);
  assert.equal(last?.event, 'bus.fault');
  assert.equal(m.trace.count, before.trace + 1);
  assert.equal((last?.detail as { code: string }).code, 'TZASC_DENIED');
});

test('a non-secure write to secure memory faults and changes nothing', () => {
  const { tz, control } = everyDeviceMachine();
  const cpu = cpu0(tz);
  ok(tz.bus.write(cpu, 0x10000000, 0x11223344));
  const sram = tz.region('sram');
  const image = sram.bytes.slice();
  control.setWorld(cpu, 'non-secure');
  for (const r of [
    tz.bus.write(cpu, 0x10000000, 0, 4),
    tz.bus.write(cpu, 0x10000001, 0xff, 1),
    tz.bus.writeBytes(cpu, 0x1000fff0, new Uint8Array(16)),
  ]) {
    assert.ok(!r.ok);
    assert.equal(r.code, 'TZASC_DENIED');
  }
  assert.deepEqual(sram.bytes, image);
  control.setWorld(cpu, 'secure');
  assert.equal(ok(tz.bus.read(cpu, 0x10000000)), 0x11223344);
});

test('a non-secure access to a secure peripheral faults and leaves the device unchanged', () => {
  const { m, tz, control } = everyDeviceMachine();
  const cpu = cpu0(tz);
  const secureRegs = regs(tz, cpu);
  secureRegs.write('trng', 0x004, 1);
  const devices = ['otp', 'trng', 'nvc', 'flash', 'eth', 'tzasc', 'tzpc'];
  const before = devices.map((d) => stableStringify(tz.device(d).snapshot()));
  control.setWorld(cpu, 'non-secure');
  const faultsBefore = tz.bus.faultCount;
  const attempts = [
    tz.readRegister(cpu, 'trng', 0x008),
    tz.writeRegister(cpu, 'otp', 0x100, 0xffffffff),
    tz.writeRegister(cpu, 'otp', 0x004, 1),
    tz.writeRegister(cpu, 'nvc', 0x200, 1),
    tz.writeRegister(cpu, 'flash', 0x004, 3),
    tz.writeRegister(cpu, 'eth', 0x000, 7),
    tz.writeRegister(cpu, 'tzasc', 0x100, 1),
    tz.writeRegister(cpu, 'tzpc', 0x100, 1),
  ];
  for (const r of attempts) {
    assert.ok(!r.ok);
    assert.equal(r.code, 'TZPC_DENIED');
  }
  assert.equal(tz.bus.faultCount, faultsBefore + attempts.length);
  assert.deepEqual(
    devices.map((d) => stableStringify(tz.device(d).snapshot())),
    before,
  );
  assert.equal(m.trace.recent().filter((e) => e.event === 'bus.fault').length, attempts.length);
  // The non-secure world still reaches its own peripheral.
  assert.ok(tz.readRegister(cpu, 'uart', 0x018).ok);
});

test('a DMA master in the non-secure world cannot reach secure memory; the same device in the secure world can', () => {
  const { m, tz } = everyDeviceMachine();
  const cpu = cpu0(tz);
  const r = regs(tz, cpu);
  // nseth is assigned to the non-secure world; its ring points into secure RAM.
  ok(tz.bus.writeBytes(cpu, 0x10000000, encodeDescriptor(0x10000100, 60)));
  ok(tz.bus.writeBytes(cpu, 0x10000100, new Uint8Array(60).fill(0x5a)));
  r.write('nseth', 0x010, 0x10000000);
  r.write('nseth', 0x014, 4);
  r.write('nseth', 0x000, 7);
  r.write('nseth', 0x01c, 1);
  m.runFor(1_000_000);
  assert.equal(m.segment('lan').tap.length, 0, 'nothing left the non-secure NIC');
  const fault = tz.bus.faults.at(-1);
  assert.equal(fault?.code, 'TZASC_DENIED');
  assert.equal(fault?.master, 'tz/nseth');
  assert.equal(r.read('nseth', 0x04c), 1, 'the NIC counted a DMA error');
  // The secure NIC, same ring: the frame goes out.
  r.write('eth', 0x010, 0x10000000);
  r.write('eth', 0x014, 4);
  r.write('eth', 0x000, 7);
  r.write('eth', 0x01c, 1);
  m.runFor(1_000_000);
  assert.equal(m.segment('lan').tap.length, 1);
  assert.deepEqual(m.segment('lan').tap[0]?.frame, new Uint8Array(60).fill(0x5a));
});

test('the secure world reaches non-secure memory and peripherals', () => {
  const { tz } = everyDeviceMachine();
  const cpu = cpu0(tz);
  ok(tz.bus.write(cpu, 0x20000000, 0xcafe));
  assert.equal(ok(tz.bus.read(cpu, 0x20000000)), 0xcafe);
  assert.ok(tz.readRegister(cpu, 'uart', 0x018).ok);
});

test('a locked TZASC and TZPC reject changes, record them, and keep their configuration', () => {
  const { tz } = everyDeviceMachine();
  const cpu = cpu0(tz);
  const r = regs(tz, cpu);
  assert.equal(r.read('tzasc', 0x000), 1);
  assert.equal(r.read('tzpc', 0x000), 1);
  const nsram = 2; // board order: rom, sram, nsram, shared
  const attempt = r.tryWrite('tzasc', 0x100 + 4 * nsram, 0);
  assert.ok(!attempt.ok);
  assert.equal(attempt.code, 'DEVICE_DENIED');
  assert.match(attempt.reason, /locked/);
  assert.equal(r.read('tzasc', 0x100 + 4 * nsram), 1);
  const uart = tz.tzpc!.indexOf('uart');
  const t = r.tryWrite('tzpc', 0x100 + 4 * uart, 0);
  assert.ok(!t.ok);
  assert.match(t.reason, /locked/);
  assert.equal(tz.worldOfPeripheral('uart'), 'non-secure');
  assert.equal(tz.bus.faults.at(-1), t);
});

test('before lock: a secure-backed region cannot become non-secure; an exported one cannot become secure', () => {
  const m = bringUp(everyDeviceMachine().m.board, { seed: 1, lock: false });
  const tz = m.chip('tz');
  const r = regs(tz, cpu0(tz));
  const toNs = r.tryWrite('tzasc', 0x100 + 4 * 1, 1); // sram, declared secure
  assert.ok(!toNs.ok);
  assert.match(toNs.reason, /cannot be made non-secure/);
  const exported = tz.nonSecureBuffer('shared');
  assert.ok(exported.ok);
  assert.ok(exported.buffer instanceof SharedArrayBuffer);
  const back = r.tryWrite('tzasc', 0x100 + 4 * 3, 0);
  assert.ok(!back.ok);
  assert.match(back.reason, /handed to a non-secure context/);
  // A non-exported non-secure region may still move to the secure world (unlocked).
  r.write('tzasc', 0x100 + 4 * 2, 0);
  assert.equal(tz.securityOf(tz.region('nsram')), 'secure');
  const refused = tz.nonSecureBuffer('nsram');
  assert.ok(!refused.ok);
  assert.equal(refused.code, 'SECURE_REGION');
});

test('nonSecureBuffer never hands out a secure region', () => {
  const { tz } = everyDeviceMachine();
  for (const name of ['rom', 'sram']) {
    const r = tz.nonSecureBuffer(name);
    assert.ok(!r.ok);
    assert.equal(r.code, 'SECURE_REGION');
  }
  const ns = tz.nonSecureBuffer('nsram');
  assert.ok(ns.ok);
  assert.equal(ns.base, 0x20000000);
  assert.equal(ns.buffer, tz.region('nsram').buffer);
  assert.ok(tz.region('sram').buffer instanceof ArrayBuffer);
  assert.ok(!(tz.region('sram').buffer instanceof SharedArrayBuffer));
});

test('the CPU control hook is handed out once, and a CPU without TrustZone has no non-secure state', () => {
  const { tz, mcu, mcuControl } = everyDeviceMachine();
  assert.throws(() => tz.takeCpuControl(), /already taken/);
  assert.throws(() => mcuControl.setWorld(cpu0(mcu), 'non-secure'), /no TrustZone/);
  assert.equal(cpu0(mcu).world, 'secure');
});

test('unmapped, read-only and misaligned accesses fault with their own codes', () => {
  const { tz } = everyDeviceMachine();
  const cpu = cpu0(tz);
  const cases: [ReturnType<typeof tz.bus.read>, string][] = [
    [tz.bus.read(cpu, 0x50000000), 'UNMAPPED'],
    [tz.bus.read(cpu, 0x1000fffe, 4), 'UNMAPPED'],
    [tz.bus.write(cpu, 0x00000000, 1) as ReturnType<typeof tz.bus.read>, 'READ_ONLY'],
    [tz.bus.read(cpu, tz.baseOf('uart') + 2, 4), 'ALIGNMENT'],
    [tz.bus.read(cpu, tz.baseOf('uart'), 1), 'ALIGNMENT'],
    [tz.bus.readBytes(cpu, tz.baseOf('uart'), 4) as ReturnType<typeof tz.bus.read>, 'UNMAPPED'],
  ];
  for (const [r, code] of cases) {
    assert.ok(!r.ok);
    assert.equal(r.code, code);
  }
});

test('the MPU of the microcontroller confines unprivileged code', () => {
  const { mcu, mcuControl } = everyDeviceMachine();
  const cpu = cpu0(mcu);
  const r = regs(mcu, cpu);
  // Region 0: the first 4 KiB of RAM, unprivileged read/write; privileged default map on.
  r.write('mpu', 0x010, 0x20000000);
  r.write('mpu', 0x014, 0x20000fff);
  r.write('mpu', 0x018, 0b1111);
  r.write('mpu', 0x000, 3);
  mcuControl.setPrivileged(cpu, false);
  ok(mcu.bus.write(cpu, 0x20000000, 1));
  const outside = mcu.bus.write(cpu, 0x20001000, 1);
  assert.ok(!outside.ok);
  assert.equal(outside.code, 'MPU_DENIED');
  const mpuWrite = mcu.writeRegister(cpu, 'mpu', 0x000, 0);
  assert.ok(!mpuWrite.ok, 'unprivileged code cannot reach the MPU registers');
  mcuControl.setPrivileged(cpu, true);
  ok(mcu.bus.write(cpu, 0x20001000, 1));
  r.write('mpu', 0x000, 1); // privileged default map off: outside every region is denied even when privileged
  assert.equal(mcu.bus.read(cpu, 0x20002000).ok, false);
});

test('property: whatever the non-secure world does on the bus, secure state does not change', () => {
  const { tz, control } = everyDeviceMachine(7);
  const cpu = cpu0(tz);
  ok(tz.bus.writeBytes(cpu, 0x10000000, new Uint8Array(0x10000).fill(0xa5)));
  const secureDevices = [...tz.devices.keys()].filter((d) => tz.accessClass(d) === 'secure');
  const secureImage = tz.region('sram').bytes.slice();
  const deviceImage = secureDevices.map((d) => stableStringify(tz.device(d).snapshot()));
  const secureLines = () =>
    Array.from({ length: tz.gic.lineCount }, (_, n) => tz.gic.line(n)).filter((l) => l.group === 'secure');
  const linesImage = stableStringify(secureLines());
  control.setWorld(cpu, 'non-secure');
  const targets = [
    0x00000000, 0x10000000, 0x20000000, 0x30000000, 0x40000000, 0x41000000, 0x41001000, 0x4100c000,
  ];
  fc.assert(
    fc.property(
      fc.constantFrom(...targets),
      fc.integer({ min: 0, max: 0x1fff }),
      fc.constantFrom(1, 2, 4) as fc.Arbitrary<1 | 2 | 4>,
      fc.boolean(),
      fc.integer({ min: 0, max: 0xffffffff }),
      (base, offset, size, write, v) => {
        const address = base + offset * 4;
        const r = write ? tz.bus.write(cpu, address, v, size) : tz.bus.read(cpu, address, size);
        const where = tz.bus.describe(address);
        if (where === 'rom' || where === 'sram' || (where && secureDevices.includes(where)))
          assert.equal(r.ok, false);
      },
    ),
    { seed: 20240601, numRuns: 3000 },
  );
  assert.deepEqual(tz.region('sram').bytes, secureImage);
  assert.deepEqual(
    secureDevices.map((d) => stableStringify(tz.device(d).snapshot())),
    deviceImage,
  );
  assert.equal(stableStringify(secureLines()), linesImage);
});
