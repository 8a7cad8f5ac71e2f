import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpu0, everyDeviceMachine, ok, regs } from './helpers.js';

test('SPI transfers are full duplex between the two chips, in virtual time, by DMA', () => {
  const { m, tz, mcu } = everyDeviceMachine();
  const master = regs(tz, cpu0(tz));
  const slave = regs(mcu, cpu0(mcu));
  const toSlave = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const toMaster = Uint8Array.from([0xa1, 0xa2, 0xa3]);
  ok(tz.bus.writeBytes(cpu0(tz), 0x10000000, toSlave));
  ok(mcu.bus.writeBytes(cpu0(mcu), 0x20000000, toMaster));
  // Slave arms a 3-byte reply and room for 8 bytes.
  slave.write('spi', 0x000, 1);
  slave.write('spi', 0x008, 0x20000000);
  slave.write('spi', 0x00c, 0x20000100);
  slave.write('spi', 0x010, 8);
  slave.write('spi', 0x01c, 7);
  slave.write('spi', 0x014, 1);
  assert.equal(slave.read('spi', 0x004) & 0b1010, 0b1010, 'armed, slave role');
  master.write('spi', 0x000, 1);
  master.write('spi', 0x008, 0x10000000);
  master.write('spi', 0x00c, 0x10000100);
  master.write('spi', 0x010, 8);
  master.write('spi', 0x01c, 7);
  master.write('spi', 0x014, 1);
  assert.equal(master.read('spi', 0x004) & 1, 1, 'busy');
  assert.equal(master.tryWrite('spi', 0x014, 1).ok, false, 'one transfer at a time');
  m.runFor(64_000 - 1); // 8 bytes × 8 bits at 1 Mbit/s = 64 µs
  assert.equal(master.read('spi', 0x004) & 1, 1);
  m.runFor(1);
  assert.equal(master.read('spi', 0x004) & 1, 0);
  assert.deepEqual(ok(mcu.bus.readBytes(cpu0(mcu), 0x20000100, 8)), toSlave);
  assert.deepEqual(
    ok(tz.bus.readBytes(cpu0(tz), 0x10000100, 8)),
    Uint8Array.from([0xa1, 0xa2, 0xa3, 0, 0, 0, 0, 0]),
  );
  assert.equal(slave.read('spi', 0x020), 8);
  assert.equal(mcu.gic.line(mcu.irqOf('spi') as number).pending, true);
  // The slave arms only 3 bytes: the master reads 0xFF beyond them, the slave keeps 3 and reports an overrun.
  slave.write('spi', 0x010, 3);
  slave.write('spi', 0x00c, 0x20000200);
  slave.write('spi', 0x014, 1);
  master.write('spi', 0x014, 1);
  m.runFor(64_000);
  assert.deepEqual(
    ok(tz.bus.readBytes(cpu0(tz), 0x10000100, 8)),
    Uint8Array.from([0xa1, 0xa2, 0xa3, 0xff, 0xff, 0xff, 0xff, 0xff]),
  );
  assert.deepEqual(ok(mcu.bus.readBytes(cpu0(mcu), 0x20000200, 4)), Uint8Array.from([1, 2, 3, 0]));
  assert.equal(slave.read('spi', 0x018) & 4, 4, 'overrun');
  slave.write('spi', 0x018, 7);
  // An unarmed slave: the master reads 0xFF, the slave loses everything.
  master.write('spi', 0x014, 1);
  m.runFor(64_000);
  assert.deepEqual(ok(tz.bus.readBytes(cpu0(tz), 0x10000100, 8)), new Uint8Array(8).fill(0xff));
  assert.equal(slave.read('spi', 0x018) & 4, 4);
});

test('a transfer in flight when the master chip resets completes on the wire but writes nothing', () => {
  const { m, tz, mcu } = everyDeviceMachine();
  const master = regs(tz, cpu0(tz));
  master.write('spi', 0x000, 1);
  master.write('spi', 0x008, 0x10000000);
  master.write('spi', 0x00c, 0x10000100);
  master.write('spi', 0x010, 8);
  master.write('spi', 0x014, 1);
  tz.reset();
  const faults = tz.bus.faultCount;
  m.runFor(64_000);
  assert.equal(tz.bus.faultCount, faults, 'no stray DMA after reset');
  assert.equal(regs(tz, cpu0(tz)).read('spi', 0x018), 0, 'no completion reported');
  assert.equal(regs(mcu, cpu0(mcu)).read('spi', 0x018) & 4, 4, 'the unarmed slave saw the transfer');
});
