import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtherType, encodeEthernet } from '../../src/lib/net/ethernet.js';
import { fragmentIpv4 } from '../../src/lib/net/ipv4-fragments.js';
import { decodeIpv4, encodeIpv4 } from '../../src/lib/net/ipv4.js';
import { readCapture, writePcap, writePcapng } from '../../src/lib/net/pcap.js';
import { runCli } from '../helpers/cli.js';
import { F, TcpFlow, tcp, udp } from './packets.js';

const RULES = `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp --dport 22 -j ACCEPT
-A INPUT -p tcp --dport 6667 -j LOG --log-prefix "dbus: "
-A INPUT -p tcp -j REJECT --reject-with tcp-reset
-A FORWARD -i wan0 -o lan0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i lan0 -o wan0 -j ACCEPT
COMMIT
`;

const eth = (d: Uint8Array) =>
  encodeEthernet({
    dst: Uint8Array.of(2, 0, 0, 0, 0, 1),
    src: Uint8Array.of(2, 0, 0, 0, 0, 2),
    vlans: [],
    etherType: EtherType.IPV4,
    payload: d,
  });

function withDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-fw-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('fw check prints the normalised ruleset, and refuses bad rules with file:line:column', () =>
  withDir((dir) => {
    const rules = join(dir, 'rules.v4');
    writeFileSync(rules, RULES);
    const ok = runCli(['fw', 'check', rules]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^\[0:0\] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT$/m);
    const json = runCli(['fw', 'check', rules, '--json']);
    const doc = JSON.parse(json.stdout) as {
      conntrack: boolean;
      chains: { name: string; rules: { line: number }[] }[];
    };
    assert.equal(doc.conntrack, true);
    assert.equal(doc.chains.find((c) => c.name === 'INPUT')?.rules[1]?.line, 6);
    writeFileSync(rules, RULES.replace('--dport 6667', '--dport 66667'));
    const bad = runCli(['fw', 'check', rules]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /rules\.v4:7:25: invalid port\/service '66667' specified \[NF_SYNTAX\]/);
    const missing = runCli(['fw', 'check', join(dir, 'nope')]);
    assert.equal(missing.status, 2);
  }));

test('fw replay in host mode: verdicts, deciding rules, LOG, RST replies, counters, --out', () =>
  withDir((dir) => {
    const rules = join(dir, 'rules.v4');
    writeFileSync(rules, RULES);
    const f = new TcpFlow('192.0.2.7', '10.0.0.1', 40000, 22);
    const frames = [
      f.syn(),
      f.synAck(),
      f.ack(),
      tcp('192.0.2.7', '10.0.0.1', { sport: 40001, dport: 6667, flags: F.SYN }),
      udp('192.0.2.7', '10.0.0.9', 1, 2),
    ].map(eth);
    const pcap = join(dir, 'in.pcap');
    writeFileSync(
      pcap,
      writePcap(frames.map((frame, i) => ({ timeNs: 1_000_000_000n + BigInt(i) * 1000n, frame }))),
    );
    const out = join(dir, 'out.pcap');
    const r = runCli([
      'fw',
      'replay',
      '--rules',
      rules,
      '--pcap',
      pcap,
      '--host',
      '10.0.0.1',
      '--out',
      out,
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as {
      packets: {
        outcome: string;
        hook?: string;
        rule?: { number: number; line: number };
        ctState?: string;
        logs?: string[];
        reply?: string;
      }[];
      counters: string;
      totals: Record<string, number>;
    };
    assert.deepEqual(
      doc.packets.map(
        (p) =>
          `${p.outcome} ${p.hook ?? '-'} ${p.rule ? `#${p.rule.number}@${p.rule.line}` : 'policy'} ${p.ctState ?? ''}`,
      ),
      [
        'ACCEPT INPUT #2@6 NEW',
        'ACCEPT OUTPUT policy ESTABLISHED',
        'ACCEPT INPUT #1@5 ESTABLISHED',
        'REJECT INPUT #4@8 NEW',
        'NOT-FOR-HOST - policy ',
      ],
    );
    assert.match(
      doc.packets[3]?.logs?.[0] ?? '',
      /^dbus: IN=eth0 OUT= MAC=02:00:00:00:00:01:02:00:00:00:00:02:08:00 SRC=192\.0\.2\.7 DST=10\.0\.0\.1 .* SYN URGP=0 $/,
    );
    assert.match(doc.packets[3]?.reply ?? '', /10\.0\.0\.1\.6667 > 192\.0\.2\.7\.40001: TCP \[R\.\]/);
    assert.match(
      doc.counters,
      /^\[1:40\] -A INPUT -p tcp -m tcp --dport 6667 -j LOG --log-prefix "dbus: "$/m,
    );
    assert.match(doc.counters, /^:OUTPUT ACCEPT \[1:40\]$/m);
    const passed = readCapture(new Uint8Array(readFileSync(out)));
    assert.equal(passed.records.length, 3);
    const text = runCli(['fw', 'replay', '--rules', rules, '--pcap', pcap, '--host', '10.0.0.1']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(
      text.stdout,
      /#4 192\.0\.2\.7\.40001 > 10\.0\.0\.1\.6667: TCP \[S\] .* -> REJECT by INPUT rule 4 \(line 8: -A INPUT -p tcp -j REJECT --reject-with tcp-reset\) ct=NEW/,
    );
  }));

test('fw replay in gateway mode: pcapng interfaces or --side-a decide the direction', () =>
  withDir((dir) => {
    const rules = join(dir, 'rules.v4');
    writeFileSync(rules, RULES);
    const f = new TcpFlow('192.168.1.10', '198.51.100.5', 50000, 443);
    const inward = tcp('198.51.100.5', '192.168.1.10', { sport: 443, dport: 50001, flags: F.SYN });
    const list = [
      { d: f.syn(), lan: true },
      { d: f.synAck(), lan: false },
      { d: f.ack(), lan: true },
      { d: inward, lan: false },
    ];
    const ng = join(dir, 'gw.pcapng');
    writeFileSync(
      ng,
      writePcapng(
        list.map((x, i) => ({ timeNs: BigInt(i), frame: x.d, interfaceIndex: x.lan ? 1 : 0 })),
        {
          interfaces: [
            { linkType: 101, name: 'wan0' },
            { linkType: 101, name: 'lan0' },
          ],
        },
      ),
    );
    const expect = [
      'ACCEPT FORWARD lan0>wan0',
      'ACCEPT FORWARD wan0>lan0',
      'ACCEPT FORWARD lan0>wan0',
      'DROP FORWARD wan0>lan0',
    ];
    const summary = (stdout: string) =>
      (
        JSON.parse(stdout) as { packets: { outcome: string; hook: string; in: string; out: string }[] }
      ).packets.map((p) => `${p.outcome} ${p.hook} ${p.in}>${p.out}`);
    const a = runCli(['fw', 'replay', '--rules', rules, '--pcap', ng, '--gateway', 'wan0,lan0', '--json']);
    assert.equal(a.status, 0, a.stderr);
    assert.deepEqual(summary(a.stdout), expect);
    const plain = join(dir, 'gw.pcap');
    writeFileSync(
      plain,
      writePcap(
        list.map((x, i) => ({ timeNs: i, frame: x.d })),
        { linkType: 101 },
      ),
    );
    const b = runCli([
      'fw',
      'replay',
      '--rules',
      rules,
      '--pcap',
      plain,
      '--gateway',
      'wan0,lan0',
      '--side-a',
      '1.2.3.0/24',
      '--json',
    ]);
    // With the LAN wrongly placed behind wan0's side, directions swap and the flow is refused.
    assert.notDeepEqual(summary(b.stdout), expect);
    const c = runCli([
      'fw',
      'replay',
      '--rules',
      rules,
      '--pcap',
      plain,
      '--gateway',
      'lan0,wan0',
      '--side-a',
      '192.168.1.0/24',
      '--json',
    ]);
    assert.deepEqual(summary(c.stdout), expect);
    const none = runCli(['fw', 'replay', '--rules', rules, '--pcap', plain, '--gateway', 'lan0,wan0']);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /--side-a/);
  }));

test('fw replay reassembles fragments before conntrack and writes every fragment out', () =>
  withDir((dir) => {
    const rules = join(dir, 'rules.v4');
    writeFileSync(
      rules,
      RULES.replace('-A INPUT -p tcp --dport 22 -j ACCEPT', '-A INPUT -p udp --dport 53 -j ACCEPT'),
    );
    const whole = decodeIpv4(udp('192.0.2.7', '10.0.0.1', 999, 53, new Uint8Array(2500)));
    const frags = fragmentIpv4({ ...whole, dontFragment: false, identification: 7 }, 1000).map(encodeIpv4);
    const pcap = join(dir, 'frag.pcap');
    writeFileSync(pcap, writePcap(frags.map((d, i) => ({ timeNs: i, frame: eth(d) }))));
    const out = join(dir, 'out.pcap');
    const r = runCli([
      'fw',
      'replay',
      '--rules',
      rules,
      '--pcap',
      pcap,
      '--host',
      '10.0.0.1',
      '--out',
      out,
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { packets: { outcome: string; fragments?: number[] }[] };
    assert.deepEqual(
      doc.packets.map((p) => p.outcome),
      ['HELD', 'HELD', 'ACCEPT'],
    );
    assert.deepEqual(doc.packets[2]?.fragments, [1, 2, 3]);
    assert.equal(readCapture(new Uint8Array(readFileSync(out))).records.length, 3);
  }));
