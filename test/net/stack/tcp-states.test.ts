import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIpv4 } from '../../../src/lib/net/address.js';
import { TcpFlags } from '../../../src/lib/net/tcp.js';
import { NetworkStack, type TcpSocket, type TcpState } from '../../../src/lib/net/stack/index.js';
import { A_IP, B_IP, collect, equalBytes, pair, pattern, states } from './helpers.js';
import { RawPeer } from './raw-peer.js';

const { FIN, SYN, RST, ACK } = TcpFlags;
const PEER = parseIpv4('10.0.0.9');

function lone(tcp: ConstructorParameters<typeof NetworkStack>[0]['tcp'] = {}) {
  const stack = new NetworkStack({
    mac: '02:00:00:00:00:01',
    ipv4: { address: A_IP, prefixLength: 24 },
    seed: 7,
    tcp,
  });
  return { stack, peer: new RawPeer(stack, PEER) };
}

/** Opens a connection a → b and returns both ends with their recorded states. */
function open(options: Parameters<typeof pair>[0] = {}) {
  const net = pair(options);
  let server: TcpSocket | undefined;
  let serverStates: TcpState[] = [];
  const passive: TcpState[] = [];
  net.b.tcp.onStateChange = (c) => {
    if (c.tuple.localPort === 80) passive.push(c.to);
  };
  const l = net.b.tcp.listen(80, {
    onAccept(s) {
      server = s;
      serverStates = states(s);
    },
  });
  assert.ok(l.ok);
  const c = net.a.tcp.connect(B_IP, 80);
  assert.ok(c.ok);
  const clientStates = states(c.socket);
  assert.ok(net.sim.runUntil(() => server !== undefined && c.socket.state === 'ESTABLISHED', 10e9));
  return {
    ...net,
    client: c.socket,
    server: server as TcpSocket,
    clientStates,
    serverStates: () => serverStates,
    passive,
  };
}

test('three-way handshake: SYN-SENT → ESTABLISHED and LISTEN → SYN-RECEIVED → ESTABLISHED', () => {
  const { client, clientStates, passive, a } = open();
  assert.deepEqual(clientStates, ['SYN-SENT', 'ESTABLISHED']);
  assert.deepEqual(passive, ['SYN-RECEIVED', 'ESTABLISHED']);
  assert.equal(client.localAddress, A_IP);
  assert.equal(a.stats().tcp.retransmittedSegments, 0);
});

test('active close first: FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT → CLOSED; passive side CLOSE-WAIT → LAST-ACK', () => {
  const { sim, a, b, client, server, clientStates, serverStates } = open();
  const closes: string[] = [];
  client.handlers = { ...client.handlers, onClose: (r) => closes.push(`client:${r}`) };
  server.handlers = {
    ...server.handlers,
    onClose: (r) => closes.push(`server:${r}`),
    onEnd: () => server.close(),
  };
  client.close();
  assert.ok(sim.runUntil(() => server.state === 'CLOSED', 10e9));
  assert.equal(client.state, 'TIME-WAIT');
  assert.equal(a.tcp.connectionCount, 1);
  // TIME-WAIT lasts timeWaitNs (1 s in these tests), then the TCB goes.
  sim.runFor(1.1e9);
  assert.equal(client.state, 'CLOSED');
  assert.equal(a.tcp.connectionCount, 0);
  assert.equal(b.tcp.connectionCount, 0);
  assert.deepEqual(clientStates, [
    'SYN-SENT',
    'ESTABLISHED',
    'FIN-WAIT-1',
    'FIN-WAIT-2',
    'TIME-WAIT',
    'CLOSED',
  ]);
  assert.deepEqual(serverStates(), ['ESTABLISHED', 'CLOSE-WAIT', 'LAST-ACK', 'CLOSED']);
  assert.deepEqual(closes.sort(), ['client:closed', 'server:closed']);
});

test('simultaneous close: both FIN-WAIT-1 → CLOSING → TIME-WAIT', () => {
  const { sim, client, server, clientStates, serverStates } = open();
  client.close();
  server.close();
  sim.runFor(0.5e9);
  assert.equal(client.state, 'TIME-WAIT');
  assert.equal(server.state, 'TIME-WAIT');
  assert.deepEqual(clientStates, ['SYN-SENT', 'ESTABLISHED', 'FIN-WAIT-1', 'CLOSING', 'TIME-WAIT']);
  assert.deepEqual(serverStates(), ['ESTABLISHED', 'FIN-WAIT-1', 'CLOSING', 'TIME-WAIT']);
});

test('half-close: the side that closed first keeps receiving until the peer closes', () => {
  const { sim, client, server } = open();
  const got = collect(client);
  client.close();
  sim.runFor(0.1e9);
  assert.equal(client.state, 'FIN-WAIT-2');
  const data = pattern(50_000);
  assert.ok(server.send(data).ok);
  server.close();
  assert.ok(sim.runUntil(() => got.ended(), 10e9));
  assert.ok(equalBytes(got.bytes(), data));
  assert.equal(client.state, 'TIME-WAIT');
});

test('simultaneous open: SYN-SENT → SYN-RECEIVED → ESTABLISHED on both sides', () => {
  const { sim, a, b } = pair();
  const ca = a.tcp.connect(B_IP, 5001, { localPort: 5000 });
  const cb = b.tcp.connect(A_IP, 5000, { localPort: 5001 });
  assert.ok(ca.ok && cb.ok);
  const sa = states(ca.socket);
  const sb = states(cb.socket);
  assert.ok(sim.runUntil(() => ca.socket.state === 'ESTABLISHED' && cb.socket.state === 'ESTABLISHED', 10e9));
  assert.deepEqual(sa, ['SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED']);
  assert.deepEqual(sb, ['SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED']);
  const got = collect(cb.socket);
  ca.socket.send(pattern(3000));
  ca.socket.close();
  assert.ok(sim.runUntil(() => got.ended(), 10e9));
  assert.ok(equalBytes(got.bytes(), pattern(3000)));
});

test('lost SYN,ACK: the handshake completes after retransmission', () => {
  let dropped = 0;
  const { sim, a, b } = pair({
    link: {
      delayNs: 1e6,
      filter: (frame) => {
        // Ethernet 14 + IPv4 20: byte 47 is the TCP flags.
        if (frame[23] === 6 && ((frame[47] ?? 0) & 0x12) === 0x12 && dropped < 2) {
          dropped++;
          return false;
        }
        return true;
      },
    },
  });
  let server: TcpSocket | undefined;
  b.tcp.listen(80, { onAccept: (s) => (server = s) });
  const c = a.tcp.connect(B_IP, 80);
  assert.ok(c.ok);
  assert.ok(sim.runUntil(() => server !== undefined && c.socket.state === 'ESTABLISHED', 30e9));
  assert.equal(dropped, 2);
  assert.ok(a.stats().tcp.retransmittedSegments + b.stats().tcp.retransmittedSegments >= 2);
});

test('connect to a closed port is refused by RST', () => {
  const { sim, a, b } = pair();
  const c = a.tcp.connect(B_IP, 81);
  assert.ok(c.ok);
  const seen = states(c.socket);
  let reason: string | undefined;
  c.socket.handlers = { ...c.socket.handlers, onClose: (r) => (reason = r) };
  sim.runFor(1e9);
  assert.equal(reason, 'refused');
  assert.deepEqual(seen, ['SYN-SENT', 'CLOSED']);
  assert.equal(b.stats().tcp.resetsOut, 1);
  assert.equal(a.tcp.connectionCount, 0);
});

test('RST to a segment for no connection (RFC 9293 §3.10.7.1), both forms', () => {
  const { stack, peer } = lone();
  peer.tcp({ srcPort: 4000, dstPort: 9, flags: SYN, seq: 1000 });
  let [r] = peer.takeTcp();
  assert.ok(r);
  assert.equal(r.flags, RST | ACK);
  assert.equal(r.seq, 0);
  assert.equal(r.ack, 1001);
  peer.tcp({ srcPort: 4000, dstPort: 9, flags: ACK | FIN, seq: 5, ack: 77777, payload: new Uint8Array(10) });
  [r] = peer.takeTcp();
  assert.ok(r);
  assert.equal(r.flags, RST);
  assert.equal(r.seq, 77777);
  // No RST answers a RST.
  peer.tcp({ srcPort: 4000, dstPort: 9, flags: RST, seq: 5 });
  assert.equal(peer.takeTcp().length, 0);
  assert.equal(stack.stats().tcp.resetsOut, 2);
});

/** Raw handshake with a listening stack; returns the stack's ISS and the peer's next sequence number. */
function rawHandshake(tcp: Parameters<typeof lone>[0] = {}) {
  const env = lone(tcp);
  let accepted: TcpSocket | undefined;
  env.stack.tcp.listen(80, { onAccept: (s) => (accepted = s) });
  env.peer.tcp({ srcPort: 4000, dstPort: 80, flags: SYN, seq: 1000, options: [{ type: 'mss', mss: 1000 }] });
  const [synAck] = env.peer.takeTcp();
  assert.ok(synAck);
  assert.equal(synAck.flags, SYN | ACK);
  assert.equal(synAck.ack, 1001);
  assert.deepEqual(
    synAck.options.find((o) => o.type === 'mss'),
    { type: 'mss', mss: 1460 },
  );
  // The peer offered no window scale, so none comes back (RFC 7323 §1.3).
  assert.equal(
    synAck.options.find((o) => o.type === 'window-scale'),
    undefined,
  );
  env.peer.tcp({ srcPort: 4000, dstPort: 80, flags: ACK, seq: 1001, ack: synAck.seq + 1 });
  assert.ok(accepted);
  return { ...env, socket: accepted, iss: synAck.seq, peerSeq: 1001 };
}

test('RFC 5961: an in-window RST with the wrong sequence number gets a challenge ACK; the exact one resets', () => {
  const { stack, peer, socket, iss } = rawHandshake();
  assert.equal(socket.state, 'ESTABLISHED');
  peer.tcp({ srcPort: 4000, dstPort: 80, flags: RST, seq: 1001 + 100 });
  const [challenge] = peer.takeTcp();
  assert.ok(challenge);
  assert.equal(challenge.flags, ACK);
  assert.equal(challenge.seq, iss + 1);
  assert.equal(challenge.ack, 1001);
  assert.equal(socket.state, 'ESTABLISHED');
  // Out of the window: silently dropped.
  peer.tcp({ srcPort: 4000, dstPort: 80, flags: RST, seq: 1001 + 10_000_000 });
  assert.equal(peer.takeTcp().length, 0);
  peer.tcp({ srcPort: 4000, dstPort: 80, flags: RST, seq: 1001 });
  assert.equal(socket.state, 'CLOSED');
  assert.equal(socket.closeReason, 'reset');
  assert.equal(stack.stats().tcp.challengeAcks, 1);
});

test('RFC 5961 §4: a SYN on an established connection gets a challenge ACK, not a reset', () => {
  const { peer, socket, iss } = rawHandshake();
  peer.tcp({ srcPort: 4000, dstPort: 80, flags: SYN, seq: 5000 });
  const [challenge] = peer.takeTcp();
  assert.ok(challenge);
  assert.equal(challenge.flags, ACK);
  assert.equal(challenge.seq, iss + 1);
  assert.equal(challenge.ack, 1001);
  assert.equal(socket.state, 'ESTABLISHED');
});

test('RFC 5961 §5: an ACK for data never sent is answered with an ACK and ignored', () => {
  const { peer, socket, iss } = rawHandshake();
  peer.tcp({
    srcPort: 4000,
    dstPort: 80,
    flags: ACK,
    seq: 1001,
    ack: iss + 5000,
    payload: Uint8Array.of(1, 2, 3),
  });
  const [reply] = peer.takeTcp();
  assert.ok(reply);
  assert.equal(reply.ack, 1001);
  assert.equal(socket.readable, 0);
});

test('out-of-order segments are held and delivered in order, with immediate duplicate ACKs', () => {
  const { peer, socket, iss } = rawHandshake();
  const ack = iss + 1;
  const data = pattern(3000);
  peer.tcp({ srcPort: 4000, dstPort: 80, flags: ACK, seq: 1001 + 2000, ack, payload: data.subarray(2000) });
  peer.tcp({
    srcPort: 4000,
    dstPort: 80,
    flags: ACK,
    seq: 1001 + 1000,
    ack,
    payload: data.subarray(1000, 2000),
  });
  let acks = peer.takeTcp();
  assert.equal(acks.length, 2);
  for (const a of acks) assert.equal(a.ack, 1001);
  assert.equal(socket.readable, 0);
  peer.tcp({ srcPort: 4000, dstPort: 80, flags: ACK | FIN, seq: 1001, ack, payload: data.subarray(0, 1500) });
  acks = peer.takeTcp();
  assert.equal(acks.at(-1)?.ack, 1001 + 3000);
  assert.ok(equalBytes(socket.read(), data));
  assert.equal(socket.state, 'ESTABLISHED');
});

test('data and a FIN that arrive ahead of a gap are delivered once the gap fills', () => {
  const { peer, socket, iss } = rawHandshake();
  const ack = iss + 1;
  const data = pattern(2000);
  peer.tcp({
    srcPort: 4000,
    dstPort: 80,
    flags: ACK | FIN,
    seq: 1001 + 1000,
    ack,
    payload: data.subarray(1000),
  });
  assert.equal(socket.state, 'ESTABLISHED');
  peer.tcp({ srcPort: 4000, dstPort: 80, flags: ACK, seq: 1001, ack, payload: data.subarray(0, 1000) });
  assert.equal(socket.state, 'CLOSE-WAIT');
  assert.ok(equalBytes(socket.read(), data));
  assert.equal(socket.ended, true);
  const last = peer.takeTcp().at(-1);
  assert.equal(last?.ack, 1001 + 2001);
});

test('abort sends RST and the peer sees reset', () => {
  const { sim, client, server } = open();
  let reason: string | undefined;
  server.handlers = { ...server.handlers, onClose: (r) => (reason = r) };
  client.abort();
  sim.runFor(0.1e9);
  assert.equal(client.closeReason, 'aborted');
  assert.equal(reason, 'reset');
  assert.equal(server.state, 'CLOSED');
});

test('the effective MSS is the smaller of the two announced (RFC 9293 §3.7.1)', () => {
  const { client, server } = open({ b: { mtu: 1000 } });
  const mss = (s: TcpSocket) => (s as unknown as { sendMss: number }).sendMss;
  assert.equal(mss(client), 960);
  assert.equal(mss(server), 960);
});

test('a silent peer: SYN retransmitted with backoff, then the attempt times out', () => {
  const { sim, a } = pair({ link: { delayNs: 1e6, filter: (f) => f[23] !== 6 } });
  const c = a.tcp.connect(B_IP, 80);
  assert.ok(c.ok);
  let reason: string | undefined;
  c.socket.handlers = { onClose: (r) => (reason = r) };
  assert.ok(sim.runUntil(() => reason !== undefined, 600e9));
  assert.equal(reason, 'timeout');
  // 6 retransmissions with RTO 1, 2, 4, …, 64 s capped at 60: the attempt ends ≈ 1+2+4+8+16+32+60 s later.
  assert.equal(a.stats().tcp.retransmittedSegments, 6);
  assert.ok(sim.now > 120e9 && sim.now < 125e9, `${sim.now}`);
});

test('connection on an unknown port gets ICMP-free RST; a UDP-closed port gets ICMP port unreachable', () => {
  const { stack, peer } = lone();
  peer.udp(5000, 9999, Uint8Array.of(1, 2, 3));
  const [f] = peer.take();
  assert.equal(f?.transport?.protocol, 'icmp');
  if (f?.transport?.protocol === 'icmp') {
    assert.equal(f.transport.message.type, 3);
    assert.equal(f.transport.message.code, 3);
    assert.ok(f.transport.checksumOk);
  }
  assert.equal(stack.stats().udp.noPort, 1);
});

test('connect, send and close at once: the data and the FIN follow the handshake', () => {
  const { sim, a, b } = pair();
  let got: ReturnType<typeof collect> | undefined;
  b.tcp.listen(80, { onAccept: (s) => (got = collect(s)) });
  const c = a.tcp.connect(B_IP, 80);
  assert.ok(c.ok);
  const seen = states(c.socket);
  assert.deepEqual(c.socket.send(pattern(5000)), { ok: true, accepted: 5000 });
  c.socket.close();
  assert.deepEqual(c.socket.send(pattern(1)), {
    ok: false,
    code: 'closing',
    detail: 'connection is closing',
  });
  assert.ok(sim.runUntil(() => got?.ended() === true, 10e9));
  assert.ok(got && equalBytes(got.bytes(), pattern(5000)));
  assert.deepEqual(seen.slice(0, 3), ['SYN-SENT', 'ESTABLISHED', 'FIN-WAIT-1']);
});

test('property: arbitrary segments on a live connection never throw; only a RST at RCV.NXT resets it', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          flags: fc.integer({ min: 0, max: 0x1ff }),
          seqOffset: fc.integer({ min: -70_000, max: 70_000 }),
          ackOffset: fc.integer({ min: -70_000, max: 70_000 }),
          window: fc.integer({ min: 0, max: 65535 }),
          length: fc.integer({ min: 0, max: 1500 }),
        }),
        { maxLength: 30 },
      ),
      (segments) => {
        const { peer, socket, iss } = rawHandshake();
        // RCV.NXT stays within 1001 + (bytes injected so far) + 1 (a FIN): a reset needs a RST there.
        let plausibleRst = false;
        let injected = 0;
        for (const s of segments) {
          const seq = (1001 + s.seqOffset) >>> 0;
          if (s.flags & RST && s.seqOffset >= 0 && s.seqOffset <= injected + 1) plausibleRst = true;
          injected += s.length;
          peer.tcp({
            srcPort: 4000,
            dstPort: 80,
            flags: s.flags,
            seq,
            ack: (iss + 1 + s.ackOffset) >>> 0,
            window: s.window,
            payload: pattern(s.length, s.length),
          });
          if (socket.state === 'CLOSED') break;
        }
        if (socket.closeReason === 'reset') assert.ok(plausibleRst, 'reset without a RST at RCV.NXT');
      },
    ),
    { seed: 5961, numRuns: 200 },
  );
});
