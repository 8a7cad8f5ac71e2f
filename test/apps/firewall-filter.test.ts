/** The firewall's packet path on its own (outside any partition), with the iot-gateway's ruleset. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtherType, decodeEthernet, encodeEthernet } from '../../src/lib/net/ethernet.js';
import { ArpOperation, encodeArp } from '../../src/lib/net/arp.js';
import { decodeIpv4, encodeIpv4, IpProtocol, type Ipv4Packet } from '../../src/lib/net/ipv4.js';
import { fragmentIpv4, Ipv4Reassembler } from '../../src/lib/net/ipv4-fragments.js';
import { decodeTcp, encodeTcp } from '../../src/lib/net/tcp.js';
import { encodeUdp } from '../../src/lib/net/udp.js';
import { counterOf } from '../../src/platform/demo-entry-point.js';
import { entryFilter, GW, GW_MAC, HOST, HOST_MAC, ipv4Packet } from '../helpers/entry-filter.js';

const filter = () => entryFilter();

const syn = (src: number, dst: number, dport: number) =>
  encodeTcp(
    {
      srcPort: 40000,
      dstPort: dport,
      seq: 5,
      ack: 0,
      reserved: 0,
      flags: 0x02,
      window: 1000,
      urgentPointer: 0,
      options: [],
      payload: new Uint8Array(0),
    },
    { version: 4, src, dst },
  );

const fromWan = (ip: Uint8Array) =>
  encodeEthernet(
    { dst: GW_MAC, src: HOST_MAC, vlans: [], etherType: EtherType.IPV4, payload: ip },
    { pad: true },
  );
const fromNormal = (ip: Uint8Array, src = GW_MAC) =>
  encodeEthernet({ dst: HOST_MAC, src, vlans: [], etherType: EtherType.IPV4, payload: ip }, { pad: true });

test('an allowed SYN passes as it came; a SYN to a closed port is rejected with a RST that leaves through OUTPUT', () => {
  const f = filter();
  const ok = fromWan(encodeIpv4(ipv4Packet({ payload: syn(HOST, GW, 80) })));
  const a = f.process('wan', ok, 1n);
  assert.equal(a.verdict, 'ACCEPT');
  assert.deepEqual(a.forward, [ok]);
  assert.deepEqual(a.log, []);
  const r = f.process('wan', fromWan(encodeIpv4(ipv4Packet({ payload: syn(HOST, GW, 22) }))), 2n);
  assert.equal(r.verdict, 'REJECT');
  assert.equal(r.forward.length, 0);
  assert.equal(r.reply.length, 1);
  const eth = decodeEthernet(r.reply[0] as Uint8Array);
  assert.deepEqual(eth.dst, HOST_MAC);
  assert.deepEqual(eth.src, GW_MAC);
  const rst = decodeTcp(decodeIpv4(eth.payload).payload);
  assert.equal(rst.flags & 0x04, 0x04);
  assert.match(r.log[0] ?? '', /^REJECT in=eth0 INPUT rule 8 \(line \d+\): .* -> .*TCP \[R\.\]/);
  const counters = f.firewall.save();
  assert.equal(
    counterOf(counters, '-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT')?.packets,
    1,
  );
});

test('the D-Bus port is dropped and logged twice (the LOG rule, then the drop)', () => {
  const f = filter();
  const d = f.process('wan', fromWan(encodeIpv4(ipv4Packet({ payload: syn(HOST, GW, 6667) }))), 1n);
  assert.equal(d.verdict, 'DROP');
  assert.equal(d.reply.length, 0);
  assert.match(
    d.log[0] ?? '',
    /^LOG dbus-blocked: IN=eth0 OUT= MAC=02:52:50:00:00:01:02:00:00:00:53:14:08:00 SRC=198\.51\.100\.20 DST=198\.51\.100\.10 .*DPT=6667/,
  );
  assert.match(d.log[1] ?? '', /^DROP in=eth0 INPUT rule 7 .*\.6667: TCP \[S\]/);
});

test('link layer: ARP passes, malformed ARP, IPv6, VLAN tags and forged source addresses do not', () => {
  const f = filter();
  const arp = encodeEthernet(
    {
      dst: Uint8Array.of(255, 255, 255, 255, 255, 255),
      src: HOST_MAC,
      vlans: [],
      etherType: EtherType.ARP,
      payload: encodeArp({
        hardwareType: 1,
        protocolType: EtherType.IPV4,
        operation: ArpOperation.REQUEST,
        senderHardware: HOST_MAC,
        senderProtocol: Uint8Array.of(198, 51, 100, 20),
        targetHardware: new Uint8Array(6),
        targetProtocol: Uint8Array.of(198, 51, 100, 10),
      }),
    },
    { pad: true },
  );
  assert.deepEqual(f.process('wan', arp, 1n).forward, [arp]);
  const cut = encodeEthernet({
    dst: GW_MAC,
    src: HOST_MAC,
    vlans: [],
    etherType: EtherType.ARP,
    payload: Uint8Array.of(0, 1),
  });
  assert.equal(f.process('wan', cut, 1n).verdict, 'DROP');
  const v6 = encodeEthernet({
    dst: GW_MAC,
    src: HOST_MAC,
    vlans: [],
    etherType: EtherType.IPV6,
    payload: new Uint8Array(40),
  });
  assert.match(f.process('wan', v6, 1n).log[0] ?? '', /EtherType 0x86dd not forwarded/);
  const tagged = encodeEthernet({
    dst: GW_MAC,
    src: HOST_MAC,
    vlans: [{ tpid: 0x8100, pcp: 0, dei: false, vid: 3 }],
    etherType: EtherType.IPV4,
    payload: encodeIpv4(ipv4Packet({ payload: syn(HOST, GW, 80) })),
  });
  assert.equal(f.process('wan', tagged, 1n).verdict, 'DROP');
  const forged = fromNormal(
    encodeIpv4(ipv4Packet({ src: GW, dst: HOST, payload: syn(GW, HOST, 443) })),
    HOST_MAC,
  );
  assert.match(
    f.process('normal-world', forged, 1n).log[0] ?? '',
    /source MAC 02:00:00:00:53:14 is not the interface's/,
  );
  assert.deepEqual(
    [
      f.counters.wan.arp,
      f.counters.wan.malformed,
      f.counters.wan.notIpv4,
      f.counters['normal-world'].spoofed,
    ],
    [1, 1, 2, 1],
  );
  assert.equal(f.process('wan', new Uint8Array(5), 1n).verdict, 'DROP');
  assert.equal(f.counters.wan.malformed, 2);
});

test('a fragmented datagram from the Normal World is judged whole and leaves as fragments of the MTU', () => {
  const f = filter();
  const data = new Uint8Array(4000).map((_, i) => i & 0xff);
  const whole = ipv4Packet({
    protocol: IpProtocol.UDP,
    src: GW,
    dst: HOST,
    identification: 99,
    payload: encodeUdp({ srcPort: 5000, dstPort: 5683, payload: data }, { version: 4, src: GW, dst: HOST }),
  });
  const fragments = fragmentIpv4(whole, 1500).map((p) => fromNormal(encodeIpv4(p)));
  assert.equal(fragments.length, 3);
  const outcomes = fragments.map((fr, i) => f.process('normal-world', fr, BigInt(i + 1)));
  assert.deepEqual(
    outcomes.map((o) => o.verdict),
    ['HELD', 'HELD', 'ACCEPT'],
  );
  const out = outcomes[2]?.forward ?? [];
  assert.ok(out.every((fr) => fr.length <= 1514));
  const r = new Ipv4Reassembler();
  let joined: Ipv4Packet | undefined;
  for (const fr of out) {
    const x = r.push(decodeIpv4(decodeEthernet(fr).payload), 10n);
    if (x.kind === 'complete') joined = x.packet;
  }
  assert.ok(joined);
  assert.deepEqual(joined.payload, whole.payload);
});

test('issue 12: fragments that reassemble past 65535 bytes are dropped; the next SYN still passes', () => {
  const f = filter();
  const udp = { protocol: IpProtocol.UDP, identification: 99 };
  const rr = [{ type: 0x07, data: new Uint8Array(37) }]; // 40 option bytes (RFC 791 §3.1)
  const frags = [
    ipv4Packet({ ...udp, fragmentOffset: 65000, payload: new Uint8Array(515) }),
    ipv4Packet({ ...udp, fragmentOffset: 8, moreFragments: true, payload: new Uint8Array(64992) }),
    ipv4Packet({ ...udp, moreFragments: true, options: rr, payload: new Uint8Array(8) }),
  ];
  for (const p of frags) assert.equal(f.process('wan', fromWan(encodeIpv4(p)), 1n).forward.length, 0);
  assert.equal(f.counters.wan.internalErrors, 0);
  const ok = f.process('wan', fromWan(encodeIpv4(ipv4Packet({ payload: syn(HOST, GW, 80) }))), 2n);
  assert.equal(ok.verdict, 'ACCEPT');
});

test('a frame whose handling throws is a counted, logged drop, and the next frame is handled', () => {
  const f = filter();
  const real = f.firewall.process.bind(f.firewall);
  f.firewall.process = () => {
    throw new RangeError('boom');
  };
  const bad = f.process('wan', fromWan(encodeIpv4(ipv4Packet({ payload: syn(HOST, GW, 80) }))), 1n);
  assert.equal(bad.verdict, 'DROP');
  assert.deepEqual(bad.forward, []);
  assert.match(bad.log[0] ?? '', /^DROP in=\S+ internal error on a \d+-byte frame: RangeError: boom$/);
  assert.equal(f.counters.wan.internalErrors, 1);
  f.firewall.process = real;
  const ok = f.process('wan', fromWan(encodeIpv4(ipv4Packet({ payload: syn(HOST, GW, 80) }))), 2n);
  assert.equal(ok.verdict, 'ACCEPT');
});
