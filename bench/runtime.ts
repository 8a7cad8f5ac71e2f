/**
 * Runtime benchmarks (issue w1-runtime): SMC round trip (Normal World invoke with value parameters →
 * trusted application → back), IPC between two trusted applications over an endpoint and over a shared
 * ring, and the cold boot of iot-gateway. Figures are wall time on this machine; targets: SMC round trip
 * median ≤ 20 µs, ring ≥ 1M messages/s batched, cold boot ≤ 1 s.
 */
import { manifest as helloManifest } from '../src/apps/hello/manifest.js';
import type { TaManifest } from '../src/kernel/abi/manifest.js';
import { callTable } from '../src/kernel/core/table.js';
import { services } from '../src/kernel/abi/services.js';
import type { SchedulingMode } from '../src/kernel/runtime/runtime.js';
import { startBoard } from '../src/platform/running-board.js';
import { loadBoardByName } from '../src/soc/index.js';
import { startSystem } from '../test/helpers/system.js';
import { coreSmcRoundTripUs } from './kernel.js';
import { percentiles, type BenchSuite } from './suite.js';

const manifest = (name: string, n: number): TaManifest => ({
  name,
  uuid: `0badbe0c-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
  version: '1',
  properties: { singleInstance: true, multiSession: true, instanceKeepAlive: true },
  quotas: { memoryMb: 32, budgetMs: 10_000 },
  capabilities: { devices: [], regions: ['ring'] },
  restart: 'never',
});

// One small system per workload: each fits the kernel's application profile, the profile proven for
// the boards (docs/kernel.md, "Profiles and what they cost to prove").
const smcSystem = `
chip: soc
profile: application
domains:
  - { name: admin, world: secure }
  - { name: normal-world, world: non-secure }
  - { name: hello, world: secure }
partitions:
  - { name: root, domain: admin }
  - { name: hello, domain: hello, program: { ta: hello }, setup: { endpoints: [{ endpoint: hello, slot: 0 }] } }
  - { name: client, domain: normal-world, program: normal-world, budgetMs: 60000 }
endpoints:
  - { name: hello, domain: hello, peer: normal-world }
smc:
  - { entry: 0, endpoint: hello }
`;
/** The SMC client's partition (its index in `smcSystem`). */
const smcClientSlot = 2;

const ipcSystem = `
chip: soc
profile: application
domains:
  - { name: admin, world: secure }
  - { name: normal-world, world: non-secure }
  - { name: ping, world: secure }
  - { name: pong, world: secure }
partitions:
  - { name: root, domain: admin }
  - { name: pinger, domain: ping, program: { ta: pinger } }
  - { name: ponger, domain: pong, program: { ta: ponger }, setup: { endpoints: [{ endpoint: pong, slot: 0 }] } }
  - { name: client, domain: normal-world, program: normal-world }
endpoints:
  - { name: pong, domain: pong, peer: ping }
grants:
  - { from: { partition: ponger, slot: 0 }, to: { partition: pinger, slot: 0 }, rights: [send] }
`;

const ringSystem = `
chip: soc
profile: application
domains:
  - { name: admin, world: secure }
  - { name: normal-world, world: non-secure }
  - { name: producer, world: secure }
  - { name: consumer, world: secure }
partitions:
  - { name: root, domain: admin }
  - name: producer
    domain: producer
    program: { ta: producer }
    setup:
      regions: [{ region: ring, map: rw, share: rw }]
      notifications: [{ notification: space, slot: 1 }]
  - name: consumer
    domain: consumer
    program: { ta: consumer }
    setup:
      notifications: [{ notification: data, slot: 1 }]
  - { name: client, domain: normal-world, program: normal-world }
regions:
  - { name: ring, domain: producer, peer: consumer, kind: shared, memory: secure-dram, offset: 0x0, size: 0x2000 }
notifications:
  - { name: space, domain: producer, peer: consumer }
  - { name: data, domain: consumer, peer: producer }
grants:
  - { from: { partition: consumer, slot: 1 }, to: { partition: producer, slot: 2 }, rights: [signal] }
  - { from: { partition: producer, slot: 1 }, to: { partition: consumer, slot: 2 }, rights: [signal] }
`;

type Logs = { partition: string; line: string; at: number }[];

/** Milliseconds from `from`'s `bench:go` to `to`'s `bench:done…` line, and that line. */
function between(logs: Logs, from: string, to = from): { wallMs: number; done: string } {
  const go = logs.find((l) => l.partition === from && l.line === 'bench:go');
  const done = logs.find((l) => l.partition === to && l.line.startsWith('bench:done'));
  if (!go || !done) throw new Error(`${to} did not finish: ${logs.map((l) => l.line).join(' | ')}`);
  return { wallMs: done.at - go.at, done: done.line };
}

type Workload = Pick<Parameters<typeof startSystem>[0], 'system' | 'tas' | 'normal' | 'onRequest'>;

/** Runs one workload alone on a fresh system until idle; returns its logs. */
async function alone(mode: SchedulingMode, w: Workload): Promise<Logs> {
  const sys = startSystem({ mode, ...w });
  try {
    await sys.runtime.run();
    return sys.logs;
  } finally {
    await sys.runtime.shutdown();
  }
}

async function run(mode: SchedulingMode, sizes: { calls: number; ipc: number; messages: number }) {
  // SMC round trip: the time between two consecutive SMCs of the client, each one invocation.
  const smcTimes: number[] = [];
  let logged = 0; // the client logs `bench:go` after its warm-up and `bench:done` at the end
  await alone(mode, {
    system: smcSystem,
    onRequest(slot, call) {
      if (slot !== smcClientSlot) return;
      if (call === services.log.number) logged++;
      else if (call === callTable.smc.number && logged === 1) smcTimes.push(performance.now());
    },
    tas: { hello: { manifest: helloManifest, entry: 'src/apps/hello/entry.ts' } },
    normal: {
      entry: 'bench/partitions/smc-client.ts',
      prologue: `const BENCH = { warmup: 300, calls: ${sizes.calls} };`,
    },
  });
  const smc = percentiles(smcTimes.slice(1).map((t, i) => (t - (smcTimes[i] as number)) * 1000));

  const ipcLogs = await alone(mode, {
    system: ipcSystem,
    tas: {
      pinger: {
        manifest: manifest('pinger', 1),
        entry: 'bench/partitions/ipc-pinger.ts',
        prologue: `const BENCH = { calls: ${sizes.ipc} };`,
      },
      ponger: { manifest: manifest('ponger', 2), entry: 'bench/partitions/ipc-ponger.ts' },
    },
  });
  const ipc = between(ipcLogs, 'pinger');

  const ringBench = `const BENCH = { messages: ${sizes.messages}, batch: 256 };`;
  const ringLogs = await alone(mode, {
    system: ringSystem,
    tas: {
      producer: { manifest: manifest('producer', 3), entry: 'bench/partitions/ring.ts', prologue: ringBench },
      consumer: { manifest: manifest('consumer', 4), entry: 'bench/partitions/ring.ts', prologue: ringBench },
    },
  });
  const ring = between(ringLogs, 'producer', 'consumer');
  const [, , received, bad] = ring.done.split(':');
  return {
    smcRoundTripUs: { ...smc, samples: Math.max(0, smcTimes.length - 1) },
    endpointIpc: {
      roundTripsPerSecond: sizes.ipc / (ipc.wallMs / 1000),
      messagesPerSecond: (2 * sizes.ipc) / (ipc.wallMs / 1000),
    },
    sharedRing: {
      messagesPerSecond: sizes.messages / (ring.wallMs / 1000),
      batch: 256,
      received: Number(received),
      outOfOrder: Number(bad),
    },
  };
}

async function coldBoot() {
  const { board } = loadBoardByName('iot-gateway');
  const samples: number[] = [];
  const toIdle: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const b = await startBoard({ board, buildMissingImages: true });
    const nw = () => (b.runtime?.partitions().find((p) => p.program === 'normal-world')?.calls ?? 0) > 0;
    await b.runtime?.run({ until: nw });
    samples.push(performance.now() - t0);
    await b.runtime?.run();
    toIdle.push(performance.now() - t0);
    await b.shutdown();
  }
  return {
    toNormalWorldMs: percentiles(samples),
    toIdleWithHelloDemoMs: percentiles(toIdle),
    runs: samples.length,
  };
}

export const runtimeBench: BenchSuite = {
  name: 'runtime',
  async run() {
    const sizes = { calls: 3000, ipc: 20_000, messages: 1_000_000 };
    const core = coreSmcRoundTripUs(sizes.calls);
    const uniprocessor = await run('uniprocessor', sizes);
    const freeRunning = await run('free-running', sizes);
    const ratio = (x: { smcRoundTripUs: { median: number } }) =>
      Number((x.smcRoundTripUs.median / core.median).toFixed(1));
    return {
      // Baseline of the same run: the core's two calls of a round trip, in process, no thread hand-off.
      inProcessCoreSmcRoundTripUs: core,
      smcMedianToCoreRatio: { uniprocessor: ratio(uniprocessor), freeRunning: ratio(freeRunning) },
      uniprocessor,
      freeRunning,
      coldBoot: await coldBoot(),
      targets: { smcRoundTripMedianUs: 20, ringMessagesPerSecond: 1_000_000, coldBootMs: 1000 },
    };
  },
};
