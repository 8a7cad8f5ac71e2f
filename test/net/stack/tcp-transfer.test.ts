import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { LinkConditions, TcpSocket } from '../../../src/lib/net/stack/index.js';
import { B_IP, collect, equalBytes, pair, pattern, pump } from './helpers.js';

/** Transfers `sizeAB` bytes a → b and `sizeBA` bytes b → a at once, both closing when done. */
function transfer(link: LinkConditions, sizeAB: number, sizeBA: number, seed = 1, tcp = {}) {
  const net = pair({ seed, link, tcp });
  const toB = pattern(sizeAB, seed);
  const toA = pattern(sizeBA, seed + 1000);
  let atB: ReturnType<typeof collect> | undefined;
  let server: TcpSocket | undefined;
  const l = net.b.tcp.listen(80, {
    onAccept(s) {
      server = s;
      atB = collect(s);
      pump(s, toA);
    },
  });
  assert.ok(l.ok);
  const c = net.a.tcp.connect(B_IP, 80);
  assert.ok(c.ok);
  const atA = collect(c.socket);
  pump(c.socket, toB);
  const done = net.sim.runUntil(() => atA.ended() && atB !== undefined && atB.ended(), net.sim.now + 3600e9);
  return { ...net, done, client: c.socket, server, atA, atB, toA, toB };
}

function assertExactlyOnce(r: ReturnType<typeof transfer>): void {
  assert.ok(r.done, 'transfer did not finish');
  assert.ok(r.atB !== undefined);
  assert.ok(
    equalBytes(r.atB.bytes(), r.toB),
    `a → b: ${r.atB.bytes().length} of ${r.toB.length} bytes, or not in order`,
  );
  assert.ok(
    equalBytes(r.atA.bytes(), r.toA),
    `b → a: ${r.atA.bytes().length} of ${r.toA.length} bytes, or not in order`,
  );
}

test('clean link: 1 MB each way, no retransmission', () => {
  const r = transfer({ delayNs: 2e6 }, 1_000_000, 1_000_000);
  assertExactlyOnce(r);
  assert.equal(r.a.stats().tcp.retransmittedSegments, 0);
  assert.equal(r.b.stats().tcp.retransmittedSegments, 0);
});

test('10% loss, reordering, duplication and jitter: every byte arrives once and in order, both ways', () => {
  const r = transfer(
    { delayNs: 5e6, jitterNs: 2e6, lossRate: 0.1, reorderRate: 0.05, duplicateRate: 0.05 },
    300_000,
    200_000,
    3,
  );
  assertExactlyOnce(r);
  const ta = r.a.stats().tcp;
  const tb = r.b.stats().tcp;
  assert.ok(ta.retransmittedSegments > 0 && tb.retransmittedSegments > 0);
  assert.ok(ta.outOfOrderSegments + tb.outOfOrderSegments > 0, 'reordering was exercised');
  assert.ok(ta.outOfWindow + tb.outOfWindow > 0, 'duplicates were exercised');
});

test('one lost segment is repaired by fast retransmit, not by timeout', () => {
  let seen = 0;
  const r = transfer(
    {
      delayNs: 10e6,
      // Drop the 30th full-sized data frame once.
      filter: (f) => !(f.length > 1000 && ++seen === 30),
    },
    500_000,
    0,
    5,
  );
  assertExactlyOnce(r);
  assert.equal(r.a.stats().tcp.fastRetransmits, 1);
  assert.equal(r.a.stats().tcp.retransmitTimeouts, 0);
});

test('a link that goes dark: RTO backs off exponentially (RFC 6298 §5.5), then the transfer resumes', () => {
  let dark = false;
  const net = pair({ link: { delayNs: 1e6, filter: () => !dark } });
  let server: TcpSocket | undefined;
  net.b.tcp.listen(80, { onAccept: (s) => (server = s) });
  const c = net.a.tcp.connect(B_IP, 80);
  assert.ok(c.ok);
  assert.ok(net.sim.runUntil(() => server !== undefined, 10e9));
  const got = collect(server as TcpSocket);
  const retransmitTimes: number[] = [];
  net.segment.tap = (e) => {
    if (e.from === net.a && e.frame.length > 60 && dark) retransmitTimes.push(e.atNs);
  };
  dark = true;
  c.socket.send(pattern(1000));
  net.sim.runFor(20e9);
  const gaps = retransmitTimes
    .slice(1)
    .map((t, i) => Math.round((t - (retransmitTimes[i] as number)) / 1e8) / 10);
  // Each gap doubles the previous one.
  assert.ok(gaps.length >= 3, `${gaps}`);
  for (let i = 1; i < gaps.length; i++) assert.equal(gaps[i], 2 * (gaps[i - 1] as number), `${gaps}`);
  dark = false;
  c.socket.close();
  assert.ok(net.sim.runUntil(() => got.ended(), net.sim.now + 200e9));
  assert.ok(equalBytes(got.bytes(), pattern(1000)));
});

test('a dead peer: the connection ends with timeout after maxRetransmits', () => {
  let dark = false;
  const net = pair({ link: { delayNs: 1e6, filter: () => !dark }, tcp: { maxRetransmits: 4 } });
  let server: TcpSocket | undefined;
  net.b.tcp.listen(80, { onAccept: (s) => (server = s) });
  const c = net.a.tcp.connect(B_IP, 80);
  assert.ok(c.ok);
  assert.ok(net.sim.runUntil(() => server !== undefined, 10e9));
  dark = true;
  c.socket.send(pattern(10));
  assert.ok(net.sim.runUntil(() => c.socket.state === 'CLOSED', net.sim.now + 600e9));
  assert.equal(c.socket.closeReason, 'timeout');
  assert.equal(net.a.stats().tcp.retransmittedSegments, 4);
});

test('zero window: the sender probes while the receiver reads nothing, then completes when it reads', () => {
  const net = pair({ link: { delayNs: 1e6 }, tcp: { receiveBuffer: 8192, windowScaling: false } });
  let server: TcpSocket | undefined;
  net.b.tcp.listen(80, { onAccept: (s) => (server = s) });
  const c = net.a.tcp.connect(B_IP, 80);
  assert.ok(c.ok);
  const data = pattern(50_000);
  const progress = pump(c.socket, data);
  assert.ok(net.sim.runUntil(() => server !== undefined, 10e9));
  const s = server as TcpSocket;
  // Nobody reads: the receive buffer fills, the window closes.
  net.sim.runFor(30e9);
  assert.equal(s.readable, 8192);
  assert.equal((c.socket as unknown as { peerWindow: number }).peerWindow, 0);
  const probes = net.a.stats().tcp.zeroWindowProbes;
  assert.ok(probes >= 3, `probes: ${probes}`);
  assert.ok(net.b.stats().tcp.zeroWindowDrops >= 3);
  // The FIN waits behind the data.
  assert.equal(c.socket.state, 'FIN-WAIT-1');
  // Now read everything as it comes.
  const received: Uint8Array[] = [];
  s.handlers = {
    onReadable() {
      received.push(s.read());
    },
  };
  received.push(s.read());
  assert.ok(net.sim.runUntil(() => s.state === 'CLOSE-WAIT' && s.readable === 0, net.sim.now + 600e9));
  received.push(s.read());
  const all = new Uint8Array(received.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of received) {
    all.set(x, o);
    o += x.length;
  }
  assert.equal(progress.sent(), data.length);
  assert.ok(equalBytes(all, data));
});

test('receiver flow control: never more unread data than the receive buffer', () => {
  const net = pair({ link: { delayNs: 1e6 }, tcp: { receiveBuffer: 20_000 } });
  let server: TcpSocket | undefined;
  net.b.tcp.listen(80, { onAccept: (s) => (server = s) });
  const c = net.a.tcp.connect(B_IP, 80);
  assert.ok(c.ok);
  pump(c.socket, pattern(200_000));
  let max = 0;
  let total = 0;
  // Read slowly: at most 3000 bytes per instant of virtual time (or per idle moment).
  for (let i = 0; i < 1_000_000 && total < 200_000; i++) {
    net.sim.step(3600e9);
    if (server === undefined) continue;
    max = Math.max(max, server.readable);
    total += server.read(3000).length;
  }
  assert.equal(total, 200_000);
  assert.ok(max <= 20_000, `${max}`);
});

test('determinism: the same seed gives the same frames at the same times', () => {
  const trace = () => {
    const r = pair({ seed: 9, link: { delayNs: 3e6, jitterNs: 1e6, lossRate: 0.05 } });
    const frames: string[] = [];
    r.segment.tap = (e) =>
      frames.push(`${e.atNs}:${e.fate}:${Array.from(e.frame.subarray(0, 64)).join(',')}`);
    r.b.tcp.listen(80, { onAccept: (s) => pump(s, pattern(30_000, 4)) });
    const c = r.a.tcp.connect(B_IP, 80);
    assert.ok(c.ok);
    const got = collect(c.socket);
    pump(c.socket, pattern(30_000, 3));
    r.sim.runUntil(() => got.ended(), 600e9);
    return frames;
  };
  const one = trace();
  assert.ok(one.length > 50);
  assert.deepEqual(trace(), one);
});

test('property: random loss, reordering, duplication and delay never corrupt, lose or repeat a byte', () => {
  fc.assert(
    fc.property(
      fc.record({
        seed: fc.integer({ min: 1, max: 1_000_000 }),
        lossRate: fc.double({ min: 0, max: 0.25, noNaN: true }),
        reorderRate: fc.double({ min: 0, max: 0.2, noNaN: true }),
        duplicateRate: fc.double({ min: 0, max: 0.2, noNaN: true }),
        delayMs: fc.integer({ min: 0, max: 50 }),
        jitterMs: fc.integer({ min: 0, max: 10 }),
        sizeAB: fc.integer({ min: 0, max: 60_000 }),
        sizeBA: fc.integer({ min: 0, max: 30_000 }),
        mtu: fc.constantFrom(576, 1000, 1500),
        receiveBuffer: fc.constantFrom(4096, 65535, 262144),
        delayedAckMs: fc.constantFrom(0, 40, 200),
        noDelay: fc.boolean(),
      }),
      (p) => {
        const r = transfer(
          {
            delayNs: p.delayMs * 1e6,
            jitterNs: p.jitterMs * 1e6,
            lossRate: p.lossRate,
            reorderRate: p.reorderRate,
            duplicateRate: p.duplicateRate,
          },
          p.sizeAB,
          p.sizeBA,
          p.seed,
          {
            receiveBuffer: p.receiveBuffer,
            delayedAckNs: p.delayedAckMs * 1e6,
            noDelay: p.noDelay,
            maxRetransmits: 30,
            maxSynRetransmits: 30,
          },
        );
        assertExactlyOnce(r);
      },
    ),
    { seed: 20240611, numRuns: 40 },
  );
});
