import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prepare } from '../../src/kernel/abi/ta.js';
import { ParamType, TeeResult } from '../../src/lib/tee/gp.js';
import { MAX_PAYLOAD } from '../../src/lib/tee/protocol.js';

const types = (t: number) => t;

test('a temporary memref claiming more than it carries or than an answer holds is refused unallocated', () => {
  const huge = { kind: 'temp', size: 0xffffffff, data: new Uint8Array(0) } as const;
  assert.equal(prepare(types(ParamType.MEMREF_TEMP_OUTPUT), [huge]), TeeResult.ERROR_BAD_PARAMETERS);
  const short = { kind: 'temp', size: 64, data: new Uint8Array(8) } as const;
  assert.equal(prepare(types(ParamType.MEMREF_TEMP_INPUT), [short]), TeeResult.ERROR_BAD_PARAMETERS);
  const ok = { kind: 'temp', size: 8, data: new Uint8Array(8) } as const;
  const r = prepare(types(ParamType.MEMREF_TEMP_INPUT), [ok]);
  assert.ok(typeof r === 'object' && r.params[0]?.type === 'memref');
  const out = { kind: 'temp', size: MAX_PAYLOAD, data: new Uint8Array(0) } as const;
  assert.equal(typeof prepare(types(ParamType.MEMREF_TEMP_OUTPUT), [out]), 'object');
});

test('a shared memref whose offset + size overflows 32 bits is refused before any mapping', () => {
  const p = { kind: 'shared', region: 1, offset: 0xfffffff0, size: 0x20 } as const;
  assert.equal(prepare(types(ParamType.MEMREF_PARTIAL_INPUT), [p]), TeeResult.ERROR_BAD_PARAMETERS);
});
