/**
 * The firewall's tables are bounded as Linux bounds them, with counted drops, so that a flood costs the
 * flood and not the established connections: the connection table (nf_conntrack_max, early_drop), the
 * fragment queues (ipfrag_high_thresh / ipfrag_low_thresh, ipfrag_time).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EntryFilter, EntryFilterOptions } from '../../src/apps/firewall/filter.js';
import { CONNTRACK_TABLE_FULL, DEFAULT_CONNTRACK_MAX } from '../../src/lib/netfilter/conntrack.js';
import { EtherType, decodeEthernet, encodeEthernet } from '../../src/lib/net/ethernet.js';
import { decodeIpv4, encodeIpv4, IpProtocol } from '../../src/lib/net/ipv4.js';
import { encodeTcp } from '../../src/lib/net/tcp.js';
import { encodeUdp } from '../../src/lib/net/udp.js';
import { decodeIcmp, echoRest, encodeIcmp } from '../../src/lib/net/icmp.js';
import { fragmentIpv4 } from '../../src/lib/net/ipv4-fragments.js';
import { parseIpv4 } from '../../src/lib/net/address.js';
import { entryFilter, GW, GW_MAC, HOST, HOST_MAC, ipv4Packet } from '../helpers/entry-filter.js';

const S = 1_000_000_000n;

const filter = (options: EntryFilterOptions = {}) => entryFilter(options);

interface Seg {
  src: number;
  dst: number;
  sport: number;
  dport: number;
  flags: number;
  seq: number;
  ack?: number;
  data?: Uint8Array;
}

const tcpDatagram = (s: Seg) =>
  encodeIpv4(
    ipv4Packet({
      src: s.src,
      dst: s.dst,
      payload: encodeTcp(
        {
          srcPort: s.sport,
          dstPort: s.dport,
          seq: s.seq,
          ack: s.ack ?? 0,
          reserved: 0,
          flags: s.flags,
          window: 8192,
          urgentPointer: 0,
          options: [],
          payload: s.data ?? new Uint8Array(0),
        },
        { version: 4, src: s.src, dst: s.dst },
      ),
    }),
  );

const fromWan = (ip: Uint8Array, src = HOST_MAC) =>
  encodeEthernet({ dst: GW_MAC, src, vlans: [], etherType: EtherType.IPV4, payload: ip }, { pad: true });
const fromNormal = (ip: Uint8Array) =>
  encodeEthernet(
    { dst: HOST_MAC, src: GW_MAC, vlans: [], etherType: EtherType.IPV4, payload: ip },
    { pad: true },
  );

/** A WAN host's connection to the HTTP responder, through the three-way handshake (ASSURED). */
function establish(f: EntryFilter, sport: number, t: bigint) {
  const up = { src: HOST, dst: GW, sport, dport: 80 };
  const down = { src: GW, dst: HOST, sport: 80, dport: sport };
  assert.equal(f.process('wan', fromWan(tcpDatagram({ ...up, flags: 0x02, seq: 100 })), t).verdict, 'ACCEPT');
  const synAck = tcpDatagram({ ...down, flags: 0x12, seq: 500, ack: 101 });
  assert.equal(f.process('normal-world', fromNormal(synAck), t).verdict, 'ACCEPT');
  assert.equal(
    f.process('wan', fromWan(tcpDatagram({ ...up, flags: 0x10, seq: 101, ack: 501 })), t).verdict,
    'ACCEPT',
  );
  const request = new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n');
  return {
    request: (at: bigint) =>
      f.process('wan', fromWan(tcpDatagram({ ...up, flags: 0x18, seq: 101, ack: 501, data: request })), at),
  };
}

const spoofedSyn = (i: number) =>
  fromWan(
    tcpDatagram({
      src: (parseIpv4('10.0.0.0') + 1 + i) >>> 0,
      dst: GW,
      sport: 1024 + (i % 60000),
      dport: 80,
      flags: 0x02,
      seq: i,
    }),
  );

test('a SYN flood from many sources fills the connection table; early drop evicts the flood, the established connection keeps flowing', () => {
  const f = filter();
  const web = establish(f, 40000, 1n);
  const flood = DEFAULT_CONNTRACK_MAX + 2000;
  let accepted = 0;
  for (let i = 0; i < flood; i++)
    if (f.process('wan', spoofedSyn(i), 2n + BigInt(i)).verdict === 'ACCEPT') accepted++;
  const ct = f.firewall.conntrackStats();
  assert.ok(ct);
  assert.equal(ct.max, DEFAULT_CONNTRACK_MAX);
  assert.ok(ct.count <= ct.max, `table holds ${ct.count} of ${ct.max}`);
  assert.equal(accepted, flood, 'each SYN evicted an older unanswered one');
  assert.ok(ct.earlyDrop >= flood - DEFAULT_CONNTRACK_MAX, `early drops: ${ct.earlyDrop}`);
  assert.equal(ct.drop, 0);
  const r = web.request(BigInt(flood) + 10n);
  assert.equal(r.verdict, 'ACCEPT', r.log.join('\n'));
  assert.equal(r.forward.length, 1);
  assert.equal(f.counters.wan.internalErrors, 0);
});

test('a full table of ASSURED connections: the new flow is dropped and counted (CONNTRACK_TABLE_FULL), the old ones flow', () => {
  const f = filter({ conntrackOptions: { max: 4 } });
  const webs = [40001, 40002, 40003, 40004].map((port) => establish(f, port, 1n));
  const d = f.process('wan', spoofedSyn(1), 2n);
  assert.equal(d.verdict, 'DROP');
  assert.match(d.log[0] ?? '', new RegExp(`^DROP in=eth0 conntrack ${CONNTRACK_TABLE_FULL}: `));
  assert.equal(f.counters.wan.conntrackFull, 1);
  assert.equal(f.firewall.stats.conntrackFull, 1);
  assert.deepEqual(f.firewall.conntrackStats(), { count: 4, max: 4, earlyDrop: 0, drop: 1, expired: 0 });
  for (const w of webs) assert.equal(w.request(3n).verdict, 'ACCEPT');
  // Once they expire (ESTABLISHED: 5 days), the collector frees the table: new flows pass again.
  const later = 3n + 432_001n * S;
  f.firewall.expire(later);
  assert.equal(f.process('wan', spoofedSyn(2), later).verdict, 'ACCEPT');
  const after = f.firewall.conntrackStats();
  assert.ok(after && after.expired >= 1 && after.count <= 4, JSON.stringify(after));
});

test('expired connections are reclaimed a few at a time as packets come, not left in the table', () => {
  const f = filter();
  for (let i = 0; i < 500; i++) f.process('wan', spoofedSyn(i), 1n);
  assert.equal(f.firewall.conntrackStats()?.count, 500);
  // SYN_SENT lasts 120 s. Packets after that reclaim expired entries in bounded batches.
  const later = 200n * S;
  for (let i = 0; i < 200; i++)
    f.process(
      'wan',
      fromWan(tcpDatagram({ src: HOST, dst: GW, sport: 9, dport: 6667, flags: 0x02, seq: i })),
      later,
    );
  const ct = f.firewall.conntrackStats();
  assert.ok(ct && ct.count === 0 && ct.expired === 500, JSON.stringify(ct));
});

const echo = (identifier: number, data: Uint8Array) =>
  encodeIcmp({ type: 8, code: 0, rest: echoRest(identifier, 1), payload: data });

test('a stream of fragments that never complete keeps the fragment memory under ipfrag_high_thresh; pings, whole and fragmented, still pass', () => {
  const f = filter();
  const high = 4 * 1024 * 1024;
  for (let i = 0; i < 6000; i++) {
    // Each a first fragment of a different datagram, its rest never sent, from spoofed sources.
    const p = ipv4Packet({
      protocol: IpProtocol.UDP,
      src: (parseIpv4('10.1.0.0') + (i % 4096)) >>> 0,
      identification: i & 0xffff,
      moreFragments: true,
      payload: new Uint8Array(1480),
    });
    assert.equal(f.process('wan', fromWan(encodeIpv4(p)), BigInt(i) * 1000n).verdict, 'HELD');
    assert.ok(f.firewall.reassemblyStats().memory <= high);
  }
  const s = f.firewall.reassemblyStats();
  assert.ok(s.evicted > 1000, `evicted: ${s.evicted}`);
  assert.ok(s.memory <= high && s.memory > 0, `memory ${s.memory}`);
  assert.equal(f.counters.wan.internalErrors, 0);
  const t = 10_000_000n;
  const ping = ipv4Packet({
    protocol: IpProtocol.ICMP,
    identification: 1,
    payload: echo(1, new Uint8Array(56)),
  });
  assert.equal(f.process('wan', fromWan(encodeIpv4(ping)), t).verdict, 'ACCEPT');
  const big = ipv4Packet({
    protocol: IpProtocol.ICMP,
    identification: 2,
    payload: echo(2, new Uint8Array(3000)),
  });
  const outcomes = fragmentIpv4(big, 1500).map((p) => f.process('wan', fromWan(encodeIpv4(p)), t).verdict);
  assert.deepEqual(outcomes, ['HELD', 'HELD', 'ACCEPT']);
  // And 30 s later (ipfrag_time) the flood's queues are gone.
  f.firewall.expire(t + 31n * S);
  assert.deepEqual([f.firewall.reassemblyStats().queues, f.firewall.reassemblyStats().memory], [0, 0]);
  assert.ok(f.firewall.reassemblyStats().timeouts > 0);
});

test('a DF datagram larger than the inside link is dropped and answered with fragmentation needed (type 3 code 4, next-hop MTU), rate-limited', () => {
  const f = filter({ insideMtu: 1280 });
  const big = (id: number, df: boolean) =>
    fromWan(
      encodeIpv4(
        ipv4Packet({
          protocol: IpProtocol.ICMP,
          identification: id,
          dontFragment: df,
          payload: echo(id, new Uint8Array(1372)), // 1400 bytes in all
        }),
      ),
    );
  const outcomes = Array.from({ length: 8 }, (_, i) => f.process('wan', big(i + 1, true), 1n));
  for (const o of outcomes) {
    assert.equal(o.verdict, 'DROP');
    assert.deepEqual(o.forward, []);
  }
  const first = outcomes[0]!;
  assert.equal(first.reply.length, 1);
  const eth = decodeEthernet(first.reply[0]!);
  assert.deepEqual([...eth.dst], [...HOST_MAC]);
  const ip = decodeIpv4(eth.payload);
  assert.deepEqual([ip.src, ip.dst, ip.protocol], [GW, HOST, IpProtocol.ICMP]);
  const icmp = decodeIcmp(ip.payload);
  assert.deepEqual([icmp.type, icmp.code, icmp.rest], [3, 4, 1280]); // RFC 1191 §4: next-hop MTU
  // It quotes the datagram as far as a 576-byte reply goes: its header (identification 1) first.
  assert.equal(icmp.payload.length, 576 - 28);
  assert.deepEqual([icmp.payload[4], icmp.payload[5]], [0, 1]);
  assert.match(
    first.log.at(-1) ?? '',
    /^DROP in=eth0 fragmentation needed: DF set, 1400 bytes over MTU 1280: .* -> .*ICMP/,
  );
  // inet_peer_xrlim_allow: a burst of 6 to one destination, then one a second.
  assert.deepEqual(
    outcomes.map((o) => o.reply.length),
    [1, 1, 1, 1, 1, 1, 0, 0],
  );
  assert.match(outcomes[7]?.log.at(-1) ?? '', /\(ICMP rate-limited\)$/);
  assert.equal(f.counters.wan.fragNeeded, 8);
  assert.deepEqual(f.icmpLimiter.counters, { sent: 6, limited: 2 });
  assert.equal(f.process('wan', big(9, true), 1n + S).reply.length, 1);
  // Without DF it is fragmented to the inside MTU and passes.
  const ok = f.process('wan', big(10, false), 1n + 2n * S);
  assert.equal(ok.verdict, 'ACCEPT');
  assert.equal(ok.forward.length, 2);
  assert.ok(ok.forward.every((fr) => fr.length <= 1280 + 14));
  assert.equal(f.counters.wan.internalErrors, 0);
});

test('a DF datagram from the Normal World larger than the WAN link: fragmentation needed back to it, from its own address', () => {
  const f = filter({ wanMtu: 1400 });
  const d = encodeIpv4(
    ipv4Packet({
      protocol: IpProtocol.ICMP,
      src: GW,
      dst: HOST,
      dontFragment: true,
      payload: echo(3, new Uint8Array(1472)),
    }),
  );
  const o = f.process('normal-world', fromNormal(d), 1n);
  assert.equal(o.verdict, 'DROP');
  assert.deepEqual(o.forward, []);
  const ip = decodeIpv4(decodeEthernet(o.reply[0]!).payload);
  assert.deepEqual([ip.src, ip.dst], [GW, GW]);
  const icmp = decodeIcmp(ip.payload);
  assert.deepEqual([icmp.type, icmp.code, icmp.rest], [3, 4, 1400]);
  assert.deepEqual([f.counters['normal-world'].fragNeeded, f.counters['normal-world'].accepted], [1, 0]);
});

test('REJECT answers: ICMP port unreachable is rate-limited as icmp_send limits it, a TCP reset is not', () => {
  const rules = [
    '*filter',
    ':INPUT DROP [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    '-A INPUT -p udp -j REJECT --reject-with icmp-port-unreachable',
    '-A INPUT -p tcp -j REJECT --reject-with tcp-reset',
    '-A FORWARD -p udp -j REJECT --reject-with icmp-port-unreachable',
    '-A FORWARD -p tcp -j REJECT --reject-with tcp-reset',
    'COMMIT',
    '',
  ].join('\n');
  const f = entryFilter({}, rules);
  const udpDatagram = (sport: number) =>
    encodeIpv4(
      ipv4Packet({
        protocol: IpProtocol.UDP,
        payload: encodeUdp(
          { srcPort: sport, dstPort: 6667, payload: new Uint8Array(4) },
          { version: 4, src: HOST, dst: GW },
        ),
      }),
    );
  const udp = Array.from({ length: 8 }, (_, i) => f.process('wan', fromWan(udpDatagram(2000 + i)), 1n));
  for (const o of udp) assert.equal(o.verdict, 'REJECT');
  // inet_peer_xrlim_allow: a burst of 6 to one destination, then one a second.
  assert.deepEqual(
    udp.map((o) => o.reply.length),
    [1, 1, 1, 1, 1, 1, 0, 0],
  );
  const icmp = decodeIcmp(decodeIpv4(decodeEthernet(udp[0]!.reply[0]!).payload).payload);
  assert.deepEqual([icmp.type, icmp.code], [3, 3]);
  assert.match(udp[7]?.log.at(-1) ?? '', /^REJECT .*\(ICMP rate-limited\)$/);
  assert.deepEqual(f.icmpLimiter.counters, { sent: 6, limited: 2 });
  const tcp = Array.from({ length: 8 }, (_, i) =>
    f.process(
      'wan',
      fromWan(tcpDatagram({ src: HOST, dst: GW, sport: 3000 + i, dport: 6667, flags: 0x02, seq: i })),
      1n,
    ),
  );
  assert.deepEqual(
    tcp.map((o) => o.reply.length),
    [1, 1, 1, 1, 1, 1, 1, 1],
  );
  assert.equal(f.icmpLimiter.counters.limited, 2);
  // A second later the destination has earned one more.
  assert.equal(f.process('wan', fromWan(udpDatagram(2100)), 1n + S).reply.length, 1);
  assert.equal(f.counters.wan.internalErrors, 0);
});
