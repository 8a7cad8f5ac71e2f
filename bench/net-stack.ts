/**
 * TCP bulk transfer between two stacks over the in-memory simulated link: wall-clock throughput (MB/s
 * of application payload) and segments per second (both directions, data and ACKs), with the virtual
 * time the transfer took. Scenarios: a clean link, and 1% random loss with reordering.
 *
 * Every run checks that the receiver got the exact bytes before its figure is reported.
 */
import { parseIpv4 } from '../src/lib/net/address.js';
import { type LinkConditions, NetworkStack, Simulation, type TcpSocket } from '../src/lib/net/stack/index.js';
import { type BenchSuite, percentiles } from './suite.js';

const BYTES = 32 * 1024 * 1024;
const RUNS = 3;

function payload(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >>> 11)) & 0xff;
  return out;
}

function run(link: LinkConditions, bytes: number, data: Uint8Array) {
  const sim = new Simulation(7);
  const segment = sim.segment(link);
  const tcp = { minRtoNs: 200e6 };
  const a = new NetworkStack({
    mac: '02:00:00:00:00:01',
    ipv4: { address: parseIpv4('10.0.0.1'), prefixLength: 24 },
    seed: 1,
    tcp,
  });
  const b = new NetworkStack({
    mac: '02:00:00:00:00:02',
    ipv4: { address: parseIpv4('10.0.0.2'), prefixLength: 24 },
    seed: 2,
    tcp,
  });
  sim.attach(a, segment);
  sim.attach(b, segment);
  let received = 0;
  let mismatch = false;
  let ended = false;
  b.tcp.listen(5001, {
    onAccept(s: TcpSocket) {
      s.handlers = {
        onData(d) {
          for (let i = 0; i < d.length; i += 4093)
            if (d[i] !== data[(received + i) % data.length]) mismatch = true;
          received += d.length;
        },
        onEnd() {
          ended = true;
        },
      };
    },
  });
  const c = a.tcp.connect(parseIpv4('10.0.0.2'), 5001);
  if (!c.ok) throw new Error(c.detail);
  const socket = c.socket;
  let offset = 0;
  const push = () => {
    while (offset < bytes) {
      const at = offset % data.length;
      const r = socket.send(data.subarray(at, Math.min(data.length, at + bytes - offset)));
      if (!r.ok || r.accepted === 0) return;
      offset += r.accepted;
    }
    socket.close();
  };
  socket.handlers = { onConnect: push, onWritable: push };
  const start = process.hrtime.bigint();
  const done = sim.runUntil(() => ended, 36_000e9, 100_000_000);
  const wallNs = Number(process.hrtime.bigint() - start);
  if (!done || received !== bytes || mismatch)
    throw new Error(`transfer failed: ${received} of ${bytes} bytes`);
  const ta = a.stats().tcp;
  const tb = b.stats().tcp;
  const segments = ta.segmentsOut + tb.segmentsOut;
  return {
    mbPerSecond: bytes / 1e6 / (wallNs / 1e9),
    segmentsPerSecond: segments / (wallNs / 1e9),
    segments,
    retransmitted: ta.retransmittedSegments,
    virtualSeconds: sim.now / 1e9,
  };
}

function scenario(link: LinkConditions, data: Uint8Array, bytes: number) {
  const runs = Array.from({ length: RUNS }, () => run(link, bytes, data));
  const mb = percentiles(runs.map((r) => r.mbPerSecond));
  const sps = percentiles(runs.map((r) => r.segmentsPerSecond));
  const last = runs[runs.length - 1];
  return {
    bytes,
    runs: RUNS,
    mbPerSecond: { median: round(mb.median), min: round(mb.min), max: round(mb.max) },
    segmentsPerSecond: { median: Math.round(sps.median), min: Math.round(sps.min), max: Math.round(sps.max) },
    segmentsPerRun: last?.segments,
    retransmittedPerRun: last?.retransmitted,
    virtualSecondsPerRun: last === undefined ? undefined : round(last.virtualSeconds),
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

export const netStackBench: BenchSuite = {
  name: 'net-stack',
  async run() {
    const data = payload(1 << 20);
    // Warm-up, not reported.
    run({ delayNs: 1e6 }, 4 * 1024 * 1024, data);
    return {
      note: 'TCP bulk transfer a → b over the simulated link, MSS 1460, 256 KiB buffers; wall-clock figures',
      cleanLink1msDelay: scenario({ delayNs: 1e6 }, data, BYTES),
      loss1PercentReorder1Percent: scenario(
        { delayNs: 1e6, lossRate: 0.01, reorderRate: 0.01 },
        data,
        BYTES / 4,
      ),
    };
  },
};
