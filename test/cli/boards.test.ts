import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';

test('rampart boards lists the shipped boards', () => {
  const r = runCli(['boards']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^iot-gateway {2}\(boards\/iot-gateway\.yaml\)$/m);
  assert.match(r.stdout, /^uconnect-headunit/m);
  assert.match(r.stdout, /chip ioc: 1 × v850es-fj3, no TrustZone/);
});

test('rampart boards --json is the documented shape', () => {
  const r = runCli(['boards', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const { boards } = JSON.parse(r.stdout) as {
    boards: {
      name: string;
      description: string;
      file: string;
      chips: { name: string; cpu: { model: string; count: number }; trustzone: boolean; devices: number }[];
      links: { name: string; kind: string }[];
      nodes: { name: string; kind: string; link: string }[];
    }[];
  };
  assert.deepEqual(
    boards.map((b) => b.name),
    ['iot-gateway', 'uconnect-headunit'],
  );
  const hu = boards[1]!;
  assert.equal(hu.file, 'boards/uconnect-headunit.yaml');
  assert.deepEqual(
    hu.chips.map((c) => [c.name, c.trustzone]),
    [
      ['ap', true],
      ['ioc', false],
    ],
  );
  assert.deepEqual(hu.nodes.map((n) => n.kind).sort(), ['brake-ecu', 'engine-ecu', 'steering-ecu']);
  assert.ok(hu.links.some((l) => l.kind === 'can-bus'));
  // Stable: keys sorted, two runs identical.
  assert.equal(runCli(['boards', '--json']).stdout, r.stdout);
});

test('rampart boards rejects unknown options with exit code 2', () => {
  const r = runCli(['boards', '--bogus']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /BAD_ARGUMENTS/);
});
