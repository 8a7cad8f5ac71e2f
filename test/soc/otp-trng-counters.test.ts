import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { bringUp, type OtpFuses } from '../../src/soc/index.js';
import { cpu0, everyDeviceBoard, everyDeviceMachine, regs } from './helpers.js';

test('OTP fuses program one way: bits only set, never cleared', () => {
  const { tz } = everyDeviceMachine();
  const r = regs(tz, cpu0(tz));
  r.write('otp', 0x100, 0x0000ff0f);
  r.write('otp', 0x100, 0x00000030);
  assert.equal(r.read('otp', 0x100), 0x0000ff3f);
  r.write('otp', 0x100, 0); // writing zeros clears nothing
  assert.equal(r.read('otp', 0x100), 0x0000ff3f);
  r.write('otp', 0x300, 0x1);
  r.write('otp', 0x300, 0x0);
  assert.equal(r.read('otp', 0x300), 1);
});

test('the ROTPK hash is programmed word by word and readable by the host view', () => {
  const { tz } = everyDeviceMachine();
  const r = regs(tz, cpu0(tz));
  const hash = createHash('sha256').update('root of trust public key').digest();
  for (let i = 0; i < 8; i++) r.write('otp', 0x100 + 4 * i, hash.readUInt32LE(4 * i));
  assert.deepEqual(Buffer.from(tz.device<OtpFuses>('otp', 'otp-fuses').rotpkHash()), hash);
});

test('after the lock fuse, nothing can be programmed; the array survives reset', () => {
  const { tz } = everyDeviceMachine();
  const r = regs(tz, cpu0(tz));
  r.write('otp', 0x100, 0x1);
  r.write('otp', 0x004, 1);
  assert.equal(r.read('otp', 0x000), 1);
  const w = r.tryWrite('otp', 0x100, 0x2);
  assert.ok(!w.ok);
  assert.match(w.reason, /locked/);
  assert.equal(r.tryWrite('otp', 0x304, 0x2).ok, false);
  tz.reset();
  assert.equal(r.read('otp', 0x000), 1, 'the lock fuse survives reset');
  assert.equal(r.read('otp', 0x100), 1);
});

test('the hardware unique key is readable by the secure world only, never programmable, and differs per seed', () => {
  const a = everyDeviceMachine(1);
  const cpu = cpu0(a.tz);
  const r = regs(a.tz, cpu);
  const huk = Array.from({ length: 8 }, (_, i) => r.read('otp', 0x200 + 4 * i));
  assert.ok(huk.some((w) => w !== 0));
  assert.equal(r.tryWrite('otp', 0x200, 0xffffffff).ok, false);
  assert.equal(r.read('otp', 0x200), huk[0]);
  // Even with the TZPC misconfigured to make the fuses non-secure, the HUK stays secure-only.
  const m = bringUp(everyDeviceBoard(), { seed: 1, lock: false });
  const tz = m.chip('tz');
  const c = cpu0(tz);
  const control = tz.takeCpuControl();
  regs(tz, c).write('tzpc', 0x100 + 4 * tz.tzpc!.indexOf('otp'), 1);
  control.setWorld(c, 'non-secure');
  assert.ok(tz.readRegister(c, 'otp', 0x100).ok, 'the ROTPK hash is readable');
  const denied = tz.readRegister(c, 'otp', 0x200);
  assert.ok(!denied.ok);
  assert.equal(denied.code, 'DEVICE_DENIED');
  assert.equal(tz.writeRegister(c, 'otp', 0x100, 1).ok, false, 'the non-secure world programs nothing');
  const b = everyDeviceMachine(2);
  assert.notEqual(regs(b.tz, cpu0(b.tz)).read('otp', 0x200), huk[0]);
});

function trngWords(seed: number, n: number): number[] {
  const { tz } = everyDeviceMachine(seed);
  const r = regs(tz, cpu0(tz));
  r.write('trng', 0x004, 1);
  return Array.from({ length: n }, () => r.read('trng', 0x008));
}

test('TRNG: same seed, same stream; different seed, different stream; disabled reads fault', () => {
  assert.deepEqual(trngWords(1, 64), trngWords(1, 64));
  assert.notDeepEqual(trngWords(1, 64), trngWords(2, 64));
  const { tz } = everyDeviceMachine(1);
  assert.equal(regs(tz, cpu0(tz)).tryRead('trng', 0x008).ok, false);
});

test('NV counters only grow, stop at their bound, and survive reset', () => {
  const { tz } = everyDeviceMachine();
  const r = regs(tz, cpu0(tz));
  assert.equal(r.read('nvc', 0x000), 2);
  assert.equal(r.read('nvc', 0x004), 3);
  r.write('nvc', 0x200, 1);
  assert.equal(r.read('nvc', 0x100), 1);
  r.write('nvc', 0x100, 2);
  const down = r.tryWrite('nvc', 0x100, 1);
  assert.ok(!down.ok);
  assert.match(down.reason, /cannot decrease/);
  r.write('nvc', 0x200, 1);
  assert.equal(r.read('nvc', 0x100), 3);
  assert.equal(r.tryWrite('nvc', 0x200, 1).ok, false, 'at the bound');
  assert.equal(r.tryWrite('nvc', 0x104, 4).ok, false, 'beyond the bound');
  assert.equal(r.read('nvc', 0x104), 0, 'the other counter is untouched');
  tz.reset();
  assert.equal(r.read('nvc', 0x100), 3);
});

test('a board that declares a ROTPK hash gets it fused and locked at manufacture; it survives reset and snapshots', () => {
  const hash = createHash('sha256').update('a factory key').digest('hex');
  const board = everyDeviceBoard();
  const otp = board.chips[0]!.devices.find((d) => d.kind === 'otp-fuses');
  assert.ok(otp?.kind === 'otp-fuses' && otp.rotpkHash === undefined);
  const blank = bringUp(board, { seed: 1 }).chip('tz');
  const b = regs(blank, cpu0(blank));
  assert.deepEqual([b.read('otp', 0x000), b.read('otp', 0x100)], [0, 0], 'undeclared: blank and unlocked');

  otp.rotpkHash = hash;
  const m = bringUp(board, { seed: 1 });
  const tz = m.chip('tz');
  const r = regs(tz, cpu0(tz));
  const words = Array.from({ length: 8 }, (_, i) => r.read('otp', 0x100 + 4 * i));
  const fused = Buffer.alloc(32);
  words.forEach((w, i) => fused.writeUInt32LE(w, 4 * i));
  assert.equal(fused.toString('hex'), hash);
  assert.equal(r.read('otp', 0x000), 1, 'locked');
  assert.equal(r.tryWrite('otp', 0x100, 0xffffffff).ok, false, 'no more bits can be blown');
  assert.equal(r.tryWrite('otp', 0x300, 1).ok, false, 'nor general-purpose fuses');
  tz.reset();
  assert.equal(Buffer.from(tz.device<OtpFuses>('otp', 'otp-fuses').rotpkHash()).toString('hex'), hash);
  const other = bringUp(everyDeviceBoard(), { seed: 1 });
  assert.throws(() => other.restore(m.snapshot()), /does not fit/, 'the provisioning is part of the board');
  const same = bringUp(board, { seed: 2 });
  same.restore(m.snapshot());
  assert.equal(
    Buffer.from(same.chip('tz').device<OtpFuses>('otp', 'otp-fuses').rotpkHash()).toString('hex'),
    hash,
  );
});
