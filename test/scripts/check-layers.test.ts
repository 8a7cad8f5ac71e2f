import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const script = join(repo, 'scripts/check-layers.mjs');

function check(...args: string[]) {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

function fixture(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'rampart-layers-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test('check-layers: the real tree passes', () => {
  const r = check();
  assert.equal(r.status, 0, r.stderr);
});

test('check-layers: an import from a higher layer fails, naming file and line', () => {
  const root = fixture({
    'src/common/a.ts': "// leaf\nimport { b } from '../kernel/core/b.js';\nexport const a = b;\n",
    'src/kernel/core/b.ts': "import { c } from '../../common/c.js';\nexport const b = c;\n",
    'src/common/c.ts': 'export const c = 1;\n',
  });
  try {
    const r = check(root, '--no-exceptions');
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr.trim(),
      'src/common/a.ts:2: common may not import kernel/core (../kernel/core/b.js)',
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('check-layers: an application importing the kernel core or another application fails', () => {
  const root = fixture({
    'src/apps/one/entry.ts':
      "import { E } from '../../kernel/core/errors.js';\nimport { P } from '../two/protocol.js';\n",
    'src/apps/two/protocol.ts': "import { A } from '../../kernel/abi/sys.js';\nexport const P = A;\n",
    'src/kernel/core/errors.ts': 'export const E = 1;\n',
    'src/kernel/abi/sys.ts': 'export const A = 1;\n',
    'src/normal/os/main.ts':
      "import { P } from '../../apps/two/protocol.js';\nimport { X } from '../../apps/one/entry.js';\n",
  });
  try {
    const r = check(root, '--no-exceptions');
    assert.equal(r.status, 1);
    assert.deepEqual(r.stderr.trim().split('\n'), [
      'src/apps/one/entry.ts:1: apps/one may not import kernel/core (../../kernel/core/errors.js)',
      'src/apps/one/entry.ts:2: apps/one may not import apps/two (../two/protocol.js)',
      'src/normal/os/main.ts:2: normal/os may not import apps/one (only its protocol.ts) (../../apps/one/entry.js)',
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('check-layers: an import cycle fails, named file by file', () => {
  const root = fixture({
    'src/lib/x/a.ts': "import type { B } from './b.js';\nexport type A = B;\n",
    'src/lib/x/b.ts': "import { c } from './c.js';\nexport type B = number;\nexport const b = c;\n",
    'src/lib/x/c.ts': "import type { A } from './a.js';\nexport const c: A = 1;\n",
  });
  try {
    const r = check(root, '--no-exceptions');
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr.trim(),
      'cycle: src/lib/x/a.ts -> src/lib/x/b.ts -> src/lib/x/c.ts -> src/lib/x/a.ts',
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('check-layers: an exception that no longer occurs fails', async () => {
  const root = fixture({
    'src/common/a.ts': 'export const a = 1;\n',
    'src/apps/x/entry.ts': "import { E } from '../../kernel/core/errors.js';\n",
    'src/kernel/core/errors.ts': 'export const E = {};\n',
  });
  try {
    const { checkLayers } = (await import(pathToFileURL(script).href)) as {
      checkLayers: (
        root: string,
        exceptions: { file: string; imports: string; why: string }[],
        cycles: never[],
      ) => { violations: string[]; stale: string[] };
    };
    const listed = (file: string) => ({ file, imports: 'src/kernel/core/errors.ts', why: 'fixture' });
    const used = checkLayers(root, [listed('src/apps/x/entry.ts')], []);
    assert.deepEqual(used, { violations: [], stale: [] });
    const stale = checkLayers(root, [listed('src/apps/x/entry.ts'), listed('src/apps/gone/entry.ts')], []);
    assert.deepEqual(stale.violations, []);
    assert.match(stale.stale.join('\n'), /^src\/apps\/gone\/entry\.ts: stale exception/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
