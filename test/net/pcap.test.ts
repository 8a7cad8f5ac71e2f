import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { InputError } from '../../src/common/errors.js';
import {
  LinkType,
  PcapWriter,
  readCapture,
  readPcap,
  readPcapng,
  writePcap,
  writePcapng,
} from '../../src/lib/net/pcap.js';

const SEED = 0x6e6574;

const recordArb = fc.record({
  timeNs: fc.bigInt({ min: 0n, max: 0xffffffffn * 1_000_000_000n + 999_999_999n }),
  frame: fc.uint8Array({ minLength: 0, maxLength: 300 }),
});

test('pcap (ns) round-trips timestamps and frames exactly', () => {
  fc.assert(
    fc.property(fc.array(recordArb, { maxLength: 20 }), fc.constantFrom(1, 101), (records, linkType) => {
      const cap = readCapture(writePcap(records, { linkType }));
      assert.equal(cap.format, 'pcap');
      assert.equal(cap.interfaces[0]?.linkType, linkType);
      assert.equal(cap.interfaces[0]?.ticksPerSecond, 1_000_000_000n);
      assert.deepEqual(
        cap.records.map((r) => ({ timeNs: r.timeNs, frame: r.frame })),
        records.map((r) => ({ timeNs: r.timeNs, frame: r.frame })),
      );
    }),
    { seed: SEED, numRuns: 200 },
  );
});

test('pcap (us) keeps microseconds and truncates the nanoseconds', () => {
  const bytes = writePcap([{ timeNs: 1_700_000_000_123_456_789n, frame: Uint8Array.of(1, 2, 3) }], {
    resolution: 'us',
  });
  const cap = readPcap(bytes);
  assert.equal(cap.interfaces[0]?.ticksPerSecond, 1_000_000n);
  assert.equal(cap.records[0]?.timeNs, 1_700_000_000_123_456_000n);
});

test('the writer takes the tap shape with number timestamps', () => {
  const w = new PcapWriter();
  w.add({ timeNs: 1500, frame: Uint8Array.of(9) });
  w.add({ timeNs: 2_000_000_001, frame: Uint8Array.of(8, 7) });
  const cap = readCapture(w.finish());
  assert.deepEqual(
    cap.records.map((r) => r.timeNs),
    [1500n, 2_000_000_001n],
  );
});

test('snap length truncates frames but keeps the original length', () => {
  const cap = readCapture(writePcap([{ timeNs: 0, frame: new Uint8Array(100).fill(7) }], { snapLength: 60 }));
  assert.equal(cap.records[0]?.frame.length, 60);
  assert.equal(cap.records[0]?.originalLength, 100);
});

test('pcapng round-trips frames, nanosecond timestamps and interfaces', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ r: recordArb, i: fc.integer({ min: 0, max: 1 }) }), { maxLength: 20 }),
      (items) => {
        const bytes = writePcapng(
          items.map(({ r, i }) => ({ ...r, interfaceIndex: i })),
          {
            interfaces: [
              { linkType: LinkType.ETHERNET, name: 'wan0' },
              { linkType: LinkType.RAW, name: 'lan0' },
            ],
            application: 'rampart test',
          },
        );
        const cap = readCapture(bytes);
        assert.equal(cap.format, 'pcapng');
        assert.deepEqual(
          cap.interfaces.map((x) => [x.linkType, x.name, x.ticksPerSecond]),
          [
            [1, 'wan0', 1_000_000_000n],
            [101, 'lan0', 1_000_000_000n],
          ],
        );
        assert.deepEqual(
          cap.records.map((r) => [r.timeNs, r.frame, r.interfaceIndex]),
          items.map(({ r, i }) => [r.timeNs, r.frame, i]),
        );
      },
    ),
    { seed: SEED, numRuns: 200 },
  );
});

/** A big-endian microsecond pcap built by hand, as a SPARC or old macOS tcpdump would write it. */
test('reads big-endian pcap', () => {
  const b = Buffer.alloc(24 + 16 + 4);
  b.writeUInt32BE(0xa1b2c3d4, 0);
  b.writeUInt16BE(2, 4);
  b.writeUInt16BE(4, 6);
  b.writeUInt32BE(65535, 16);
  b.writeUInt32BE(101, 20);
  b.writeUInt32BE(10, 24);
  b.writeUInt32BE(5, 28);
  b.writeUInt32BE(4, 32);
  b.writeUInt32BE(4, 36);
  b.set([0x45, 0, 0, 20], 40);
  const cap = readCapture(new Uint8Array(b));
  assert.equal(cap.littleEndian, false);
  assert.equal(cap.interfaces[0]?.linkType, 101);
  assert.equal(cap.records[0]?.timeNs, 10_000_005_000n);
  assert.deepEqual([...(cap.records[0]?.frame ?? [])], [0x45, 0, 0, 20]);
});

/** Big-endian pcapng with a binary (2^-n) timestamp resolution and a time offset. */
test('reads big-endian pcapng with if_tsresol 2^-10 and if_tsoffset', () => {
  const be = (n: number) => {
    const x = Buffer.alloc(4);
    x.writeUInt32BE(n >>> 0);
    return x;
  };
  const shb = Buffer.concat([
    be(0x0a0d0d0a),
    be(28),
    be(0x1a2b3c4d),
    Buffer.from([0, 1, 0, 0]),
    Buffer.alloc(8, 0xff),
    be(28),
  ]);
  const tsresol = Buffer.from([0, 9, 0, 1, 0x8a, 0, 0, 0]);
  const tsoff = Buffer.concat([Buffer.from([0, 14, 0, 8]), Buffer.from([0, 0, 0, 0, 0, 0, 0, 100])]);
  const idbBody = Buffer.concat([Buffer.from([0, 1, 0, 0]), be(0), tsresol, tsoff, be(0)]);
  const idb = Buffer.concat([be(1), be(12 + idbBody.length), idbBody, be(12 + idbBody.length)]);
  const epbBody = Buffer.concat([be(0), be(0), be(2048 + 512), be(3), be(3), Buffer.from([1, 2, 3, 0])]);
  const epb = Buffer.concat([be(6), be(12 + epbBody.length), epbBody, be(12 + epbBody.length)]);
  const cap = readPcapng(new Uint8Array(Buffer.concat([shb, idb, epb])));
  assert.equal(cap.littleEndian, false);
  assert.equal(cap.interfaces[0]?.ticksPerSecond, 1024n);
  // 2560 ticks of 1/1024 s = 2.5 s, plus the 100 s offset.
  assert.equal(cap.records[0]?.timeNs, 102_500_000_000n);
  assert.deepEqual([...(cap.records[0]?.frame ?? [])], [1, 2, 3]);
});

function expectInputError(fn: () => unknown, code: string, offset: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.location.offset, offset);
    return true;
  });
}

test('malformed pcap files name the offending byte offset', () => {
  const good = writePcap([
    { timeNs: 1n, frame: new Uint8Array(10) },
    { timeNs: 2n, frame: new Uint8Array(10) },
  ]);
  expectInputError(() => readCapture(good.slice(0, 3)), 'PCAP_TRUNCATED', 0);
  expectInputError(() => readCapture(good.slice(0, 20)), 'PCAP_TRUNCATED', 0);
  expectInputError(() => readCapture(Uint8Array.of(1, 2, 3, 4, ...new Uint8Array(20))), 'PCAP_BAD_MAGIC', 0);
  // Second record header cut short: 24 + 26 = 50 is where it starts.
  expectInputError(() => readCapture(good.slice(0, 55)), 'PCAP_TRUNCATED', 50);
  // Second record data cut short.
  expectInputError(() => readCapture(good.slice(0, 70)), 'PCAP_TRUNCATED', 66);
  const hugeLen = good.slice();
  new DataView(hugeLen.buffer).setUint32(24 + 8, 0x7fffffff, true);
  expectInputError(() => readCapture(hugeLen), 'PCAP_BAD_RECORD', 32);
  const noSnap = good.slice();
  new DataView(noSnap.buffer).setUint32(16, 0, true);
  expectInputError(() => readCapture(noSnap), 'PCAP_BAD_HEADER', 16);
  const overSnap = good.slice();
  new DataView(overSnap.buffer).setUint32(16, 5, true);
  expectInputError(() => readCapture(overSnap), 'PCAP_BAD_RECORD', 32);
  const badFrac = good.slice();
  new DataView(badFrac.buffer).setUint32(24 + 4, 1_000_000_000, true);
  expectInputError(() => readCapture(badFrac), 'PCAP_BAD_RECORD', 28);
  const badVersion = good.slice();
  new DataView(badVersion.buffer).setUint16(4, 3, true);
  expectInputError(() => readCapture(badVersion), 'PCAP_BAD_VERSION', 4);
});

test('malformed pcapng files name the offending byte offset', () => {
  const good = writePcapng([{ timeNs: 5n, frame: new Uint8Array(6) }]);
  // SHB (28) + IDB (12 + 8 + 8 + 4 = 32): the EPB starts at 60.
  expectInputError(() => readCapture(good.slice(0, good.length - 1)), 'PCAPNG_TRUNCATED', 64);
  const badTrailer = good.slice();
  new DataView(badTrailer.buffer).setUint32(good.length - 4, 12, true);
  expectInputError(() => readCapture(badTrailer), 'PCAPNG_BAD_BLOCK', good.length - 4);
  const badIface = good.slice();
  new DataView(badIface.buffer).setUint32(60 + 8, 3, true);
  expectInputError(() => readCapture(badIface), 'PCAPNG_BAD_BLOCK', 68);
  const badBom = good.slice();
  new DataView(badBom.buffer).setUint32(8, 0x12345678, true);
  expectInputError(() => readCapture(badBom), 'PCAPNG_BAD_MAGIC', 8);
  const badCap = good.slice();
  new DataView(badCap.buffer).setUint32(60 + 20, 1000, true);
  expectInputError(() => readCapture(badCap), 'PCAPNG_BAD_BLOCK', 80);
  const oddLen = good.slice();
  new DataView(oddLen.buffer).setUint32(60 + 4, 13, true);
  expectInputError(() => readCapture(oddLen), 'PCAPNG_BAD_BLOCK', 64);
  // The IDB's snaplen (at 28 + 8 + 4) below the 6 captured bytes; 0 means no limit.
  const overSnap = good.slice();
  new DataView(overSnap.buffer).setUint32(40, 4, true);
  expectInputError(() => readCapture(overSnap), 'PCAPNG_BAD_BLOCK', 80);
  new DataView(overSnap.buffer).setUint32(40, 0, true);
  assert.equal(readCapture(overSnap).records[0]?.frame.length, 6);
});

test('random bytes never crash the readers: they parse or throw InputError', () => {
  const seedFile = writePcapng([{ timeNs: 5n, frame: new Uint8Array(6) }]);
  const seedPcap = writePcap([{ timeNs: 5n, frame: new Uint8Array(6) }]);
  fc.assert(
    fc.property(
      fc.constantFrom(seedFile, seedPcap),
      fc.array(fc.record({ at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
      fc.nat(),
      (base, flips, cut) => {
        const b = base.slice(0, Math.max(4, base.length - (cut % 8)));
        for (const { at, v } of flips) b[at % b.length] = v;
        try {
          readCapture(b);
        } catch (e) {
          assert.ok(e instanceof InputError, `non-InputError ${String(e)}`);
        }
      },
    ),
    { seed: SEED, numRuns: 2000 },
  );
});

test('tcpdump reads what we write and we read what it writes', (t) => {
  const which = spawnSync('sh', ['-c', 'command -v tcpdump']);
  if (which.status !== 0) {
    t.skip('tcpdump is not installed (apt-get install tcpdump)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'rampart-pcap-'));
  try {
    // An Ethernet/IPv4/UDP frame: 10.0.0.1:1234 -> 10.0.0.2:5000.
    const frame = Uint8Array.from(
      Buffer.from(
        '0200000000020200000000010800' +
          '4500001e0001000040110000' +
          '0a0000010a000002' +
          '04d21388000a0000' +
          '6869',
        'hex',
      ),
    );
    for (const [name, bytes] of [
      ['a.pcap', writePcap([{ timeNs: 1_700_000_000_123_456_789n, frame }])],
      [
        'a.pcapng',
        writePcapng([{ timeNs: 1_700_000_000_123_456_789n, frame }], {
          interfaces: [{ linkType: 1, name: 'eth0' }],
        }),
      ],
    ] as const) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      const r = spawnSync('tcpdump', ['-nn', '-tt', '--time-stamp-precision=nano', '-r', path], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(
        r.stdout,
        /^1700000000\.123456789 IP 10\.0\.0\.1\.1234 > 10\.0\.0\.2\.5000: UDP, length 2/,
      );
      // tcpdump rewrites the file as classic pcap with its own header; we must read it back identically.
      const out = join(dir, name + '.out');
      const w = spawnSync('tcpdump', ['-r', path, '-w', out, '--time-stamp-precision=nano'], {
        encoding: 'utf8',
      });
      assert.equal(w.status, 0, w.stderr);
      const back = readCapture(new Uint8Array(readFileSync(out)));
      assert.equal(back.records[0]?.timeNs, 1_700_000_000_123_456_789n);
      assert.deepEqual(back.records[0]?.frame, frame);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
