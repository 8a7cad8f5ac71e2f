/**
 * Bench trusted applications: a single-producer single-consumer ring of 8-byte messages in shared secure
 * memory, moved in batches (one memory copy per batch), with notifications for "data" and "space".
 * Layout: head (u32) at 0, tail (u32) at 4, CAPACITY slots from byte 64. Both roles in one program.
 */
import { bootInfo, kcall, log, serviceWithPayload } from '../../src/kernel/abi/sys.js';

declare const BENCH: { messages: number; batch: number };
const CAPACITY = 512;
const DATA = 64;
const info = bootInfo<{ partition: string; regions: { name: string; index: number }[] }>();
const ring = info.regions.find((r) => r.name === 'ring')?.index ?? -1;
const empty = new Uint8Array(0);
const read = (offset: number, length: number) =>
  serviceWithPayload('mem_read', empty, ring, offset, length).payload;
const write = (offset: number, bytes: Uint8Array) => serviceWithPayload('mem_write', bytes, ring, offset);
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const word = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
};
// Notification slots: 1 = the one this side waits on, 2 = the other side's (to signal).
const WAIT = 1;
const SIGNAL = 2;

function producer(): void {
  log('bench:go');
  let head = 0;
  let seq = 0;
  while (seq < BENCH.messages) {
    const tail = u32(read(4, 4), 0);
    const free = CAPACITY - (head - tail);
    if (free === 0) {
      kcall('notification_wait', WAIT);
      continue;
    }
    const n = Math.min(free, BENCH.batch, BENCH.messages - seq, CAPACITY - (head % CAPACITY));
    const batch = new Uint8Array(n * 8);
    const view = new DataView(batch.buffer);
    for (let i = 0; i < n; i++) view.setUint32(i * 8, seq + i, true);
    write(DATA + (head % CAPACITY) * 8, batch);
    head += n;
    seq += n;
    write(0, word(head));
    kcall('notification_signal', SIGNAL, 1);
  }
}

function consumer(): void {
  kcall('region_map', ring, 3);
  let tail = 0;
  let expected = 0;
  let bad = 0;
  while (expected < BENCH.messages) {
    const head = u32(read(0, 4), 0);
    if (head === tail) {
      kcall('notification_wait', WAIT);
      continue;
    }
    const n = Math.min(head - tail, CAPACITY - (tail % CAPACITY));
    const bytes = read(DATA + (tail % CAPACITY) * 8, n * 8);
    for (let i = 0; i < n; i++) if (u32(bytes, i * 8) !== expected++) bad++;
    tail += n;
    write(4, word(tail));
    kcall('notification_signal', SIGNAL, 1);
  }
  log(`bench:done:${expected}:${bad}`);
}

if (info.partition === 'producer') producer();
else consumer();
