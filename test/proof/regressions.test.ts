/**
 * Replays every counterexample recorded with `rampart prove --write-regression test/proof/regressions`:
 * each fails until the bug it records is fixed (then delete the file, or keep it as a guard).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packagePath } from '../../src/common/paths.js';
import { proofTargets } from '../../src/cli/prove-targets.js';
import { checkRegression, type RegressionFile } from '../../src/proof/replay.js';

const dir = packagePath('test', 'proof', 'regressions');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

test('recorded proof counterexamples no longer reproduce', async (t) => {
  if (files.length === 0) {
    t.skip(`no regression recorded in ${dir}`);
    return;
  }
  for (const name of files) {
    const path = join(dir, name);
    const file = JSON.parse(readFileSync(path, 'utf8')) as RegressionFile;
    const load = proofTargets[file.target];
    assert.ok(load, `${path}: unknown target ${file.target}`);
    const ob = (await load()).obligations().find((o) => o.name === file.obligation);
    assert.ok(ob, `${path}: no obligation ${file.obligation}`);
    const verdict = checkRegression(ob, file, path);
    assert.notEqual(verdict.code, 'still-failing', `${path}: ${JSON.stringify(verdict)}`);
  }
});
