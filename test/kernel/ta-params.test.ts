import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prepare } from '../../src/kernel/abi/ta.js';
import { ParamType, TeeResult } from '../../src/lib/tee/gp.js';
import { MAX_PAYLOAD } from '../../src/lib/tee/protocol.js';
import { E } from '../../src/kernel/abi/sys.js';
import { services } from '../../src/kernel/abi/services.js';
import { callTable } from '../../src/kernel/core/table.js';

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

test('a shared memref larger than its region is refused before anything is allocated or read', () => {
  // The partition's `sys` endowment, as the kernel answers it: region 1 is 4 KiB, mapped on request.
  const calls: number[] = [];
  const regionBytes = 4096;
  const g = globalThis as { sys?: unknown };
  g.sys = {
    call(n: number, ...words: number[]) {
      calls.push(n);
      if (n === services.region_info.number)
        return words[0] === 1 ? [E.OK, regionBytes, 0] : [E.ENOENT, 0, 0];
      return [E.OK, 0, 0];
    },
    callWithPayload(n: number, _payload: Uint8Array, ...words: number[]) {
      calls.push(n);
      return { results: [E.OK, 0, 0], payload: new Uint8Array(words[2] ?? 0) };
    },
    memory: () => undefined,
  };
  try {
    const claim = (offset: number, size: number) => ({ kind: 'shared', region: 1, offset, size }) as const;
    for (const t of [ParamType.MEMREF_PARTIAL_OUTPUT, ParamType.MEMREF_PARTIAL_INPUT]) {
      calls.length = 0;
      assert.equal(prepare(types(t), [claim(0, 0x80000000)]), TeeResult.ERROR_BAD_PARAMETERS);
      assert.equal(prepare(types(t), [claim(4000, 100)]), TeeResult.ERROR_BAD_PARAMETERS);
      assert.ok(!calls.includes(services.mem_read.number), 'nothing read for a refused memref');
      assert.ok(calls.includes(callTable.region_unmap.number), 'a refused request leaves no mapping');
      const ok = prepare(types(t), [claim(96, 4000)]);
      assert.ok(typeof ok === 'object' && ok.params[0]?.type === 'memref' && ok.params[0].size === 4000);
    }
    const unknownRegion = { kind: 'shared', region: 9, offset: 0, size: 1 } as const;
    assert.equal(
      prepare(types(ParamType.MEMREF_PARTIAL_INPUT), [unknownRegion]),
      TeeResult.ERROR_BAD_PARAMETERS,
    );
  } finally {
    delete g.sys;
  }
});
