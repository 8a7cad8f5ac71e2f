/**
 * The NIC driver engine against the emulated SoC's Ethernet NIC itself: registers through the bus as the
 * secure CPU, descriptors and buffers in secure memory, frames to and from the WAN segment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CTRL_ENABLE,
  CTRL_PROMISCUOUS,
  CTRL_RX,
  CTRL_TX,
  DESCRIPTOR_SIZE,
  INT_DROPPED,
  INT_ERROR,
  INT_RX,
  INT_TX,
} from '../../src/soc/devices/packet-rings.js';
import {
  DESCRIPTOR_BYTES,
  NicCtrl,
  NicInterrupt,
  RingNic,
  nicMemoryBytes,
} from '../../src/lib/nic/ring-nic.js';
import { bringUp, loadBoardByName } from '../../src/soc/index.js';
import type { RingMemory } from '../../src/lib/ring/frame-ring.js';

function rig() {
  const machine = bringUp(loadBoardByName('iot-gateway').board, { seed: 4 });
  const chip = machine.chip('soc');
  const cpu = chip.cpus[0];
  assert.ok(cpu);
  const dram = chip.region('secure-dram');
  const base = dram.base + 0x80000;
  const memory: RingMemory = {
    read(offset, length) {
      const r = chip.bus.readBytes(cpu, base + offset, length);
      return r.ok ? r.value : undefined;
    },
    write(offset, bytes) {
      return chip.bus.writeBytes(cpu, base + offset, bytes).ok;
    },
  };
  const regs = {
    read(offset: number) {
      const r = chip.readRegister(cpu, 'eth0', offset);
      return r.ok ? r.value : undefined;
    },
    write(offset: number, value: number) {
      return chip.writeRegister(cpu, 'eth0', offset, value).ok;
    },
  };
  const received: Uint8Array[] = [];
  const peer = machine.segment('wan').attach('peer', { deliver: (f) => received.push(f) });
  assert.ok(peer.ok);
  const nic = new RingNic<number>(regs, {
    memory,
    physicalBase: base,
    descriptors: 16,
    bufferBytes: 1536,
    transmitBuffers: true,
  });
  return { machine, nic, memory, base, peer: peer.port, received };
}

const frameTo = (mac: Uint8Array, n: number, tag: number) => {
  const f = new Uint8Array(n);
  f.set(mac, 0);
  f.set([2, 0, 0, 0, 0, 9], 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  for (let i = 14; i < n; i++) f[i] = (tag + i) & 0xff;
  return f;
};

test('the engine speaks the device’s register map and descriptor layout', () => {
  assert.equal(DESCRIPTOR_BYTES, DESCRIPTOR_SIZE);
  assert.deepEqual(NicCtrl, { ENABLE: CTRL_ENABLE, RX: CTRL_RX, TX: CTRL_TX, PROMISCUOUS: CTRL_PROMISCUOUS });
  assert.deepEqual(NicInterrupt, { RX: INT_RX, TX: INT_TX, ERROR: INT_ERROR, RX_DROPPED: INT_DROPPED });
  assert.equal(
    nicMemoryBytes({ descriptors: 16, bufferBytes: 1536, transmitBuffers: true }),
    2 * 256 + 2 * 16 * 1536,
  );
});

test('receive: frames from the wire come out in order across ring wraps; a refusing sink keeps its frame', () => {
  const { machine, nic, peer } = rig();
  nic.start();
  const mac = nic.mac;
  assert.deepEqual(Array.from(mac), [2, 0x52, 0x50, 0, 0, 1]);
  const got: Uint8Array[] = [];
  let tag = 0;
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 10; i++) peer.send(frameTo(mac, 60 + tag * 7, tag++));
    machine.runFor(1e6);
    assert.ok(nic.takeInterrupts() & NicInterrupt.RX);
    nic.receive((f) => (got.push(f), true));
  }
  assert.equal(got.length, 50);
  got.forEach((f, i) => assert.deepEqual(f, frameTo(mac, 60 + i * 7, i)));
  // A sink that says no: the frame stays for the next call.
  peer.send(frameTo(mac, 100, 99));
  peer.send(frameTo(mac, 100, 100));
  machine.runFor(1e6);
  let once = false;
  assert.equal(
    nic.receive(() => (once ? false : (once = true))),
    1,
  );
  const rest: Uint8Array[] = [];
  nic.receive((f) => (rest.push(f), true));
  assert.deepEqual(rest, [frameTo(mac, 100, 100)]);
  assert.equal(nic.deviceCounters().rxDropped, 0);
});

test('transmit: by copy and in place, in order on the wire; completions reclaimed with their tags', () => {
  const { machine, nic, memory, base, received } = rig();
  nic.start();
  const dst = Uint8Array.from([2, 0, 0, 0, 0, 9]);
  const elsewhere = 0x40000; // a frame already in memory the device reaches
  const inPlace = frameTo(dst, 200, 7);
  assert.ok(memory.write(elsewhere, inPlace));
  const sent: Uint8Array[] = [];
  for (let i = 0; i < 10; i++) {
    const f = frameTo(dst, 64 + i, i);
    assert.ok(nic.transmitCopy(f, i));
    sent.push(f);
  }
  assert.ok(nic.transmitAt(base + elsewhere, inPlace.length, 10));
  sent.push(inPlace);
  assert.equal(nic.kick(), 11);
  machine.runFor(1e6);
  assert.deepEqual(received, sent);
  assert.ok(nic.takeInterrupts() & NicInterrupt.TX);
  assert.deepEqual(nic.reclaim(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(nic.inFlight, 0);
  // A full ring refuses (counted) until reclaimed.
  for (let i = 0; i < 15; i++) assert.ok(nic.transmitCopy(frameTo(dst, 64, i), i));
  assert.equal(nic.transmitCopy(frameTo(dst, 64, 99), 99), false);
  assert.equal(nic.counters.transmitFull, 1);
  nic.kick();
  machine.runFor(1e6);
  assert.equal(nic.reclaim().length, 15);
  assert.equal(nic.deviceCounters().txFrames, 26);
});
