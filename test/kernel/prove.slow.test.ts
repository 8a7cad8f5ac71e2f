/**
 * `rampart prove kernel/<profile> --json`: every obligation of every call proven, from scratch (no cache),
 * for every profile a system configuration can name — the profile a board boots is a profile proven here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { profiles } from '../../src/kernel/core/profile.js';
import { callNames } from '../../src/kernel/core/table.js';
import { runCli } from '../helpers/cli.js';

for (const p of Object.values(profiles)) {
  test(`rampart prove kernel/${p.name}: every obligation proven`, (t) => {
    // The resource limit bounds each query (kernelObligations); the wall-clock guard is only a backstop,
    // wide enough for the application profile's slowest refinement (~5 min) on a loaded machine.
    const r = runCli([
      'prove',
      `kernel/${p.name}`,
      '--json',
      '--no-cache',
      '--jobs',
      '2',
      '--timeout',
      '3600',
    ]);
    assert.equal(r.status, 0, r.stderr.slice(-2000) + r.stdout.slice(-4000));
    const out = JSON.parse(r.stdout) as {
      summary: { total: number; proven: number; wallMs: number; solveMs: number };
      obligations: { name: string; status: string; solveMs: number }[];
    };
    assert.equal(out.summary.proven, out.summary.total);
    // 8 per call (invariant, refinement, integrity, authority, world, the three unwinding conditions), plus the
    // boot invariant for every configuration, the initial states, and the world-separation state lemma.
    assert.equal(out.summary.total, 8 * callNames.length + 4);
    for (const ob of out.obligations) assert.ok(ob.name.startsWith(`kernel/${p.name}/`), ob.name);
    const slowest = [...out.obligations].sort((a, b) => b.solveMs - a.solveMs)[0];
    t.diagnostic(
      `${p.name}: ${callNames.length} calls, ${out.summary.total} obligations proven in ${(out.summary.wallMs / 1000).toFixed(1)} s wall (${(out.summary.solveMs / 1000).toFixed(1)} s solving; slowest ${slowest?.name} ${((slowest?.solveMs ?? 0) / 1000).toFixed(1)} s)`,
    );
  });
}
