import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VirtualClock, type Json } from '../../src/soc/index.js';

test('events run in order of time, then of scheduling; time jumps to each event', () => {
  const clock = new VirtualClock();
  const log: [number, Json][] = [];
  clock.register('t', (_a, d) => void log.push([clock.nowNs, d]));
  clock.schedule(20, 't', 'x', 'b');
  clock.schedule(10, 't', 'x', 'a');
  clock.schedule(20, 't', 'x', 'c');
  clock.schedule(0, 't', 'x', 'first');
  assert.equal(clock.runUntil(15), 2);
  assert.equal(clock.nowNs, 15);
  clock.runUntilIdle();
  assert.deepEqual(log, [
    [0, 'first'],
    [10, 'a'],
    [20, 'b'],
    [20, 'c'],
  ]);
  assert.throws(() => clock.scheduleAt(5, 't', 'x'), /before now/);
  assert.throws(() => clock.schedule(1, 'nobody', 'x'), /no clock target/);
});

test('cancel drops one target’s events only', () => {
  const clock = new VirtualClock();
  const log: string[] = [];
  clock.register('a', () => void log.push('a'));
  clock.register('b', () => void log.push('b'));
  clock.schedule(1, 'a', 'x');
  clock.schedule(2, 'b', 'x');
  clock.schedule(3, 'a', 'x');
  clock.cancel('a');
  clock.runUntilIdle();
  assert.deepEqual(log, ['b']);
});

test('property: the queue is a stable priority queue, and survives snapshot/restore', () => {
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 50 }), { maxLength: 60 }), fc.nat({ max: 60 }), (delays, cut) => {
      const order: number[] = [];
      const make = () => {
        const c = new VirtualClock();
        c.register('t', (_a, d) => void order.push(d as number));
        return c;
      };
      const clock = make();
      delays.forEach((d, i) => clock.schedule(d, 't', 'x', i));
      const expected = delays
        .map((d, i) => [d, i] as const)
        .sort((x, y) => x[0] - y[0] || x[1] - y[1])
        .map(([, i]) => i);
      for (let i = 0; i < Math.min(cut, delays.length); i++) clock.step();
      const snap = JSON.parse(JSON.stringify(clock.snapshot()));
      const other = make();
      other.restore(snap);
      other.runUntilIdle();
      assert.deepEqual(order, expected);
    }),
    { seed: 5, numRuns: 200 },
  );
});
