import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stableStringify } from '../../src/common/json.js';
import { bringUp, type Uart } from '../../src/soc/index.js';
import { everyDeviceBoard } from './helpers.js';
import { SCENARIO_END_NS, runScenario, startScenario } from './scenario.js';

test('same seed: identical run hash and identical final state across two runs', () => {
  const a = runScenario(1234);
  const b = runScenario(1234);
  assert.equal(a.m.runHash, b.m.runHash);
  assert.equal(a.m.trace.count, b.m.trace.count);
  assert.ok(a.m.trace.count > 50, 'the scenario produced a real trace');
  assert.equal(stableStringify(a.m.snapshot()), stableStringify(b.m.snapshot()));
});

test('different seed: different TRNG stream and different run hash', () => {
  const a = runScenario(1);
  const b = runScenario(2);
  assert.notDeepEqual(a.trng, b.trng);
  assert.notEqual(a.m.runHash, b.m.runHash);
});

test('the run hash covers device behaviour, not only the seed', () => {
  // Same seed, one input differs (a console byte): the hash differs.
  const a = startScenario(9);
  const b = startScenario(9);
  b.m.chip('tz').device<Uart>('uart').inject('!');
  a.m.runUntil(SCENARIO_END_NS);
  b.m.runUntil(SCENARIO_END_NS);
  assert.notEqual(a.m.runHash, b.m.runHash);
});

test('snapshot in the middle of a run, restore into a fresh machine, continue: same end, same hash', () => {
  const whole = runScenario(77);
  const first = startScenario(77);
  first.m.runUntil(SCENARIO_END_NS / 2);
  const mid = JSON.parse(JSON.stringify(first.m.snapshot())); // plain JSON, through text
  // A fresh machine built with another seed: everything the run needs must come from the snapshot.
  const fresh = bringUp(everyDeviceBoard(), { seed: 5 });
  fresh.restore(mid);
  fresh.runUntil(SCENARIO_END_NS);
  assert.equal(fresh.runHash, whole.m.runHash);
  const { seed: _a, ...end } = fresh.snapshot();
  const { seed: _b, ...expected } = whole.m.snapshot();
  assert.equal(stableStringify(end), stableStringify(expected));
});
