/**
 * The firewall under attack from both sides, on the iot-gateway's Secure World as its images configure
 * it: a hostile Normal World trying to change the ruleset or reach the firewall; malformed frames from
 * the WAN; a Normal World flooding its link. Checked from outside both worlds: the kernel's tables, the
 * WAN segment's tap, the firewall's secure console.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../src/common/random.js';
import { parseRuleset } from '../../src/lib/netfilter/parse.js';
import { saveRuleset } from '../../src/lib/netfilter/save.js';
import { EtherType, encodeEthernet } from '../../src/lib/net/ethernet.js';
import { encodeIpv4, IpProtocol, type Ipv4Packet } from '../../src/lib/net/ipv4.js';
import { encodeTcp } from '../../src/lib/net/tcp.js';
import { decodeFrame, type DecodedFrame } from '../../src/lib/net/packet.js';
import { parseIpv4, parseMac } from '../../src/lib/net/address.js';
import { LinkType } from '../../src/lib/net/pcap.js';
import { callTable } from '../../src/kernel/core/table.js';
import { services } from '../../src/kernel/abi/services.js';
import { CAP_ENDPOINT } from '../../src/kernel/core/state.js';
import { counterOf } from '../../src/platform/demo-entry-point.js';
import { askFirewall, attachWanHost, GATEWAY_RULES, startGateway, type Gateway } from '../helpers/gateway.js';

const GATEWAY = parseIpv4('198.51.100.10');
const HOST = parseIpv4('198.51.100.20');
const GATEWAY_MAC = parseMac('02:52:50:00:00:01');
const HOST_MAC = parseMac('02:00:00:00:53:14');

function hostile(prologue: { seed: number; calls: number; floodIterations: number; framesPerRound: number }) {
  return {
    entry: 'test/fixtures/partitions/hostile-gateway-nw.ts',
    prologue: `const TEST = ${JSON.stringify(prologue)};`,
  };
}

const partitionIndex = (g: Gateway, name: string) => g.runtime.partitions().findIndex((p) => p.name === name);

function decoded(frame: Uint8Array): DecodedFrame | undefined {
  try {
    return decodeFrame(frame, LinkType.ETHERNET);
  } catch {
    return undefined;
  }
}

function ipv4(fields: Partial<Ipv4Packet> & { payload: Uint8Array }): Ipv4Packet {
  return {
    dscp: 0,
    ecn: 0,
    identification: 1,
    reservedFlag: false,
    dontFragment: false,
    moreFragments: false,
    fragmentOffset: 0,
    ttl: 64,
    protocol: IpProtocol.TCP,
    src: HOST,
    dst: GATEWAY,
    options: [],
    ...fields,
  };
}

const toGateway = (etherType: number, payload: Uint8Array) =>
  encodeEthernet({ dst: GATEWAY_MAC, src: HOST_MAC, vlans: [], etherType, payload }, { pad: true });

function tcp(flags: number, dstPort = 80): Uint8Array {
  return encodeTcp(
    {
      srcPort: 41000,
      dstPort,
      seq: 1000,
      ack: 0,
      reserved: 0,
      flags,
      window: 1024,
      urgentPointer: 0,
      options: [],
      payload: new Uint8Array(0),
    },
    { version: 4, src: HOST, dst: GATEWAY },
  );
}

test('a hostile Normal World cannot change the ruleset: no call of it reaches the firewall, 6667 stays closed', async () => {
  const callsBySlot = new Map<number, Set<number>>();
  const g = startGateway({
    normal: hostile({ seed: 0xf1ee7, calls: 3000, floodIterations: 0, framesPerRound: 0 }),
    onRequest(slot, call) {
      const s = callsBySlot.get(slot) ?? new Set<number>();
      s.add(call);
      callsBySlot.set(slot, s);
    },
  });
  try {
    await g.runtime.run({
      until: () => g.log('rich-os').some((l) => l.startsWith('flood:')),
      untilNs: g.machine.clock.nowNs + 60e9,
    });
    const report = g.log('rich-os').find((l) => l.startsWith('hostile:'));
    assert.ok(report, g.log('rich-os').join('\n'));
    const stats = JSON.parse(report.slice('hostile:'.length)) as Record<string, number>;
    assert.ok((stats.smcs ?? 0) > 300, `SMCs made: ${stats.smcs}`);
    assert.ok((stats.smcOk ?? 0) > 0, 'some SMCs reached the doorbell (and only set its bit)');
    assert.equal(
      stats.consoleRefused,
      stats.consoleWrites,
      "every write to a device's registers was refused",
    );

    // The ruleset is the signed one, as it was loaded.
    const expected = saveRuleset(parseRuleset(GATEWAY_RULES, { file: 'rules.v4' }), { counters: false });
    // (iptables-save prints the chains' policy counters even without -c.)
    const policiesZeroed = (t: string) => t.replace(/^(:\S+ \S+) \[\d+:\d+\]$/gm, '$1 [0:0]');
    assert.equal(policiesZeroed(await askFirewall(g, 'iptables-save')), expected);

    // No call reaches the firewall's engine: it holds no endpoint; the Normal World's SMC entries lead to
    // the hello application and to the doorbell partition, which only ever received, signalled, replied
    // (and replied-and-received).
    const state = g.runtime.kernel.state;
    const fw = partitionIndex(g, 'firewall');
    const slots = state.profile.capSlots;
    for (let slot = 0; slot < slots; slot++)
      assert.notEqual(state.tables.capType.get(fw * slots + slot), CAP_ENDPOINT, `firewall slot ${slot}`);
    const doorbell = partitionIndex(g, 'firewall-doorbell');
    const allowed = new Set<number>([
      services.start.number,
      services.boot_info.number,
      callTable.endpoint_receive.number,
      callTable.notification_signal.number,
      callTable.endpoint_reply.number,
      callTable.endpoint_reply_receive.number,
    ]);
    for (const call of callsBySlot.get(doorbell) ?? [])
      assert.ok(allowed.has(call), `doorbell made call ${call}`);
    assert.ok(callsBySlot.get(doorbell)?.has(callTable.notification_signal.number));

    // And it still filters: a SYN to the D-Bus port is dropped, counted, never answered.
    const host = attachWanHost(g);
    let outcome = '';
    host.act((s) =>
      s.tcp.connect(GATEWAY, 6667, {
        handlers: { onConnect: () => (outcome = 'connected'), onClose: (r) => (outcome = r) },
      }),
    );
    await g.runtime.run({ until: () => outcome !== '', untilNs: g.machine.clock.nowNs + 5e9 });
    assert.equal(outcome, 'timeout');
    const wan = g.machine.segment('wan').tap.map((r) => decoded(r.frame));
    const syns = wan.filter(
      (d) => d?.transport?.protocol === 'tcp' && d.transport.segment.dstPort === 6667,
    ).length;
    const fromDbus = wan.filter(
      (d) => d?.transport?.protocol === 'tcp' && d.transport.segment.srcPort === 6667,
    );
    assert.equal(fromDbus.length, 0);
    const counters = await askFirewall(g, 'iptables-save -c');
    assert.equal(counterOf(counters, '-A INPUT -p tcp -m tcp --dport 6667 -j DROP')?.packets, syns);
    for (const name of ['firewall', 'firewall-doorbell', 'nic-driver']) {
      const p = g.runtime.partitions().find((x) => x.name === name);
      assert.equal(p?.restarts, 0, name);
      assert.equal(p?.exit, null, name);
    }
  } finally {
    await g.runtime.shutdown();
  }
});

test('malformed frames from the WAN are counted and dropped; the firewall and the driver keep serving', async () => {
  const g = startGateway({ normal: { entry: 'src/normal/rich-os/main.ts' } });
  try {
    await g.runtime.run({
      until: () => g.log('rich-os').some((l) => l.startsWith('net: listening')),
      untilNs: g.machine.clock.nowNs + 1e9,
    });
    const host = attachWanHost(g);
    const rng = new SeededRandom(0xbadf00d);
    const good = ipv4({ payload: tcp(0x02) });
    const goodBytes = encodeIpv4(good);
    const badChecksum = goodBytes.slice();
    badChecksum[10] = (badChecksum[10] ?? 0) ^ 0xff;
    const badVersion = goodBytes.slice();
    badVersion[0] = 0x65;
    const badIhl = goodBytes.slice();
    badIhl[0] = 0x43;
    const longTotal = goodBytes.slice();
    longTotal[2] = 0x07;
    const corpus: { name: string; frame: Uint8Array }[] = [
      { name: 'bad IPv4 checksum', frame: toGateway(EtherType.IPV4, badChecksum) },
      { name: 'IPv4 version 6', frame: toGateway(EtherType.IPV4, badVersion) },
      { name: 'IHL 3', frame: toGateway(EtherType.IPV4, badIhl) },
      { name: 'total length past the frame', frame: toGateway(EtherType.IPV4, longTotal) },
      { name: 'IPv4 header cut', frame: toGateway(EtherType.IPV4, goodBytes.slice(0, 12)) },
      {
        name: 'TCP header cut',
        frame: toGateway(EtherType.IPV4, encodeIpv4(ipv4({ payload: tcp(0x02).slice(0, 6) }))),
      },
      { name: 'SYN+FIN', frame: toGateway(EtherType.IPV4, encodeIpv4(ipv4({ payload: tcp(0x03) }))) },
      { name: 'no TCP flag', frame: toGateway(EtherType.IPV4, encodeIpv4(ipv4({ payload: tcp(0x00, 7) }))) },
      {
        name: 'ICMP cut',
        frame: toGateway(
          EtherType.IPV4,
          encodeIpv4(ipv4({ protocol: IpProtocol.ICMP, payload: Uint8Array.of(8) })),
        ),
      },
      { name: 'ARP cut', frame: toGateway(EtherType.ARP, Uint8Array.of(0, 1, 8, 0, 6)) },
      { name: 'IPv6', frame: toGateway(EtherType.IPV6, new Uint8Array(40)) },
      { name: 'unknown EtherType', frame: toGateway(0x88b5, new Uint8Array(46)) },
      {
        name: 'VLAN-tagged',
        frame: encodeEthernet({
          dst: GATEWAY_MAC,
          src: HOST_MAC,
          vlans: [{ tpid: 0x8100, pcp: 0, dei: false, vid: 7 }],
          etherType: EtherType.IPV4,
          payload: goodBytes,
        }),
      },
    ];
    for (let i = 0; i < 40; i++) {
      const payload = new Uint8Array(46 + rng.below(1454));
      for (let k = 0; k < payload.length; k++) payload[k] = rng.below(256);
      corpus.push({
        name: `random ${i}`,
        frame: toGateway(rng.below(2) ? EtherType.IPV4 : rng.below(65536), payload),
      });
    }
    const before = JSON.parse(await askFirewall(g, 'stats')) as { wan: Record<string, number> };
    for (const c of corpus) host.sendRaw(c.frame);
    await g.runtime.run({ untilNs: g.machine.clock.nowNs + 50e6 });
    const after = JSON.parse(await askFirewall(g, 'stats')) as { wan: Record<string, number> };
    const delta = (k: string) => (after.wan[k] ?? 0) - (before.wan[k] ?? 0);
    assert.equal(delta('frames'), corpus.length, 'every frame reached the firewall');
    assert.equal(delta('accepted'), 0, 'none passed');
    assert.equal(
      delta('malformed') + delta('notIpv4') + delta('dropped') + delta('rejected'),
      corpus.length,
      'each one counted once, as malformed, not IPv4, dropped or rejected',
    );
    assert.ok(delta('malformed') >= 7, `malformed: ${delta('malformed')}`);
    assert.ok(delta('notIpv4') >= 3, `not IPv4: ${delta('notIpv4')}`);

    // Both still serve: a ping and an HTTP request go through.
    let replies = 0;
    let http = '';
    host.act((s) => {
      for (let i = 1; i <= 2; i++)
        s.ping(GATEWAY, { sequence: i }, (r) => void (r.kind === 'reply' && replies++));
      const c = s.tcp.connect(GATEWAY, 80, {
        handlers: {
          onConnect: () =>
            host.act(() => c.ok && c.socket.send(new TextEncoder().encode('GET /after HTTP/1.0\r\n\r\n'))),
          onData: (d) => void (http += new TextDecoder().decode(d)),
        },
      });
    });
    await g.runtime.run({
      until: () => replies === 2 && http.includes('/after'),
      untilNs: g.machine.clock.nowNs + 5e9,
    });
    assert.equal(replies, 2);
    assert.match(http, /^HTTP\/1\.0 200 OK/);
    for (const name of ['firewall', 'nic-driver']) {
      const p = g.runtime.partitions().find((x) => x.name === name);
      assert.equal(p?.restarts, 0, name);
      assert.equal(p?.exit, null, name);
    }
  } finally {
    await g.runtime.shutdown();
  }
});

test('the firewall keeps serving while the Normal World floods it', async () => {
  const g = startGateway({
    normal: hostile({ seed: 5, calls: 0, floodIterations: 400, framesPerRound: 48 }),
  });
  try {
    await g.runtime.run({
      until: () => g.log('firewall').some((l) => l.includes('link to the Normal World up')),
      untilNs: g.machine.clock.nowNs + 1e9,
    });
    // In the middle of the flood: a WAN host's SYN to a closed port is answered by the firewall (RST).
    const host = attachWanHost(g);
    const outcomes: string[] = [];
    for (const port of [22, 23, 25])
      host.act((s) =>
        s.tcp.connect(GATEWAY, port, { handlers: { onClose: (r) => outcomes.push(`${port}:${r}`) } }),
      );
    await g.runtime.run({ until: () => outcomes.length === 3, untilNs: g.machine.clock.nowNs + 5e9 });
    assert.deepEqual(outcomes.sort(), ['22:refused', '23:refused', '25:refused']);
    const midFlood = JSON.parse(await askFirewall(g, 'stats')) as { normalWorld: Record<string, number> };
    await g.runtime.run({
      until: () => g.log('rich-os').some((l) => l.startsWith('flood:')),
      untilNs: g.machine.clock.nowNs + 60e9,
    });
    assert.ok(
      g.log('rich-os').some((l) => l.startsWith('flood:')),
      'the flood ran to its end',
    );
    assert.equal(
      g.log('rich-os').some((l) => l.startsWith('uncaught')),
      false,
    );
    const end = JSON.parse(await askFirewall(g, 'stats')) as {
      normalWorld: Record<string, number>;
      log: { logged: number; dropped: number };
    };
    assert.ok((end.normalWorld.frames ?? 0) > (midFlood.normalWorld.frames ?? 0));
    assert.ok(
      (end.normalWorld.frames ?? 0) >= 2000,
      `frames from the Normal World: ${end.normalWorld.frames}`,
    );
    assert.ok((end.normalWorld.spoofed ?? 0) > 0, 'frames with a forged source MAC were dropped');
    assert.ok(
      g.log('firewall').some((l) => /more log lines suppressed/.test(l)),
      'the log is rate-limited, the counters are not',
    );
    assert.ok(end.log.dropped > 0 && end.log.logged > 0, `log ring: ${JSON.stringify(end.log)}`);
    // Exactly what OUTPUT accepted reached the wire; nothing of the blocked port did.
    const counters = await askFirewall(g, 'iptables-save -c');
    const wan = g.machine.segment('wan').tap.map((r) => decoded(r.frame));
    const udpTo = (port: number) =>
      wan.filter(
        (d) =>
          d?.ipv4?.src === GATEWAY &&
          d.transport?.protocol === 'udp' &&
          d.transport.datagram.dstPort === port,
      ).length;
    assert.equal(udpTo(9999), 0);
    assert.equal(
      udpTo(5683),
      counterOf(counters, '-A OUTPUT -p udp -m multiport --dports 53,123,5683 -j ACCEPT')?.packets,
    );
    assert.ok(udpTo(5683) > 500, `CoAP datagrams forwarded: ${udpTo(5683)}`);
    for (const name of ['firewall', 'firewall-doorbell', 'nic-driver']) {
      const p = g.runtime.partitions().find((x) => x.name === name);
      assert.equal(p?.restarts, 0, name);
      assert.equal(p?.exit, null, name);
    }
  } finally {
    await g.runtime.shutdown();
  }
});

test('a signed ruleset that does not parse: the firewall fails closed, nothing crosses either way', async () => {
  const g = startGateway({
    normal: { entry: 'src/normal/rich-os/main.ts' },
    rules: '*filter\n:INPUT DROP [0:0]\n-A INPUT -m bogus -j ACCEPT\nCOMMIT\n',
  });
  try {
    await g.runtime.run({
      until: () => g.log('firewall').some((l) => l.includes('no valid ruleset')),
      untilNs: g.machine.clock.nowNs + 1e9,
    });
    assert.ok(
      g.log('firewall').some((l) => /^firewall: no valid ruleset \(.*bogus.*\): nothing passes$/.test(l)),
      g.log('firewall').join('\n'),
    );
    const host = attachWanHost(g);
    let ping = '';
    let http = '';
    host.act((s) => {
      s.ping(GATEWAY, { sequence: 1, timeoutNs: 1e9 }, (r) => (ping = r.kind));
      s.tcp.connect(GATEWAY, 80, {
        handlers: { onConnect: () => (http = 'connected'), onClose: (r) => (http = r) },
      });
    });
    await g.runtime.run({ until: () => ping !== '' && http !== '', untilNs: g.machine.clock.nowNs + 5e9 });
    assert.equal(ping, 'timeout');
    assert.equal(http, 'timeout');
    const fromGateway = g.machine
      .segment('wan')
      .tap.map((r) => decoded(r.frame))
      .filter((d) => d?.ipv4?.src === GATEWAY);
    assert.equal(fromGateway.length, 0, 'not one datagram of the gateway reached the wire');
    assert.equal(
      g.log('rich-os').some((l) => l.startsWith('http:')),
      false,
    );
  } finally {
    await g.runtime.shutdown();
  }
});
