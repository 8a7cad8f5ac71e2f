import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

test('rampart prove examples --json: every obligation proven, documented fields present', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-prove-cli-'));
  try {
    const r = runCli(['prove', 'examples', '--json', '--only', 'fifo', '--cache-dir', join(dir, 'cache')]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      format: string;
      summary: { total: number; proven: number; cached: number };
      obligations: { name: string; status: string; kind: string; hash: string; cached: boolean }[];
      backends: { id: string; version: string }[];
    };
    assert.equal(out.format, 'rampart-prove/1');
    assert.equal(out.summary.total, out.summary.proven);
    assert.ok(out.obligations.every((o) => o.name.includes('/fifo/') || o.name.includes('/queue/')));
    assert.ok(out.obligations.every((o) => /^[0-9a-f]{64}$/.test(o.hash)));
    assert.equal(out.backends[0]?.id, 'z3');
    const again = JSON.parse(
      runCli(['prove', 'examples', '--json', '--only', 'fifo', '--cache-dir', join(dir, 'cache')]).stdout,
    ) as typeof out;
    assert.equal(again.summary.cached, again.summary.total);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rampart prove prints one line per obligation and a summary', () => {
  const r = runCli(['prove', 'examples', '--only', 'ports/local-respect', '--no-cache']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /✓ examples\/ports\/local-respect\/send +(\d+ ms|[\d.]+ s)\n/);
  assert.match(r.stdout, /3 obligations: 3 proven · 0 cached/);
});

test('bad input exits 2 and says what is wrong', () => {
  const unknownTarget = runCli(['prove', 'nope']);
  assert.equal(unknownTarget.status, 2);
  assert.match(unknownTarget.stderr, /unknown proof target 'nope'/);
  const noMatch = runCli(['prove', 'examples', '--only', 'no-such-obligation']);
  assert.equal(noMatch.status, 2);
  assert.match(noMatch.stderr, /matches no obligation/);
  const backend = runCli(['prove', '--backend', 'yices']);
  assert.equal(backend.status, 2);
  assert.match(backend.stderr, /--backend must be z3, cvc5 or both/);
});

test('--list names every obligation with its kind', () => {
  const r = runCli(['prove', 'examples', '--list']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /examples\/pages\/refinement\/transfer {2}\(refinement-step\)/);
  assert.match(r.stdout, /examples\/ports\/step-consistency\/send {2}\(step-consistency\)/);
});

test('--replay: a regression file is replayed concretely; a malformed one is rejected with its location', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-replay-'));
  try {
    const good = join(dir, 'good.json');
    writeFileSync(
      good,
      JSON.stringify({
        format: 'rampart-proof-regression/1',
        target: 'examples',
        obligation: 'examples/fifo/invariant/push',
        violated: ['count ≤ capacity'],
        inputs: { before: { buf: [0, 0, 0, 0, 0, 0, 0, 0], head: 0, count: 8 }, args: { item: 1 } },
      }),
    );
    const r = runCli(['prove', '--replay', good]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /✓ examples\/fifo\/invariant\/push .*fixed/);
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        format: 'rampart-proof-regression/1',
        target: 'examples',
        obligation: 'examples/fifo/invariant/push',
        violated: [],
        inputs: { before: {} },
      }),
    );
    const rb = runCli(['prove', '--replay', bad]);
    assert.equal(rb.status, 2);
    assert.match(rb.stderr, /bad\.json.*missing field 'buf'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--replay: every field of a regression file is checked, errors name the field path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-replay-'));
  const base = {
    format: 'rampart-proof-regression/1',
    target: 'examples',
    obligation: 'examples/fifo/invariant/push',
    violated: ['count ≤ capacity'],
    inputs: { before: { buf: [0, 0, 0, 0, 0, 0, 0, 0], head: 0, count: 8 }, args: { item: 1 } },
  };
  const cases: [string, string, RegExp][] = [
    ['{\n  "format": 1,\n  x', 'r.json:3:3', /not JSON/],
    ['[]', 'r.json, field (root)', /expected a rampart-proof-regression\/1 object, got a list/],
    [JSON.stringify({ ...base, extra: 1 }), 'r.json, field extra', /unknown field/],
    [JSON.stringify({ ...base, violated: undefined }), 'r.json, field violated', /missing field/],
    [JSON.stringify({ ...base, format: 'x/2' }), 'r.json, field format', /got string "x\/2"/],
    [JSON.stringify({ ...base, target: 'nope' }), 'r.json, field target', /unknown proof target 'nope'/],
    [
      JSON.stringify({ ...base, obligation: 7 }),
      'r.json, field obligation',
      /non-empty string, got number 7/,
    ],
    [
      JSON.stringify({ ...base, violated: ['a', null] }),
      'r.json, field violated[1]',
      /clause name, got null/,
    ],
    [
      JSON.stringify({ ...base, inputs: { ...base.inputs, args: { item: 256 } } }),
      'r.json, field inputs.args.item',
      /unsigned 8-bit integer, got number 256/,
    ],
    [
      JSON.stringify({ ...base, inputs: { ...base.inputs, args: { item: 1, more: 2 } } }),
      'r.json, field inputs.args.more',
      /unknown field 'more'/,
    ],
    [
      JSON.stringify({
        ...base,
        inputs: { ...base.inputs, before: { ...base.inputs.before, buf: [0, 0, 0, 0, 0, 0, 0, 1.5] } },
      }),
      'r.json, field inputs.before.buf[7]',
      /got number 1.5/,
    ],
  ];
  try {
    const file = join(dir, 'r.json');
    for (const [text, where, message] of cases) {
      writeFileSync(file, text);
      const r = runCli(['prove', '--replay', 'r.json'], { cwd: dir });
      assert.equal(r.status, 2, text);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.ok(r.stderr.startsWith(`rampart prove: ${where}: `), `${text}: ${r.stderr}`);
      assert.match(r.stderr, message, text);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
