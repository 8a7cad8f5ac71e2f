import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/common/errors.js';
import {
  checkOutputDir,
  INPUT_LIMITS,
  makeOutputDir,
  readInputFile,
  readInputText,
} from '../../src/common/input-file.js';

function refused(code: string, file: string) {
  return (e: unknown) =>
    e instanceof InputError && e.code === code && e.location.file === file && e.message.startsWith(file);
}

test('readInputFile reads a regular file whole', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-input-'));
  try {
    const path = join(dir, 'a.txt');
    writeFileSync(path, 'héllo\n');
    assert.equal(readInputText(path), 'héllo\n');
    assert.equal(readInputFile(path).length, 7);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readInputFile refuses a FIFO, /dev/zero and a directory without reading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-input-'));
  try {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    assert.throws(() => readInputFile(fifo), refused('INPUT_NOT_REGULAR', fifo));
    assert.throws(() => readInputFile('/dev/zero'), refused('INPUT_NOT_REGULAR', '/dev/zero'));
    assert.throws(() => readInputFile(dir), refused('INPUT_NOT_REGULAR', dir));
    assert.throws(() => readInputFile(dir, { display: 'shown' }), refused('INPUT_NOT_REGULAR', 'shown'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readInputFile refuses a sparse file over the limit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-input-'));
  try {
    const path = join(dir, 'big');
    writeFileSync(path, '');
    truncateSync(path, 1024 * 1024 * 1024);
    assert.throws(() => readInputFile(path), refused('INPUT_TOO_LARGE', path));
    writeFileSync(path, '12345');
    assert.throws(() => readInputFile(path, { maxBytes: 4 }), refused('INPUT_TOO_LARGE', path));
    assert.equal(readInputFile(path, { maxBytes: 5 }).length, 5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readInputFile: a missing file is an InputError with the caller code; kinds set the limit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-input-'));
  try {
    const missing = join(dir, 'missing');
    assert.throws(() => readInputFile(missing), refused('INPUT_UNREADABLE', missing));
    assert.throws(
      () => readInputFile(missing, { unreadableCode: 'NO_RECIPE', what: 'the recipe' }),
      (e: unknown) => refused('NO_RECIPE', missing)(e) && /cannot read the recipe: ENOENT/.test(String(e)),
    );
    const key = join(dir, 'key.pem');
    writeFileSync(key, '');
    truncateSync(key, INPUT_LIMITS.key + 1);
    assert.throws(() => readInputFile(key, { kind: 'key' }), refused('INPUT_TOO_LARGE', key));
    truncateSync(key, INPUT_LIMITS.key);
    assert.equal(readInputFile(key, { kind: 'key' }).length, INPUT_LIMITS.key);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkOutputDir and makeOutputDir refuse a file where a folder is expected', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-input-'));
  try {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    const notDir = (path: string) => (e: unknown) =>
      e instanceof InputError &&
      e.code === 'NOT_A_DIRECTORY' &&
      e.location.file === path &&
      e.location.field === '--out';
    assert.throws(() => checkOutputDir(file, '--out'), notDir(file));
    assert.throws(() => checkOutputDir(join(file, 'sub'), '--out'), notDir(join(file, 'sub')));
    assert.throws(() => makeOutputDir(join(file, 'sub'), '--out'), notDir(join(file, 'sub')));
    checkOutputDir(dir);
    checkOutputDir(join(dir, 'not-yet'));
    makeOutputDir(join(dir, 'a', 'b'));
    checkOutputDir(join(dir, 'a', 'b'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
