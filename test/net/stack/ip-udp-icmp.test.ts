import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpv4 } from '../../../src/lib/net/address.js';
import { IpProtocol } from '../../../src/lib/net/ipv4.js';
import { EtherType } from '../../../src/lib/net/ethernet.js';
import { NetworkStack, type PingResult, type UdpMessage } from '../../../src/lib/net/stack/index.js';
import { A_IP, B_IP, equalBytes, pair, pattern } from './helpers.js';
import { RawPeer } from './raw-peer.js';

test('ping: echo request answered (RFC 792), reply with RTT and TTL', () => {
  const { sim, a } = pair({ link: { delayNs: 5e6 } });
  const results: PingResult[] = [];
  a.ping(B_IP, {}, (r) => results.push(r));
  sim.runFor(1e9);
  // ARP first (2 × 5 ms), then echo request and reply (2 × 5 ms).
  assert.deepEqual(results, [{ kind: 'reply', from: B_IP, sequence: 0, rttNs: 20e6, ttl: 64, bytes: 56 }]);
  const second = a.ping(B_IP);
  sim.runFor(1e9);
  assert.deepEqual(second.result, {
    kind: 'reply',
    from: B_IP,
    sequence: 1,
    rttNs: 10e6,
    ttl: 64,
    bytes: 56,
  });
});

test('ping: a host that does not answer ARP is unreachable; a lost reply times out', () => {
  const { sim, a } = pair({
    link: { delayNs: 1e6, filter: (f) => !(f[12] === 8 && f[13] === 0 && f[34] === 0) },
  });
  const none = a.ping(parseIpv4('10.0.0.77'), { timeoutNs: 10e9 });
  const lost = a.ping(B_IP, { timeoutNs: 500e6 });
  sim.runFor(5e9);
  assert.deepEqual(none.result, { kind: 'unreachable', sequence: 0, from: A_IP, code: 1 });
  assert.deepEqual(lost.result, { kind: 'timeout', sequence: 1 });
  // Three requests, one second apart (ArpOptions defaults).
  assert.equal(a.stats().arp.requestsOut, 4);
  assert.equal(a.stats().arp.resolutionFailed, 1);
});

test('ping beyond the subnet without a gateway: no route', () => {
  const { a } = pair();
  const r = a.ping('192.0.2.1');
  assert.equal(r.result?.kind, 'no-route');
});

test('UDP: datagrams both ways, pull and callback modes', () => {
  const { sim, a, b } = pair();
  const got: UdpMessage[] = [];
  const bound = b.udp.bind(53, { onMessage: (m) => got.push(m) });
  assert.ok(bound.ok);
  const client = a.udp.bind();
  assert.ok(client.ok);
  assert.ok(client.socket.localPort >= 49152);
  assert.deepEqual(client.socket.sendTo(B_IP, 53, Uint8Array.of(1, 2, 3)), { ok: true });
  sim.runFor(1e9);
  assert.equal(got.length, 1);
  assert.equal(got[0]?.from, A_IP);
  assert.equal(got[0]?.fromPort, client.socket.localPort);
  assert.ok(equalBytes(got[0]?.payload ?? new Uint8Array(), Uint8Array.of(1, 2, 3)));
  bound.socket.sendTo(A_IP, client.socket.localPort, Uint8Array.of(9));
  sim.runFor(1e9);
  assert.equal(client.socket.pending, 1);
  assert.deepEqual(client.socket.receive()?.payload, Uint8Array.of(9));
  assert.equal(client.socket.receive(), undefined);
  assert.equal(b.udp.bind(53).ok, false);
});

test('UDP to a closed port: ICMP port unreachable comes back to the sending socket (RFC 1122 §4.1.3.1)', () => {
  const { sim, a, b } = pair();
  const s = a.udp.bind(4000);
  assert.ok(s.ok);
  s.socket.sendTo(B_IP, 9, pattern(20));
  sim.runFor(1e9);
  const [err] = s.socket.takeErrors();
  assert.ok(err);
  assert.equal(err.type, 3);
  assert.equal(err.code, 3);
  assert.equal(err.from, B_IP);
  assert.equal(b.stats().udp.noPort, 1);
  assert.equal(b.stats().icmp.errorsOut, 1);
});

test('UDP datagrams larger than the MTU are fragmented and reassembled (RFC 791 §3.2)', () => {
  const { sim, a, b } = pair({ a: { mtu: 576 }, b: { mtu: 576 } });
  const got: UdpMessage[] = [];
  b.udp.bind(7, { onMessage: (m) => got.push(m) });
  const s = a.udp.bind();
  assert.ok(s.ok);
  const big = pattern(5000);
  assert.deepEqual(s.socket.sendTo(B_IP, 7, big), { ok: true });
  sim.runFor(1e9);
  assert.equal(got.length, 1);
  assert.ok(equalBytes(got[0]?.payload ?? new Uint8Array(), big));
  // 5008 bytes of UDP in 552-byte pieces (576 − 20, down to a multiple of 8).
  assert.equal(a.stats().ipv4.fragmentsOut, 10);
  assert.equal(b.stats().ipv4.reassembled, 1);
});

test('fragments with one missing expire after the reassembly timeout', () => {
  let n = 0;
  const { sim, a, b } = pair({ link: { delayNs: 1e6, filter: (f) => !(f.length > 500 && ++n === 2) } });
  b.udp.bind(7);
  const s = a.udp.bind();
  assert.ok(s.ok);
  s.socket.sendTo(B_IP, 7, pattern(3000));
  sim.runFor(40e9);
  assert.equal(b.stats().ipv4.reassembled, 0);
  assert.equal(b.stats().ipv4.reassemblyTimeouts, 1);
});

test('unknown IP protocol: ICMP protocol unreachable; malformed frames are counted, never thrown', () => {
  const stack = new NetworkStack({ mac: '02:00:00:00:00:01', ipv4: { address: A_IP, prefixLength: 24 } });
  const peer = new RawPeer(stack, parseIpv4('10.0.0.9'));
  peer.ip(IpProtocol.SCTP, pattern(40));
  const [reply] = peer.take();
  assert.equal(reply?.transport?.protocol, 'icmp');
  if (reply?.transport?.protocol === 'icmp') assert.equal(reply.transport.message.code, 2);
  for (let i = 0; i < 200; i++) {
    const junk = pattern(i, i);
    peer.inject(EtherType.IPV4, junk);
    peer.inject(EtherType.ARP, junk);
    peer.ip(IpProtocol.TCP, junk);
    peer.ip(IpProtocol.UDP, junk);
    peer.ip(IpProtocol.ICMP, junk);
  }
  const s = stack.stats();
  assert.ok(s.ipv4.malformed > 0 && s.arp.malformed > 0);
  assert.ok(s.tcp.malformed + s.tcp.badChecksum > 0 && s.udp.malformed + s.udp.badChecksum > 0);
});

test('ARP: a request for us is answered and the requester learned (RFC 826)', () => {
  const stack = new NetworkStack({ mac: '02:00:00:00:00:01', ipv4: { address: A_IP, prefixLength: 24 } });
  const peer = new RawPeer(stack, parseIpv4('10.0.0.9'));
  assert.deepEqual(
    stack.arp.entries().map((e) => [e.address, e.mac]),
    [['10.0.0.9', '02:00:00:00:00:99']],
  );
  void peer;
  // The reply went out when the RawPeer introduced itself; entries expire after the cache TTL.
  stack.tick(61_000_000_000n);
  assert.deepEqual(stack.arp.entries(), []);
});

test('a gateway carries traffic off the subnet: ARP resolves the gateway, not the destination', () => {
  const { sim, a, b } = pair({ a: { ipv4: { address: A_IP, prefixLength: 24, gateway: B_IP } } });
  const far = parseIpv4('198.51.100.7');
  const s = a.udp.bind();
  assert.ok(s.ok);
  s.socket.sendTo(far, 9, pattern(10));
  sim.runFor(1e9);
  // b got a datagram that is not for it (a host does not forward), and a learned b's MAC.
  assert.equal(b.stats().ipv4.notForUs, 1);
  assert.deepEqual(
    a.arp.entries().map((e) => e.address),
    ['10.0.0.2'],
  );
});
