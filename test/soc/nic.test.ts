import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DESCRIPTOR_SIZE,
  decodeDescriptor,
  encodeDescriptor,
  type Chip,
  type Cpu,
} from '../../src/soc/index.js';
import { cpu0, everyDeviceMachine, ok, regs } from './helpers.js';

const ETH_MAC = [2, 0, 0, 0, 0, 1];
const NSETH_MAC = [2, 0, 0, 0, 0, 2];

function frame(dst: number[], src: number[], payload: number, length = 60): Uint8Array {
  const f = new Uint8Array(length).fill(payload);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  return f;
}

/** A driver of one packet-ring device: rings and buffers at `mem`. */
function driver(chip: Chip, cpu: Cpu, device: string, mem: number, size = 4) {
  const r = regs(chip, cpu);
  const txRing = mem;
  const rxRing = mem + 0x100;
  const buffers = mem + 0x1000;
  let txTail = 0;
  r.write(device, 0x010, txRing);
  r.write(device, 0x014, size);
  r.write(device, 0x020, rxRing);
  r.write(device, 0x024, size);
  for (let i = 0; i < size; i++)
    ok(
      chip.bus.writeBytes(
        cpu,
        rxRing + i * DESCRIPTOR_SIZE,
        encodeDescriptor(buffers + 0x800 * (size + i), 0x800),
      ),
    );
  r.write(device, 0x02c, size - 1);
  r.write(device, 0x034, 0xf);
  r.write(device, 0x000, 7);
  return {
    send(frames: Uint8Array[]) {
      for (const f of frames) {
        const buf = buffers + 0x800 * txTail;
        ok(chip.bus.writeBytes(cpu, buf, f));
        ok(chip.bus.writeBytes(cpu, txRing + txTail * DESCRIPTOR_SIZE, encodeDescriptor(buf, f.length)));
        txTail = (txTail + 1) % size;
      }
      r.write(device, 0x01c, txTail);
    },
    received(): Uint8Array[] {
      const head = r.read(device, 0x028);
      const out: Uint8Array[] = [];
      for (let i = 0; i < head; i++) {
        const d = decodeDescriptor(
          ok(chip.bus.readBytes(cpu, rxRing + i * DESCRIPTOR_SIZE, DESCRIPTOR_SIZE)),
        );
        if (d.status & 1) out.push(ok(chip.bus.readBytes(cpu, d.address, d.length)));
      }
      return out;
    },
    r,
  };
}

test('a batch of frames goes out through the TX ring onto the segment, serialised in virtual time', () => {
  const { m, tz } = everyDeviceMachine();
  const cpu = cpu0(tz);
  const eth = driver(tz, cpu, 'eth', 0x10000000);
  const frames = [1, 2, 3].map((p) => frame([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], ETH_MAC, p));
  eth.send(frames);
  m.runFor(100_000);
  const tap = m.segment('lan').tap;
  assert.deepEqual(
    tap.map((t) => t.frame),
    frames,
  );
  // Doorbell latency 100 ns, then back to back: (60 + 20) bytes × 8 bits at 1 Gbit/s = 640 ns each.
  assert.deepEqual(
    tap.map((t) => t.timeNs),
    [100, 740, 1380],
  );
  assert.equal(eth.r.read('eth', 0x018), 3, 'TX head advanced');
  assert.equal(eth.r.read('eth', 0x040), 3, 'TX frames');
  assert.equal(eth.r.read('eth', 0x030) & 2, 2, 'TX-done interrupt status');
});

test('receive fills the lent buffers in one batch; without buffers frames are dropped and counted', () => {
  const { m, tz } = everyDeviceMachine();
  const cpu = cpu0(tz);
  const eth = driver(tz, cpu, 'eth', 0x10000000, 8); // a ring of n holds n - 1 frames
  const nseth = driver(tz, cpu, 'nseth', 0x20000000);
  const line = tz.irqOf('nseth') as number;
  regs(tz, cpu).write('gic', 0x400 + 4 * line, 0x80 | (1 << 16) | (1 << 24));
  const frames = [1, 2, 3, 4].map((p) => frame(NSETH_MAC, ETH_MAC, p));
  eth.send(frames);
  m.runFor(100_000);
  assert.deepEqual(nseth.received(), frames.slice(0, 3), 'three buffers lent (tail = size - 1)');
  assert.equal(nseth.r.read('nseth', 0x048), 1, 'one dropped');
  assert.equal(nseth.r.read('nseth', 0x030) & 9, 9, 'RX and dropped status');
  assert.equal(tz.gic.line(line).pending, true, 'one interrupt for the batch');
});

test('the MAC filter keeps own, broadcast and multicast frames; promiscuous mode keeps everything', () => {
  const { m, tz } = everyDeviceMachine();
  const cpu = cpu0(tz);
  const nseth = driver(tz, cpu, 'nseth', 0x20000000, 8);
  const host = m.segment('lan').attach('host', { deliver: () => {} });
  assert.ok(host.ok);
  const other = frame([2, 9, 9, 9, 9, 9], [2, 1, 1, 1, 1, 1], 1);
  const multicast = frame([0x01, 0, 0x5e, 0, 0, 1], [2, 1, 1, 1, 1, 1], 2);
  const mine = frame(NSETH_MAC, [2, 1, 1, 1, 1, 1], 3);
  for (const f of [other, multicast, mine]) host.port.send(f);
  m.runFor(100_000);
  assert.deepEqual(nseth.received(), [multicast, mine]);
  nseth.r.write('nseth', 0x000, 0xf);
  host.port.send(other);
  m.runFor(100_000);
  assert.deepEqual(nseth.received().at(-1), other);
});

test('an emulated remote host attaches through the port interface and receives frames at their arrival time', () => {
  const { m, tz } = everyDeviceMachine();
  const got: { frame: Uint8Array; timeNs: number }[] = [];
  const host = m
    .segment('lan')
    .attach('remote', { deliver: (f, timeNs) => void got.push({ frame: f, timeNs }) });
  assert.ok(host.ok);
  assert.deepEqual(m.segment('lan').attach('remote', { deliver: () => {} }), {
    ok: false,
    code: 'NAME_TAKEN',
  });
  const eth = driver(tz, cpu0(tz), 'eth', 0x10000000);
  const f = frame([2, 1, 1, 1, 1, 1], ETH_MAC, 7);
  eth.send([f]);
  m.runFor(100_000);
  assert.equal(got.length, 1);
  assert.deepEqual(got[0]!.frame, f);
  assert.equal(got[0]!.timeNs, 100 + 640 + 1000, 'doorbell + serialisation + propagation latency');
});

test('the cellular network routes IPv4 packets by destination address', () => {
  const { m, tz } = everyDeviceMachine();
  const modem = driver(tz, cpu0(tz), 'modem', 0x10000000);
  const cell = m.segment('cell');
  assert.equal(cell.linkType, 101);
  const host = cell.attach('attacker', { deliver: () => {} }, { address: '10.0.0.66' });
  assert.ok(host.ok);
  assert.deepEqual(cell.attach('clash', { deliver: () => {} }, { address: '10.0.0.1' }), {
    ok: false,
    code: 'ADDRESS_TAKEN',
  });
  const ipv4 = (dst: number[]) => {
    const p = new Uint8Array(28);
    p[0] = 0x45;
    p[9] = 17;
    p.set([10, 0, 0, 66], 12);
    p.set(dst, 16);
    return p;
  };
  host.port.send(ipv4([10, 0, 0, 1]));
  host.port.send(ipv4([10, 0, 0, 9]));
  m.runFor(100_000_000);
  assert.deepEqual(modem.received(), [ipv4([10, 0, 0, 1])]);
  assert.equal(cell.stats.dropped, 1, 'no route to 10.0.0.9');
  assert.equal(modem.r.read('modem', 0x008), 0x0a000001, 'ADDR_LO holds the IPv4 address');
});

test('joining the Wi-Fi segment from outside takes the passphrase', () => {
  const { m } = everyDeviceMachine();
  const air = m.segment('air');
  assert.deepEqual(air.attach('guess', { deliver: () => {} }, { passphrase: 'password' }), {
    ok: false,
    code: 'AUTH_FAILED',
  });
  assert.equal(air.attach('friend', { deliver: () => {} }, { passphrase: 'correct-horse' }).ok, true);
  assert.equal(
    m.trace.recent().some((e) => e.event === 'wifi.auth-failed'),
    true,
  );
});
