/**
 * The entry-point demo (the paper's Figure 1, running): boot iot-gateway from its signed images; a remote
 * host on the WAN pings the gateway, scans its TCP ports, fetches a page from its HTTP responder, talks to
 * its echo service, tries the D-Bus port 6667 the 2015 Jeep attack came in through, and probes a UDP port.
 * Then the firewall's secure console is asked for its counters (`iptables-save -c`) and statistics.
 *
 * What happened is established from outside both worlds and checked, not assumed: the scan results and
 * the services' answers from the remote host's own stack; what crossed the wire from the WAN segment's
 * tap; what crossed the firewall's Normal World link from the firewall's capture; what the firewall
 * dropped from its console log; and the counters of the DROP rule for 6667 must equal the SYNs the tap
 * saw going to that port.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCapture, CAPTURE_REGION } from '../apps/firewall/protocol.js';
import { SERVICE_PORTS, GATEWAY_WAN } from '../normal/rich-os/network-config.js';
import { decodeUtf8, encodeUtf8 } from '../common/utf8.js';
import { parseIpv4 } from '../lib/net/address.js';
import { decodeFrame, type DecodedFrame } from '../lib/net/packet.js';
import { makeOutputDir } from '../common/input-file.js';
import { LinkType, writePcap } from '../lib/net/pcap.js';
import type { TcpSocket } from '../lib/net/stack/index.js';
import { loadBoardByName } from '../soc/board/loader.js';
import type { Uart } from '../soc/devices/uart.js';
import { RemoteHost } from './remote-host.js';
import { startBoard, type RunningBoard, type StartOptions } from './running-board.js';

export const REMOTE_HOST = { name: 'wan-host', mac: '02:00:00:00:53:14', address: '198.51.100.20' } as const;
/** Ports the remote host scans (a connect scan, as `nmap -sT` does). */
export const SCANNED_PORTS = [7, 21, 22, 23, 25, 53, 80, 443, 6667, 8080] as const;
const UDP_PROBE_PORT = 53;
const ECHO_TEXT = 'the Normal World answers through the Secure World\n';

export type PortState = 'open' | 'closed' | 'filtered';

export interface EntryPointDemo {
  readonly board: string;
  readonly seed: number;
  readonly booted: boolean;
  /** Every check passed. */
  readonly ok: boolean;
  /** The checks that failed (empty when ok). */
  readonly problems: readonly string[];
  readonly gateway: { readonly address: string; readonly mac: string };
  readonly remoteHost: { readonly address: string; readonly mac: string };
  readonly ping: { readonly sent: number; readonly replies: number };
  readonly scan: readonly { readonly port: number; readonly state: PortState }[];
  readonly services: readonly {
    readonly service: string;
    readonly port: number;
    readonly ok: boolean;
    readonly detail: string;
  }[];
  /** Frames that crossed the firewall, each way (from its capture of the Normal World link). */
  readonly passed: { readonly toNormalWorld: number; readonly fromNormalWorld: number };
  /** The firewall's log of drops and rejects (and its LOG rules), from its console. */
  readonly dropped: readonly string[];
  /** `iptables-save -c` from the firewall's secure console. */
  readonly counters: string;
  readonly firewallStats: unknown;
  /** What the Normal World's services logged. */
  readonly normalWorld: readonly string[];
  readonly frames: { readonly wan: number; readonly inside: number };
  readonly pcaps: { readonly wan: string; readonly inside: string } | null;
  readonly calls: number;
  readonly virtualTimeNs: number;
  readonly wallMs: number;
}

export interface EntryPointOptions extends Partial<StartOptions> {
  /** Where to write wan.pcap and inside.pcap. */
  readonly outDir?: string;
}

/** Everything the scenario learns, filled in by the remote host's callbacks. */
interface Observations {
  pingSent: number;
  pingReplies: number;
  scan: Map<number, PortState>;
  http: string;
  httpClosed: boolean;
  echo: string;
  echoClosed: boolean;
  dbus: string;
  udpUnreachable: boolean;
  done: boolean;
}

export async function runEntryPointDemo(options: EntryPointOptions = {}): Promise<EntryPointDemo> {
  const t0 = performance.now();
  const board = options.board ?? loadBoardByName('iot-gateway').board;
  const seed = options.seed ?? 0;
  const logs: { partition: string; line: string }[] = [];
  const running = await startBoard({
    buildMissingImages: true,
    ...options,
    board,
    seed,
    onLog: (partition, line) => {
      logs.push({ partition, line });
      options.onLog?.(partition, line);
    },
  });
  const empty = (why: string): EntryPointDemo => ({
    board: board.name,
    seed,
    booted: running.runtime !== undefined,
    ok: false,
    problems: [why],
    gateway: { address: GATEWAY_WAN.address, mac: '' },
    remoteHost: { address: REMOTE_HOST.address, mac: REMOTE_HOST.mac },
    ping: { sent: 0, replies: 0 },
    scan: [],
    services: [],
    passed: { toNormalWorld: 0, fromNormalWorld: 0 },
    dropped: [],
    counters: '',
    firewallStats: null,
    normalWorld: [],
    frames: { wan: 0, inside: 0 },
    pcaps: null,
    calls: running.runtime?.callsServed ?? 0,
    virtualTimeNs: running.machine.clock.nowNs,
    wallMs: performance.now() - t0,
  });
  try {
    const runtime = running.runtime;
    if (!runtime) return empty('the device did not boot');
    const clock = running.machine.clock;
    const logged = (partition: string, prefix: string) =>
      logs.some((l) => l.partition === partition && l.line.startsWith(prefix));
    await runtime.run({ until: () => logged('rich-os', 'net: listening'), untilNs: clock.nowNs + 1e9 });
    if (!logged('rich-os', 'net: listening')) return empty('the Normal World did not bring its network up');

    const host = RemoteHost.attach(running.machine, {
      name: REMOTE_HOST.name,
      link: 'wan',
      mac: REMOTE_HOST.mac,
      ipv4: { address: REMOTE_HOST.address, prefixLength: GATEWAY_WAN.prefixLength },
      seed: seed + 1,
      // A scanner's patience: a port that does not answer is "filtered" after 1.4 s (three SYNs).
      tcp: { initialRtoNs: 200e6, minRtoNs: 200e6, maxSynRetransmits: 2, delayedAckNs: 0 },
    });
    const obs = scenario(host);
    await runtime.run({ until: () => obs.done, untilNs: clock.nowNs + 30e9 });

    // The firewall's secure console: counters and statistics.
    const uart = running.machine.chip(running.chip).device<Uart>('uart1');
    const ask = async (command: string) => {
      const from = uart.output().length;
      uart.inject(`${command}\n`);
      await runtime.run({
        until: () => uart.output().slice(from).endsWith('fw> '),
        untilNs: clock.nowNs + 1e9,
      });
      return uart.output().slice(from, -'fw> '.length);
    };
    const counters = await ask('iptables-save -c');
    const statsText = await ask('stats');
    let firewallStats: unknown = null;
    try {
      firewallStats = JSON.parse(statsText);
    } catch {
      firewallStats = null;
    }

    const wanTap = running.machine.segment('wan').tap;
    const inside = readCapture(running);
    const result = analyse(obs, {
      counters,
      firewallLog: logs.filter((l) => l.partition === 'firewall').map((l) => l.line),
      normalLog: logs.filter((l) => l.partition === 'rich-os').map((l) => l.line),
      wan: wanTap.map((r) => r.frame),
      inside: inside.frames.map((f) => f.frame),
    });
    let pcaps: EntryPointDemo['pcaps'] = null;
    if (options.outDir !== undefined) {
      makeOutputDir(options.outDir, '--out');
      const wanFile = join(options.outDir, 'wan.pcap');
      const insideFile = join(options.outDir, 'inside.pcap');
      writeFileSync(
        wanFile,
        writePcap(
          wanTap.map((r) => ({ timeNs: BigInt(r.timeNs), frame: r.frame })),
          { linkType: LinkType.ETHERNET },
        ),
      );
      writeFileSync(
        insideFile,
        writePcap(
          inside.frames.map((f) => ({ timeNs: f.timeNs, frame: f.frame })),
          { linkType: LinkType.ETHERNET },
        ),
      );
      pcaps = { wan: wanFile, inside: insideFile };
    }
    const gatewayMac =
      /MAC ([0-9a-f:]{17})/.exec(logs.find((l) => l.line.startsWith('net: up'))?.line ?? '')?.[1] ?? '';
    return {
      board: board.name,
      seed,
      booted: true,
      ok: result.problems.length === 0,
      problems: result.problems,
      gateway: { address: GATEWAY_WAN.address, mac: gatewayMac },
      remoteHost: { address: REMOTE_HOST.address, mac: REMOTE_HOST.mac },
      ping: { sent: obs.pingSent, replies: obs.pingReplies },
      scan: SCANNED_PORTS.map((port) => ({ port, state: obs.scan.get(port) ?? 'filtered' })),
      services: result.services,
      passed: {
        toNormalWorld: inside.frames.filter((f) => f.direction === 'to-normal-world').length,
        fromNormalWorld: inside.frames.filter((f) => f.direction === 'from-normal-world').length,
      },
      dropped: result.dropped,
      counters,
      firewallStats,
      normalWorld: result.normalWorld,
      frames: { wan: wanTap.length, inside: inside.frames.length },
      pcaps,
      calls: runtime.callsServed,
      virtualTimeNs: clock.nowNs,
      wallMs: performance.now() - t0,
    };
  } finally {
    await running.shutdown();
  }
}

/**
 * The remote host's script: ping ×3, then the connect scan (all ports at once), then HTTP, echo, the
 * D-Bus attempt and a UDP probe one after the other. Driven by the host's own callbacks in virtual time.
 */
function scenario(host: RemoteHost): Observations {
  const gateway = parseIpv4(GATEWAY_WAN.address);
  const obs: Observations = {
    pingSent: 0,
    pingReplies: 0,
    scan: new Map(),
    http: '',
    httpClosed: false,
    echo: '',
    echoClosed: false,
    dbus: 'no answer',
    udpUnreachable: false,
    done: false,
  };
  const steps: (() => void)[] = [ping, scan, http, echo, dbus, udp, () => (obs.done = true)];
  const next = () => steps.shift()?.();

  function ping() {
    let left = 3;
    for (let i = 0; i < 3; i++) {
      obs.pingSent++;
      host.act((s) =>
        s.ping(gateway, { sequence: i + 1, timeoutNs: 1e9 }, (r) => {
          if (r.kind === 'reply') obs.pingReplies++;
          if (--left === 0) next();
        }),
      );
    }
  }

  function scan() {
    let left = SCANNED_PORTS.length;
    const settle = (port: number, state: PortState) => {
      if (obs.scan.has(port)) return;
      obs.scan.set(port, state);
      if (--left === 0) next();
    };
    for (const port of SCANNED_PORTS)
      host.act((s) => {
        const r = s.tcp.connect(gateway, port, {
          handlers: {
            onConnect() {
              settle(port, 'open');
              host.act(() => socket?.abort());
            },
            onClose(reason) {
              settle(port, reason === 'refused' ? 'closed' : 'filtered');
            },
          },
        });
        const socket: TcpSocket | undefined = r.ok ? r.socket : undefined;
        if (!r.ok) settle(port, 'filtered');
      });
  }

  function http() {
    host.act((s) => {
      const r = s.tcp.connect(gateway, SERVICE_PORTS.http, {
        handlers: {
          onConnect() {
            host.act(() => sock?.send(encodeUtf8(`GET / HTTP/1.0\r\nHost: ${GATEWAY_WAN.address}\r\n\r\n`)));
          },
          onData(d) {
            obs.http += decodeUtf8(d);
          },
          onEnd() {
            host.act(() => sock?.close());
          },
          onClose() {
            obs.httpClosed = true;
            next();
          },
        },
      });
      const sock = r.ok ? r.socket : undefined;
      if (!r.ok) next();
    });
  }

  function echo() {
    host.act((s) => {
      const r = s.tcp.connect(gateway, SERVICE_PORTS.echo, {
        handlers: {
          onConnect() {
            host.act(() => sock?.send(encodeUtf8(ECHO_TEXT)));
          },
          onData(d) {
            obs.echo += decodeUtf8(d);
            if (obs.echo.length >= ECHO_TEXT.length) host.act(() => sock?.close());
          },
          onClose() {
            obs.echoClosed = true;
            next();
          },
        },
      });
      const sock = r.ok ? r.socket : undefined;
      if (!r.ok) next();
    });
  }

  function dbus() {
    host.act((s) => {
      const r = s.tcp.connect(gateway, SERVICE_PORTS.dbus, {
        handlers: {
          onConnect() {
            obs.dbus = 'connected';
            host.act(() => sock?.send(encodeUtf8('\0AUTH ANONYMOUS\r\n')));
          },
          onData(d) {
            obs.dbus = `answered: ${decodeUtf8(d).trim()}`;
            host.act(() => sock?.abort());
          },
          onClose(reason) {
            if (obs.dbus === 'no answer') obs.dbus = `no answer (${reason})`;
            next();
          },
        },
      });
      const sock = r.ok ? r.socket : undefined;
      if (!r.ok) next();
    });
  }

  function udp() {
    host.act((s) => {
      const b = s.udp.bind(0, {
        onError(e) {
          if (e.type === 3 && e.code === 3) obs.udpUnreachable = true;
        },
      });
      if (b.ok) b.socket.sendTo(gateway, UDP_PROBE_PORT, encodeUtf8('is anyone there?'));
    });
    // The answer (an ICMP error) comes within a round trip; give it 100 ms of virtual time.
    host.act((s) => s.ping(gateway, { sequence: 99, timeoutNs: 100e6 }, () => next()));
  }

  next();
  return obs;
}

/** The capture the firewall keeps of its Normal World link, read from its secure memory (debug access). */
function readCapture(running: RunningBoard) {
  const system = running.system;
  const r = system?.spec.regions.find((x) => x.name === CAPTURE_REGION);
  if (!r || r.memory === undefined) return { frames: [], dropped: 0 };
  const memory = running.machine.chip(running.chip).region(r.memory);
  return decodeCapture(memory.bytes.subarray(r.offset, r.offset + (r.size ?? 0)));
}

function decoded(frame: Uint8Array): DecodedFrame | undefined {
  try {
    return decodeFrame(frame, LinkType.ETHERNET);
  } catch {
    return undefined;
  }
}

const SYN = 0x02;
const ACK = 0x10;
const RST = 0x04;

/** The checks, each computed from what the remote host, the tap, the capture and the console show. */
function analyse(
  obs: Observations,
  seen: {
    counters: string;
    firewallLog: readonly string[];
    normalLog: readonly string[];
    wan: readonly Uint8Array[];
    inside: readonly Uint8Array[];
  },
) {
  const problems: string[] = [];
  const gateway = parseIpv4(GATEWAY_WAN.address);
  const host = parseIpv4(REMOTE_HOST.address);
  const wan = seen.wan.map(decoded);
  const tcpOf = (d: DecodedFrame | undefined) =>
    d?.transport?.protocol === 'tcp' ? d.transport.segment : undefined;
  const fromGateway = (port: number, flags: number, mask: number) =>
    wan.filter((d) => {
      const t = tcpOf(d);
      return d?.ipv4?.src === gateway && t?.srcPort === port && (t.flags & mask) === flags;
    }).length;

  if (obs.pingReplies !== obs.pingSent)
    problems.push(`ping: ${obs.pingReplies} replies to ${obs.pingSent} requests`);

  // The scan, as the remote host saw it and as the wire shows it.
  const expected = (port: number): PortState =>
    port === SERVICE_PORTS.http || port === SERVICE_PORTS.echo
      ? 'open'
      : port === SERVICE_PORTS.dbus
        ? 'filtered'
        : 'closed';
  for (const port of SCANNED_PORTS) {
    const state = obs.scan.get(port) ?? 'filtered';
    if (state !== expected(port)) problems.push(`scan: port ${port} is ${state}, expected ${expected(port)}`);
    const synAcks = fromGateway(port, SYN | ACK, SYN | ACK);
    const resets = fromGateway(port, RST, RST);
    if (expected(port) === 'open' && synAcks === 0) problems.push(`wire: no SYN-ACK from port ${port}`);
    if (expected(port) === 'closed' && resets === 0) problems.push(`wire: no RST from port ${port}`);
  }
  // 6667: not one segment from the gateway's D-Bus port ever reached the wire.
  const fromDbus = wan.filter(
    (d) => d?.ipv4?.src === gateway && tcpOf(d)?.srcPort === SERVICE_PORTS.dbus,
  ).length;
  if (fromDbus > 0) problems.push(`wire: ${fromDbus} segments from the gateway's port ${SERVICE_PORTS.dbus}`);
  const synsToDbus = wan.filter((d) => {
    const t = tcpOf(d);
    return (
      d?.ipv4?.src === host &&
      d.ipv4.dst === gateway &&
      t?.dstPort === SERVICE_PORTS.dbus &&
      (t.flags & (SYN | ACK)) === SYN
    );
  }).length;
  const dropRule = counterOf(seen.counters, `-A INPUT -p tcp -m tcp --dport ${SERVICE_PORTS.dbus} -j DROP`);
  if (dropRule === undefined) problems.push(`counters: no DROP rule for port ${SERVICE_PORTS.dbus}`);
  else if (dropRule.packets !== synsToDbus)
    problems.push(
      `counters: the DROP rule for ${SERVICE_PORTS.dbus} counted ${dropRule.packets} packets, the wire carried ${synsToDbus} SYNs`,
    );
  if (synsToDbus === 0) problems.push(`wire: the remote host never tried port ${SERVICE_PORTS.dbus}`);

  // Inside the firewall: nothing of port 6667 crossed to the Normal World.
  const insideDbus = seen.inside.map(decoded).filter((d) => {
    const t = tcpOf(d);
    return t?.dstPort === SERVICE_PORTS.dbus || t?.srcPort === SERVICE_PORTS.dbus;
  }).length;
  if (insideDbus > 0)
    problems.push(`inside: ${insideDbus} frames of port ${SERVICE_PORTS.dbus} crossed the firewall`);
  if (seen.normalLog.some((l) => l.startsWith('dbus: connection')))
    problems.push('the Normal World reports a D-Bus connection');

  // The services' answers.
  const services = [
    {
      service: 'http',
      port: SERVICE_PORTS.http,
      ok:
        obs.httpClosed &&
        /^HTTP\/1\.0 200 OK\r\n/.test(obs.http) &&
        obs.http.endsWith('rampart iot-gateway: /\n'),
      detail: obs.http.split('\r\n')[0] ?? '',
    },
    {
      service: 'echo',
      port: SERVICE_PORTS.echo,
      ok: obs.echo === ECHO_TEXT,
      detail: `${obs.echo.length} of ${ECHO_TEXT.length} bytes echoed`,
    },
    {
      service: 'dbus',
      port: SERVICE_PORTS.dbus,
      ok: obs.dbus.startsWith('no answer'),
      detail: obs.dbus,
    },
    {
      service: 'udp probe',
      port: UDP_PROBE_PORT,
      ok: obs.udpUnreachable,
      detail: obs.udpUnreachable ? 'ICMP port unreachable' : 'no answer',
    },
  ];
  for (const s of services) if (!s.ok) problems.push(`${s.service}: ${s.detail}`);

  // The firewall's own account: it logged the D-Bus drops.
  const dropped = seen.firewallLog.filter((l) => /^fw: (DROP|REJECT|LOG) /.test(l));
  if (!dropped.some((l) => l.startsWith('fw: DROP') && l.includes(`.${SERVICE_PORTS.dbus}: TCP [S]`)))
    problems.push(`firewall log: no DROP of a SYN to port ${SERVICE_PORTS.dbus}`);
  if (!dropped.some((l) => l.startsWith('fw: REJECT'))) problems.push('firewall log: no REJECT');
  return {
    problems,
    services,
    dropped,
    normalWorld: seen.normalLog.filter((l) => /^(http|echo|dbus|net): /.test(l)),
  };
}

/** A rule's counters in `iptables-save -c` output. */
export function counterOf(save: string, rule: string): { packets: number; bytes: number } | undefined {
  for (const line of save.split('\n')) {
    const m = /^\[(\d+):(\d+)\] (.*)$/.exec(line);
    if (m && m[3] === rule) return { packets: Number(m[1]), bytes: Number(m[2]) };
  }
  return undefined;
}
