import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeIpv4 } from '../../src/lib/net/ipv4.js';
import { fragmentIpv4 } from '../../src/lib/net/ipv4-fragments.js';
import { decodeTcp } from '../../src/lib/net/tcp.js';
import { decodeIcmp } from '../../src/lib/net/icmp.js';
import { encodeIpv4 } from '../../src/lib/net/ipv4.js';
import { Firewall, type FirewallResult, type PacketInput } from '../../src/lib/netfilter/firewall.js';
import { parseRuleset } from '../../src/lib/netfilter/parse.js';
import { F, TcpFlow, icmp, icmpError, tcp, udp } from './packets.js';

const HOST = '10.0.0.1';
const PEER = '10.0.0.2';
const S = 1_000_000_000n;

const RULES = `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT
-A INPUT -p icmp --icmp-type echo-request -j ACCEPT
-A INPUT -p udp --dport 53 -j ACCEPT
-A INPUT -p tcp -j REJECT --reject-with tcp-reset
-A INPUT -j LOG --log-prefix "drop: "
COMMIT
`;

function host(fw: Firewall) {
  let now = 0n;
  const run = (hook: PacketInput['hook'], datagram: Uint8Array, dt = 1_000_000n): FirewallResult => {
    now += dt;
    return fw.process({ hook, datagram, inInterface: 'eth0', outInterface: 'eth0', nowNs: now });
  };
  return {
    in: (d: Uint8Array, dt?: bigint) => run('INPUT', d, dt),
    out: (d: Uint8Array, dt?: bigint) => run('OUTPUT', d, dt),
    now: () => now,
  };
}

function verdict(r: FirewallResult): string {
  if (r.kind !== 'verdict') return r.kind;
  return `${r.verdict} ${r.ctState} ${r.rule ? `${r.rule.chain}#${r.rule.number}` : 'policy'}`;
}

for (const evaluator of ['compiled', 'linear'] as const) {
  test(`[${evaluator}] TCP handshake, data and teardown are NEW then ESTABLISHED`, () => {
    const fw = new Firewall(parseRuleset(RULES), { evaluator });
    assert.equal(fw.conntrackEnabled, true);
    const h = host(fw);
    const f = new TcpFlow(PEER, HOST, 40000, 22);
    assert.equal(verdict(h.in(f.syn())), 'ACCEPT NEW INPUT#3');
    assert.equal(verdict(h.out(f.synAck())), 'ACCEPT ESTABLISHED policy');
    assert.equal(verdict(h.in(f.ack())), 'ACCEPT ESTABLISHED INPUT#2');
    assert.equal(verdict(h.in(f.clientData(100))), 'ACCEPT ESTABLISHED INPUT#2');
    assert.equal(verdict(h.out(f.serverData(50))), 'ACCEPT ESTABLISHED policy');
    assert.equal(verdict(h.in(f.clientData(0, F.FIN | F.ACK))), 'ACCEPT ESTABLISHED INPUT#2');
    assert.equal(verdict(h.out(f.serverData(0, F.FIN | F.ACK))), 'ACCEPT ESTABLISHED policy');
    assert.equal(verdict(h.in(f.clientData(0, F.ACK))), 'ACCEPT ESTABLISHED INPUT#2');
    const conns = fw.connections(h.now());
    assert.equal(conns.length, 1);
    assert.equal(conns[0]?.tcp?.state, 7 /* TIME_WAIT */);
    assert.equal(conns[0]?.assured, true);
  });
}

test('a SYN the filter drops or rejects leaves no connection behind', () => {
  const fw = new Firewall(parseRuleset(RULES));
  const h = host(fw);
  const syn = tcp(PEER, HOST, { sport: 40001, dport: 23, flags: F.SYN, seq: 77 });
  const r = h.in(syn);
  assert.equal(verdict(r), 'REJECT NEW INPUT#6');
  assert.equal(fw.connections(h.now()).length, 0);
  // The second attempt is NEW again.
  assert.equal(verdict(h.in(syn)), 'REJECT NEW INPUT#6');
  // nf_send_reset: RST|ACK from the rejected destination, acknowledging the SYN.
  assert.ok(r.kind === 'verdict' && r.reply);
  if (r.kind === 'verdict' && r.reply) {
    const rip = decodeIpv4(r.reply);
    const rst = decodeTcp(rip.payload);
    assert.equal(rip.dontFragment, true);
    assert.equal(rst.flags, F.RST | F.ACK);
    assert.equal(rst.ack, 78);
    assert.equal(rst.seq, 0);
    assert.equal(rst.srcPort, 23);
    assert.equal(rst.dstPort, 40001);
  }
});

test('impossible flag combinations are INVALID; a bare ACK is picked up as NEW (tcp_loose)', () => {
  const fw = new Firewall(parseRuleset(RULES));
  const h = host(fw);
  assert.equal(
    verdict(h.in(tcp(PEER, HOST, { sport: 1, dport: 22, flags: F.SYN | F.FIN }))),
    'DROP INVALID INPUT#1',
  );
  assert.equal(verdict(h.in(tcp(PEER, HOST, { sport: 1, dport: 22, flags: 0 }))), 'DROP INVALID INPUT#1');
  assert.equal(verdict(h.in(tcp(PEER, HOST, { sport: 1, dport: 22, flags: F.FIN }))), 'DROP INVALID INPUT#1');
  // SYN/ACK or FIN/ACK without a connection cannot open one.
  assert.equal(
    verdict(h.in(tcp(PEER, HOST, { sport: 1, dport: 22, flags: F.SYN | F.ACK }))),
    'DROP INVALID INPUT#1',
  );
  assert.equal(
    verdict(h.in(tcp(PEER, HOST, { sport: 1, dport: 22, flags: F.FIN | F.ACK }))),
    'DROP INVALID INPUT#1',
  );
  const ack = tcp(PEER, HOST, { sport: 2, dport: 22, flags: F.ACK, seq: 5, ack: 9 });
  assert.equal(verdict(h.in(ack)), 'ACCEPT NEW INPUT#3');
  // The host answers: from then on the picked-up flow is ESTABLISHED.
  assert.equal(
    verdict(h.out(tcp(HOST, PEER, { sport: 22, dport: 2, flags: F.ACK, seq: 9, ack: 5 }))),
    'ACCEPT ESTABLISHED policy',
  );
});

test('segments far outside the window are INVALID once the connection is tracked', () => {
  const fw = new Firewall(parseRuleset(RULES));
  const h = host(fw);
  const f = new TcpFlow(PEER, HOST, 40002, 22);
  h.in(f.syn());
  h.out(f.synAck());
  h.in(f.ack());
  const wild = tcp(PEER, HOST, { sport: 40002, dport: 22, flags: F.ACK, seq: 0x7000_0000, ack: 5001 });
  const r = h.in(wild);
  assert.equal(verdict(r), 'DROP INVALID INPUT#1');
  assert.ok(r.kind === 'verdict' && /window/.test(r.ctReason ?? ''));
});

test('ICMP echo is tracked; errors about tracked flows are RELATED, others INVALID', () => {
  const fw = new Firewall(parseRuleset(RULES));
  const h = host(fw);
  assert.equal(verdict(h.in(icmp(PEER, HOST, 8, 0, 0x00070001))), 'ACCEPT NEW INPUT#4');
  assert.equal(verdict(h.out(icmp(HOST, PEER, 0, 0, 0x00070001))), 'ACCEPT ESTABLISHED policy');
  assert.equal(verdict(h.in(icmp(PEER, HOST, 8, 0, 0x00070002))), 'ACCEPT ESTABLISHED INPUT#2');
  // An echo reply nobody asked for cannot open a flow.
  assert.equal(verdict(h.in(icmp(PEER, HOST, 0, 0, 0x00090001))), 'DROP INVALID INPUT#1');
  // The host sends a datagram; the peer answers port unreachable.
  const out = udp(HOST, PEER, 5353, 9999);
  assert.equal(verdict(h.out(out)), 'ACCEPT NEW policy');
  assert.equal(verdict(h.in(icmpError(PEER, HOST, 3, 3, out))), 'ACCEPT RELATED INPUT#2');
  // The same error quoting a flow nobody opened is INVALID.
  assert.equal(
    verdict(h.in(icmpError(PEER, HOST, 3, 3, udp(HOST, PEER, 5354, 9999)))),
    'DROP INVALID INPUT#1',
  );
});

test('UDP flows time out in virtual time (30 s unreplied)', () => {
  const fw = new Firewall(parseRuleset(RULES));
  const h = host(fw);
  assert.equal(verdict(h.out(udp(HOST, PEER, 1234, 53))), 'ACCEPT NEW policy');
  assert.equal(verdict(h.in(udp(PEER, HOST, 53, 1234), 29n * S)), 'ACCEPT ESTABLISHED INPUT#2');
  // Replied: now 30 s from the last packet (stream timeout only after 2 s of activity).
  assert.equal(verdict(h.out(udp(HOST, PEER, 1235, 53))), 'ACCEPT NEW policy');
  // 31 s later the second flow is gone: the answer is a fresh flow (and the policy drops it).
  const late = h.in(udp(PEER, HOST, 53, 1235), 31n * S);
  assert.equal(verdict(late), 'DROP NEW policy');
});

test('malformed datagrams are counted and dropped before the filter, with the offset', () => {
  const fw = new Firewall(parseRuleset(RULES));
  const h = host(fw);
  const bad = tcp(PEER, HOST, { sport: 1, dport: 22, flags: F.SYN });
  bad[10] = (bad[10] ?? 0) ^ 0xff;
  const r = h.in(bad);
  assert.equal(r.kind, 'dropped');
  if (r.kind === 'dropped') {
    assert.equal(r.reason, 'malformed');
    assert.equal(r.code, 'IPV4_BAD_CHECKSUM');
    assert.equal(r.offset, 10);
  }
  assert.equal(h.in(new Uint8Array(3)).kind, 'dropped');
  assert.equal(fw.stats.malformed, 2);
  assert.match(fw.save(), /\[0:0\] -A INPUT -m conntrack --ctstate INVALID -j DROP/);
});

test('fragments are held, reassembled and then filtered once (defrag before conntrack)', () => {
  const fw = new Firewall(parseRuleset(RULES));
  const h = host(fw);
  const whole = decodeIpv4(udp(PEER, HOST, 4000, 53, new Uint8Array(3000)));
  const frags = fragmentIpv4({ ...whole, dontFragment: false, identification: 99 }, 1500).map(encodeIpv4);
  assert.equal(frags.length, 3);
  assert.equal(h.in(frags[2]!).kind, 'held');
  assert.equal(h.in(frags[0]!).kind, 'held');
  const r = h.in(frags[1]!);
  assert.equal(verdict(r), 'ACCEPT NEW INPUT#5');
  assert.ok(r.kind === 'verdict' && r.reassembled?.fragments === 3);
  // The counter sees one datagram of 3028 bytes.
  assert.match(fw.save(), /\[1:3028\] -A INPUT -p udp -m udp --dport 53 -j ACCEPT/);
});

test('without a state match there is no conntrack: FORWARD filters fragments one by one, INPUT whole', () => {
  const rules = `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n-A INPUT -p udp --dport 53 -j DROP\n-A INPUT -f -j DROP\n-A FORWARD -p udp --dport 53 -j DROP\n-A FORWARD -f -j DROP\nCOMMIT\n`;
  const fw = new Firewall(parseRuleset(rules));
  assert.equal(fw.conntrackEnabled, false);
  const whole = decodeIpv4(udp(PEER, HOST, 4000, 53, new Uint8Array(2000)));
  const frags = fragmentIpv4({ ...whole, dontFragment: false }, 1500).map(encodeIpv4);
  const fwd = (d: Uint8Array) =>
    fw.process({ hook: 'FORWARD', datagram: d, inInterface: 'a', outInterface: 'b', nowNs: 0n });
  assert.equal(verdict(fwd(frags[0]!)), 'DROP INVALID FORWARD#1');
  assert.equal(verdict(fwd(frags[1]!)), 'DROP INVALID FORWARD#2');
  // ip_local_deliver reassembles before INPUT, conntrack or not.
  const h = host(fw);
  assert.equal(h.in(frags[1]!).kind, 'held');
  assert.equal(verdict(h.in(frags[0]!)), 'DROP INVALID INPUT#1');
});

test('LOG lines follow the kernel format; REJECT sends port unreachable quoting the datagram', () => {
  const rules = `*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p udp -j LOG --log-prefix "fw: " --log-level 6\n-A INPUT -j REJECT\nCOMMIT\n`;
  const fw = new Firewall(parseRuleset(rules));
  const d = udp(PEER, HOST, 5000, 6000, new Uint8Array(10));
  const r = fw.process({
    hook: 'INPUT',
    datagram: d,
    inInterface: 'eth0',
    nowNs: 0n,
    linkHeader: Uint8Array.from([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0]),
  });
  assert.ok(r.kind === 'verdict');
  if (r.kind !== 'verdict') return;
  assert.equal(r.logs.length, 1);
  assert.equal(
    r.logs[0]?.text,
    'fw: IN=eth0 OUT= MAC=02:00:00:00:00:01:02:00:00:00:00:02:08:00 SRC=10.0.0.2 DST=10.0.0.1 LEN=38 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=UDP SPT=5000 DPT=6000 LEN=18 ',
  );
  assert.equal(r.logs[0]?.level, 6);
  assert.ok(r.reply);
  const rip = decodeIpv4(r.reply!);
  const m = decodeIcmp(rip.payload);
  assert.equal(m.type, 3);
  assert.equal(m.code, 3);
  assert.deepEqual(m.payload, d);
  assert.equal(rip.src, decodeIpv4(d).dst);
  // No ICMP error about an ICMP error.
  const again = fw.process({
    hook: 'INPUT',
    datagram: icmpError(PEER, HOST, 3, 1, d),
    inInterface: 'eth0',
    nowNs: 1n,
  });
  assert.ok(again.kind === 'verdict' && again.verdict === 'REJECT');
  assert.equal(again.kind === 'verdict' ? again.reply : 'none', undefined);
});

test('malformed or random datagrams of every kind never crash the engine and are all accounted for', () => {
  const rules = parseRuleset(RULES);
  const fw = new Firewall(rules);
  const seeds = [
    tcp(PEER, HOST, { sport: 1, dport: 22, flags: F.SYN, options: [{ type: 'mss', mss: 1460 }] }),
    udp(PEER, HOST, 1, 53, new Uint8Array(30)),
    icmp(PEER, HOST, 8, 0, 1),
    icmpError(PEER, HOST, 3, 3, udp(HOST, PEER, 53, 1)),
    ...fragmentIpv4(
      { ...decodeIpv4(udp(PEER, HOST, 1, 53, new Uint8Array(900))), dontFragment: false },
      300,
    ).map(encodeIpv4),
  ];
  let now = 0n;
  let n = 0;
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(fc.record({ at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }), { maxLength: 5 }),
      fc.nat({ max: 40 }),
      fc.constantFrom('INPUT', 'OUTPUT', 'FORWARD'),
      (seed, flips, cut, hook) => {
        const d = seed.slice(0, Math.max(0, seed.length - cut));
        for (const { at, v } of flips) if (d.length > 0) d[at % d.length] = v;
        now += 1_000_000n;
        const r = fw.process({
          hook: hook as 'INPUT',
          datagram: d,
          inInterface: 'eth0',
          outInterface: 'eth1',
          nowNs: now,
        });
        assert.ok(['verdict', 'held', 'dropped'].includes(r.kind));
        n++;
      },
    ),
    { seed: 0x6d616c, numRuns: 3000 },
  );
  const s = fw.stats;
  assert.equal(
    s.accepted +
      s.dropped +
      s.rejected +
      s.held +
      s.malformed +
      s.reassemblyFailures +
      s.ttlExceeded +
      s.conntrackFull,
    n,
  );
  assert.ok(s.malformed > 100, `only ${s.malformed} malformed`);
  // Counters stay coherent: what the rules and policies counted is what was filtered.
  const counted = [...fw.counters().values()].reduce((sum, c) => sum + c.policy.packets, 0);
  assert.ok(counted <= s.accepted + s.dropped + s.rejected);
});
