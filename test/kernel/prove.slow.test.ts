/** `rampart prove kernel --json`: every obligation of every call proven, from scratch (no cache). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callNames } from '../../src/kernel/core/table.js';
import { runCli } from '../helpers/cli.js';

test('rampart prove kernel: every obligation proven', (t) => {
  const r = runCli(['prove', 'kernel', '--json', '--no-cache']);
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const out = JSON.parse(r.stdout) as {
    summary: { total: number; proven: number; wallMs: number; solveMs: number };
    obligations: { name: string; status: string }[];
  };
  assert.equal(out.summary.proven, out.summary.total);
  // 7 per call (invariant, refinement, integrity, world, and the three unwinding conditions), plus the
  // boot invariant for every configuration, the initial states, and the world-separation state lemma.
  assert.equal(out.summary.total, 7 * callNames.length + 4);
  t.diagnostic(
    `${callNames.length} calls, ${out.summary.total} obligations proven in ${(out.summary.wallMs / 1000).toFixed(1)} s wall (${(out.summary.solveMs / 1000).toFixed(1)} s solving)`,
  );
});
