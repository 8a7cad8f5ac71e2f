/**
 * The mutation check, built into the suite: every guard and guarded update of every kernel call,
 * disabled in turn, makes at least one obligation fail with a counterexample. Kill rate: 100%. A mutant
 * only the refinement kills is made the same way in the specification too; those that then survive are
 * the ones listed here, each with the reason no property (invariant, integrity, authority, world,
 * noninterference) covers it: none gains anyone access, each is a functional bug of the caller's own
 * call that only the specification describes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelMutationCheck } from '../../src/kernel/spec/mutation.js';

const sameWaySurvivors: Record<string, string> = {
  'partition_stop.running': "the admin authority's own call on a partition that was not running",
  'set_budget.live': "the admin authority's own call on a free partition's budget",
  'region_revoke.share':
    "the owner's revocation leaves its share offered: later mappings stay within what it shared",
  'endpoint_create.slot': "the creator's capability goes to no slot: it loses its own access",
  'notification_create.slot': "the creator's capability goes to no slot: it loses its own access",
  'notification_create.slot-free': 'the creator overwrites its own valid capability: it loses its own access',
  'cap_revoke.keep': "the owner's own capability goes stale too: it loses its own access",
  'cap_delete.cap': 'deleting a capability that is already stale empties the slot: nothing was held',
  'endpoint_reply_receive.reply-cap': 'with no reply pending the answer goes nowhere and the caller waits',
  'notification_signal.bits': 'a signal holding the SIGNAL right raises no bits',
  'notification_wait.take': "the waiter's own notification keeps the bits it read",
  'notification_poll.take': "the poller's own notification keeps the bits it read",
  'irq_raise.unmasked': "a masked interrupt of the owner's device still reaches the owner's notification",
  'irq_raise.mask': "the owner's device is not masked after it raised its interrupt",
};

test('kernel mutation check: every guard and guarded update is necessary (kill rate 100%)', async (t) => {
  const report = await kernelMutationCheck({
    backend: 'z3',
    jobs: 2,
    rlimit: 50_000_000,
    timeoutMs: 300_000,
  });
  const survivors = report.mutants.filter((m) => !m.killed);
  t.diagnostic(
    `${report.killed}/${report.guards} mutants killed (${(report.killRate * 100).toFixed(1)}%): ${report.killedByProperty} by an invariant, integrity, authority, world-separation or noninterference obligation, ${report.killedByRefinementOnly} by the refinement alone; ${(report.wallMs / 60000).toFixed(1)} min`,
  );
  assert.ok(report.guards >= 150, `only ${report.guards} guards found`);
  assert.deepEqual(
    survivors.map(
      (m) => `${m.guard}${m.inconclusive.length > 0 ? ` (inconclusive: ${m.inconclusive.join(', ')})` : ''}`,
    ),
    [],
  );
  for (const m of report.mutants) assert.ok(m.counterexample, `${m.guard}: killed without a counterexample`);
  t.diagnostic(
    `same way in the specification: ${report.killedByRefinementOnly} mutants, ${report.sameWaySurvivors.length} survive (listed with their reasons)`,
  );
  assert.deepEqual([...report.sameWaySurvivors].sort(), Object.keys(sameWaySurvivors).sort());
  assert.equal(report.killRate, 1);
});
