/**
 * A power cut during an update staged through the real flash controller leaves a bootable, updatable
 * device: cuts at every boot-state operation of update → confirm → update → confirm, and at a slot erase,
 * an image page and a slot trailer. The slow suite (soc-power-cut.slow.test.ts) cuts at many more points.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cutAndRecover, scenarioOperations, type FlashOperation } from './soc-power-cut.js';

const BOOT_STATE_END = 2 * 0x1000;

test('a power cut at any boot-state write, slot erase, image page or trailer of an update leaves a device that boots and updates', async () => {
  const ops = await scenarioOperations();
  const bootState = ops.filter((o) => o.offset < BOOT_STATE_END);
  // Stage (images, then boot state), trial boot (attempt counted), confirm; twice.
  assert.equal(bootState.length, 12, 'six boot-state writes of one erase and one program each');
  const slotOps = ops.filter((o) => o.offset >= BOOT_STATE_END);
  const first = (pred: (o: FlashOperation) => boolean) => slotOps.find(pred)?.index;
  const samples = [
    first((o) => o.op === 'erase'), // the first block of the update's secure slot
    first((o) => o.op === 'program'), // the first page of the secure bundle
    slotOps.filter((o) => o.op === 'program').at(-1)?.index, // the last trailer of the second update
  ];
  assert.ok(samples.every((s) => s !== undefined));
  const cuts = [...bootState.map((o) => o.index), ...(samples as number[])];
  for (const [i, cut] of cuts.entries()) await cutAndRecover(cut, 100 + i);
});
