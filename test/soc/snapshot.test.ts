import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stableStringify } from '../../src/common/json.js';
import { bringUp, type Json, type NorFlash, type NvCounters, type OtpFuses } from '../../src/soc/index.js';
import { everyDeviceBoard } from './helpers.js';
import { SCENARIO_END_NS, startScenario } from './scenario.js';

interface Snapshottable {
  snapshot(): Json;
  restore(s: Json): void;
}

/** Every device, link and node of the machine, by a stable name. */
function parts(m: ReturnType<typeof bringUp>): Map<string, Snapshottable> {
  const out = new Map<string, Snapshottable>();
  for (const [c, chip] of m.chips)
    for (const [d, dev] of chip.devices) out.set(`${c}/${d}`, dev as Snapshottable);
  for (const [n, l] of m.links) out.set(`link:${n}`, l as unknown as Snapshottable);
  for (const [n, e] of m.nodes) out.set(`node:${n}`, e as unknown as Snapshottable);
  return out;
}

test('every device, link and node: restore(snapshot()) on a fresh instance gives the same state', () => {
  const { m } = startScenario(3);
  m.runUntil(SCENARIO_END_NS / 3);
  const fresh = bringUp(everyDeviceBoard(), { seed: 8 });
  const ours = parts(m);
  const theirs = parts(fresh);
  assert.equal(ours.size, 28, 'the every-device board: 16 + 4 devices, 5 links, 3 nodes');
  const differed: string[] = [];
  for (const [name, part] of ours) {
    const s = part.snapshot();
    const target = theirs.get(name);
    assert.ok(target, name);
    if (stableStringify(target.snapshot()) !== stableStringify(s)) differed.push(name);
    target.restore(JSON.parse(JSON.stringify(s)) as Json);
    assert.equal(stableStringify(target.snapshot()), stableStringify(s), `${name} round trip`);
  }
  // The round trip is not vacuous: the parts the workload drives start out different in the fresh machine.
  const driven = [
    'tz/gic',
    'tz/uart',
    'tz/otp',
    'tz/trng',
    'tz/flash',
    'tz/eth',
    'tz/gps',
    'tz/mic',
    'mcu/can',
  ];
  for (const name of [...driven, 'link:lan', 'link:bus', 'node:engine', 'node:brakes', 'node:steering'])
    assert.ok(differed.includes(name), `${name} was driven by the workload`);
});

test('reset keeps non-volatile state (flash cells, fuses, counters, ROM) and clears the rest', () => {
  const { m } = startScenario(3);
  m.runUntil(SCENARIO_END_NS / 3);
  const tz = m.chip('tz');
  const cpu = tz.cpus[0]!;
  assert.ok(tz.writeRegister(cpu, 'nvc', 0x200, 1).ok);
  assert.ok(tz.writeRegister(cpu, 'otp', 0x300, 5).ok);
  const nvState = () =>
    stableStringify({
      flash: tz.device<NorFlash>('flash').snapshot().cells,
      otp: tz.device<OtpFuses>('otp').snapshot(),
      nvc: tz.device<NvCounters>('nvc').snapshot(),
    });
  const nv = nvState();
  assert.ok(
    tz.region('nsram').bytes.some((b) => b !== 0),
    'RAM was written',
  );
  m.reset();
  assert.equal(nvState(), nv);
  assert.equal(
    tz.region('nsram').bytes.some((b) => b !== 0),
    false,
    'RAM cleared',
  );
  assert.equal(tz.tzasc!.isLocked, false, 'security configuration back to reset state');
  assert.equal(tz.securityOf(tz.region('nsram')), 'secure', 'reset state: everything secure');
  assert.equal(tz.cpus[0]!.world, 'secure');
  assert.equal(m.clock.pending, 1, 'only the engine status broadcast is scheduled after reset');
});
