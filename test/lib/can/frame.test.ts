import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canFrame, frameBits } from '../../../src/lib/can/frame.js';

test('frame length on the wire counts stuff bits (hand-computed: ID 0, DLC 0 is 53 bits)', () => {
  // 34 dominant bits from SOF to the end of the CRC (all zero) need 6 stuff bits; + 13 fixed-form bits.
  assert.equal(frameBits(canFrame(0, [])), 53);
  for (const dlc of [0, 1, 4, 8]) {
    const data = new Array<number>(dlc).fill(0x55);
    const std = frameBits(canFrame(0x555, data));
    const ext = frameBits(canFrame(0x15555555, data, { extended: true }));
    assert.ok(
      std >= 47 + 8 * dlc && std <= 47 + 8 * dlc + Math.floor((34 + 8 * dlc - 1) / 4),
      `standard DLC ${dlc}: ${std}`,
    );
    assert.ok(
      ext >= 67 + 8 * dlc && ext <= 67 + 8 * dlc + Math.floor((54 + 8 * dlc - 1) / 4),
      `extended DLC ${dlc}: ${ext}`,
    );
  }
});
