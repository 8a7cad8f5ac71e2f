/**
 * The mutation check, built into the suite: every guard and guarded update of every kernel call,
 * disabled in turn, makes at least one obligation fail with a counterexample. Kill rate: 100%.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelMutationCheck } from '../../src/kernel/spec/mutation.js';

test('kernel mutation check: every guard and guarded update is necessary (kill rate 100%)', async (t) => {
  const report = await kernelMutationCheck({
    backend: 'z3',
    jobs: 2,
    rlimit: 50_000_000,
    timeoutMs: 300_000,
  });
  const survivors = report.mutants.filter((m) => !m.killed);
  t.diagnostic(
    `${report.killed}/${report.guards} mutants killed (${(report.killRate * 100).toFixed(1)}%): ${report.killedByProperty} by an invariant, integrity, world-separation or noninterference obligation, ${report.killedByRefinementOnly} by the refinement alone; ${(report.wallMs / 60000).toFixed(1)} min`,
  );
  assert.ok(report.guards >= 150, `only ${report.guards} guards found`);
  assert.deepEqual(
    survivors.map(
      (m) => `${m.guard}${m.inconclusive.length > 0 ? ` (inconclusive: ${m.inconclusive.join(', ')})` : ''}`,
    ),
    [],
  );
  for (const m of report.mutants) assert.ok(m.counterexample, `${m.guard}: killed without a counterexample`);
  assert.equal(report.killRate, 1);
});
