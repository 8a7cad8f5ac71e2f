import { test } from 'node:test';
import assert from 'node:assert/strict';
import { target } from '../../src/proof/examples/index.js';
import { mutationCheck } from '../../src/proof/mutation.js';

test('examples: every guard removed yields a counterexample (kill rate 100%)', async () => {
  const report = await mutationCheck((g) => target.obligations(g), {
    backend: 'z3',
    jobs: 2,
    rlimit: 50_000_000,
    timeoutMs: 120_000,
  });
  assert.ok(report.guards >= 9, `found ${report.guards} guards`);
  const survivors = report.mutants.filter((m) => !m.killed).map((m) => m.guard);
  assert.deepEqual(survivors, []);
  assert.equal(report.killRate, 1);
});
