import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConcreteMachine, concreteOps, proveObligations } from '../../src/proof/index.js';
import { capCopy, EPERM, GRANT, KState, kernelSketchObligations, OK } from './kernel-sketch.js';

test('the API sketch runs concretely', () => {
  const o = concreteOps;
  const init = kernelSketchObligations()[0];
  assert.ok(init);
  const m = new ConcreteMachine(KState, {
    capObj: o.constArray(KState.fields.capObj, 5),
    capRights: o.store2(o.constArray(KState.fields.capRights, 0), 0, 0, GRANT | 0b0011),
    maxRights: o.constArray(KState.fields.maxRights, 0b1011),
  });
  assert.equal(
    m.apply((oo, s) => capCopy(oo, s, { caller: 0, slot: 0, to: 2, toSlot: 1, mask: 0b0001 })),
    OK,
  );
  assert.equal(m.state.capRights.get(2 * 4 + 1), 0b0001);
  assert.equal(
    m.apply((oo, s) => capCopy(oo, s, { caller: 2, slot: 1, to: 3, toSlot: 0, mask: 0b1111 })),
    EPERM,
  );
});

test('the API sketch is proven', async () => {
  const options = { backend: 'z3' as const, jobs: 2, rlimit: 50_000_000, timeoutMs: 120_000 };
  const report = await proveObligations(kernelSketchObligations(), options);
  assert.deepEqual(
    report.results.map((r) => r.status),
    ['proven', 'proven', 'proven'],
  );
});
