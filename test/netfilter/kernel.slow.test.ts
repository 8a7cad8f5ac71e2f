/**
 * Differential tests against the real Linux netfilter (iptables-nft 1.8.9 on nf_tables; root needed).
 *
 * A ruleset is loaded with iptables-nft-restore into a network namespace; real endpoints exchange
 * TCP/UDP/ICMP traffic through it and hand-made frames (invalid flags, bad checksums, fragments,
 * malformed headers, ICMP errors, spoofed sources, …) are injected with AF_PACKET. tcpdump records what
 * reached the firewall's interfaces; that capture is replayed through Rampart's engine, and the per-rule
 * counters of both must be identical, as must the rules as iptables-nft-save prints them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { parseIpv4, parseMac } from '../../src/lib/net/address.js';
import { EtherType, encodeEthernet } from '../../src/lib/net/ethernet.js';
import { encodeIcmp } from '../../src/lib/net/icmp.js';
import { fragmentIpv4 } from '../../src/lib/net/ipv4-fragments.js';
import { type Ipv4Packet, decodeIpv4, encodeIpv4 } from '../../src/lib/net/ipv4.js';
import { type Capture, type CaptureRecord, readCapture } from '../../src/lib/net/pcap.js';
import { parseRuleset } from '../../src/lib/netfilter/parse.js';
import { type ReplayMode, type ReplayReport, replayCapture } from '../../src/lib/netfilter/replay.js';
import { CLIENT_PY, Lab, PYTHON, SERVERS_PY, countersOf, frameFile, labUnavailable } from './kernel-lab.js';
import { F, icmp, icmpError, ip, tcp, udp } from './packets.js';

const unavailable = labUnavailable();

function ethernetTo(dstMac: string, srcMac: string) {
  return (d: Uint8Array) =>
    encodeEthernet({
      dst: parseMac(dstMac),
      src: parseMac(srcMac),
      vlans: [],
      etherType: EtherType.IPV4,
      payload: d,
    });
}

function compare(kernelSave: string, report: ReplayReport, chains: readonly string[]): void {
  const kernel = countersOf(kernelSave);
  const ours = countersOf(report.counters);
  const problems: string[] = [];
  for (const chain of chains) {
    const k = kernel.get(chain) ?? [];
    const o = ours.get(chain) ?? [];
    for (let i = 0; i < Math.max(k.length, o.length); i++)
      if (k[i] !== o[i]) problems.push(`kernel : ${k[i] ?? '(none)'}\nrampart: ${o[i] ?? '(none)'}`);
  }
  if (problems.length > 0) {
    const trace = report.packets
      .map(
        (p) =>
          `#${p.index} ${p.summary} ${p.hook ?? ''} -> ${p.outcome} ${p.rule ? `${p.rule.chain}#${p.rule.number}` : ''} ${p.ctState ?? ''} ${p.ctReason ?? p.detail ?? ''}`,
      )
      .join('\n');
    assert.fail(`counters differ from the kernel's:\n${problems.join('\n')}\n\nreplay:\n${trace}`);
  }
}

const HOST_RULES = `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:tcp_in - [0:0]
:icmp_in - [0:0]
:tcp_log - [0:0]
-A INPUT -m conntrack --ctstate NEW
-A INPUT -m conntrack --ctstate ESTABLISHED
-A INPUT -m conntrack --ctstate RELATED
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -j tcp_in
-A INPUT -p icmp -j icmp_in
-A INPUT -p udp -m multiport --dports 53,123,5000:5010 -j ACCEPT
-A INPUT -m iprange --src-range 10.99.0.100-10.99.0.200 -j DROP
-A INPUT -p udp -m limit --limit 1/min --limit-burst 3 -j LOG --log-prefix "udp: "
-A INPUT -p udp ! --dport 9000:9100 -j REJECT
-A INPUT -p udp -j REJECT --reject-with icmp-admin-prohibited
-A INPUT -f
-A INPUT ! -i vF
-A tcp_in -p tcp --syn --dport 22 -j ACCEPT
-A tcp_in -p tcp --tcp-flags ALL NONE -j DROP
-A tcp_in -p tcp -m multiport --dports 80,443 -j ACCEPT
-A tcp_in -p tcp --dport 6667 -j REJECT --reject-with tcp-reset
-A tcp_in -s 10.99.0.0/255.255.255.0 -p tcp --sport 1024:65535 -g tcp_log
-A tcp_in -p tcp --dport 25 -m comment --comment "smtp stays closed" -j DROP
-A tcp_log -p tcp --dport 8000:9000 -j DROP
-A tcp_log -j RETURN
-A icmp_in -p icmp --icmp-type echo-request -m limit --limit 2/sec --limit-burst 4 -j ACCEPT
-A icmp_in -p icmp --icmp-type 3/4 -j ACCEPT
-A icmp_in -p icmp ! --icmp-type echo-reply -j RETURN
-A OUTPUT -p tcp --tcp-flags RST RST
-A OUTPUT -p icmp -m icmp --icmp-type 3
-A OUTPUT -m conntrack --ctstate ESTABLISHED
-A OUTPUT -m conntrack --ctstate NEW -p udp
-A OUTPUT -p tcp -m conntrack --ctstate RELATED
-A OUTPUT -p tcp -m conntrack --ctstate INVALID
-A OUTPUT -p icmp -m conntrack --ctstate RELATED
-A OUTPUT -p icmp -m conntrack --ctstate INVALID
COMMIT
`;

const FW = '10.99.0.1';
const P = '10.99.0.2';

interface HostScenario {
  /** Frames the peer injects (IPv4 datagrams; Ethernet is added). */
  readonly crafted: readonly Uint8Array[];
  /** CLIENT_PY steps; `FRAMES` is replaced by the injection of `crafted`. */
  readonly steps: readonly string[];
}

/**
 * Runs a scenario against a firewall host (10.99.0.1, interface vF) loaded with `rules`, with TCP
 * servers on 22, 80, 443 and UDP servers on 53, 123; returns the kernel's counters and the capture.
 * A run whose capture missed frames vF saw is repeated (up to three times).
 */
async function runHost(rules: string, scenario: HostScenario): Promise<{ kernel: string; capture: Capture }> {
  for (let attempt = 1; ; attempt++) {
    const lab = new Lab();
    try {
      const fw = lab.ns('fw');
      const peer = lab.ns('peer');
      const { macA: fwMac, macB: peerMac } = lab.link(fw, 'vF', '10.99.0.1/24', peer, 'vP', '10.99.0.2/24');
      for (const spoof of ['10.99.0.2', '10.99.0.3', '10.99.0.150']) lab.neighbour(fw, 'vF', spoof, peerMac);
      lab.neighbour(peer, 'vP', '10.99.0.1', fwMac);
      // Half-open connections from spoofed peers would otherwise retransmit SYN/ACKs on their own clock.
      lab.exec(fw, 'sysctl', '-qw', 'net.ipv4.tcp_synack_retries=0');
      lab.execInput(fw, rules, 'iptables-nft-restore');
      await lab.background(fw, /ready/, PYTHON, lab.file('servers.py', SERVERS_PY), '22,80,443', '53,123');
      const pcapPath = `${lab.dir}/fw.pcap`;
      const dump = await lab.capture(fw, 'vF', pcapPath);
      const before = lab.frames(fw, 'vF');
      const eth = ethernetTo(fwMac, peerMac);
      const frames = `frames vP ${lab.file('crafted.bin', frameFile(scenario.crafted.map(eth)))}`;
      const steps = scenario.steps.map((s) => (s === 'FRAMES' ? frames : s)).join('\n');
      lab.exec(peer, PYTHON, lab.file('client.py', CLIENT_PY), lab.file('scenario.txt', steps));
      // Quiesce before reading counters: no late retransmission may be counted but not captured.
      await new Promise((r) => setTimeout(r, 300));
      lab.exec(fw, 'ip', 'link', 'set', 'vF', 'down');
      await new Promise((r) => setTimeout(r, 100));
      const kernel = lab.exec(fw, 'iptables-nft-save', '-c');
      const after = lab.frames(fw, 'vF');
      await lab.stop(dump);
      const capture = readCapture(new Uint8Array(readFileSync(pcapPath)), pcapPath);
      if (process.env.RAMPART_LAB_DEBUG) {
        console.log(kernel);
        copyFileSync(pcapPath, '/tmp/rampart-lab-host.pcap');
      }
      // The capture is the instrument: if it missed frames the interface saw, run the scenario again.
      const sent = capture.records.filter((r) => sameMac(r.frame.subarray(6, 12), fwMac)).length;
      const seen = { rx: capture.records.length - sent, tx: sent };
      if (seen.rx !== after.rx - before.rx || seen.tx !== after.tx - before.tx) {
        const why = `capture has ${seen.rx} in / ${seen.tx} out, vF counted ${after.rx - before.rx} / ${after.tx - before.tx}`;
        if (attempt < 3) continue;
        assert.fail(`tcpdump missed frames three times: ${why}`);
      }
      return { kernel, capture };
    } finally {
      await lab.close();
    }
  }
}

function hostScenario(): HostScenario {
  const crafted: Uint8Array[] = [
    tcp(P, FW, { sport: 41000, dport: 22, flags: F.SYN | F.FIN }),
    tcp(P, FW, { sport: 41001, dport: 80, flags: 0 }),
    tcp(P, FW, { sport: 41002, dport: 80, flags: F.FIN | F.PSH | F.URG }),
    tcp(P, FW, { sport: 41003, dport: 443, flags: F.ACK, seq: 7, ack: 9 }),
    tcp(P, FW, { sport: 41004, dport: 6667, flags: F.SYN }),
    tcp(P, FW, { sport: 41005, dport: 8080, flags: F.SYN }),
    tcp(P, FW, { sport: 41006, dport: 7000, flags: F.SYN }),
    tcp(P, FW, { sport: 1000, dport: 7001, flags: F.SYN }),
    tcp(P, FW, { sport: 41007, dport: 25, flags: F.SYN }),
    tcp('10.99.0.150', FW, { sport: 41008, dport: 22, flags: F.SYN }),
    udp('10.99.0.150', FW, 41009, 7000),
    tcp(
      P,
      FW,
      { sport: 41010, dport: 22, flags: F.SYN },
      {
        options: [
          { type: 1, data: new Uint8Array(0) },
          { type: 0x94, data: Uint8Array.of(0, 0) },
        ],
      },
    ),
    tcp(P, FW, { sport: 41011, dport: 22, flags: F.SYN }, { ttl: 1 }),
    icmp(P, FW, 8, 0, 0x11110001),
    icmp(P, FW, 13, 0, 0x11110002, new Uint8Array(12)),
    icmp(P, FW, 42, 0, 0),
    icmp(P, FW, 3, 4, 0x000005dc, new Uint8Array(28)),
    // RELATED: port unreachable about the answers the firewall's DNS server sent to 5353.
    icmpError(P, FW, 3, 3, udp(FW, P, 53, 5353)),
    icmpError(P, FW, 3, 3, udp(FW, P, 53, 5999)),
    ip(P, FW, 47, new Uint8Array(24)),
    ip(P, FW, 6, new Uint8Array(10)),
    ...Array.from({ length: 5 }, (_, i) => udp(P, FW, 42000 + i, 9999)),
    ...Array.from({ length: 2 }, (_, i) => udp(P, FW, 43000 + i, 9050)),
  ];
  // Bad checksums: TCP, UDP, and the IP header itself.
  const badTcp = tcp(P, FW, { sport: 41012, dport: 22, flags: F.SYN });
  badTcp[36] = (badTcp[36] ?? 0) ^ 0xff;
  const badUdp = udp(P, FW, 41013, 53);
  badUdp[26] = (badUdp[26] ?? 0) ^ 0xff;
  const badIp = tcp(P, FW, { sport: 41014, dport: 22, flags: F.SYN });
  badIp[10] = (badIp[10] ?? 0) ^ 0xff;
  const shortLen = tcp(P, FW, { sport: 41015, dport: 22, flags: F.SYN });
  shortLen[3] = 19;
  const udpLen = udp(P, FW, 41016, 53);
  udpLen[25] = 200;
  crafted.push(badTcp, badUdp, badIp, shortLen, udpLen);
  // Fragments: a datagram in three pieces out of order, an overlapping pair, an orphan.
  const whole = decodeIpv4(udp(P, FW, 41017, 53, new Uint8Array(2400).fill(7)));
  const frag = (p: Ipv4Packet, id: number) =>
    fragmentIpv4({ ...p, dontFragment: false, identification: id }, 1000).map(encodeIpv4);
  const three = frag(whole, 0x101);
  crafted.push(three[2]!, three[0]!, three[1]!);
  const pair = frag(whole, 0x102);
  const overlap = decodeIpv4(pair[1]!);
  crafted.push(pair[0]!, encodeIpv4({ ...overlap, fragmentOffset: overlap.fragmentOffset - 16 }));
  crafted.push(frag(decodeIpv4(udp(P, FW, 41018, 123, new Uint8Array(1500))), 0x103)[1]!);
  const icmpWhole = decodeIpv4(
    ip(P, FW, 1, encodeIcmp({ type: 8, code: 0, rest: 0x22220001, payload: new Uint8Array(1600) })),
  );
  crafted.push(...frag(icmpWhole, 0x104));
  return {
    crafted,
    steps: [
      `tcp ${FW} 22`,
      `tcp ${FW} 80`,
      `tcp ${FW} 443 1023`,
      `tcp ${FW} 6667`,
      `tcp ${FW} 8080`,
      `tcp ${FW} 25`,
      `udp ${FW} 53 5353 3`,
      `udp ${FW} 123 5354 1`,
      `udp ${FW} 5005 5355 1`,
      `udp ${FW} 9999 5356 2`,
      `ping ${FW} 7`,
      'FRAMES',
      `ping ${FW} 3`,
      'sleep 0.5',
    ],
  };
}

test(
  'host mode: INPUT/OUTPUT counters equal the kernel’s for real and hand-made traffic',
  { skip: unavailable },
  async () => {
    const { kernel, capture } = await runHost(HOST_RULES, hostScenario());
    assert.ok(capture.records.length > 60, `only ${capture.records.length} frames captured`);
    const mode: ReplayMode = { kind: 'host', addresses: [parseIpv4(FW)], iface: 'vF' };
    for (const evaluator of ['compiled', 'linear'] as const) {
      const report = replayCapture(capture, parseRuleset(HOST_RULES), mode, { evaluator });
      compare(kernel, report, ['INPUT', 'OUTPUT', 'tcp_in', 'icmp_in', 'tcp_log']);
      // The traffic reached the interesting paths.
      const t = report.totals;
      assert.ok(
        t.ACCEPT > 20 && t.DROP > 10 && t.REJECT > 3 && t.HELD >= 3 && t['INVALID-PACKET'] >= 3,
        JSON.stringify(t),
      );
    }
  },
);

/** No state match: no conntrack and no defragmentation, so fragments and short headers reach the rules. */
const STATELESS_RULES = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -f
-A INPUT ! -f -p udp
-A INPUT -p tcp --dport 22
-A INPUT -p tcp ! --dport 22
-A INPUT -p tcp --tcp-flags SYN SYN
-A INPUT -p udp -m multiport --dports 53,54
-A INPUT -p udp -m multiport ! --dports 53,54
-A INPUT -p udp -m multiport --ports 7,9
-A INPUT -p icmp --icmp-type 8
-A INPUT -p icmp ! --icmp-type 8
-A INPUT -p icmp --icmp-type 3/4 -j DROP
-A INPUT -p icmp --icmp-type any
-A INPUT -p 47
-A INPUT -p tcp -j DROP
-A INPUT -p udp --dport 9 -j REJECT
-A INPUT -p udp -m udp --sport 1:1023
COMMIT
`;

test(
  'stateless ruleset: fragments, tiny fragments and truncated headers match as in the kernel',
  { skip: unavailable },
  async () => {
    const frag = (d: Uint8Array, mtu: number, id: number) =>
      fragmentIpv4({ ...decodeIpv4(d), dontFragment: false, identification: id }, mtu).map(encodeIpv4);
    const udpFrags = frag(udp(P, FW, 1000, 53, new Uint8Array(1400)), 600, 0x301);
    const tcpTiny = frag(
      tcp(P, FW, { sport: 41000, dport: 22, flags: F.SYN, data: new Uint8Array(40) }),
      28,
      0x302,
    );
    const icmpFrags = frag(icmp(P, FW, 8, 0, 0x44440001, new Uint8Array(1200)), 500, 0x303);
    const crafted = [
      ...udpFrags.reverse(),
      ...tcpTiny,
      ...icmpFrags,
      ip(P, FW, 6, new Uint8Array(10).fill(1)),
      ip(P, FW, 17, Uint8Array.of(0, 53, 0, 54)),
      ip(P, FW, 17, Uint8Array.of(0, 53)),
      ip(P, FW, 1, Uint8Array.of(8)),
      ip(P, FW, 1, Uint8Array.of(3, 4, 0, 0)),
      ip(P, FW, 1, Uint8Array.of(11, 0, 0, 0)),
      icmp(P, FW, 3, 4, 0x000005dc, new Uint8Array(28)),
      ip(P, FW, 47, new Uint8Array(8)),
      udp(P, FW, 7, 9),
      udp(P, FW, 99, 10),
    ];
    const { kernel, capture } = await runHost(STATELESS_RULES, {
      crafted,
      steps: [`udp ${FW} 53 5353 2`, 'FRAMES', 'sleep 0.3'],
    });
    const mode: ReplayMode = { kind: 'host', addresses: [parseIpv4(FW)], iface: 'vF' };
    for (const evaluator of ['compiled', 'linear'] as const) {
      const report = replayCapture(capture, parseRuleset(STATELESS_RULES), mode, { evaluator });
      assert.equal(report.conntrack, false);
      compare(kernel, report, ['INPUT', 'OUTPUT']);
      // Even without conntrack, INPUT sees reassembled datagrams (ip_local_deliver).
      assert.ok(report.totals.HELD >= 5, JSON.stringify(report.totals));
    }
  },
);

const GATEWAY_RULES = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:wan_in - [0:0]
-A FORWARD -m conntrack --ctstate NEW
-A FORWARD -m conntrack --ctstate ESTABLISHED
-A FORWARD -m conntrack --ctstate RELATED
-A FORWARD -m conntrack --ctstate INVALID -j DROP
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i lanG -o wanG -p tcp -m multiport --dports 22,80,443 -j ACCEPT
-A FORWARD -i lanG -o wanG -p udp --dport 53 -j ACCEPT
-A FORWARD -i lanG -o wanG -p icmp --icmp-type echo-request -j ACCEPT
-A FORWARD -i wanG -j wan_in
-A FORWARD -p tcp -j REJECT --reject-with tcp-reset
-A FORWARD -j REJECT --reject-with icmp-net-prohibited
-A wan_in -p tcp --dport 6667 -j DROP
-A wan_in -p tcp --syn -d 10.98.1.0/24 --dport 8080 -j ACCEPT
-A wan_in -m limit --limit 1/hour --limit-burst 2 -j RETURN
-A wan_in -j DROP
COMMIT
`;

const L = '10.98.1.2';
const W = '10.98.2.2';

interface GatewayScenario {
  readonly lanFrames: readonly Uint8Array[];
  readonly wanFrames: readonly Uint8Array[];
  /** CLIENT_PY steps on each side; `FRAMES` is replaced by that side's injection. */
  readonly lanSteps: readonly string[];
  readonly wanSteps: readonly string[];
}

/**
 * A gateway namespace forwarding between lan (10.98.1.0/24, lanH ↔ lanG) and wan (10.98.2.0/24,
 * wanG ↔ wanH), loaded with `rules`; TCP servers on the wan host (22, 80, 443, 6667; UDP 53) and on the
 * lan host (8080, 9090). Captures what enters the gateway on both interfaces, merged into one capture
 * with named interfaces. A run whose capture missed frames is repeated (up to three times).
 */
async function runGateway(
  rules: string,
  scenario: GatewayScenario,
): Promise<{ kernel: string; capture: Capture }> {
  for (let attempt = 1; ; attempt++) {
    const lab = new Lab();
    try {
      const lan = lab.ns('lan');
      const gw = lab.ns('gw');
      const wan = lab.ns('wan');
      const { macA: lanMac, macB: gwLanMac } = lab.link(
        lan,
        'lanH',
        '10.98.1.2/24',
        gw,
        'lanG',
        '10.98.1.1/24',
      );
      const { macA: gwWanMac, macB: wanMac } = lab.link(
        gw,
        'wanG',
        '10.98.2.1/24',
        wan,
        'wanH',
        '10.98.2.2/24',
      );
      lab.exec(gw, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
      lab.exec(lan, 'ip', 'route', 'add', 'default', 'via', '10.98.1.1');
      lab.exec(wan, 'ip', 'route', 'add', 'default', 'via', '10.98.2.1');
      lab.neighbour(lan, 'lanH', '10.98.1.1', gwLanMac);
      lab.neighbour(gw, 'lanG', '10.98.1.2', lanMac);
      lab.neighbour(gw, 'wanG', '10.98.2.2', wanMac);
      lab.neighbour(wan, 'wanH', '10.98.2.1', gwWanMac);
      lab.execInput(gw, rules, 'iptables-nft-restore');
      await lab.background(
        wan,
        /ready/,
        PYTHON,
        lab.file('wan-servers.py', SERVERS_PY),
        '22,80,443,6667',
        '53',
      );
      await lab.background(lan, /ready/, PYTHON, lab.file('lan-servers.py', SERVERS_PY), '8080,9090', '');
      const caps = { lanG: `${lab.dir}/lanG.pcap`, wanG: `${lab.dir}/wanG.pcap` };
      const dumps = [];
      for (const [ifn, path] of Object.entries(caps)) dumps.push(await lab.capture(gw, ifn, path, true));
      const before = { lanG: lab.frames(gw, 'lanG'), wanG: lab.frames(gw, 'wanG') };
      const steps = (
        list: readonly string[],
        frames: readonly Uint8Array[],
        to: string,
        from: string,
        ifn: string,
      ) => {
        const inject = `frames ${ifn} ${lab.file(`${ifn}.bin`, frameFile(frames.map(ethernetTo(to, from))))}`;
        return list.map((x) => (x === 'FRAMES' ? inject : x)).join('\n');
      };
      const client = lab.file('client.py', CLIENT_PY);
      lab.exec(
        lan,
        PYTHON,
        client,
        lab.file('lan.txt', steps(scenario.lanSteps, scenario.lanFrames, gwLanMac, lanMac, 'lanH')),
      );
      lab.exec(
        wan,
        PYTHON,
        client,
        lab.file('wan.txt', steps(scenario.wanSteps, scenario.wanFrames, gwWanMac, wanMac, 'wanH')),
      );
      await new Promise((r) => setTimeout(r, 300));
      lab.exec(gw, 'ip', 'link', 'set', 'lanG', 'down');
      lab.exec(gw, 'ip', 'link', 'set', 'wanG', 'down');
      await new Promise((r) => setTimeout(r, 100));
      const kernel = lab.exec(gw, 'iptables-nft-save', '-c');
      const after = { lanG: lab.frames(gw, 'lanG'), wanG: lab.frames(gw, 'wanG') };
      for (const d of dumps) await lab.stop(d);
      if (process.env.RAMPART_LAB_DEBUG) console.log(kernel);
      const capture = mergeCaptures([
        ['lanG', readCapture(new Uint8Array(readFileSync(caps.lanG)), caps.lanG)],
        ['wanG', readCapture(new Uint8Array(readFileSync(caps.wanG)), caps.wanG)],
      ]);
      const missed = (['lanG', 'wanG'] as const).filter(
        (ifn, i) =>
          capture.records.filter((r) => r.interfaceIndex === i).length !== after[ifn].rx - before[ifn].rx,
      );
      if (missed.length > 0) {
        if (attempt < 3) continue;
        assert.fail(`tcpdump missed frames on ${missed.join(', ')} three times`);
      }
      return { kernel, capture };
    } finally {
      await lab.close();
    }
  }
}

const GATEWAY_MODE: ReplayMode = { kind: 'gateway', a: 'lanG', b: 'wanG', sideA: [] };

test(
  'gateway mode: FORWARD counters equal the kernel’s, traffic captured on both interfaces',
  { skip: unavailable },
  async () => {
    const { kernel, capture } = await runGateway(GATEWAY_RULES, {
      lanFrames: [
        tcp(L, W, { sport: 45000, dport: 22, flags: F.SYN | F.RST }),
        tcp(L, W, { sport: 45001, dport: 80, flags: F.ACK, seq: 1, ack: 1 }),
        tcp(L, W, { sport: 45002, dport: 25, flags: F.SYN }),
        udp(L, W, 45003, 5353),
        tcp(L, W, { sport: 45004, dport: 22, flags: F.SYN }, { ttl: 1 }),
        ...fragmentIpv4(
          {
            ...decodeIpv4(udp(L, W, 45005, 53, new Uint8Array(1800))),
            dontFragment: false,
            identification: 0x201,
          },
          800,
        ).map(encodeIpv4),
      ],
      wanFrames: [
        ...Array.from({ length: 4 }, (_, i) => tcp(W, L, { sport: 46000 + i, dport: 9999, flags: F.SYN })),
        tcp(W, L, { sport: 46010, dport: 8080, flags: F.SYN | F.ACK }),
        icmp(W, L, 8, 0, 0x33330001),
        icmpError(W, L, 3, 1, tcp(L, W, { sport: 47000, dport: 80, flags: F.SYN })),
      ],
      lanSteps: [
        `tcp ${W} 22`,
        `tcp ${W} 80`,
        `tcp ${W} 443`,
        `tcp ${W} 6667`,
        `udp ${W} 53 5400 2`,
        `udp ${W} 54 5401 1`,
        `ping ${W} 3`,
        'FRAMES',
        'sleep 0.3',
      ],
      wanSteps: [
        `tcp ${L} 8080`,
        `tcp ${L} 9090`,
        `tcp ${L} 6667`,
        `udp ${L} 53 5402 1`,
        'FRAMES',
        'sleep 0.3',
      ],
    });
    assert.ok(capture.records.length > 40, `only ${capture.records.length} frames captured`);
    for (const evaluator of ['compiled', 'linear'] as const) {
      const report = replayCapture(capture, parseRuleset(GATEWAY_RULES), GATEWAY_MODE, { evaluator });
      compare(kernel, report, ['FORWARD', 'wan_in']);
      const t = report.totals;
      assert.ok(t.ACCEPT > 20 && t.DROP > 3 && t.REJECT > 2 && t.HELD >= 1, JSON.stringify(t));
    }
  },
);

/** No state match on the gateway: FORWARD sees every fragment on its own. */
const STATELESS_GATEWAY_RULES = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -f
-A FORWARD -p udp --dport 53
-A FORWARD -p udp -m multiport --dports 53,54
-A FORWARD -p icmp --icmp-type 8
-A FORWARD -i wanG -p tcp --syn -j DROP
-A FORWARD -p tcp --dport 6667 -j REJECT --reject-with tcp-reset
COMMIT
`;

test(
  'stateless gateway: FORWARD filters fragments one by one, as the kernel does without conntrack',
  { skip: unavailable },
  async () => {
    const frags = (d: Uint8Array, mtu: number, id: number) =>
      fragmentIpv4({ ...decodeIpv4(d), dontFragment: false, identification: id }, mtu).map(encodeIpv4);
    const { kernel, capture } = await runGateway(STATELESS_GATEWAY_RULES, {
      lanFrames: [
        ...frags(udp(L, W, 45100, 53, new Uint8Array(1800)), 800, 0x401),
        ...frags(icmp(L, W, 8, 0, 0x55550001, new Uint8Array(1000)), 600, 0x402),
        ip(L, W, 17, Uint8Array.of(0, 53)),
      ],
      wanFrames: [
        ...frags(udp(W, L, 53, 45100, new Uint8Array(900)), 500, 0x403),
        tcp(W, L, { sport: 1, dport: 9090, flags: F.SYN }),
      ],
      lanSteps: [`tcp ${W} 22`, `tcp ${W} 6667`, `udp ${W} 53 5500 2`, 'FRAMES', 'sleep 0.3'],
      wanSteps: ['FRAMES', 'sleep 0.3'],
    });
    for (const evaluator of ['compiled', 'linear'] as const) {
      const report = replayCapture(capture, parseRuleset(STATELESS_GATEWAY_RULES), GATEWAY_MODE, {
        evaluator,
      });
      assert.equal(report.conntrack, false);
      compare(kernel, report, ['FORWARD']);
      assert.equal(report.totals.HELD, 0);
    }
    assert.match(kernel, /^\[[1-9]\d*:\d+\] -A FORWARD -f$/m);
  },
);

function sameMac(bytes: Uint8Array, mac: string): boolean {
  return Buffer.from(bytes).equals(Buffer.from(parseMac(mac)));
}

/** Two single-interface captures as one pcapng-like capture, records ordered by time. */
function mergeCaptures(parts: [string, Capture][]): Capture {
  const records: CaptureRecord[] = [];
  parts.forEach(([, c], i) => records.push(...c.records.map((r) => ({ ...r, interfaceIndex: i }))));
  records.sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0));
  return {
    format: 'pcapng',
    littleEndian: true,
    interfaces: parts.map(([name, c]) => ({ ...c.interfaces[0]!, name })),
    records,
  };
}
