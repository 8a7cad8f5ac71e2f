import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IcmpRateLimiter, fragmentationNeeded, icmpErrorDatagram } from '../../src/lib/net/icmp-error.js';
import { decodeIcmp, encodeIcmp, icmpChecksumOk } from '../../src/lib/net/icmp.js';
import { decodeIpv4, encodeIpv4, type Ipv4Packet } from '../../src/lib/net/ipv4.js';

const S = 1_000_000_000n;
const ip: Ipv4Packet = {
  dscp: 0,
  ecn: 0,
  identification: 9,
  reservedFlag: false,
  dontFragment: true,
  moreFragments: false,
  fragmentOffset: 0,
  ttl: 64,
  protocol: 17,
  src: 0x0a000001,
  dst: 0x0a000002,
  options: [],
  payload: new Uint8Array(1000),
};

test('fragmentation needed: type 3 code 4, the next-hop MTU in the low 16 bits, the datagram quoted to 576 bytes', () => {
  const bytes = encodeIpv4(ip);
  const reply = fragmentationNeeded(bytes, ip, 1280);
  assert.ok(reply);
  const out = decodeIpv4(reply);
  assert.deepEqual([out.src, out.dst, out.protocol, out.ttl, reply.length], [ip.dst, ip.src, 1, 64, 576]);
  assert.ok(icmpChecksumOk(out.payload));
  const m = decodeIcmp(out.payload);
  assert.deepEqual([m.type, m.code, m.rest], [3, 4, 1280]);
  assert.deepEqual(m.payload, bytes.subarray(0, 548));
});

test('no ICMP error about an ICMP error, a later fragment, or a broadcast or multicast datagram', () => {
  const unreachable = encodeIcmp({ type: 3, code: 1, rest: 0, payload: new Uint8Array(28) });
  const cases: Ipv4Packet[] = [
    { ...ip, protocol: 1, payload: unreachable },
    { ...ip, fragmentOffset: 8 },
    { ...ip, dst: 0xffffffff },
    { ...ip, dst: 0xe0000001 },
    { ...ip, src: 0 },
  ];
  for (const p of cases)
    assert.equal(icmpErrorDatagram({ type: 3, code: 4, datagram: encodeIpv4(p), ip: p }), undefined);
  const echo = {
    ...ip,
    protocol: 1,
    payload: encodeIcmp({ type: 8, code: 0, rest: 1, payload: new Uint8Array(8) }),
  };
  assert.ok(icmpErrorDatagram({ type: 3, code: 4, datagram: encodeIpv4(echo), ip: echo }));
});

test('rate limit: 6 at once per destination then one a second; 50 at once for all, then 1000 a second', () => {
  const r = new IcmpRateLimiter();
  const one = Array.from({ length: 10 }, () => r.allow(1, 0n));
  assert.deepEqual(one, [true, true, true, true, true, true, false, false, false, false]);
  assert.equal(r.allow(1, S / 2n), false);
  assert.equal(r.allow(1, S), true);
  assert.equal(r.allow(1, S), false);
  const many = new IcmpRateLimiter();
  let sent = 0;
  for (let d = 0; d < 200; d++) if (many.allow(d, 0n)) sent++;
  assert.equal(sent, 50);
  assert.equal(many.allow(500, S / 1000n), true); // a millisecond refills one
  assert.equal(many.allow(501, S / 1000n), false);
  assert.deepEqual(many.counters, { sent: 51, limited: 151 });
});

test('the rate limiter forgets the least recently used destination beyond its bound', () => {
  const r = new IcmpRateLimiter({ maxPeers: 2, msgsBurst: 1000 });
  for (let i = 0; i < 6; i++) r.allow(1, 0n);
  assert.equal(r.allow(1, 0n), false);
  r.allow(2, 0n);
  r.allow(3, 0n); // 1 is forgotten: it starts again with a full burst
  assert.equal(r.allow(1, 0n), true);
});
