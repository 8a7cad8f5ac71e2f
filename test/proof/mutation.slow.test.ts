import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { target } from '../../src/proof/examples/index.js';
import type { Guards } from '../../src/proof/guards.js';
import { mutationCheck } from '../../src/proof/mutation.js';
import type { ProverOptions } from '../../src/proof/prover.js';
import { kernelSketchObligations } from './kernel-sketch.js';

/** Mutants share a cache: each re-solves only the obligations its guard touches. */
async function withCache<R>(f: (options: ProverOptions) => Promise<R>): Promise<R> {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-mutants-'));
  try {
    return await f({ backend: 'z3', jobs: 2, rlimit: 50_000_000, timeoutMs: 120_000, cacheDir: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('examples: every guard removed yields a counterexample (kill rate 100%)', async () => {
  const report = await withCache((options) => mutationCheck((g) => target.obligations(g), options));
  assert.ok(report.guards >= 9, `found ${report.guards} guards`);
  assert.deepEqual(
    report.mutants.filter((m) => !m.killed).map((m) => m.guard),
    [],
  );
  assert.equal(report.killRate, 1);
});

test('the API sketch: every guard is needed', async () => {
  const report = await withCache((options) =>
    mutationCheck((g: Guards) => kernelSketchObligations(g), options),
  );
  assert.deepEqual(
    report.mutants.map((m) => [m.guard, m.killed]),
    [
      ['copy.grant', true],
      ['copy.empty', true],
      ['copy.attenuate', true],
    ],
  );
});
