/**
 * Entry-point benchmarks (issue w1-entry-point), wall time on this machine:
 *
 * - end to end: the rich OS's stack sends UDP datagrams (CoAP telemetry) to a host on the WAN, on the
 *   iot-gateway's images (Normal World → proxy driver → firewall TA → NIC driver TA → NIC → wire) and on
 *   the same board with the NIC given to the Normal World (its stack → its own NIC driver → NIC → wire).
 *   Datagrams are counted as they arrive at the WAN host's socket, not as sent; the rate runs from the
 *   sender's `bench:go` (ARP resolved) to the last arrival. Kernel calls per delivered datagram, by
 *   partition, say where the difference goes.
 * - classification: the firewall's packet path over a fixed mix of frames (bench/partitions/
 *   classify-workload.ts) inside a trusted application's compartment and outside, in this process.
 *
 * Targets: none is set for the ratios; they are what the architecture costs here.
 */
import type { TaManifest } from '../src/kernel/abi/manifest.js';
import type { SchedulingMode } from '../src/kernel/runtime/runtime.js';
import { parseIpv4 } from '../src/lib/net/address.js';
import { GATEWAY_WAN } from '../src/normal/rich-os/network-config.js';
import { counterOf, REMOTE_HOST } from '../src/platform/demo-entry-point.js';
import {
  askFirewall,
  attachWanHost,
  GATEWAY_RULES,
  startDirect,
  startGateway,
  type Gateway,
} from '../test/helpers/gateway.js';
import { startSystem } from '../test/helpers/system.js';
import { classifier } from './partitions/classify-workload.js';
import type { BenchSuite } from './suite.js';

const gatewayAddress = parseIpv4(GATEWAY_WAN.address);
const COAP_PORT = 5683;
/** The measured datagrams' payload bytes (the warm-up's are 0x57). */
const MEASURED = 0x42;
const COAP_RULE = '-A OUTPUT -p udp -m multiport --dports 53,123,5683 -j ACCEPT';

type Path = 'secure-world' | 'direct';

interface Flood {
  /** Datagrams sent before `bench:go` (not measured). */
  readonly warmup: number;
  readonly datagrams: number;
  /** UDP payload bytes. */
  readonly payload: number;
}

interface PathFigures {
  readonly datagramsSent: number;
  /** Measured datagrams that arrived at the WAN host. */
  readonly datagramsDelivered: number;
  /** Warm-up datagrams that arrived at the WAN host. */
  readonly warmupDelivered: number;
  readonly wallMs: number;
  readonly packetsPerSecond: number;
  /** Secure World path: what the firewall's OUTPUT rule for CoAP counted, warm-up included (its console). */
  readonly firewallAccepted?: number;
  readonly kernelCallsPerPacket: number;
  readonly kernelCallsPerPacketByPartition: Record<string, number>;
}

function callsByPartition(g: Gateway): Map<string, number> {
  return new Map(g.runtime.partitions().map((p) => [p.name, p.calls]));
}

/** One run of the flood on one path; returns what arrived and how fast. */
async function flood(path: Path, mode: SchedulingMode, o: Flood): Promise<PathFigures> {
  const datagrams = o.datagrams;
  const normal = {
    entry: 'bench/partitions/net-flood.ts',
    prologue: `const BENCH = ${JSON.stringify({ ...o, remote: REMOTE_HOST.address })};`,
  };
  const g = path === 'secure-world' ? startGateway({ normal, mode }) : startDirect({ normal, mode });
  try {
    const host = attachWanHost(g);
    let delivered = 0;
    let warmupDelivered = 0;
    let lastAt = 0;
    const bound = host.act((s) =>
      s.udp.bind(COAP_PORT, {
        onMessage: (m) => {
          if (m.from !== gatewayAddress) return;
          if (m.payload[0] !== MEASURED) return void warmupDelivered++;
          delivered++;
          lastAt = performance.now();
        },
      }),
    );
    if (!bound.ok) throw new Error(bound.detail);
    const started = (): boolean => g.log('rich-os').includes('bench:go');
    await g.runtime.run({ until: started, untilNs: g.machine.clock.nowNs + 10e9 });
    const go = g.logs.find((l) => l.partition === 'rich-os' && l.line === 'bench:go');
    if (!go) throw new Error(`${path}: the sender did not start: ${g.log('rich-os').join(' | ')}`);
    const before = callsByPartition(g);
    await g.runtime.run({ until: () => delivered >= datagrams, untilNs: g.machine.clock.nowNs + 120e9 });
    if (delivered === 0) throw new Error(`${path}: nothing arrived: ${g.log('rich-os').join(' | ')}`);
    const after = callsByPartition(g);
    const byPartition: Record<string, number> = {};
    let total = 0;
    for (const [name, calls] of after) {
      const n = calls - (before.get(name) ?? 0);
      total += n;
      if (n > 0) byPartition[name] = round(n / delivered, 2);
    }
    const wallMs = lastAt - go.at;
    const firewallAccepted =
      path === 'secure-world'
        ? counterOf(await askFirewall(g, 'iptables-save -c'), COAP_RULE)?.packets
        : undefined;
    return {
      datagramsSent: datagrams,
      datagramsDelivered: delivered,
      warmupDelivered,
      wallMs: round(wallMs, 1),
      packetsPerSecond: Math.round(delivered / (wallMs / 1000)),
      kernelCallsPerPacket: round(total / delivered, 2),
      kernelCallsPerPacketByPartition: byPartition,
      ...(firewallAccepted === undefined ? {} : { firewallAccepted }),
    };
  } finally {
    await g.runtime.shutdown();
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The best of `runs` runs of each path, alternating the paths (the machine's load shifts over time). */
async function endToEnd(mode: SchedulingMode, o: Flood & { runs: number }) {
  const best: Partial<Record<Path, PathFigures>> = {};
  const rates: Record<Path, number[]> = { 'secure-world': [], direct: [] };
  for (let i = 0; i < o.runs; i++)
    for (const path of ['secure-world', 'direct'] as const) {
      const r = await flood(path, mode, o);
      rates[path].push(r.packetsPerSecond);
      if (!best[path] || r.packetsPerSecond > (best[path] as PathFigures).packetsPerSecond) best[path] = r;
    }
  const secure = best['secure-world'] as PathFigures;
  const direct = best.direct as PathFigures;
  return {
    secureWorld: { ...secure, runs: rates['secure-world'] },
    direct: { ...direct, runs: rates.direct },
    /** Secure World path rate over the direct path's (1 = no cost). */
    ratio: round(secure.packetsPerSecond / direct.packetsPerSecond, 3),
  };
}

const classifyManifest: TaManifest = {
  name: 'classify',
  uuid: '0badbe0c-0000-4000-8000-0000000000c1',
  version: '1',
  properties: { singleInstance: true, multiSession: false, instanceKeepAlive: true },
  quotas: { memoryMb: 96, budgetMs: 30_000 },
  capabilities: { devices: [], regions: [] },
  restart: 'never',
};

const classifySystem = `
chip: soc
profile: application
domains:
  - { name: admin, world: secure }
  - { name: normal-world, world: non-secure }
  - { name: classify, world: secure }
partitions:
  - { name: root, domain: admin }
  - { name: classify, domain: classify, program: { ta: classify } }
`;

/** The classification workload in a trusted application (its compartment, in its isolate). */
async function classifyInside(
  warmup: number,
  frames: number,
): Promise<{ framesPerSecond: number; accepted: number }> {
  const sys = startSystem({
    system: classifySystem,
    tas: {
      classify: {
        manifest: classifyManifest,
        entry: 'bench/partitions/classify-ta.ts',
        prologue: `const BENCH = ${JSON.stringify({ warmup, frames })};`,
        data: { 'rules.v4': GATEWAY_RULES },
      },
    },
  });
  try {
    await sys.runtime.run();
    const go = sys.logs.find((l) => l.line === 'bench:go');
    const done = sys.logs.find((l) => l.line.startsWith('bench:done:'));
    if (!go || !done) throw new Error(`classify did not finish: ${sys.logs.map((l) => l.line).join(' | ')}`);
    return {
      framesPerSecond: Math.round(frames / ((done.at - go.at) / 1000)),
      accepted: Number(done.line.slice('bench:done:'.length)),
    };
  } finally {
    await sys.runtime.shutdown();
  }
}

/** The same workload, the same code, in this process (no compartment, no isolate of its own). */
function classifyOutside(warmup: number, frames: number): { framesPerSecond: number; accepted: number } {
  const run = classifier(GATEWAY_RULES);
  run(warmup);
  const t0 = performance.now();
  const accepted = run(frames);
  return { framesPerSecond: Math.round(frames / ((performance.now() - t0) / 1000)), accepted };
}

async function classification(o: { warmup: number; frames: number; runs: number }) {
  let inside = { framesPerSecond: 0, accepted: 0 };
  let outside = { framesPerSecond: 0, accepted: 0 };
  const runs = { inside: [] as number[], outside: [] as number[] };
  for (let i = 0; i < o.runs; i++) {
    const a = await classifyInside(o.warmup, o.frames);
    const b = classifyOutside(o.warmup, o.frames);
    runs.inside.push(a.framesPerSecond);
    runs.outside.push(b.framesPerSecond);
    if (a.framesPerSecond > inside.framesPerSecond) inside = a;
    if (b.framesPerSecond > outside.framesPerSecond) outside = b;
  }
  if (inside.accepted !== outside.accepted)
    throw new Error(`the two runs disagree: ${inside.accepted} vs ${outside.accepted} accepted`);
  return {
    frames: o.frames,
    inTrustedApplication: { ...inside, runs: runs.inside },
    outside: { ...outside, runs: runs.outside },
    /** Inside over outside (1 = the compartment costs nothing). */
    ratio: round(inside.framesPerSecond / outside.framesPerSecond, 3),
  };
}

export const entryPointBench: BenchSuite = {
  name: 'entry-point',
  async run() {
    const sizes = { warmup: 5_000, datagrams: 20_000, payload: 32, runs: 3 };
    return {
      endToEnd: {
        workload: `${sizes.datagrams} UDP datagrams of ${sizes.payload} bytes (${14 + 20 + 8 + sizes.payload}-byte frames) after ${sizes.warmup} not measured, one flow, Normal World → WAN host; best of ${sizes.runs} runs`,
        freeRunning: await endToEnd('free-running', sizes),
        uniprocessor: await endToEnd('uniprocessor', sizes),
      },
      classification: await classification({ warmup: 20_000, frames: 300_000, runs: sizes.runs }),
    };
  },
};
