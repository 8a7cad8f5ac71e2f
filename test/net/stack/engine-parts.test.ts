import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TimerQueue } from '../../../src/lib/net/stack/timers.js';
import { SegmentReassembly } from '../../../src/lib/net/stack/tcp-reassembly.js';
import { RtoEstimator } from '../../../src/lib/net/stack/tcp-rto.js';
import { seqAdd, seqLt } from '../../../src/lib/net/stack/seq.js';
import { ByteQueue } from '../../../src/lib/net/stack/byte-queue.js';

test('timer queue: deadline order, ties in arming order, re-arm and stop', () => {
  const q = new TimerQueue();
  const fired: string[] = [];
  const a = q.timer(() => fired.push('a'));
  const b = q.timer(() => fired.push('b'));
  const c = q.timer(() => fired.push('c'));
  a.at(30);
  b.at(10);
  c.at(10);
  assert.equal(q.nextDeadline(), 10);
  b.at(50); // later: the queued entry wakes early and goes back in
  a.at(5); // earlier: a new entry
  c.stop();
  assert.equal(q.nextDeadline(), 5);
  q.runDue(20);
  assert.deepEqual(fired, ['a']);
  assert.equal(q.nextDeadline(), 50);
  q.runDue(100);
  assert.deepEqual(fired, ['a', 'b']);
  assert.equal(q.nextDeadline(), undefined);
});

test('timer queue: property, fires exactly the armed timers at their last deadline, in order', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          timer: fc.integer({ min: 0, max: 9 }),
          at: fc.option(fc.integer({ min: 0, max: 1000 })),
        }),
        {
          maxLength: 60,
        },
      ),
      (ops) => {
        const q = new TimerQueue();
        const fired: [number, number][] = [];
        const timers = Array.from({ length: 10 }, (_, i) => q.timer(() => fired.push([i, q.now])));
        const expected = new Map<number, number>();
        for (const op of ops) {
          const t = timers[op.timer];
          assert.ok(t);
          if (op.at === null) {
            t.stop();
            expected.delete(op.timer);
          } else {
            t.at(op.at);
            expected.set(op.timer, op.at);
          }
        }
        for (let now = 0; now <= 1000; now += 7) q.runDue(now);
        q.runDue(1000);
        assert.equal(fired.length, expected.size);
        for (const [i, at] of fired) {
          const want = expected.get(i);
          assert.ok(want !== undefined && at >= want && at - want < 7);
        }
      },
    ),
    { seed: 7, numRuns: 300 },
  );
});

test('out-of-order store: any insertion order of overlapping pieces yields each byte once, in order', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      fc.array(
        fc.record({ start: fc.integer({ min: 1, max: 400 }), length: fc.integer({ min: 1, max: 80 }) }),
        {
          maxLength: 40,
        },
      ),
      (base, pieces) => {
        const data = Uint8Array.from({ length: 600 }, (_, i) => (i * 7) & 0xff);
        const store = new SegmentReassembly();
        const covered = new Set<number>();
        for (const p of pieces) {
          store.insert(seqAdd(base, p.start), data.subarray(p.start, p.start + p.length));
          for (let i = p.start; i < Math.min(600, p.start + p.length); i++) covered.add(i);
        }
        assert.equal(store.bytes, covered.size);
        // Byte 0 arrives: everything contiguous from it comes out, once.
        const out = store.takeFrom(base);
        assert.equal(out.length, 0);
        store.insert(base, data.subarray(0, 1));
        let next = 1;
        while (covered.has(next)) next++;
        const chunks = store.takeFrom(seqAdd(base, 1));
        const joined = chunks.flatMap((c) => [...c]);
        assert.deepEqual(joined, [...data.subarray(1, next)]);
        // Whatever is left lies beyond the first gap.
        assert.ok(store.empty || store.bytes === [...covered].filter((i) => i > next).length);
      },
    ),
    { seed: 11, numRuns: 400 },
  );
});

test('sequence arithmetic wraps at 2^32 (RFC 9293 §3.4)', () => {
  assert.equal(seqAdd(0xffffffff, 2), 1);
  assert.ok(seqLt(0xfffffff0, 5));
  assert.ok(!seqLt(5, 0xfffffff0));
});

test('RTO per RFC 6298: first sample, smoothing, bounds and backoff', () => {
  const r = new RtoEstimator({ minRtoNs: 200e6, maxRtoNs: 60e9 });
  assert.equal(r.rtoNs, 1e9);
  r.sample(100e6); // SRTT 100 ms, RTTVAR 50 ms → 300 ms
  assert.equal(r.rtoNs, 300e6);
  r.sample(100e6); // RTTVAR 37.5 ms → 250 ms
  assert.equal(r.rtoNs, 250e6);
  for (let i = 0; i < 10; i++) r.backoff();
  assert.equal(r.rtoNs, 60e9);
  const rfc = new RtoEstimator();
  rfc.sample(1e6);
  assert.equal(rfc.rtoNs, 1e9, 'RFC 6298 §2.4: never below 1 s by default');
});

test('byte queue: pushes, views and takes across growth and compaction', () => {
  const q = new ByteQueue(8);
  const model: number[] = [];
  let x = 1;
  for (let round = 0; round < 200; round++) {
    const n = round % 13;
    const chunk = Uint8Array.from({ length: n }, () => (x = (x * 37 + 11) & 0xff));
    q.push(chunk);
    model.push(...chunk);
    const take = (round * 5) % 11;
    assert.deepEqual([...q.view(0, 3)], model.slice(0, 3));
    assert.deepEqual([...q.take(take)], model.splice(0, take));
    assert.equal(q.length, model.length);
  }
});
