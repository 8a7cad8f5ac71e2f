import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  RING_HEADER_BYTES,
  RingConsumer,
  RingProducer,
  ringBytes,
  viewMemory,
  type RingMemory,
} from '../../src/lib/ring/frame-ring.js';

const CAPACITY = 4096;

/** A memory that refuses copies over 4096 bytes (the kernel's limit) and counts copies. */
function kernelLike(view: Uint8Array): RingMemory & { copies: number } {
  const inner = viewMemory(view);
  const m = {
    copies: 0,
    read(offset: number, length: number) {
      assert.ok(length <= 4096, `a read of ${length} bytes`);
      m.copies++;
      return inner.read(offset, length);
    },
    write(offset: number, bytes: Uint8Array) {
      assert.ok(bytes.length <= 4096, `a write of ${bytes.length} bytes`);
      m.copies++;
      return inner.write(offset, bytes);
    },
  };
  return m;
}

const frame = (n: number, seq: number) => {
  const f = new Uint8Array(n);
  for (let i = 0; i < n; i++) f[i] = (seq * 31 + i) & 0xff;
  return f;
};

test('frames come out in order, exactly once, whatever the sizes and the interleaving (property)', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          sizes: fc.array(fc.integer({ min: 1, max: 1518 }), { maxLength: 12 }),
          take: fc.integer({ min: 0, max: 9000 }),
          maxFrames: fc.integer({ min: 1, max: 20 }),
        }),
        { maxLength: 60 },
      ),
      (rounds) => {
        const view = new Uint8Array(ringBytes(CAPACITY));
        const producer = new RingProducer(kernelLike(view), { base: 0, capacity: CAPACITY });
        const consumer = new RingConsumer(kernelLike(view), { base: 0, capacity: CAPACITY });
        producer.reset();
        const sent: Uint8Array[] = [];
        const got: Uint8Array[] = [];
        let seq = 0;
        for (const r of rounds) {
          producer.refresh();
          for (const n of r.sizes) {
            const f = frame(n, seq);
            if (producer.push(f)) {
              sent.push(f);
              seq++;
            }
          }
          producer.publish();
          const t = consumer.take(r.take, r.maxFrames);
          assert.equal(t.fault, undefined);
          assert.ok(t.frames.length <= r.maxFrames);
          for (const f of t.frames) {
            got.push(f.bytes);
            // The frame's bytes really are where the ring says (zero-copy DMA relies on it).
            assert.deepEqual(view.subarray(f.offset, f.offset + f.bytes.length), f.bytes);
          }
          consumer.release();
        }
        for (let t = consumer.take(1 << 20); t.frames.length > 0; t = consumer.take(1 << 20)) {
          got.push(...t.frames.map((f) => f.bytes));
          consumer.release();
        }
        assert.deepEqual(got, sent);
      },
    ),
    { seed: 0x71e6, numRuns: 300 },
  );
});

test('the producer never overwrites what was not consumed, and a full ring refuses (counted)', () => {
  const view = new Uint8Array(ringBytes(CAPACITY));
  const producer = new RingProducer(viewMemory(view), { base: 0, capacity: CAPACITY });
  const consumer = new RingConsumer(viewMemory(view), { base: 0, capacity: CAPACITY });
  let accepted = 0;
  while (producer.push(frame(1000, accepted))) accepted++;
  assert.equal(accepted, 4); // 4 × 1004 bytes fit in 4096, a fifth does not
  assert.equal(producer.counters.full, 1);
  producer.publish();
  const first = consumer.take(1100);
  assert.equal(first.frames.length, 1);
  producer.refresh();
  assert.equal(producer.push(frame(1000, 9)), false, 'taken but not released: still not free');
  consumer.release();
  producer.refresh();
  assert.equal(producer.push(frame(1000, 9)), true);
  assert.equal(producer.push(new Uint8Array(1519)), false);
  assert.equal(producer.counters.oversize, 1);
});

test('a hostile producer: random bytes anywhere never throw, never yield a frame out of bounds (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(ringBytes(CAPACITY) - 1), fc.nat(255)), { maxLength: 200 }),
      fc.array(fc.integer({ min: 1, max: 1518 }), { maxLength: 10 }),
      (scribbles, sizes) => {
        const view = new Uint8Array(ringBytes(CAPACITY));
        const producer = new RingProducer(viewMemory(view), { base: 0, capacity: CAPACITY });
        for (const n of sizes) producer.push(frame(n, n));
        producer.publish();
        for (const [at, v] of scribbles) view[at] = v;
        const consumer = new RingConsumer(kernelLike(view), { base: 0, capacity: CAPACITY });
        let total = 0;
        for (let i = 0; i < 8; i++) {
          const t = consumer.take(1 << 20);
          for (const f of t.frames) {
            assert.ok(f.bytes.length >= 1 && f.bytes.length <= 1518);
            assert.ok(f.offset >= RING_HEADER_BYTES && f.offset + f.bytes.length <= view.length);
            total += f.bytes.length + 4;
          }
          consumer.release();
          if (t.fault || t.frames.length === 0) break;
        }
        assert.ok(total <= 8 * CAPACITY);
      },
    ),
    { seed: 0xbad, numRuns: 400 },
  );
});

test('a hostile consumer cannot make the producer overwrite unconsumed frames', () => {
  const view = new Uint8Array(ringBytes(CAPACITY));
  const producer = new RingProducer(viewMemory(view), { base: 0, capacity: CAPACITY });
  for (let i = 0; i < 3; i++) producer.push(frame(1000, i));
  producer.publish();
  // The consumer claims to have consumed more than was published: refused, nothing freed.
  new DataView(view.buffer).setUint32(4, 8000, true);
  assert.equal(producer.refresh(), false);
  assert.equal(producer.counters.faults['bad-consumer-index'], 1);
  assert.equal(producer.free, CAPACITY - 3 * 1004);
  // Or not aligned.
  new DataView(view.buffer).setUint32(4, 2, true);
  assert.equal(producer.refresh(), false);
});

test('asleep flags: the consumer says it sleeps, the producer takes the flag once', () => {
  const view = new Uint8Array(ringBytes(CAPACITY));
  const producer = new RingProducer(viewMemory(view), { base: 0, capacity: CAPACITY });
  const consumer = new RingConsumer(viewMemory(view), { base: 0, capacity: CAPACITY });
  assert.equal(producer.takeConsumerAsleep(), false);
  consumer.sleep();
  assert.equal(consumer.pending(), false);
  producer.push(frame(60, 1));
  producer.publish();
  assert.equal(consumer.pending(), true);
  assert.equal(producer.takeConsumerAsleep(), true);
  assert.equal(producer.takeConsumerAsleep(), false);
  producer.sleep();
  assert.equal(consumer.takeProducerAsleep(), true);
  assert.equal(consumer.takeProducerAsleep(), false);
});

test('a restarted side resumes where its ring is', () => {
  const view = new Uint8Array(ringBytes(CAPACITY));
  const producer = new RingProducer(viewMemory(view), { base: 0, capacity: CAPACITY });
  const consumer = new RingConsumer(viewMemory(view), { base: 0, capacity: CAPACITY });
  for (let i = 0; i < 5; i++) producer.push(frame(700, i));
  producer.publish();
  consumer.take(2 * 704);
  consumer.release();
  const again = new RingConsumer(viewMemory(view), { base: 0, capacity: CAPACITY });
  again.resume();
  assert.deepEqual(
    again.take(1 << 20).frames.map((f) => f.bytes),
    [2, 3, 4].map((i) => frame(700, i)),
  );
  const producer2 = new RingProducer(viewMemory(view), { base: 0, capacity: CAPACITY });
  producer2.resume();
  assert.equal(producer2.push(frame(700, 5)), true);
  producer2.publish();
  assert.deepEqual(
    again.take(1 << 20).frames.map((f) => f.bytes),
    [frame(700, 5)],
  );
});
