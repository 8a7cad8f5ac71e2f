import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const here = dirname(fileURLToPath(import.meta.url));
const sourceRoot = resolve(here, '../../../../');

/** Every source file the stack's entry module reaches through relative imports. */
function moduleGraph(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'";]*?from\s+'([^']+)'/g)) {
      const spec = m[1] ?? '';
      assert.ok(spec.startsWith('.'), `${file} imports '${spec}': the stack may import only its own modules`);
      visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    }
  };
  visit(entry);
  return [...seen].sort();
}

test('the stack and the codecs it uses name no host facility (clock, timers, Buffer, Node modules)', () => {
  const files = moduleGraph(join(sourceRoot, 'src/lib/net/stack/index.ts'));
  assert.ok(files.length > 15, `${files.length} files`);
  const forbidden =
    /\b(Buffer|process|setTimeout|setInterval|setImmediate|queueMicrotask|performance|TextEncoder|TextDecoder|require|globalThis)\b|\bDate\s*\.\s*now|\bnew\s+Date\b|Math\s*\.\s*random|\bimport\s*\(|['"]node:/;
  for (const file of files) {
    const code = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '')
      .replace(/`(?:[^`\\]|\\.)*`/g, '``')
      .replace(/'(?:[^'\\\n]|\\.)*'/g, (s) => (s.startsWith("'node:") ? s : "''"));
    const hit = forbidden.exec(code);
    assert.equal(hit, null, `${file}: uses ${hit?.[0]}`);
  }
});

test('in a SES Compartment, and under lockdown without Buffer, process or timers, two stacks transfer and ping', async () => {
  const worker = new Worker(join(here, 'ses-worker.js'));
  const result = await new Promise<Record<string, unknown>>((ok, fail) => {
    worker.once('message', ok);
    worker.once('error', fail);
  });
  await worker.terminate();
  assert.equal(result.frozen, true);
  // Bundled and evaluated in a Compartment whose only globals are the JavaScript intrinsics.
  assert.deepEqual(result.inCompartment, {
    received: 200_000,
    ended: true,
    hasProcess: false,
    hasBuffer: false,
  });
  assert.ok(
    (result.removed as string[]).includes('Buffer') && (result.removed as string[]).includes('setTimeout'),
  );
  assert.equal(result.received, 100_000);
  assert.equal(result.ended, true);
  assert.equal(result.ping, 'reply');
});
