/**
 * The parser and verifier against malformed input (fast-check, seeded): they never throw, every fault
 * points inside the input, and no change to a genuine image gets through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MALFORMED_CODES, parseImage, REJECTED_CODES } from '../../src/boot/format.js';
import { keyHash } from '../../src/boot/keys.js';
import { signImage } from '../../src/boot/sign.js';
import { verifyImage } from '../../src/boot/verify.js';
import { readImageFromSlot } from '../../src/boot/slots.js';
import { bundleSpec, normalSpec, p256Key, rootKey, rootKeyHash } from './images.js';
import { MemoryFlash } from './fakes.js';

const SEED = 0x5eed_b007;
const codes = new Set<string>([...MALFORMED_CODES, ...REJECTED_CODES]);
const ed = signImage(bundleSpec(), rootKey);
const p256 = signImage(normalSpec(), p256Key);

/** Runs the verifier; it must return (not throw) a fault that points inside the input. */
function refusedSafely(bytes: Uint8Array, trustedKeyHash = rootKeyHash): boolean {
  const r = verifyImage(bytes, { trustedKeyHash, minSecurityCounter: 0 });
  if (r.ok) return false;
  assert.ok(codes.has(r.fault.code), `unknown fault code ${r.fault.code}`);
  assert.ok(
    r.fault.offset >= 0 && r.fault.offset <= bytes.length,
    `offset ${r.fault.offset} outside 0..${bytes.length}`,
  );
  assert.ok(r.fault.field.length > 0 && r.fault.detail.length > 0);
  return true;
}

test('every single-byte change anywhere in a genuine image is refused (exhaustive, both algorithms)', () => {
  for (const [image, hash] of [
    [ed, rootKeyHash],
    [p256, keyHash(p256Key)],
  ] as const) {
    assert.ok(verifyImage(image, { trustedKeyHash: hash }).ok);
    for (let offset = 0; offset < image.length; offset++) {
      for (const xor of [0x01, 0x80, 0xff]) {
        const copy = image.slice();
        copy[offset] = (copy[offset] as number) ^ xor;
        assert.ok(refusedSafely(copy, hash), `change 0x${xor.toString(16)} at offset ${offset} was accepted`);
      }
    }
  }
});

test('random bytes never crash the parser or the verifier', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
      assert.ok(refusedSafely(bytes));
    }),
    { seed: SEED, numRuns: 3000 },
  );
});

test('random bytes behind a valid header and TLV magic never crash it', () => {
  const header = ed.subarray(0, 32);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1024 }), fc.nat({ max: 4096 }), (tail, at) => {
      const bytes = new Uint8Array(32 + tail.length);
      bytes.set(header);
      bytes.set(tail, 32);
      // Point the sizes somewhere inside, so the manifest and TLV parsers get exercised.
      const view = new DataView(bytes.buffer);
      view.setUint32(8, Math.min(at, tail.length), true);
      view.setUint32(12, Math.max(0, tail.length - Math.min(at, tail.length) - 8), true);
      assert.ok(refusedSafely(bytes));
    }),
    { seed: SEED, numRuns: 3000 },
  );
});

/** Structured mutations of a genuine image. */
const mutation = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({
    op: fc.constant('overwrite' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    op: fc.constant('u32' as const),
    at: fc.constantFrom(8, 12, 32 + 12, 32 + 16 + 4, 32 + 16 + 88 + 4),
    value: fc.oneof(fc.nat(), fc.constantFrom(0, 1, 0xffff_ffff, 0x8000_0000, 0xffff_fff0, 0x0400_0000)),
  }),
  fc.record({
    op: fc.constant('tlv-length' as const),
    value: fc.nat({ max: 0xffff }),
    which: fc.nat({ max: 3 }),
  }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(image: Uint8Array, m: Mutation): Uint8Array {
  const at = (n: number) => n % (image.length + 1);
  switch (m.op) {
    case 'truncate':
      return image.slice(0, at(m.at) === image.length ? image.length - 1 : at(m.at));
    case 'append':
      return Uint8Array.from([...image, ...m.bytes]);
    case 'insert':
      return Uint8Array.from([...image.subarray(0, at(m.at)), ...m.bytes, ...image.subarray(at(m.at))]);
    case 'delete':
      return Uint8Array.from([...image.subarray(0, at(m.at)), ...image.subarray(at(m.at) + m.count)]);
    case 'overwrite': {
      const copy = image.slice();
      const start = at(m.at) % image.length;
      let changed = false;
      m.bytes.forEach((b, i) => {
        if (start + i < copy.length && copy[start + i] !== b) {
          copy[start + i] = b;
          changed = true;
        }
      });
      if (!changed) copy[start] = (copy[start] as number) ^ 0x01;
      return copy;
    }
    case 'u32': {
      if (m.at + 4 > image.length) return mutate(image, { op: 'truncate', at: image.length - 1 });
      const copy = image.slice();
      const view = new DataView(copy.buffer);
      if (view.getUint32(m.at, true) === m.value) return mutate(image, { op: 'truncate', at: 0 });
      view.setUint32(m.at, m.value, true);
      return copy;
    }
    case 'tlv-length': {
      const copy = image.slice();
      const parsed = parseImage(image);
      // Already broken by an earlier mutation: break it a little more.
      if (!parsed.ok) return mutate(image, { op: 'truncate', at: image.length - 1 });
      const tlvs = [parsed.image.digest, parsed.image.publicKey!, parsed.image.signature!];
      const view = new DataView(copy.buffer);
      if (m.which === 3)
        view.setUint32(
          parsed.image.tlvOffset + 4,
          m.value === copy.length - parsed.image.tlvOffset ? 0 : m.value,
          true,
        );
      else {
        const t = tlvs[m.which]!;
        view.setUint16(t.offset + 2, m.value === t.value.length ? m.value + 1 : m.value, true);
      }
      return copy;
    }
  }
}

test('structured mutations of genuine images are refused with a located fault, never a crash', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(ed, p256),
      fc.array(mutation, { minLength: 1, maxLength: 3 }),
      (image, ms) => {
        let bytes = image;
        for (const m of ms) bytes = mutate(bytes, m);
        const hash = image === ed ? rootKeyHash : keyHash(p256Key);
        if (bytes.length === image.length && bytes.every((b, i) => b === image[i])) return; // mutations cancelled out
        assert.ok(refusedSafely(bytes, hash));
      },
    ),
    { seed: SEED, numRuns: 4000 },
  );
});

test('random slot contents never crash the slot reader', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 4096, maxLength: 4096 }),
      fc.nat({ max: 0xffff_ffff }),
      (bytes, length) => {
        const flash = new MemoryFlash(8192, 4096);
        flash.bytes.set(bytes, 0);
        // A valid-looking trailer claiming `length`.
        const t = new DataView(flash.bytes.buffer, 4096 - 16, 16);
        if (length % 2 === 0) {
          t.setUint32(0, length, true);
          t.setUint32(4, ~length >>> 0, true);
          flash.bytes.set(new TextEncoder().encode('RSLOT-OK'), 4096 - 8);
        }
        const r = readImageFromSlot(flash, { offset: 0, size: 4096 });
        if (r.ok) {
          assert.ok(r.bytes.length <= 4096 - 16);
          assert.ok(refusedSafely(r.bytes));
        } else assert.ok(codes.has(r.fault.code));
      },
    ),
    { seed: SEED, numRuns: 2000 },
  );
});
