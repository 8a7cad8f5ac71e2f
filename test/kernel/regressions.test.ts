/**
 * Counterexamples as regression tests. Each file in `regressions/` is a counterexample the prover found
 * (`rampart prove kernel --write-regression DIR` writes them), recorded with the mutant that produces it:
 * replayed concretely, it must fail on that mutant and hold on the kernel as it is. One of them is also
 * replayed by hand through the concrete entry point.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packagePath } from '../../src/common/paths.js';
import { valueFromJSON } from '../../src/proof/concrete.js';
import { Guards } from '../../src/proof/guards.js';
import { checkRegression, type RegressionFile } from '../../src/proof/replay.js';
import { proofProfile } from '../../src/kernel/core/profile.js';
import { kernelStateSchema } from '../../src/kernel/core/state.js';
import { asRecord, step } from '../../src/kernel/core/step.js';
import { kernelObligations } from '../../src/kernel/spec/target.js';
import { runCli } from '../helpers/cli.js';

const dir = packagePath('test', 'kernel', 'regressions');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({
    path: join(dir, f),
    data: JSON.parse(readFileSync(join(dir, f), 'utf8')) as RegressionFile & { mutant: string },
  }));

test('recorded counterexamples fail on their mutant and hold on the kernel', () => {
  assert.ok(files.length >= 3);
  const production = kernelObligations(proofProfile);
  for (const { path, data } of files) {
    assert.equal(data.target, 'kernel/proof');
    const ob = production.find((o) => o.name === data.obligation);
    assert.ok(ob, `${path}: no obligation ${data.obligation}`);
    assert.notEqual(checkRegression(ob, data, path).code, 'still-failing', path);
    const mutant = kernelObligations(proofProfile, new Guards(new Set([data.mutant]))).find(
      (o) => o.name === data.obligation,
    );
    assert.ok(mutant);
    const verdict = checkRegression(mutant, data, path);
    assert.equal(
      verdict.code,
      'still-failing',
      `${path}: the counterexample no longer shows ${data.mutant}'s bug`,
    );
    if (verdict.code === 'still-failing') assert.deepEqual(verdict.violated, data.violated);
  }
});

test('the capability-copy leak, replayed through step: two states a caller cannot tell apart answer alike', () => {
  const file = files.find((f) => f.data.obligation === 'kernel/proof/output-consistency/cap_copy');
  assert.ok(file);
  const inputs = file.data.inputs as { s: unknown; t: unknown; args: Record<string, number> };
  const schema = kernelStateSchema(proofProfile);
  const s = asRecord(valueFromJSON(schema, inputs.s, file.path, 's'));
  const t = asRecord(valueFromJSON(schema, inputs.t, file.path, 't'));
  const rs = step({ profile: proofProfile, tables: s }, 'cap_copy', inputs.args);
  const rt = step({ profile: proofProfile, tables: t }, 'cap_copy', inputs.args);
  assert.deepEqual(rs.ret, rt.ret);
  assert.equal(rs.ret.name, 'EPERM');
});

test('rampart prove --replay: each recorded counterexample is fixed', () => {
  const r = runCli(['prove', ...files.flatMap((f) => ['--replay', f.path])]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal((r.stdout.match(/^✓ kernel\//gm) ?? []).length, files.length);
});
