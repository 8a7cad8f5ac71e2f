import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEntryPointDemo, counterOf } from '../../src/platform/demo-entry-point.js';
import { readCapture } from '../../src/lib/net/pcap.js';
import { decodeFrame } from '../../src/lib/net/packet.js';
import { runCli } from '../helpers/cli.js';

test('the entry-point demo: allowed ports served, 6667 unreachable, every outcome checked', async () => {
  const out = mkdtempSync(join(tmpdir(), 'rampart-entry-'));
  const demo = await runEntryPointDemo({ seed: 3, outDir: out });
  assert.deepEqual(demo.problems, []);
  assert.equal(demo.ok, true);
  assert.deepEqual(
    demo.scan.filter((s) => s.state === 'open').map((s) => s.port),
    [7, 80],
  );
  assert.deepEqual(
    demo.scan.filter((s) => s.state === 'filtered').map((s) => s.port),
    [6667],
  );
  assert.ok(demo.services.every((s) => s.ok));
  assert.ok(demo.dropped.some((l) => l.startsWith('fw: DROP') && l.includes('.6667: TCP [S]')));
  assert.ok(demo.dropped.some((l) => l.startsWith('fw: LOG dbus-blocked: ')));
  assert.ok((counterOf(demo.counters, '-A INPUT -p tcp -m tcp --dport 6667 -j DROP')?.packets ?? 0) >= 3);
  assert.equal(
    demo.normalWorld.some((l) => l.startsWith('dbus:')),
    false,
  );
  assert.ok(demo.normalWorld.some((l) => l.startsWith('http: GET / from 198.51.100.20')));

  // The two captures: what the WAN carried, and what crossed the firewall's Normal World link.
  assert.ok(demo.pcaps);
  const wan = readCapture(new Uint8Array(readFileSync(demo.pcaps.wan)));
  const inside = readCapture(new Uint8Array(readFileSync(demo.pcaps.inside)));
  assert.equal(wan.records.length, demo.frames.wan);
  assert.equal(inside.records.length, demo.frames.inside);
  assert.equal(inside.records.length, demo.passed.toNormalWorld + demo.passed.fromNormalWorld);
  const ports = (records: typeof wan.records) =>
    records.flatMap((r) => {
      const d = decodeFrame(r.frame, 1);
      return d.transport?.protocol === 'tcp'
        ? [d.transport.segment.srcPort, d.transport.segment.dstPort]
        : [];
    });
  assert.ok(ports(wan.records).includes(6667), 'the WAN saw the attempts');
  assert.equal(ports(inside.records).includes(6667), false, 'nothing of them got inside');
  assert.ok(ports(inside.records).includes(80));
});

test('the entry-point demo is reproducible: same seed, same outcome, same counters, same frames', async () => {
  const a = await runEntryPointDemo({ seed: 11 });
  const b = await runEntryPointDemo({ seed: 11 });
  assert.equal(a.ok, true);
  const stable = (d: typeof a) => ({ ...d, wallMs: 0 });
  assert.deepEqual(stable(a), stable(b));
});

test('rampart demo entry-point --json: the documented report, exit 0', () => {
  const out = mkdtempSync(join(tmpdir(), 'rampart-entry-cli-'));
  const r = runCli(['demo', 'entry-point', '--json', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const demo = JSON.parse(r.stdout) as Record<string, unknown>;
  for (const key of [
    'board',
    'booted',
    'calls',
    'counters',
    'dropped',
    'firewallStats',
    'frames',
    'gateway',
    'normalWorld',
    'ok',
    'passed',
    'pcaps',
    'ping',
    'problems',
    'remoteHost',
    'scan',
    'seed',
    'services',
    'virtualTimeNs',
    'wallMs',
  ])
    assert.ok(key in demo, key);
  assert.deepEqual(Object.keys(demo), Object.keys(demo).sort(), 'stable key order');
  assert.equal(demo.ok, true);
  const text = runCli(['demo', 'entry-point']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^ {2}scan +open: 7, 80 +closed: [\d, ]+ +filtered: 6667$/m);
  assert.match(text.stdout, /^ {2}\[\d+:\d+\] -A INPUT -p tcp -m tcp --dport 6667 -j DROP$/m);
  assert.match(text.stdout, /^ok: every expected outcome observed/m);
  assert.equal(runCli(['demo', 'entry-point', '--seed', 'x']).status, 2);
});
