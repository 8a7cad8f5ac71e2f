import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './helpers/cli.js';

test('rampart with no command prints usage and exits 2', () => {
  const r = runCli([]);
  assert.equal(r.status, 2);
  assert.match(r.stdout, /usage: rampart/);
});

test('an unknown command exits 2 and says so', () => {
  const r = runCli(['no-such-command']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command 'no-such-command'/);
});
