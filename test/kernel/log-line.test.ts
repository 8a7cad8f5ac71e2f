import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeLogLine } from '../../src/kernel/runtime/log-line.js';
import { startSystem } from '../helpers/system.js';

test('C0, ESC, DEL and C1 controls become \\xNN and a backslash \\\\; the rest is kept', () => {
  assert.equal(escapeLogLine('a\x00b\x1b[2Jc\x7fd\u0080\u009fe'), 'a\\x00b\\x1b[2Jc\\x7fd\\x80\\x9fe');
  assert.equal(escapeLogLine('C:\\x1b'), 'C:\\\\x1b', 'a literal "\\x1b" cannot pass for an escape');
  assert.equal(escapeLogLine('\r\t'), '\\x0d\\x09');
  assert.equal(escapeLogLine('é ü € 😀 \u00a0'), 'é ü € 😀 \u00a0');
});

test('the cut never splits an escape', () => {
  assert.equal(escapeLogLine('ab\x1b', 4), 'ab…');
  assert.equal(escapeLogLine('ab\x1b', 6), 'ab\\x1b');
  assert.equal(escapeLogLine('a\\\\', 2), 'a…');
  assert.equal(escapeLogLine('abc', 3), 'abc');
});

test('a partition logging terminal controls reaches the console escaped', async () => {
  const sys = startSystem({
    system: `
chip: soc
profile: application
domains:
  - { name: admin, world: secure }
  - { name: normal-world, world: non-secure }
partitions:
  - { name: root, domain: admin }
  - { name: client, domain: normal-world, program: normal-world, budgetMs: 2000 }
`,
    normal: { entry: 'test/fixtures/partitions/control-log-nw.ts' },
  });
  try {
    await sys.runtime.run();
    const lines = sys.logs.filter((l) => l.partition === 'client').map((l) => l.line);
    assert.deepEqual(lines, ['red:\\x1b[31m bell:\\x07 del:\\x7f csi:\\x9b back:\\\\ tab:\\x09 end']);
    const kept = sys.runtime.partitions().find((p) => p.name === 'client')?.log;
    assert.deepEqual(kept, lines);
  } finally {
    await sys.runtime.shutdown();
  }
});
