import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';
import { packagePath } from '../../src/common/paths.js';
import type { MachineReport } from '../../src/soc/index.js';

function bootJson(args: string[]): MachineReport {
  const r = runCli(['boot', ...args, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as MachineReport;
}

test('rampart boot prints the memory map with security attributes, peripherals with worlds, interrupts and the run hash', () => {
  const r = runCli(['boot', '--board', 'iot-gateway']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^board iot-gateway \(boards\/iot-gateway\.yaml\), seed 0$/m);
  assert.match(r.stdout, /TZASC locked, TZPC locked, interrupt groups locked/);
  assert.match(r.stdout, /^ {4}0x0e000000-0x0effffff {2}16 MiB +ram {2}secure-dram +secure$/m);
  assert.match(r.stdout, /^ {4}0x40000000-0x43ffffff {2}64 MiB +ram {2}normal-dram +non-secure$/m);
  assert.match(r.stdout, /^ {4}0x0a000000 {2}eth0 +ethernet-nic +secure +irq 48 +link wan$/m);
  assert.match(r.stdout, /^ {4}33 +uart0 +non-secure +priority 160 +cpu 0 +disabled$/m);
  assert.match(r.stdout, /^run hash [0-9a-f]{64} \(\d+ trace events at \d+ ns\)$/m);
});

test('rampart boot runs the chain: measured boot, the partitions and what they did', () => {
  const r = runCli(['boot', '--board', 'iot-gateway']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ {4}bank A \(confirmed\): secure bundle 1\.1\.0\S* \(counter 1\)/m);
  for (const measured of [
    'secure-bundle',
    'kernel-config:system',
    'ta-code:hello',
    'ta-code:nic-driver',
    'ta-code:firewall',
    'ta-data:firewall/rules.v4',
    'nw-code:rich-os',
    'tzasc+tzpc+interrupt-groups',
  ])
    assert.match(
      r.stdout,
      new RegExp(`pcr\\d +\\w+ +[\\w-]+ +${measured.replace(/[+]/g, '\\+')} `),
      measured,
    );
  assert.match(r.stdout, /^ {4}1 +hello +hello +secure +ta:hello +blocked-recv +\d+ calls$/m);
  assert.match(r.stdout, /^ {4}2 +nic-driver +nic +secure +ta:nic-driver +blocked-ntf +\d+ calls$/m);
  assert.match(r.stdout, /^ {4}3 +firewall +firewall +secure +ta:firewall +blocked-ntf +\d+ calls$/m);
  assert.match(
    r.stdout,
    /^ {4}4 +firewall-doorbell +firewall +secure +ta:firewall +blocked-recv +\d+ calls$/m,
  );
  // The rich OS ran the hello client, then brought its network up and waits for frames.
  assert.match(r.stdout, /^ {4}5 +rich-os +normal-world +non-secure +normal-world +blocked-ntf +\d+ calls$/m);
  assert.match(r.stdout, /\[rich-os\] demo: \{"step":"close-session"/);
  assert.match(r.stdout, /\[rich-os\] net: listening on tcp 7 \(echo\), 80 \(http\), 6667 \(dbus\)/);
  assert.match(r.stdout, /\[firewall\] firewall: ruleset firewall\/rules\.v4 loaded from the secure bundle/);
});

test('rampart boot --json: the boot outcome and the partitions', () => {
  const r = JSON.parse(runCli(['boot', '--json']).stdout) as {
    boot: { status: string; measuredBoot: { events: unknown[] } };
    run: { end: string; calls: number };
    partitions: { name: string; world: string; exit: string | null }[];
  };
  assert.equal(r.boot.status, 'running');
  // ROM: bundle and kernel config; kernel: hello (2), nic-driver (2), firewall (2 + its ruleset),
  // the security configuration, the Normal World image and its rich OS.
  assert.equal(r.boot.measuredBoot.events.length, 12);
  assert.equal(r.run.end, 'idle');
  assert.ok(r.run.calls > 20);
  assert.deepEqual(
    r.partitions.map((p) => [p.name, p.world, p.exit]),
    [
      ['root', 'secure', null],
      ['hello', 'secure', null],
      ['nic-driver', 'secure', null],
      ['firewall', 'secure', null],
      ['firewall-doorbell', 'secure', null],
      ['rich-os', 'non-secure', null],
    ],
  );
});

test('rampart boot without a board boots the default board', () => {
  assert.equal(bootJson([]).board, 'iot-gateway');
});

test('rampart boot --json: the head unit, field by field', () => {
  const r = bootJson(['--board', 'uconnect-headunit', '--seed', '7', '--hardware-only']);
  assert.equal(r.board, 'uconnect-headunit');
  assert.equal(r.seed, 7);
  assert.match(r.boardHash, /^[0-9a-f]{64}$/);
  assert.match(r.runHash, /^[0-9a-f]{64}$/);
  assert.equal(r.timeNs, 0);
  const [ap, ioc] = r.chips;
  assert.ok(ap && ioc);
  assert.deepEqual(ap.locked, { tzasc: true, tzpc: true, interruptGroups: true });
  assert.deepEqual(
    ap.memory.map((m) => [m.name, m.security, m.backing]),
    [
      ['boot-rom', 'secure', 'ArrayBuffer'],
      ['secure-sram', 'secure', 'ArrayBuffer'],
      ['secure-dram', 'secure', 'ArrayBuffer'],
      ['shared-dram', 'non-secure', 'SharedArrayBuffer'],
      ['normal-dram', 'non-secure', 'SharedArrayBuffer'],
    ],
  );
  const world = (name: string) => ap.peripherals.find((p) => p.name === name)?.world;
  assert.equal(world('gic'), 'banked');
  assert.equal(world('tzasc'), 'secure');
  assert.equal(world('modem'), 'secure');
  assert.equal(world('mic'), 'secure');
  assert.equal(world('uart0'), 'non-secure');
  assert.deepEqual(
    ap.interrupts.find((i) => i.device === 'gps'),
    {
      line: 82,
      device: 'gps',
      group: 'non-secure',
      priority: 160,
      target: 0,
      enabled: false,
    },
  );
  assert.equal(ioc.trustzone, false);
  assert.ok(ioc.memory.every((m) => m.security === null));
  assert.ok(ioc.peripherals.every((p) => p.world === null));
  assert.deepEqual(r.links.find((l) => l.name === 'vehicle-can')?.endpoints, [
    'ioc/can0',
    'node:engine',
    'node:brakes',
    'node:steering',
  ]);
  assert.deepEqual(
    r.nodes.map((n) => [n.name, n.diagAddress]),
    [
      ['engine', 0x10],
      ['brakes', 0x28],
      ['steering', 0x30],
    ],
  );
});

test('rampart boot: same seed, same run hash; different seed, different run hash', () => {
  const a = bootJson(['--board', 'uconnect-headunit', '--seed', '1']);
  const b = bootJson(['--board', 'uconnect-headunit', '--seed', '1']);
  const c = bootJson(['--board', 'uconnect-headunit', '--seed', '2']);
  assert.equal(a.runHash, b.runHash);
  assert.notEqual(a.runHash, c.runHash);
});

test('rampart boot --board-file loads a board from a path', () => {
  const r = bootJson(['--board-file', packagePath('test', 'fixtures', 'boards', 'minimal.yaml')]);
  assert.equal(r.board, 'minimal');
});

test('rampart boot: bad input exits 2 and says where', () => {
  const broken = packagePath('test', 'fixtures', 'boards', 'broken', 'overlapping-regions.yaml');
  const r = runCli(['boot', '--board-file', broken]);
  assert.equal(r.status, 2);
  assert.match(
    r.stderr,
    /overlapping-regions\.yaml:18:\d+, field chips\[0\]\.memory\[1\]\.base: region 'high'/,
  );
  assert.match(r.stderr, /\[BOARD_INVALID\]/);
  assert.equal(r.stdout, '');
  for (const args of [
    ['--board', 'nope'],
    ['--board', 'iot-gateway', '--board-file', broken],
    ['--seed', 'abc'],
    ['--seed', '1.5'],
    ['--board-file', '/no/such/board.yaml'],
    ['--frobnicate'],
  ]) {
    const x = runCli(['boot', ...args]);
    assert.equal(x.status, 2, `${args.join(' ')}: ${x.stderr}`);
    assert.notEqual(x.stderr, '');
  }
});
