import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/common/errors.js';
import { readInputFile, readInputText } from '../../src/common/input-file.js';

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
