/**
 * Slow: power cuts at every boot-state operation and every program of update → confirm → update →
 * confirm staged through the real flash controller, at the first and last erase of each slot, and at
 * seeded random erases; each leaves a device that boots on admissible images and takes a new update.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cutAndRecover, cutPoints, scenarioOperations } from './soc-power-cut.js';

test('power cuts across an update-confirm-update-confirm scenario on the SoC flash', async () => {
  const ops = await scenarioOperations();
  const cuts = cutPoints(ops, 2 * 0x1000, 24, 0x5eedb007);
  assert.ok(cuts.length >= 60, `${cuts.length} cut points out of ${ops.length} operations`);
  for (const [i, cut] of cuts.entries()) await cutAndRecover(cut, 1000 + i);
});
