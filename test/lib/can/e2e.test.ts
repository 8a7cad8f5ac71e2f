import { test } from 'node:test';
import assert from 'node:assert/strict';
import { E2eReceiver, crc8SaeJ1850, protect } from '../../../src/lib/can/e2e.js';

test('CRC-8 SAE J1850 check value', () => {
  assert.equal(crc8SaeJ1850(Buffer.from('123456789')), 0x4b);
});

test('E2E receiver: good frames pass; a bad CRC, a repeated counter or a jump are rejected', () => {
  const r = new E2eReceiver();
  assert.deepEqual(r.check(0x100, protect(0x100, [1], 3)), { ok: true, counter: 3 });
  assert.deepEqual(r.check(0x100, protect(0x100, [1], 4)), { ok: true, counter: 4 });
  assert.deepEqual(r.check(0x100, protect(0x100, [1], 4)), { ok: false, code: 'REPEATED' });
  assert.deepEqual(r.check(0x100, protect(0x100, [1], 10)), { ok: false, code: 'WRONG_SEQUENCE' });
  assert.deepEqual(r.check(0x100, protect(0x100, [1], 11)), { ok: true, counter: 11 }, 're-synchronised');
  const bad = protect(0x100, [1], 12);
  bad[0] = (bad[0] as number) ^ 1;
  assert.deepEqual(r.check(0x100, bad), { ok: false, code: 'CRC' });
  assert.deepEqual(r.check(0x101, protect(0x100, [1], 12)), { ok: false, code: 'CRC' }, 'the ID is covered');
});
