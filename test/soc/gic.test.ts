import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bringUp, SPURIOUS } from '../../src/soc/index.js';
import { cpu0, everyDeviceBoard, everyDeviceMachine, regs } from './helpers.js';

const LINE = (n: number) => 0x400 + 4 * n;
const ENABLE = 1 << 24;
const NS = 1 << 16;

test('acknowledge returns the highest-priority pending line visible to the asking world', () => {
  const { tz, control } = everyDeviceMachine();
  const cpu = cpu0(tz);
  const r = regs(tz, cpu);
  // uart (33) is non-secure, flash (34) secure; give the secure one the higher priority.
  r.write('gic', LINE(33), 0x40 | NS | ENABLE);
  r.write('gic', LINE(34), 0x10 | ENABLE);
  tz.gic.raise(33, 'test');
  tz.gic.raise(34, 'test');
  control.setWorld(cpu, 'non-secure');
  assert.equal(r.read('gic', 0x018), 33, 'the non-secure world does not see the secure line');
  control.setWorld(cpu, 'secure');
  assert.equal(r.read('gic', 0x018), 34, 'the secure world sees the higher-priority secure line');
  assert.equal(r.read('gic', 0x010), 34);
  assert.equal(tz.gic.line(34).active, true);
  assert.equal(r.read('gic', 0x010), 33, 'the next one');
  assert.equal(r.read('gic', 0x010), SPURIOUS);
  r.write('gic', 0x014, 34);
  r.write('gic', 0x014, 33);
  assert.equal(tz.gic.line(34).active, false);
  assert.equal(r.tryWrite('gic', 0x014, 34).ok, false, 'end of an interrupt that is not active faults');
});

test('equal priorities: lowest line first; disabled and other-CPU lines are not acknowledged', () => {
  const { tz } = everyDeviceMachine();
  const r = regs(tz, cpu0(tz));
  r.write('gic', LINE(39), 0x80 | ENABLE);
  r.write('gic', LINE(35), 0x80 | ENABLE);
  r.write('gic', LINE(37), 0x80); // disabled
  r.write('gic', LINE(38), 0x00 | (1 << 8) | ENABLE); // targets CPU 1
  for (const n of [35, 37, 38, 39]) tz.gic.raise(n, 'test');
  assert.equal(r.read('gic', 0x010), 35);
  assert.equal(r.read('gic', 0x010), 39);
  assert.equal(r.read('gic', 0x010), SPURIOUS);
  const cpu1 = tz.cpus[1];
  assert.ok(cpu1);
  assert.equal(regs(tz, cpu1).read('gic', 0x010), 38);
  r.write('gic', LINE(37), 0x80 | ENABLE);
  assert.equal(r.read('gic', 0x010), 37, 'a pending line is delivered once enabled');
});

test('the non-secure world can neither see nor change secure-group lines', () => {
  const { m, tz, control } = everyDeviceMachine();
  const cpu = cpu0(tz);
  const r = regs(tz, cpu);
  r.write('gic', LINE(34), 0x10 | ENABLE);
  tz.gic.raise(34, 'test');
  const before = tz.gic.line(34);
  control.setWorld(cpu, 'non-secure');
  assert.equal(r.read('gic', LINE(34)), 0, 'reads as zero');
  for (const [offset, v] of [
    [LINE(34), 0],
    [LINE(34), 0xff | NS | ENABLE],
    [0x024, 34],
    [0x020, 34],
    [0x014, 34],
    [0x004, 1],
  ] as const) {
    const w = r.tryWrite('gic', offset, v);
    assert.ok(!w.ok, `write 0x${offset.toString(16)} must fault`);
    assert.equal(w.code, 'DEVICE_DENIED');
  }
  assert.deepEqual(tz.gic.line(34), before);
  assert.equal(r.read('gic', 0x010), SPURIOUS);
  assert.equal(m.trace.recent().filter((e) => e.event === 'bus.fault').length, 6);
  // Its own line it may configure, but not move to the secure group.
  r.write('gic', LINE(33), 0x20 | NS | ENABLE);
  assert.equal(tz.gic.line(33).priority, 0x20);
  assert.equal(r.tryWrite('gic', LINE(33), 0x20 | ENABLE).ok, false);
  assert.equal(tz.gic.line(33).group, 'non-secure');
});

test('once locked, interrupt groups do not change, even from the secure world', () => {
  const { tz } = everyDeviceMachine();
  const r = regs(tz, cpu0(tz));
  assert.equal(r.read('gic', 0x004), 1);
  const w = r.tryWrite('gic', LINE(33), 0x20 | ENABLE);
  assert.ok(!w.ok);
  assert.match(w.reason, /locked/);
  assert.equal(tz.gic.line(33).group, 'non-secure');
  r.write('gic', LINE(34), 0x20 | ENABLE); // configuring priority and enable is still allowed
  assert.equal(tz.gic.line(34).enabled, true);
});

test('unlocked: the secure world may regroup a line', () => {
  const m = bringUp(everyDeviceBoard(), { lock: false });
  const tz = m.chip('tz');
  const r = regs(tz, cpu0(tz));
  r.write('gic', LINE(34), 0x20 | NS);
  assert.equal(tz.gic.line(34).group, 'non-secure');
});

test('bring-up routes each device line to its world, priority and CPU; listeners hear deliverable lines', () => {
  const { tz } = everyDeviceMachine();
  assert.deepEqual(tz.gic.line(40), {
    group: 'non-secure',
    priority: 0x20,
    target: 1,
    enabled: false,
    pending: false,
    active: false,
  });
  assert.equal(tz.gic.line(34).group, 'secure');
  const heard: [number, number, string][] = [];
  tz.onInterrupt((cpu, line, group) => heard.push([cpu, line, group]));
  tz.gic.raise(40, 'test');
  assert.deepEqual(heard, [], 'a disabled line is not deliverable');
  regs(tz, cpu0(tz)).write('gic', LINE(40), 0x20 | (1 << 8) | NS | ENABLE);
  assert.deepEqual(heard, [[1, 40, 'non-secure']]);
});
