import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { arbitrationKey, canFrame, frameBits, type CanFrame } from '../../src/lib/can/frame.js';
import { VirtualClock, Trace, CanBus } from '../../src/soc/index.js';
import { cpu0, everyDeviceMachine, regs } from './helpers.js';

function bus(bitRate = 500_000) {
  const clock = new VirtualClock();
  const trace = new Trace(() => clock.nowNs);
  return { clock, bus: new CanBus('test', bitRate, clock, trace) };
}

function listener() {
  const got: { frame: CanFrame; timeNs: number }[] = [];
  return {
    got,
    endpoint: { receive: (frame: CanFrame, timeNs: number) => void got.push({ frame, timeNs }) },
  };
}

test('arbitration: lowest ID wins; at equal base ID data beats remote and standard beats extended', () => {
  const std = (id: number, remote = false) =>
    canFrame(id, remote ? [] : [1], { remote, ...(remote ? { dlc: 1 } : {}) });
  const ext = (base: number, low: number) => canFrame(base * 2 ** 18 + low, [1], { extended: true });
  assert.ok(arbitrationKey(std(0x122)) < arbitrationKey(std(0x123)));
  assert.ok(arbitrationKey(std(0x100)) < arbitrationKey(std(0x100, true)));
  assert.ok(arbitrationKey(std(0x100, true)) < arbitrationKey(ext(0x100, 0)));
  assert.ok(arbitrationKey(ext(0x0ff, 0x3ffff)) < arbitrationKey(std(0x100)));
  assert.ok(arbitrationKey(ext(0x100, 1)) < arbitrationKey(ext(0x100, 2)));

  const { clock, bus: b } = bus();
  const ports = ['a', 'b', 'c', 'd'].map((n) => b.attach(n, listener().endpoint));
  const frames = [ext(0x100, 5), std(0x100, true), std(0x100), ext(0x0ff, 7)];
  frames.forEach((f, i) => ports[i]!.transmit(f));
  clock.runUntilIdle();
  assert.deepEqual(
    b.tap.map((t) => t.from),
    ['d', 'c', 'b', 'a'],
  );
});

test('property: the bus carries contending frames in arbitration order, each after its own frame time', () => {
  const frame = fc.oneof(
    fc
      .record({ id: fc.integer({ min: 0, max: 0x7ff }), data: fc.uint8Array({ maxLength: 8 }) })
      .map(({ id, data }) => canFrame(id, data)),
    fc
      .record({ id: fc.integer({ min: 0, max: 2 ** 29 - 1 }), data: fc.uint8Array({ maxLength: 8 }) })
      .map(({ id, data }) => canFrame(id, data, { extended: true })),
  );
  fc.assert(
    fc.property(fc.uniqueArray(frame, { minLength: 1, maxLength: 6, selector: arbitrationKey }), (frames) => {
      const { clock, bus: b } = bus();
      frames.forEach((f, i) => b.attach(`n${i}`, listener().endpoint).transmit(f));
      clock.runUntilIdle();
      const sorted = [...frames].sort((x, y) => arbitrationKey(x) - arbitrationKey(y));
      assert.deepEqual(
        b.tap.map((t) => t.frame),
        sorted,
      );
      let t = 0;
      b.tap.forEach((rec) => {
        t += frameBits(rec.frame) * 2000;
        assert.equal(rec.timeNs, t);
      });
    }),
    { seed: 77, numRuns: 200 },
  );
});

test('a frame reaches every other node at the same time, never its sender', () => {
  const { clock, bus: b } = bus(125_000);
  const l = [listener(), listener(), listener()];
  const ports = l.map((x, i) => b.attach(`n${i}`, x.endpoint));
  ports[1]!.transmit(canFrame(0x42, [1, 2, 3]));
  clock.runUntilIdle();
  const when = frameBits(canFrame(0x42, [1, 2, 3])) * 8000;
  assert.equal(l[1]!.got.length, 0);
  for (const i of [0, 2]) {
    assert.equal(l[i]!.got.length, 1);
    assert.equal(l[i]!.got[0]!.timeNs, when);
    assert.deepEqual(l[i]!.got[0]!.frame.data, Uint8Array.of(1, 2, 3));
  }
});

test('CAN controllers: mailboxes go out in ID order, filters select, the RX FIFO overruns at 16', () => {
  const { m, tz, mcu } = everyDeviceMachine();
  // Keep the ECUs quiet: only the two controllers talk in this test.
  const tap = m.canBus('bus');
  const tx = regs(mcu, cpu0(mcu));
  const rx = regs(tz, cpu0(tz));
  const line = tz.irqOf('can') as number;
  rx.write('gic', 0x400 + 4 * line, 0x80 | (1 << 24));
  rx.write('can', 0x000, 1);
  rx.write('can', 0x014, 7);
  rx.write('can', 0x300, 0x300); // filter 0: standard IDs 0x300–0x3ff
  rx.write('can', 0x304, 0xc0000700);
  rx.write('can', 0x380, 1);
  tx.write('can', 0x000, 1);
  const ids = [0x3a0, 0x310, 0x250];
  ids.forEach((id, i) => {
    tx.write('can', 0x100 + 0x10 * i, id);
    tx.write('can', 0x104 + 0x10 * i, 2);
    tx.write('can', 0x108 + 0x10 * i, 0xbeef);
  });
  tx.write('can', 0x020, 0b111);
  assert.equal(tx.read('can', 0x024) & 7, 7, 'three pending');
  assert.equal(tx.tryWrite('can', 0x100, 0).ok, false, 'a pending mailbox is read-only');
  m.runFor(2_000_000);
  const sent = tap.tap.filter((t) => t.from === 'mcu/can').map((t) => t.frame.id);
  assert.deepEqual(sent, [0x250, 0x310, 0x3a0]);
  assert.equal(tx.read('can', 0x024), 0x700, 'three done');
  assert.equal(rx.read('can', 0x214), 2, '0x250 filtered out');
  assert.equal(rx.read('can', 0x200), 0x310);
  assert.equal(rx.read('can', 0x204), 2);
  assert.equal(rx.read('can', 0x208), 0xbeef);
  rx.write('can', 0x210, 1);
  assert.equal(rx.read('can', 0x200), 0x3a0);
  assert.equal(rx.read('gic', 0x010), line, 'RX interrupt');
  // Fill the FIFO: 15 more fit, then frames are lost and counted.
  for (let n = 0; n < 17; n++) {
    tx.write('can', 0x100, 0x301);
    tx.write('can', 0x020, 1);
    m.runFor(1_000_000);
  }
  assert.equal(rx.read('can', 0x214), 16);
  assert.equal(rx.read('can', 0x218), 2);
  assert.equal(rx.read('can', 0x010) & 4, 4, 'overrun flagged');
});
