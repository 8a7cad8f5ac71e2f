import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogRing } from '../../src/apps/firewall/log-ring.js';

test('the log ring holds at most its capacity; the rest is counted and reported at the next drain', () => {
  const r = new LogRing(3, 10);
  for (let i = 0; i < 5; i++) r.push(`line ${i}`);
  assert.equal(r.length, 3);
  assert.deepEqual(r.counters, { logged: 3, dropped: 2, truncated: 0 });
  assert.deepEqual(r.drain(), [
    'line 0\nline 1\nline 2\nfw: … 2 more log lines suppressed (the counters are exact)\n',
  ]);
  assert.equal(r.length, 0);
  // After a drain the ring takes lines again, and says nothing of drops already reported.
  r.push('a very long line indeed');
  assert.deepEqual(r.drain(), ['a very lon…\n']);
  assert.deepEqual(r.counters, { logged: 4, dropped: 2, truncated: 1 });
  assert.deepEqual(r.drain(), []);
});

test('a drain packs lines into console writes of at most the chunk size, oldest first, losing none', () => {
  const r = new LogRing(100, 50);
  const lines = Array.from({ length: 100 }, (_, i) => `${i}`.padStart(40, '.'));
  for (const l of lines) r.push(l);
  const texts = r.drain(200);
  assert.ok(texts.every((t) => t.length <= 200));
  assert.deepEqual(texts.join('').split('\n').slice(0, -1), lines);
  // A ring that wrapped around keeps its order.
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 70; i++) r.push(`r${round}:${i}`);
    const out = r.drain(4000).join('').split('\n').slice(0, -1);
    assert.deepEqual(
      out,
      Array.from({ length: 70 }, (_, i) => `r${round}:${i}`),
    );
  }
});
