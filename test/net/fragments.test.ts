import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FRAGMENT_OVERHEAD,
  Ipv4Reassembler,
  QUEUE_OVERHEAD,
  fragmentIpv4,
} from '../../src/lib/net/ipv4-fragments.js';
import { type Ipv4Packet, decodeIpv4, encodeIpv4 } from '../../src/lib/net/ipv4.js';
import { SeededRandom } from '../../src/common/random.js';
import * as gen from './arbitraries.js';

const base: Ipv4Packet = {
  dscp: 0,
  ecn: 0,
  identification: 0x1234,
  reservedFlag: false,
  dontFragment: false,
  moreFragments: false,
  fragmentOffset: 0,
  ttl: 64,
  protocol: 17,
  src: 0x0a000001,
  dst: 0x0a000002,
  options: [],
  payload: new Uint8Array(0),
};

function piece(start: number, length: number, more: boolean, fill = start & 0xff): Ipv4Packet {
  return { ...base, fragmentOffset: start, moreFragments: more, payload: new Uint8Array(length).fill(fill) };
}

test('fragment then reassemble in any order, with exact duplicates, gives the datagram back', () => {
  fc.assert(
    fc.property(
      gen.ipv4With(fc.uint8Array({ minLength: 1, maxLength: 3000 })),
      fc.integer({ min: 68, max: 1500 }),
      fc.integer(),
      (p, mtu, seed) => {
        const whole = { ...p, dontFragment: false, moreFragments: false, fragmentOffset: 0 };
        const frags = fragmentIpv4(whole, mtu);
        if (frags.length === 1) {
          assert.equal(encodeIpv4(whole).length <= mtu, true);
          return;
        }
        for (const f of frags) {
          const bytes = encodeIpv4(f);
          assert.ok(bytes.length <= mtu, `fragment of ${bytes.length} bytes over MTU ${mtu}`);
          assert.deepEqual(decodeIpv4(bytes), f);
        }
        const rng = new SeededRandom(seed);
        const order = [...frags, ...frags.filter(() => rng.below(4) === 0)];
        for (let i = order.length - 1; i > 0; i--) {
          const j = rng.below(i + 1);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        const r = new Ipv4Reassembler();
        const results = order.map((f) => r.push(f, 0n));
        const done = results.filter((x) => x.kind === 'complete');
        assert.equal(done.length, 1);
        const d = done[0]!;
        if (d.kind === 'complete') {
          assert.deepEqual(d.packet.payload, whole.payload);
          assert.deepEqual(d.packet.options, whole.options);
          assert.equal(d.fragments, frags.length);
        }
        assert.equal(r.pending, 0);
      },
    ),
    { seed: gen.SEED, numRuns: 200 },
  );
});

/** Oracle: the reassembler agrees with a byte-coverage map on random sets of 8-aligned pieces. */
test('the RFC 815 hole list agrees with a coverage oracle', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ start: fc.integer({ min: 0, max: 15 }), len: fc.integer({ min: 1, max: 4 }) }), {
        minLength: 1,
        maxLength: 8,
      }),
      fc.integer({ min: 1, max: 16 }),
      (pieces, endUnits) => {
        const r = new Ipv4Reassembler();
        const covered = new Set<number>();
        const held: [number, number][] = [];
        let final: number | undefined;
        let maxEnd = 0;
        let dropped = false;
        for (const { start, len } of pieces) {
          const s = start * 8;
          const e = Math.min(start + len, endUnits) * 8;
          if (e <= s) continue;
          const last = e === endUnits * 8;
          if (s === 0 && last) {
            // Offset 0 without MF is a whole datagram: it bypasses the queue.
            assert.equal(r.push(piece(s, e - s, false), 0n).kind, 'complete');
            continue;
          }
          const res = r.push(piece(s, e - s, !last), 0n);
          if (dropped) {
            // A fresh queue starts after a discard; stop modelling there.
            return;
          }
          const dup = held.some(([a, b]) => a === s && b === e);
          const overlap = held.some(([a, b]) => s < b && a < e) && !dup;
          const badEnd = last
            ? e < maxEnd || (final !== undefined && e !== final)
            : final !== undefined && e > final;
          if (badEnd || overlap) {
            assert.equal(res.kind, 'dropped');
            dropped = true;
            continue;
          }
          if (dup) {
            assert.deepEqual(res, { kind: 'dropped', reason: 'duplicate', datagramDropped: false });
            continue;
          }
          held.push([s, e]);
          for (let i = s; i < e; i += 8) covered.add(i);
          maxEnd = Math.max(maxEnd, e);
          if (last) final = e;
          const complete =
            final !== undefined && [...Array(final / 8).keys()].every((u) => covered.has(u * 8));
          assert.equal(res.kind, complete ? 'complete' : 'held');
          if (complete) return;
        }
      },
    ),
    { seed: gen.SEED, numRuns: 2000 },
  );
});

test('overlap policy: a non-identical overlap discards the whole datagram', () => {
  const r = new Ipv4Reassembler();
  assert.equal(r.push(piece(0, 16, true), 0n).kind, 'held');
  assert.deepEqual(r.push(piece(8, 16, true), 0n), {
    kind: 'dropped',
    reason: 'overlap',
    datagramDropped: true,
  });
  assert.equal(r.pending, 0);
  // The tail alone afterwards starts a new datagram that never completes.
  assert.equal(r.push(piece(16, 8, false), 0n).kind, 'held');
});

test('inconsistent ends, empty fragments and oversize datagrams are discarded', () => {
  const r = new Ipv4Reassembler();
  r.push(piece(0, 8, true), 0n);
  r.push(piece(16, 8, false), 0n);
  assert.equal(r.push(piece(24, 8, true), 0n).kind, 'dropped');
  const r2 = new Ipv4Reassembler();
  r2.push(piece(16, 8, false), 0n);
  assert.deepEqual(r2.push(piece(8, 8, false), 0n), {
    kind: 'dropped',
    reason: 'inconsistent-end',
    datagramDropped: true,
  });
  const r3 = new Ipv4Reassembler();
  assert.deepEqual(r3.push(piece(8, 0, true), 0n), {
    kind: 'dropped',
    reason: 'empty',
    datagramDropped: true,
  });
  const r4 = new Ipv4Reassembler();
  assert.deepEqual(r4.push(piece(65528, 8, false), 0n), {
    kind: 'dropped',
    reason: 'too-big',
    datagramDropped: true,
  });
});

test('a non-final fragment whose length is not a multiple of 8 is cut to one (as Linux does)', () => {
  const r = new Ipv4Reassembler();
  assert.equal(r.push(piece(0, 12, true, 1), 0n).kind, 'held');
  const done = r.push(piece(8, 8, false, 2), 0n);
  assert.equal(done.kind, 'complete');
  if (done.kind === 'complete')
    assert.deepEqual([...done.packet.payload], [1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]);
});

test('incomplete datagrams expire after the timeout, in virtual time', () => {
  const r = new Ipv4Reassembler({ timeoutNs: 1000n });
  r.push(piece(0, 8, true), 100n);
  assert.deepEqual(r.expire(1099n), []);
  const expired = r.expire(1100n);
  assert.equal(expired.length, 1);
  assert.equal(expired[0]?.first?.fragmentOffset, 0);
  assert.equal(r.pending, 0);
  // A fragment arriving after expiry starts over.
  assert.equal(r.push(piece(8, 8, false), 1200n).kind, 'held');
});

test('memory bound: over ipfrag_high_thresh the oldest queues are evicted to under ipfrag_low_thresh, and counted', () => {
  const cost = 20 + 1480 + FRAGMENT_OVERHEAD + QUEUE_OVERHEAD; // one queue, one 1480-byte fragment
  const r = new Ipv4Reassembler({ highThresh: 10 * cost, lowThresh: 5 * cost });
  for (let id = 0; id < 10; id++)
    assert.equal(r.push({ ...piece(0, 1480, true), identification: id }, 0n).kind, 'held');
  assert.equal(r.held, 10 * cost);
  // The eleventh does not fit: the oldest go until it fits under the low threshold.
  assert.equal(r.push({ ...piece(0, 1480, true), identification: 10 }, 0n).kind, 'held');
  const s = r.stats();
  assert.equal(s.evicted, 6);
  assert.equal(s.failed, 6);
  assert.equal(s.queues, 5);
  assert.equal(s.memory, 5 * cost);
  // The evicted ones were the oldest: the newest completes.
  assert.equal(r.push({ ...piece(1480, 8, false), identification: 10 }, 0n).kind, 'complete');
  // A single fragment larger than the whole budget is refused outright.
  const tiny = new Ipv4Reassembler({ highThresh: 100, lowThresh: 50 });
  assert.deepEqual(tiny.push(piece(0, 16, true), 0n), {
    kind: 'dropped',
    reason: 'no-memory',
    datagramDropped: true,
  });
  assert.equal(tiny.held, 0);
  assert.equal(tiny.stats().drops['no-memory'], 1);
});

test('ipfrag_time: incomplete datagrams time out oldest first and are counted', () => {
  const r = new Ipv4Reassembler();
  for (let id = 0; id < 100; id++)
    r.push({ ...piece(0, 8, true), identification: id }, BigInt(id) * 100_000_000n);
  assert.equal(r.expire(30_000_000_000n + 4_950_000_000n).length, 50);
  assert.deepEqual([r.stats().timeouts, r.stats().queues], [50, 50]);
  assert.equal(r.push({ ...piece(8, 8, false), identification: 99 }, 200_000_000_000n).kind, 'held');
  assert.deepEqual([r.stats().timeouts, r.stats().queues], [100, 1]);
});

/** Issue 12: the last fragment first, with no options, then a first fragment with 40 option bytes. */
test('a datagram whose reassembled header and data exceed 65535 is dropped, not built', () => {
  const r = new Ipv4Reassembler();
  const opts = [{ type: 0x07, data: new Uint8Array(37) }]; // record route, 40 bytes (RFC 791 §3.1)
  assert.equal(r.push(piece(65000, 515, false), 0n).kind, 'held'); // 65515 + 20 fits
  assert.equal(r.push(piece(8, 64992, true), 0n).kind, 'held');
  const res = r.push({ ...piece(0, 8, true), options: opts }, 0n);
  assert.deepEqual(res, { kind: 'dropped', reason: 'too-big', datagramDropped: true });
  assert.equal(r.pending, 0);
});

test('arbitrary fragment sequences never throw and the charge stays within ipfrag_high_thresh', () => {
  const frag = fc.record({
    identification: fc.integer({ min: 0, max: 3 }),
    fragmentOffset: fc.integer({ min: 0, max: 8191 }).map((u) => u * 8),
    moreFragments: fc.boolean(),
    length: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 65515 })),
    options: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(frag, { maxLength: 12 }), (seq) => {
      const r = new Ipv4Reassembler({ highThresh: 70_000, lowThresh: 50_000 });
      for (const s of seq) {
        const p: Ipv4Packet = {
          ...piece(s.fragmentOffset, s.length, s.moreFragments),
          identification: s.identification,
          options: s.options ? [{ type: 0x07, data: new Uint8Array(37) }] : [],
        };
        const res = r.push(p, 0n);
        if (res.kind === 'complete') assert.ok(encodeIpv4(res.packet).length <= 65535);
        assert.ok(r.held <= 70_000 && r.held >= 0);
        assert.equal(r.held === 0, r.pending === 0);
      }
    }),
    { seed: gen.SEED, numRuns: 300 },
  );
});
