/**
 * The iot-gateway's Secure World as its images configure it — the system configuration, the NIC driver,
 * the firewall with the signed ruleset, the hello application — started directly from the source tree
 * (test/helpers/system.ts), with the Normal World program a test chooses, and a remote host on the WAN.
 * Also the architecture without the Secure World in the data path (`startDirect`): the same board with
 * its NIC made a Normal World peripheral, which the rich OS drives itself (src/normal/nic-direct/).
 */
import { readFileSync } from 'node:fs';
import { manifest as firewallManifest } from '../../src/apps/firewall/manifest.js';
import { manifest as helloManifest } from '../../src/apps/hello/manifest.js';
import { manifest as driverManifest } from '../../src/apps/nic-driver/manifest.js';
import { packagePath } from '../../src/common/paths.js';
import type { SchedulingMode } from '../../src/kernel/runtime/runtime.js';
import { RemoteHost } from '../../src/platform/remote-host.js';
import { REMOTE_HOST } from '../../src/platform/demo-entry-point.js';
import { checkBoard, loadBoardByName } from '../../src/soc/index.js';
import type { Board } from '../../src/soc/board/schema.js';
import type { Uart } from '../../src/soc/devices/uart.js';
import { DIRECT_DMA_REGION } from '../../src/normal/nic-direct/nic-direct.js';
import { startSystem, type TestSystem } from './system.js';

export const GATEWAY_SYSTEM = readFileSync(packagePath('images', 'iot-gateway', 'system.yaml'), 'utf8');
export const GATEWAY_RULES = readFileSync(packagePath('images', 'iot-gateway', 'firewall.rules'), 'utf8');

export interface GatewayOptions {
  readonly normal: { entry: string; prologue?: string };
  readonly system?: string;
  readonly rules?: string;
  readonly board?: Board;
  readonly mode?: SchedulingMode;
  readonly seed?: number;
  /** Secure trusted applications to leave out (a configuration without them). */
  readonly withoutSecureNetwork?: boolean;
  readonly onRequest?: (slot: number, call: number) => void;
}

export interface Gateway extends TestSystem {
  /** The partition's log lines. */
  log(partition: string): string[];
}

export function startGateway(o: GatewayOptions): Gateway {
  const secure = o.withoutSecureNetwork
    ? {}
    : {
        'nic-driver': { manifest: driverManifest, entry: 'src/apps/nic-driver/entry.ts' },
        firewall: {
          manifest: firewallManifest,
          entry: 'src/apps/firewall/entry.ts',
          data: { 'rules.v4': o.rules ?? GATEWAY_RULES },
        },
      };
  const sys = startSystem({
    system: o.system ?? GATEWAY_SYSTEM,
    ...(o.board ? { board: o.board } : {}),
    ...(o.mode ? { mode: o.mode } : {}),
    seed: o.seed ?? 1,
    ...(o.onRequest ? { onRequest: o.onRequest } : {}),
    tas: { hello: { manifest: helloManifest, entry: 'src/apps/hello/entry.ts' }, ...secure },
    normal: o.normal,
  });
  return {
    ...sys,
    log: (partition) => sys.logs.filter((l) => l.partition === partition).map((l) => l.line),
  };
}

/**
 * The iot-gateway board with `eth0` assigned to the Normal World by the TZPC (and its interrupt in the
 * non-secure group): the unprotected entry point, where the rich OS owns the NIC.
 */
export function directBoard(): Board {
  const { board } = loadBoardByName('iot-gateway');
  const direct: Board = {
    ...board,
    name: 'iot-gateway-direct',
    description: 'iot-gateway with its NIC given to the Normal World (no Secure World in the data path)',
    chips: board.chips.map((c) => ({
      ...c,
      devices: c.devices.map((d) => (d.name === 'eth0' ? { ...d, world: 'non-secure' as const } : d)),
    })),
  };
  const issues = checkBoard(direct);
  if (issues.length > 0) throw new Error(`iot-gateway-direct: ${issues.map((i) => i.message).join('; ')}`);
  return direct;
}

/**
 * The system configuration for `directBoard()`: the Normal World claims eth0 at boot, its interrupt on
 * bit 0 of its notification (slot 0), and drives the NIC from its own memory (the DMA rings and buffers
 * in normal-dram). No trusted application takes part in networking.
 */
export const DIRECT_SYSTEM = `
description: iot-gateway-direct — the rich OS owns the NIC (no Secure World in the data path)
chip: soc
profile: application
domains:
  - { name: admin, world: secure }
  - { name: normal-world, world: non-secure }
partitions:
  - { name: root, domain: admin }
  - name: rich-os
    domain: normal-world
    program: normal-world
    memoryMb: 128
    budgetMs: 1000
    setup:
      notifications: [{ notification: nw-events, slot: 0 }]
      devices: [{ device: eth0, irq: { slot: 0, bit: 0 } }]
regions:
  - { name: ${DIRECT_DMA_REGION}, domain: normal-world, kind: private, memory: normal-dram, offset: 0x0, size: 0x100000 }
notifications:
  - { name: nw-events, domain: normal-world }
devices:
  - { name: eth0, domain: normal-world }
`;

/** The direct architecture: `directBoard()` with `DIRECT_SYSTEM`, running the Normal World program given. */
export function startDirect(o: Pick<GatewayOptions, 'normal' | 'mode' | 'seed' | 'onRequest'>): Gateway {
  const sys = startSystem({
    board: directBoard(),
    system: DIRECT_SYSTEM,
    ...(o.mode ? { mode: o.mode } : {}),
    seed: o.seed ?? 1,
    ...(o.onRequest ? { onRequest: o.onRequest } : {}),
    normal: o.normal,
  });
  return {
    ...sys,
    log: (partition) => sys.logs.filter((l) => l.partition === partition).map((l) => l.line),
  };
}

/** The demo's remote host on the WAN. */
export function attachWanHost(g: TestSystem, seed = 7): RemoteHost {
  return RemoteHost.attach(g.machine, {
    name: REMOTE_HOST.name,
    link: 'wan',
    mac: REMOTE_HOST.mac,
    ipv4: { address: REMOTE_HOST.address, prefixLength: 24 },
    seed,
    tcp: { initialRtoNs: 200e6, minRtoNs: 200e6, maxSynRetransmits: 2, delayedAckNs: 0 },
  });
}

/** Asks the firewall's secure console (uart1) and returns its answer. */
export async function askFirewall(g: TestSystem, command: string): Promise<string> {
  const uart = g.machine.chip('soc').device<Uart>('uart1');
  const from = uart.output().length;
  uart.inject(`${command}\n`);
  await g.runtime.run({
    until: () => uart.output().slice(from).endsWith('fw> '),
    untilNs: g.machine.clock.nowNs + 2e9,
  });
  const out = uart.output().slice(from);
  if (!out.endsWith('fw> ')) throw new Error(`the firewall's console did not answer '${command}': ${out}`);
  return out.slice(0, -'fw> '.length);
}
