// Runs the compiled test suite with Node's built-in runner.
//   node scripts/test.mjs            every *.test.js under dist/test (not the slow ones)
//   node scripts/test.mjs --slow     only *.slow.test.js
//   node scripts/test.mjs FILTER…    only files whose path contains one of the filters
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const slow = args.includes('--slow');
const filters = args.filter((a) => !a.startsWith('--'));

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const files = walk('dist/test')
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => f.endsWith('.slow.test.js') === slow)
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

if (files.length === 0) {
  console.error(slow ? 'no slow test files' : 'no test files matched');
  process.exit(slow && filters.length === 0 ? 0 : 1);
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
