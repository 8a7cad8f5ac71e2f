import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { rec } from './arbitraries.js';

import {
  formatIpv4,
  formatIpv6,
  formatMac,
  parseIpv4,
  parseIpv6,
  parseMac,
} from '../../src/lib/net/address.js';
import { decodeArp, encodeArp } from '../../src/lib/net/arp.js';
import { EtherType, decodeEthernet, encodeEthernet } from '../../src/lib/net/ethernet.js';
import {
  decodeIcmp,
  decodeIcmpv6,
  encodeIcmp,
  encodeIcmpv6,
  icmpChecksumOk,
  icmpv6ChecksumOk,
} from '../../src/lib/net/icmp.js';
import { IpProtocol, decodeIpv4, encodeIpv4 } from '../../src/lib/net/ipv4.js';
import { decodeIpv6, encodeIpv6 } from '../../src/lib/net/ipv6.js';
import { decodeFrame } from '../../src/lib/net/packet.js';
import { decodeTcp, encodeTcp, tcpChecksumOk } from '../../src/lib/net/tcp.js';
import { decodeUdp, encodeUdp, udpChecksumOk } from '../../src/lib/net/udp.js';
import { PacketError, type PseudoHeader, internetChecksum } from '../../src/lib/net/wire.js';
import * as gen from './arbitraries.js';

const runs = { seed: gen.SEED, numRuns: 300 };

test('RFC 1071 checksum of the example words', () => {
  // RFC 1071 §3 worked example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum 220d.
  assert.equal(internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7)), 0x220d);
});

test('addresses: text forms round-trip', () => {
  assert.equal(formatMac(parseMac('02:00:5E:10:00:01')), '02:00:5e:10:00:01');
  assert.equal(formatIpv4(parseIpv4('192.168.1.254')), '192.168.1.254');
  assert.throws(() => parseIpv4('1.2.3.256'), /not an IPv4 address/);
  assert.equal(formatIpv6(parseIpv6('2001:DB8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
  assert.equal(formatIpv6(parseIpv6('::ffff:192.0.2.1')), '::ffff:c000:201');
  assert.equal(formatIpv6(parseIpv6('::')), '::');
  assert.equal(formatIpv6(parseIpv6('fe80::1')), 'fe80::1');
  assert.throws(() => parseIpv6('1::2::3'), /not an IPv6 address/);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (a) => {
      assert.deepEqual(parseIpv6(formatIpv6(a)), a);
    }),
    runs,
  );
  fc.assert(
    fc.property(gen.u32, (a) => assert.equal(parseIpv4(formatIpv4(a)), a)),
    runs,
  );
});

test('Ethernet with 802.1Q tags round-trips', () => {
  fc.assert(
    fc.property(gen.ethernet, (f) => {
      const bytes = encodeEthernet(f);
      assert.deepEqual(decodeEthernet(bytes), f);
      assert.deepEqual(encodeEthernet(decodeEthernet(bytes)), bytes);
    }),
    runs,
  );
  const padded = encodeEthernet(
    {
      dst: new Uint8Array(6),
      src: new Uint8Array(6),
      vlans: [],
      etherType: 0x0800,
      payload: new Uint8Array(4),
    },
    { pad: true },
  );
  assert.equal(padded.length, 60);
});

test('ARP round-trips', () => {
  fc.assert(
    fc.property(gen.arp, (p) => assert.deepEqual(decodeArp(encodeArp(p)), p)),
    runs,
  );
});

test('IPv4 with options round-trips and its checksum verifies', () => {
  fc.assert(
    fc.property(gen.ipv4, (p) => {
      fc.pre(p.fragmentOffset + p.payload.length <= 65535);
      const bytes = encodeIpv4(p);
      assert.equal(internetChecksum(bytes, 0, ((bytes[0] ?? 0) & 15) * 4), 0);
      assert.deepEqual(decodeIpv4(bytes), p);
      assert.deepEqual(encodeIpv4(decodeIpv4(bytes)), bytes);
    }),
    runs,
  );
});

test('IPv6 with extension header chains round-trips', () => {
  fc.assert(
    fc.property(gen.ipv6, (p) => {
      const bytes = encodeIpv6(p);
      assert.deepEqual(decodeIpv6(bytes), p);
      assert.deepEqual(encodeIpv6(decodeIpv6(bytes)), bytes);
    }),
    runs,
  );
});

const pseudo4: fc.Arbitrary<PseudoHeader> = rec({
  version: fc.constant(4 as const),
  src: gen.u32,
  dst: gen.u32,
});
const pseudo6 = rec({
  version: fc.constant(6 as const),
  src: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  dst: fc.uint8Array({ minLength: 16, maxLength: 16 }),
});
const pseudo = fc.oneof(pseudo4, pseudo6);

test('TCP with options round-trips and its pseudo-header checksum verifies', () => {
  fc.assert(
    fc.property(gen.tcp, pseudo, (s, ph) => {
      const bytes = encodeTcp(s, ph);
      assert.ok(tcpChecksumOk(bytes, ph));
      assert.deepEqual(decodeTcp(bytes), s);
      assert.deepEqual(encodeTcp(decodeTcp(bytes), ph), bytes);
      // Any single flipped bit breaks the checksum.
      const bad = bytes.slice();
      bad[bad.length >> 1]! ^= 0x10;
      assert.ok(!tcpChecksumOk(bad, ph));
    }),
    runs,
  );
});

test('UDP round-trips; the checksum is optional on IPv4 only', () => {
  fc.assert(
    fc.property(gen.udp, pseudo, (d, ph) => {
      const bytes = encodeUdp(d, ph);
      assert.ok(udpChecksumOk(bytes, ph));
      assert.deepEqual(decodeUdp(bytes), d);
      const none = encodeUdp(d, ph, { checksum: false });
      assert.equal(udpChecksumOk(none, ph), ph.version === 4);
    }),
    runs,
  );
});

test('ICMP and ICMPv6 round-trip with checksums', () => {
  fc.assert(
    fc.property(gen.icmp, pseudo6, (m, ph) => {
      const v4 = encodeIcmp(m);
      assert.ok(icmpChecksumOk(v4));
      assert.deepEqual(decodeIcmp(v4), m);
      const v6 = encodeIcmpv6(m, ph);
      assert.ok(icmpv6ChecksumOk(v6, ph));
      assert.deepEqual(decodeIcmpv6(v6), m);
    }),
    runs,
  );
});

test('decodeFrame peels Ethernet, IPv4 and TCP and reports checksum verdicts', () => {
  fc.assert(
    fc.property(gen.tcp, gen.u32, gen.u32, (s, src, dst) => {
      const ph: PseudoHeader = { version: 4, src, dst };
      const ip = encodeIpv4({
        dscp: 0,
        ecn: 0,
        identification: 1,
        reservedFlag: false,
        dontFragment: true,
        moreFragments: false,
        fragmentOffset: 0,
        ttl: 64,
        protocol: IpProtocol.TCP,
        src,
        dst,
        options: [],
        payload: encodeTcp(s, ph),
      });
      const frame = encodeEthernet(
        { dst: new Uint8Array(6), src: new Uint8Array(6), vlans: [], etherType: EtherType.IPV4, payload: ip },
        { pad: true },
      );
      const d = decodeFrame(frame, 1);
      assert.equal(d.networkOffset, 14);
      assert.equal(d.transport?.protocol, 'tcp');
      assert.ok(d.transport?.checksumOk);
      if (d.transport?.protocol === 'tcp') assert.deepEqual(d.transport.segment, s);
    }),
    runs,
  );
});

function expectPacketError(fn: () => unknown, code: string, offset: number, field?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PacketError, `expected PacketError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.location.offset, offset);
    if (field !== undefined) assert.equal(e.location.field, field);
    return true;
  });
}

const sampleIpv4 = () =>
  encodeIpv4({
    dscp: 0,
    ecn: 0,
    identification: 7,
    reservedFlag: false,
    dontFragment: false,
    moreFragments: false,
    fragmentOffset: 0,
    ttl: 64,
    protocol: 17,
    src: 0x0a000001,
    dst: 0x0a000002,
    options: [
      { type: 1, data: new Uint8Array(0) },
      { type: 0x94, data: Uint8Array.of(0, 0) },
      { type: 0, data: new Uint8Array(0) },
    ],
    payload: encodeUdp(
      { srcPort: 1, dstPort: 2, payload: Uint8Array.of(1, 2, 3) },
      { version: 4, src: 0x0a000001, dst: 0x0a000002 },
    ),
  });

test('malformed IPv4 headers name the field and offset', () => {
  const good = sampleIpv4();
  expectPacketError(() => decodeIpv4(good.subarray(0, 10)), 'IPV4_TRUNCATED', 10);
  const v = good.slice();
  v[0] = 0x55;
  expectPacketError(() => decodeIpv4(v), 'IPV4_BAD_VERSION', 0, 'ipv4.version');
  const ihl = good.slice();
  ihl[0] = 0x44;
  expectPacketError(() => decodeIpv4(ihl), 'IPV4_BAD_IHL', 0, 'ipv4.ihl');
  const len = good.slice();
  len[2] = 0;
  len[3] = 10;
  expectPacketError(() => decodeIpv4(len), 'IPV4_BAD_LENGTH', 2, 'ipv4.totalLength');
  expectPacketError(() => decodeIpv4(good.subarray(0, good.length - 1)), 'IPV4_TRUNCATED', 2);
  const sum = good.slice();
  sum[8] = 1;
  expectPacketError(() => decodeIpv4(sum), 'IPV4_BAD_CHECKSUM', 10, 'ipv4.checksum');
  // Option 0x94 (router alert) with length 9 overruns the 24-byte header; offsets are from the frame start.
  const opt = good.slice();
  opt[22] = 9;
  expectPacketError(
    () => decodeIpv4(opt, 14, { verifyChecksum: false }),
    'IPV4_BAD_OPTION',
    14 + 22,
    'ipv4.options',
  );
});

test('malformed transport headers name the field and offset', () => {
  const tcpBytes = encodeTcp(
    {
      srcPort: 1,
      dstPort: 2,
      seq: 0,
      ack: 0,
      reserved: 0,
      flags: 2,
      window: 0,
      urgentPointer: 0,
      options: [{ type: 'mss', mss: 1460 }],
      payload: new Uint8Array(0),
    },
    { version: 4, src: 1, dst: 2 },
  );
  expectPacketError(() => decodeTcp(tcpBytes.subarray(0, 19), 34), 'TCP_TRUNCATED', 34 + 19);
  const off = tcpBytes.slice();
  off[12] = 0x40;
  expectPacketError(() => decodeTcp(off, 34), 'TCP_BAD_OFFSET', 34 + 12, 'tcp.dataOffset');
  const offBig = tcpBytes.slice();
  offBig[12] = 0xf0;
  expectPacketError(() => decodeTcp(offBig, 34), 'TCP_TRUNCATED', 34 + 12, 'tcp.dataOffset');
  const mss = tcpBytes.slice();
  mss[21] = 3;
  expectPacketError(() => decodeTcp(mss, 34), 'TCP_BAD_OPTION', 34 + 21, 'tcp.options');
  const udpBytes = encodeUdp(
    { srcPort: 1, dstPort: 2, payload: new Uint8Array(4) },
    { version: 4, src: 1, dst: 2 },
  );
  const ul = udpBytes.slice();
  ul[5] = 4;
  expectPacketError(() => decodeUdp(ul, 34), 'UDP_BAD_LENGTH', 38, 'udp.length');
  ul[5] = 200;
  expectPacketError(() => decodeUdp(ul, 34), 'UDP_TRUNCATED', 38, 'udp.length');
  expectPacketError(() => decodeIcmp(new Uint8Array(7), 34), 'ICMP_TRUNCATED', 41);
});

test('malformed IPv6 headers name the field and offset', () => {
  const p = encodeIpv6({
    trafficClass: 0,
    flowLabel: 0,
    hopLimit: 64,
    src: new Uint8Array(16),
    dst: new Uint8Array(16),
    extensions: [{ kind: 'generic', type: 60, data: new Uint8Array(6) }],
    protocol: 59,
    payload: new Uint8Array(0),
  });
  expectPacketError(() => decodeIpv6(p.subarray(0, 39)), 'IPV6_TRUNCATED', 39);
  const len = p.slice();
  len[41] = 3;
  expectPacketError(() => decodeIpv6(len), 'IPV6_TRUNCATED', 41, 'ipv6.extensions');
  const hbh = p.slice();
  hbh[40] = 0; // destination options followed by hop-by-hop
  expectPacketError(() => decodeIpv6(hbh), 'IPV6_BAD_EXTENSION_ORDER', 48, 'ipv6.extensions');
});

test('malformed frames of every kind throw PacketError, never anything else', () => {
  const frames = fc.oneof(
    gen.ethernet.map((f) => ({ link: 1, bytes: encodeEthernet(f) })),
    fc.tuple(gen.ipv4, gen.tcp).map(([p, s]) => ({
      link: 101,
      bytes: encodeIpv4({
        ...p,
        fragmentOffset: 0,
        moreFragments: false,
        protocol: 6,
        payload: encodeTcp(s, { version: 4, src: p.src, dst: p.dst }),
      }),
    })),
    fc.tuple(gen.ipv4, gen.udp).map(([p, d]) => ({
      link: 101,
      bytes: encodeIpv4({
        ...p,
        fragmentOffset: 0,
        moreFragments: false,
        protocol: 17,
        payload: encodeUdp(d, { version: 4, src: p.src, dst: p.dst }),
      }),
    })),
    fc.tuple(gen.ipv4, gen.icmp).map(([p, m]) => ({
      link: 101,
      bytes: encodeIpv4({
        ...p,
        fragmentOffset: 0,
        moreFragments: false,
        protocol: 1,
        payload: encodeIcmp(m),
      }),
    })),
    gen.ipv6.map((p) => ({ link: 101, bytes: encodeIpv6(p) })),
    gen.arp.map((a) => ({
      link: 1,
      bytes: encodeEthernet({
        dst: new Uint8Array(6),
        src: new Uint8Array(6),
        vlans: [],
        etherType: 0x0806,
        payload: encodeArp(a),
      }),
    })),
  );
  const mutation = rec({
    cut: fc.nat({ max: 80 }),
    flips: fc.array(rec({ at: fc.nat(), value: gen.u8 }), { maxLength: 4 }),
  });
  let errors = 0;
  fc.assert(
    fc.property(frames, mutation, ({ link, bytes }, { cut, flips }) => {
      const b = bytes.slice(0, Math.max(0, bytes.length - cut));
      for (const { at, value } of flips) if (b.length > 0) b[at % b.length] = value;
      try {
        decodeFrame(b, link);
      } catch (e) {
        assert.ok(e instanceof PacketError, `non-PacketError ${String(e)}`);
        assert.ok(
          typeof e.location.offset === 'number' && e.location.offset >= 0 && e.location.offset <= b.length,
        );
        errors++;
      }
    }),
    { seed: gen.SEED, numRuns: 5000 },
  );
  // The mutations must actually reach the error paths.
  assert.ok(errors > 500, `only ${errors} malformed frames rejected`);
});
