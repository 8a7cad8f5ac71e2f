/** The call table is the one source: implementations, specification, dispatch, ABI and docs agree with it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { packagePath } from '../../src/common/paths.js';
import { discoverGuards } from '../../src/proof/mutation.js';
import { callsMarkdown } from '../../src/kernel/core/docs.js';
import { kernelCalls } from '../../src/kernel/core/machine.js';
import { profiles, proofProfile } from '../../src/kernel/core/profile.js';
import { proofTargets } from '../../src/cli/prove-targets.js';
import {
  KernelStateRecord,
  commitRecord,
  kernelStateSchema,
  stateFields,
} from '../../src/kernel/core/state.js';
import { decodeRequest } from '../../src/kernel/core/step.js';
import { callNames, callTable, type CallSpec } from '../../src/kernel/core/table.js';
import { E, kernelCodes } from '../../src/kernel/core/errors.js';
import { specCalls } from '../../src/kernel/spec/machine.js';
import { kernelObligations } from '../../src/kernel/spec/target.js';
import { CArray } from '../../src/proof/concrete.js';
import { runCli } from '../helpers/cli.js';

test('one name per call: table, implementation and specification', () => {
  assert.deepEqual(Object.keys(kernelCalls).sort(), [...callNames].sort());
  assert.deepEqual(Object.keys(specCalls).sort(), [...callNames].sort());
  const numbers = callNames.map((n) => callTable[n].number);
  assert.equal(new Set(numbers).size, numbers.length, 'call numbers are unique');
  const codes = Object.values(kernelCodes).map((c) => c.code);
  assert.equal(new Set(codes).size, codes.length, 'result codes are unique');
});

test('every call fits the syscall ABI: at most eight argument words besides the caller', () => {
  for (const n of callNames) {
    const spec: CallSpec = callTable[n];
    assert.ok(Object.values(spec.args).filter((k) => k !== 'caller').length <= 8, n);
    assert.equal(Object.values(spec.args).filter((k) => k === 'caller').length, n === 'irq_raise' ? 0 : 1, n);
  }
});

test('every guard is named after its call, and the proofs mention every call', () => {
  const guards = discoverGuards((g) => kernelObligations(proofProfile, g));
  for (const g of guards) assert.ok((callNames as string[]).includes(g.slice(0, g.indexOf('.'))), g);
  for (const p of Object.values(profiles)) {
    const names = new Set(kernelObligations(p).map((o) => o.name));
    for (const n of callNames)
      for (const kind of [
        'invariant',
        'refinement',
        'integrity',
        'authority',
        'world',
        'output-consistency',
        'step-consistency',
        'local-respect',
      ])
        assert.ok(names.has(`kernel/${p.name}/${kind}/${n}`), `kernel/${p.name}/${kind}/${n}`);
  }
});

test('every profile a system can name has its proof target, and `kernel` proves them all', async () => {
  const all = new Set((await proofTargets['kernel']?.())?.obligations().map((o) => o.name));
  for (const p of Object.values(profiles)) {
    const one = await proofTargets[`kernel/${p.name}`]?.();
    assert.ok(one, `no proof target kernel/${p.name}`);
    const names = one.obligations().map((o) => o.name);
    assert.equal(names.length, 8 * callNames.length + 4);
    for (const n of names) assert.ok(all.has(n), n);
  }
  assert.equal(all.size, Object.keys(profiles).length * (8 * callNames.length + 4));
});

test('decodeRequest: argument words in table order, the caller from the runtime, ENOSYS for unknown numbers', () => {
  const d = decodeRequest(5, callTable.smc.number, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(d, {
    call: 'smc',
    args: { caller: 5, entry: 1, label: 2, mr0: 3, mr1: 4, mr2: 5, mr3: 6 },
  });
  assert.deepEqual(decodeRequest(5, 999, []), { call: undefined, code: E.ENOSYS });
  const irq = decodeRequest(5, callTable.irq_raise.number, [2]);
  assert.deepEqual(irq, { call: 'irq_raise', args: { device: 2 } });
});

test('docs/kernel.md carries the generated call table', () => {
  const doc = readFileSync(packagePath('docs', 'kernel.md'), 'utf8');
  assert.ok(doc.includes(callsMarkdown()), 'regenerate with: rampart kernel calls --markdown');
});

test('rampart kernel calls --json lists every call and code', () => {
  const r = runCli(['kernel', 'calls', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { calls: { name: string; number: number }[]; codes: unknown[] };
  assert.equal(out.calls.length, callNames.length);
  assert.equal(out.codes.length, Object.keys(kernelCodes).length);
});

test('the state record and its commit cover every field of the schema', () => {
  const schema = kernelStateSchema(proofProfile);
  assert.deepEqual(Object.keys(schema.fields), [...stateFields]);
  const before: Record<string, CArray> = {};
  for (const [f, sort] of Object.entries(schema.fields)) before[f] = CArray.of(sort as never);
  const rec = new KernelStateRecord(before as never) as unknown as Record<string, CArray>;
  assert.deepEqual(Object.keys(rec), [...stateFields]);
  for (const f of stateFields) rec[f] = (before[f] as CArray).set(0, 1);
  commitRecord(rec as never, before as never);
  for (const f of stateFields) {
    assert.equal((rec[f] as CArray).pending, false, f);
    assert.equal((rec[f] as CArray).get(0), 1, f);
  }
});
