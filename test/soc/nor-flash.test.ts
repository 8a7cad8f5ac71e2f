import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SeededRandom } from '../../src/common/random.js';
import { bringUp, FLASH_TIMING, type FlashResult, type NorFlash } from '../../src/soc/index.js';
import { cpu0, everyDeviceBoard, ok, regs } from './helpers.js';

const BLOCK = 0x1000;
const PAGE = 0x100;
const SIZE = 0x4000;

type Op = { kind: 'erase'; offset: number } | { kind: 'program'; offset: number; data: Uint8Array };

function freshFlash(seed: number): NorFlash {
  const m = bringUp(everyDeviceBoard(), { seed });
  return m.chip('tz').device<NorFlash>('flash', 'nor-flash');
}

function bytes(seed: number, n: number): Uint8Array {
  return new SeededRandom(seed).fill(new Uint8Array(n));
}

/** Reference semantics: what the cells hold after an operation completes. */
function apply(image: Uint8Array, op: Op): void {
  if (op.kind === 'erase') image.fill(0xff, op.offset, op.offset + BLOCK);
  else
    for (let i = 0; i < op.data.length; i++)
      image[op.offset + i] = (image[op.offset + i] as number) & (op.data[i] as number);
}

function perform(flash: NorFlash, op: Op): FlashResult {
  return op.kind === 'erase' ? flash.erase(op.offset) : flash.program(op.offset, op.data);
}

function image(flash: NorFlash, offset = 0, length = SIZE): Uint8Array {
  const r = flash.read(offset, length);
  assert.ok(r.ok, `flash read: ${r.ok ? '' : r.code}`);
  return r.value;
}

function range(op: Op): [number, number] {
  return op.kind === 'erase' ? [op.offset, op.offset + BLOCK] : [op.offset, op.offset + op.data.length];
}

/** A firmware-slot update: erase the slot, write three pages, re-program a header, erase a log block, append. */
const sequence: Op[] = [
  { kind: 'erase', offset: 0x1000 },
  { kind: 'program', offset: 0x1000, data: bytes(1, PAGE) },
  { kind: 'program', offset: 0x1100, data: bytes(2, PAGE) },
  { kind: 'program', offset: 0x1200, data: bytes(3, 100) },
  { kind: 'program', offset: 0x1000, data: bytes(4, 16) },
  { kind: 'erase', offset: 0x3000 },
  { kind: 'program', offset: 0x3000, data: Uint8Array.of(0x00, 0x7f, 0xfe) },
  { kind: 'program', offset: 0x30ff, data: Uint8Array.of(0x0f) },
];

/** Checks the state after a cut at operation `k` (1-based) allowed by NOR semantics. */
function checkCut(initial: Uint8Array, ops: readonly Op[], k: number, after: Uint8Array): void {
  const before = initial.slice();
  for (const op of ops.slice(0, k - 1)) apply(before, op);
  const torn = ops[k - 1] as Op;
  const [from, to] = range(torn);
  for (let i = 0; i < SIZE; i++) {
    const old = before[i] as number;
    const now = after[i] as number;
    if (i < from || i >= to) {
      assert.equal(now, old, `byte 0x${i.toString(16)} outside the torn operation ${k} changed`);
    } else if (torn.kind === 'erase') {
      assert.equal(now & old, old, `torn erase cleared a bit at 0x${i.toString(16)}`);
    } else {
      const data = torn.data[i - from] as number;
      assert.equal(now & ~old & 0xff, 0, `torn program set a bit at 0x${i.toString(16)}`);
      assert.equal(
        old & data & ~now & 0xff,
        0,
        `torn program lost a bit it should keep at 0x${i.toString(16)}`,
      );
    }
  }
}

test('NOR semantics: erase sets a block to 0xFF, program only clears bits, within one page', () => {
  const flash = freshFlash(1);
  assert.deepEqual(image(flash, 0, 4), Uint8Array.of(0xff, 0xff, 0xff, 0xff));
  assert.ok(flash.program(0x10, Uint8Array.of(0x0f, 0xf0)).ok);
  assert.ok(flash.program(0x10, Uint8Array.of(0xff, 0x3c)).ok);
  assert.deepEqual(image(flash, 0x10, 2), Uint8Array.of(0x0f, 0x30));
  assert.deepEqual(flash.program(0xf0, new Uint8Array(0x20)), { ok: false, code: 'PAGE_CROSSING' });
  assert.deepEqual(flash.program(SIZE - 1, new Uint8Array(2)), { ok: false, code: 'OUT_OF_RANGE' });
  assert.deepEqual(flash.erase(0x10), { ok: false, code: 'MISALIGNED' });
  assert.ok(flash.erase(0).ok);
  assert.deepEqual(image(flash, 0x10, 2), Uint8Array.of(0xff, 0xff));
});

test('power cut at every operation of a write sequence leaves only states the semantics allow', () => {
  let reference: Uint8Array | undefined;
  for (let k = 1; k <= sequence.length; k++) {
    const flash = freshFlash(5);
    const initial = prepareImage(flash);
    flash.cutPowerAfter(k);
    const results = sequence.map((op) => perform(flash, op));
    results.forEach((r, i) => {
      if (i < k - 1) assert.ok(r.ok, `operation ${i + 1} before the cut succeeds`);
      else if (i === k - 1) assert.deepEqual(r, { ok: false, code: 'POWER_CUT' });
      else assert.deepEqual(r, { ok: false, code: 'POWERED_OFF' });
    });
    assert.equal(flash.isPowered, false);
    assert.deepEqual(flash.read(0, 1), { ok: false, code: 'POWERED_OFF' });
    flash.powerOn();
    const after = image(flash, 0, SIZE);
    checkCut(initial, sequence, k, after);
    // Replaying the interrupted operation and the rest completes the update (both are idempotent).
    for (const op of sequence.slice(k - 1)) assert.ok(perform(flash, op).ok);
    const final = image(flash, 0, SIZE);
    if (!reference) {
      reference = initial.slice();
      for (const op of sequence) apply(reference, op);
    }
    assert.deepEqual(final, reference);
  }
});

function prepareImage(flash: NorFlash): Uint8Array {
  const noise = bytes(99, SIZE);
  for (let p = 0; p < SIZE; p += PAGE) assert.ok(flash.program(p, noise.subarray(p, p + PAGE)).ok);
  const r = flash.read(0, SIZE);
  assert.ok(r.ok);
  return r.value;
}

test('the torn state is a function of the seed, and a torn operation really stops partway', () => {
  const before = (seed: number) => image(prepared(seed));
  const prepared = (seed: number) => {
    const flash = freshFlash(seed);
    prepareImage(flash);
    return flash;
  };
  const torn = (seed: number, k: number) => {
    const flash = prepared(seed);
    flash.cutPowerAfter(k);
    for (const op of sequence) perform(flash, op);
    flash.powerOn();
    return image(flash);
  };
  for (let k = 1; k <= sequence.length; k++) assert.deepEqual(torn(11, k), torn(11, k));
  // Operation 1 is an erase, operation 2 a full-page program: over a few seeds, each is cut strictly
  // between "not started" and "done", and the cut point depends on the seed.
  for (const k of [1, 2]) {
    const start = before(0);
    for (const op of sequence.slice(0, k - 1)) apply(start, op);
    const done = start.slice();
    apply(done, sequence[k - 1] as Op);
    const states = [1, 2, 3, 4, 5, 6].map((seed) => Buffer.from(torn(seed, k)).toString('hex'));
    const partial = states.filter(
      (h) => h !== Buffer.from(start).toString('hex') && h !== Buffer.from(done).toString('hex'),
    );
    assert.ok(partial.length >= 4, `operation ${k}: torn partway for most seeds (${partial.length}/6)`);
    assert.ok(new Set(states).size >= 4, `operation ${k}: the cut depends on the seed`);
  }
});

test('property: random operation sequences cut at a random operation stay within NOR semantics', () => {
  const op = fc.oneof(
    fc.record({
      kind: fc.constant('erase' as const),
      offset: fc.integer({ min: 0, max: SIZE / BLOCK - 1 }).map((b) => b * BLOCK),
    }),
    fc
      .record({
        page: fc.integer({ min: 0, max: SIZE / PAGE - 1 }),
        start: fc.integer({ min: 0, max: PAGE - 1 }),
        data: fc.uint8Array({ minLength: 1, maxLength: PAGE }),
      })
      .map(({ page, start, data }) => ({
        kind: 'program' as const,
        offset: page * PAGE + Math.min(start, PAGE - data.length),
        data,
      })),
  );
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 12 }), fc.nat(), fc.nat(), (ops, cutSeed, seed) => {
      const k = 1 + (cutSeed % ops.length);
      const flash = freshFlash(seed % 1000);
      const initial = prepareImage(flash);
      flash.cutPowerAfter(k);
      for (const o of ops) perform(flash, o);
      flash.powerOn();
      checkCut(initial, ops, k, image(flash, 0, SIZE));
    }),
    { seed: 424242, numRuns: 150 },
  );
});

test('the controller moves data by DMA, takes virtual time, and interrupts on completion', () => {
  const m = bringUp(everyDeviceBoard(), { seed: 3 });
  const tz = m.chip('tz');
  const cpu = cpu0(tz);
  const r = regs(tz, cpu);
  const line = tz.irqOf('flash') as number;
  r.write('gic', 0x400 + 4 * line, 0x80 | (1 << 24)); // enable the (secure) line
  r.write('flash', 0x018, 3);
  const data = bytes(8, 64);
  ok(tz.bus.writeBytes(cpu, 0x10000000, data));
  r.write('flash', 0x008, 0x2000);
  r.write('flash', 0x00c, 0x10000000);
  r.write('flash', 0x010, 64);
  r.write('flash', 0x004, 3); // erase the block first
  assert.equal(r.read('flash', 0x000) & 1, 1, 'busy');
  assert.equal(r.tryWrite('flash', 0x004, 2).ok, false, 'a command while busy faults');
  m.runFor(FLASH_TIMING.eraseNs - 1);
  assert.equal(r.read('flash', 0x000) & 1, 1, 'still erasing one nanosecond before the end');
  m.runFor(1);
  assert.equal(r.read('flash', 0x000) & 1, 0);
  assert.equal(r.read('gic', 0x010), line, 'completion interrupt pending');
  r.write('gic', 0x014, line);
  r.write('flash', 0x014, 1);
  r.write('flash', 0x004, 2); // program from memory
  m.runFor(FLASH_TIMING.programNs);
  assert.equal(r.read('flash', 0x01c), 0);
  r.write('flash', 0x00c, 0x10001000);
  r.write('flash', 0x004, 1); // read back into another buffer
  m.runFor(FLASH_TIMING.readBaseNs + 64 * FLASH_TIMING.readPerByteNs);
  assert.deepEqual(ok(tz.bus.readBytes(cpu, 0x10001000, 64)), data);
  // A buffer in memory the flash's world cannot reach is a DMA error, and nothing is programmed.
  const flash = tz.device<NorFlash>('flash');
  r.write('flash', 0x00c, 0x50000000);
  r.write('flash', 0x008, 0x3000);
  r.write('flash', 0x004, 2);
  assert.equal(r.read('flash', 0x01c), 3);
  assert.deepEqual(image(flash, 0x3000, 64), new Uint8Array(64).fill(0xff));
});

test('a power cut during a controller operation: no completion interrupt, error status, device off', () => {
  const m = bringUp(everyDeviceBoard(), { seed: 3 });
  const tz = m.chip('tz');
  const r = regs(tz, cpu0(tz));
  const flash = tz.device<NorFlash>('flash');
  r.write('flash', 0x018, 3);
  flash.cutPowerAfter(1);
  r.write('flash', 0x008, 0);
  r.write('flash', 0x004, 3);
  m.runFor(FLASH_TIMING.eraseNs);
  assert.equal(r.read('flash', 0x000), 2, 'not busy, error, not powered');
  assert.equal(r.read('flash', 0x014), 0, 'no completion reported');
  assert.equal(r.read('flash', 0x01c), 4);
  tz.reset();
  assert.equal(flash.isPowered, true, 'reset powers the device again');
});
