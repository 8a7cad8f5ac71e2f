import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { packagePath } from '../../src/common/paths.js';

test('rampart demo hello: a Normal World client and the hello trusted application, every answer checked', () => {
  const r = runCli(['demo', 'hello', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const demo = JSON.parse(r.stdout) as { ok: boolean; problems: string[]; steps: { step: string }[] };
  assert.deepEqual(demo.problems, []);
  assert.equal(demo.ok, true);
  assert.deepEqual(
    demo.steps.map((s) => s.step),
    [
      'open-session',
      'invoke-value',
      'invoke-temp-memref',
      'invoke-shared-memory',
      'invoke-sum',
      'invoke-registered-memory',
      'cancel-before-start',
      'invoke-unknown-command',
      'close-session',
    ],
  );
});

test('rampart boot refuses a tampered secure bundle: the device halts, says why, exits 1', () => {
  assert.equal(runCli(['image', 'build-defaults']).status, 0);
  const dir = mkdtempSync(join(tmpdir(), 'rampart-images-'));
  cpSync(packagePath('.rampart', 'images', 'iot-gateway'), join(dir, 'iot-gateway'), { recursive: true });
  const file = join(dir, 'iot-gateway', 'secure-bundle.img');
  const image = readFileSync(file);
  image[image.length - 200] = (image[image.length - 200] ?? 0) ^ 0x40; // inside the last component: the ruleset
  writeFileSync(file, image);
  const r = runCli(['boot', '--images', dir]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    /refused bank A \(confirmed\): kernel: COMPONENT_TAMPERED: ta-data firewall\/rules\.v4/,
  );
  assert.match(r.stdout, /HALTED: no bank booted/);
});
