/**
 * A single-producer single-consumer ring of frames in shared memory: the data plane between a NIC driver,
 * a firewall and a Normal World proxy driver. Frames are packed back to back as length-prefixed records,
 * so one memory copy moves a whole batch of small frames; indices and "asleep" flags live in a 64-byte
 * header; doorbells (notifications, SMCs) are the caller's business.
 *
 * The ring is written for a hostile peer. Each side keeps its own index privately and only ever writes
 * it; what it reads of the other side's index, flags and records is validated before use, and every
 * inconsistency is a counted fault, never an exception. The producer cannot be made to overwrite frames
 * it has not seen consumed; the consumer never yields a frame longer than `maxFrame` or outside what was
 * published, and parses only its own copy of the bytes (copy-in before checking).
 *
 * Memory is reached through `RingMemory`: a live view (the Normal World's own memory) or copies through
 * the kernel (`mem_read`/`mem_write`, at most 4096 bytes at a time, in a secure partition).
 *
 * Layout at `base` (little-endian 32-bit words):
 *   +0   producer position: bytes ever published, mod 2^32 (a multiple of 4)
 *   +4   consumer position: bytes ever consumed, mod 2^32
 *   +8   consumer asleep: 1 when the consumer waits for a doorbell (set by it, cleared by the producer)
 *   +12  producer asleep: 1 when the producer waits for space (set by it, cleared by the consumer)
 *   +16…63 reserved (zero)
 *   +64  data area: `capacity` bytes, a power of two
 * Record: a word (bits 0–15 the frame length 1…maxFrame, or 0xFFFF: "wrap to the start of the data area";
 * bits 16–31 zero), then the frame, padded to a multiple of 4 bytes. A record never crosses the end.
 */

import { assert } from '../../common/errors.js';

export const RING_HEADER_BYTES = 64;
const PRODUCER = 0;
const CONSUMER = 4;
const CONSUMER_ASLEEP = 8;
const PRODUCER_ASLEEP = 12;
const WRAP = 0xffff;
const RECORD_HEADER = 4;
/** Largest Ethernet frame without FCS, with one 802.1Q tag. */
export const MAX_ETHERNET_FRAME = 1518;

/** Bytes of the ring's memory: a window of a region, as a live view or through copies. */
export interface RingMemory {
  /** A copy of `length` bytes at `offset`, or undefined if the memory cannot be read. */
  read(offset: number, length: number): Uint8Array | undefined;
  /** Writes `bytes` at `offset`; false if the memory cannot be written. */
  write(offset: number, bytes: Uint8Array): boolean;
}

/** Memory backed by a byte array the caller can reach directly (a Normal World live view, a test buffer). */
export function viewMemory(view: Uint8Array): RingMemory {
  return {
    read: (offset, length) =>
      offset >= 0 && length >= 0 && offset + length <= view.length
        ? view.slice(offset, offset + length)
        : undefined,
    write: (offset, bytes) => {
      if (offset < 0 || offset + bytes.length > view.length) return false;
      view.set(bytes, offset);
      return true;
    },
  };
}

export interface RingGeometry {
  /** Offset of the ring's header in the memory. */
  readonly base: number;
  /** Size of the data area: a power of two, at least 4096 bytes. */
  readonly capacity: number;
  /** Largest frame (default 1518). */
  readonly maxFrame?: number;
  /** Most bytes one memory copy may move (default 4096, the kernel's payload limit). */
  readonly chunk?: number;
}

/** Bytes of memory a ring of `capacity` occupies. */
export function ringBytes(capacity: number): number {
  return RING_HEADER_BYTES + capacity;
}

export type RingFault =
  | 'memory'
  | 'bad-producer-index'
  | 'bad-consumer-index'
  | 'bad-record-length'
  | 'bad-record-flags'
  | 'record-beyond-producer';

export interface RingCounters {
  frames: number;
  bytes: number;
  /** Frames refused for lack of space (producer). */
  full: number;
  /** Frames refused for their size: empty or longer than `maxFrame` (producer). */
  oversize: number;
  /** Faults found in what the other side wrote, by kind. */
  faults: Record<string, number>;
}

const u32 = (b: Uint8Array, at: number) =>
  ((b[at] as number) |
    ((b[at + 1] as number) << 8) |
    ((b[at + 2] as number) << 16) |
    ((b[at + 3] as number) << 24)) >>>
  0;

function word(v: number): Uint8Array {
  const b = new Uint8Array(4);
  b[0] = v & 0xff;
  b[1] = (v >>> 8) & 0xff;
  b[2] = (v >>> 16) & 0xff;
  b[3] = (v >>> 24) & 0xff;
  return b;
}

const pad4 = (n: number) => (n + 3) & ~3;

abstract class RingSide {
  readonly base: number;
  readonly capacity: number;
  readonly maxFrame: number;
  readonly chunk: number;
  readonly counters: RingCounters = { frames: 0, bytes: 0, full: 0, oversize: 0, faults: {} };

  constructor(
    protected readonly memory: RingMemory,
    geometry: RingGeometry,
  ) {
    const { capacity } = geometry;
    assert(
      Number.isInteger(capacity) && capacity >= 4096 && (capacity & (capacity - 1)) === 0,
      `a ring's capacity is a power of two of at least 4096 bytes, not ${capacity}`,
    );
    this.base = geometry.base;
    this.capacity = capacity;
    this.maxFrame = geometry.maxFrame ?? MAX_ETHERNET_FRAME;
    this.chunk = geometry.chunk ?? 4096;
    assert(
      this.maxFrame >= 1 && this.maxFrame < WRAP && pad4(this.maxFrame + RECORD_HEADER) <= this.chunk,
      `a record of ${this.maxFrame} bytes must fit one copy of ${this.chunk}`,
    );
  }

  protected fault(kind: RingFault): RingFault {
    this.counters.faults[kind] = (this.counters.faults[kind] ?? 0) + 1;
    return kind;
  }

  protected readWord(at: number): number | undefined {
    const b = this.memory.read(this.base + at, 4);
    return b && b.length === 4 ? u32(b, 0) : undefined;
  }

  protected writeWord(at: number, v: number): boolean {
    return this.memory.write(this.base + at, word(v));
  }

  protected dataAt(position: number): number {
    return this.base + RING_HEADER_BYTES + (position & (this.capacity - 1));
  }
}

/** The producing side: stages frames, then publishes them with one index write. */
export class RingProducer extends RingSide {
  /** Bytes published or staged, mod 2^32: ours alone, never read back from the memory. */
  private position = 0;
  private published = 0;
  /** The consumer's position as last read (validated). */
  private consumed = 0;
  private pieceStart = 0;
  private piece: Uint8Array;
  private pieceLength = 0;
  private stagedFrames = 0;

  constructor(memory: RingMemory, geometry: RingGeometry) {
    super(memory, geometry);
    this.piece = new Uint8Array(this.chunk);
  }

  /** Sets up an empty ring (the owner of the memory does this once, before the peer starts). */
  reset(): boolean {
    this.position = this.published = this.consumed = this.pieceStart = this.pieceLength = 0;
    return this.memory.write(this.base, new Uint8Array(RING_HEADER_BYTES));
  }

  /**
   * Takes up where this side left off (a restarted partition): the producer position it last published,
   * and the consumer's position, as the memory holds them (validated; an inconsistent ring starts empty).
   */
  resume(): void {
    const p = this.readWord(PRODUCER) ?? 0;
    const c = this.readWord(CONSUMER) ?? 0;
    const ok = p % 4 === 0 && c % 4 === 0 && (p - c) >>> 0 <= this.capacity;
    this.position = this.published = ok ? p : 0;
    this.consumed = ok ? c : 0;
    this.pieceLength = this.stagedFrames = 0;
    if (!ok) this.reset();
  }

  /** Re-reads the consumer's position; false (and a fault) if it is not one the consumer could hold. */
  refresh(): boolean {
    const c = this.readWord(CONSUMER);
    if (c === undefined) {
      this.fault('memory');
      return false;
    }
    // The consumer can only have moved forward, and not past what was published.
    if (c % 4 !== 0 || (c - this.consumed) >>> 0 > (this.published - this.consumed) >>> 0) {
      this.fault('bad-consumer-index');
      return false;
    }
    this.consumed = c;
    return true;
  }

  /** Free bytes as of the last `refresh`, staged frames deducted. */
  get free(): number {
    return this.capacity - ((this.position - this.consumed) >>> 0);
  }

  /** Whether nothing published is still unconsumed (as of the last `refresh`). */
  get drained(): boolean {
    return this.consumed === this.published;
  }

  /** The data-area offset (from the memory's start) where the next staged frame's bytes will be. */
  get nextFrameOffset(): number {
    return this.dataAt(this.position) + RECORD_HEADER;
  }

  /** Stages one frame; false (counted) if it does not fit. Nothing is visible before `publish`. */
  push(frame: Uint8Array): boolean {
    const record = pad4(RECORD_HEADER + frame.length);
    if (frame.length < 1 || frame.length > this.maxFrame) {
      this.counters.oversize++;
      return false;
    }
    const toEnd = this.capacity - (this.position & (this.capacity - 1));
    const need = record <= toEnd ? record : toEnd + record;
    if (need > this.free) {
      this.counters.full++;
      return false;
    }
    if (record > toEnd) {
      // Not enough room before the end: a wrap marker, and the frame starts the next lap.
      if (this.pieceLength + RECORD_HEADER > this.chunk) this.flushPiece();
      this.stage(word(WRAP), toEnd);
      this.flushPiece();
    }
    if (this.pieceLength + record > this.chunk) this.flushPiece();
    if (this.pieceLength === 0) this.pieceStart = this.position;
    const at = this.pieceLength;
    this.piece.set(word(frame.length), at);
    this.piece.set(frame, at + RECORD_HEADER);
    this.piece.fill(0, at + RECORD_HEADER + frame.length, at + record);
    this.pieceLength += record;
    this.position = (this.position + record) >>> 0;
    this.stagedFrames++;
    this.counters.frames++;
    this.counters.bytes += frame.length;
    if ((this.position & (this.capacity - 1)) === 0) this.flushPiece();
    return true;
  }

  private stage(bytes: Uint8Array, advance: number): void {
    if (this.pieceLength === 0) this.pieceStart = this.position;
    this.piece.set(bytes, this.pieceLength);
    this.pieceLength += bytes.length;
    this.position = (this.position + advance) >>> 0;
  }

  private flushPiece(): boolean {
    if (this.pieceLength === 0) return true;
    const ok = this.memory.write(this.dataAt(this.pieceStart), this.piece.subarray(0, this.pieceLength));
    this.pieceLength = 0;
    if (!ok) this.fault('memory');
    return ok;
  }

  /** Makes every staged frame visible to the consumer; returns how many were published. */
  publish(): number {
    if (this.stagedFrames === 0 && this.pieceLength === 0) return 0;
    const ok = this.flushPiece() && this.writeWord(PRODUCER, this.position);
    if (!ok) return 0;
    const n = this.stagedFrames;
    this.published = this.position;
    this.stagedFrames = 0;
    return n;
  }

  /** Whether the consumer said it is asleep; clears the flag (the caller then rings the doorbell). */
  takeConsumerAsleep(): boolean {
    if (this.readWord(CONSUMER_ASLEEP) !== 1) return false;
    this.writeWord(CONSUMER_ASLEEP, 0);
    return true;
  }

  /** Says the producer waits for space (the consumer clears it and signals). */
  sleep(): void {
    this.writeWord(PRODUCER_ASLEEP, 1);
  }
}

/** A frame taken from a ring: a private copy, where its bytes are in the memory, where its record ends. */
export interface TakenFrame {
  readonly bytes: Uint8Array;
  /** Offset of the frame's first byte in the ring's memory (for DMA straight from the ring). */
  readonly offset: number;
  /** Ring position just after its record: `release(end)` gives back its space and everything before. */
  readonly end: number;
}

/** The consuming side: takes published frames in batches, validates them, releases their space. */
export class RingConsumer extends RingSide {
  /** Bytes consumed, mod 2^32: ours alone, never read back from the memory. */
  private position = 0;
  private released = 0;

  /** Takes up where this side left off (a restarted partition): the consumer position it last released. */
  resume(): void {
    const c = this.readWord(CONSUMER) ?? 0;
    this.position = this.released = c % 4 === 0 ? c : 0;
  }

  /**
   * Takes frames published since the last call, each one a private copy, as long as their records add up
   * to at most `maxBytes` (a producer that forwards them can reserve that much space first) and there are
   * at most `maxFrames`. A fault in what the producer wrote stops the batch; the frames before it are kept.
   */
  take(
    maxBytes = this.chunk,
    maxFrames = Number.POSITIVE_INFINITY,
  ): { frames: TakenFrame[]; fault?: RingFault } {
    const frames: TakenFrame[] = [];
    const p = this.readWord(PRODUCER);
    if (p === undefined) return { frames, fault: this.fault('memory') };
    if ((p - this.position) >>> 0 > this.capacity || p % 4 !== 0)
      return { frames, fault: this.fault('bad-producer-index') };
    let budget = maxBytes;
    for (;;) {
      const left = (p - this.position) >>> 0;
      if (left === 0 || budget < RECORD_HEADER || frames.length >= maxFrames) break;
      const length = Math.min(
        left,
        this.capacity - (this.position & (this.capacity - 1)),
        this.chunk,
        budget,
      );
      const bytes = this.memory.read(this.dataAt(this.position), length);
      if (!bytes || bytes.length !== length) return { frames, fault: this.fault('memory') };
      let at = 0;
      let wrapped = false;
      while (at + RECORD_HEADER <= length) {
        const h = u32(bytes, at);
        const len = h & 0xffff;
        if (h >>> 16 !== 0) return { frames, fault: this.fault('bad-record-flags') };
        const unread = (p - this.position) >>> 0;
        if (len === WRAP) {
          // Skips the rest of the data area: the producer must have published that far.
          const skip = this.capacity - (this.position & (this.capacity - 1));
          if (skip > unread) return { frames, fault: this.fault('record-beyond-producer') };
          this.position = (this.position + skip) >>> 0;
          wrapped = true;
          break;
        }
        if (len === 0 || len > this.maxFrame) return { frames, fault: this.fault('bad-record-length') };
        const record = pad4(RECORD_HEADER + len);
        if (record > unread) return { frames, fault: this.fault('record-beyond-producer') };
        if (at + record > length || frames.length >= maxFrames) break; // the rest: next copy or batch
        const offset = this.dataAt(this.position) + RECORD_HEADER;
        this.position = (this.position + record) >>> 0;
        frames.push({
          bytes: bytes.slice(at + RECORD_HEADER, at + RECORD_HEADER + len),
          offset,
          end: this.position,
        });
        this.counters.frames++;
        this.counters.bytes += len;
        at += record;
        budget -= record;
      }
      if (at === 0 && !wrapped) break;
    }
    return { frames };
  }

  /** Whether frames were published beyond what was taken (one read of the producer's index). */
  pending(): boolean {
    const p = this.readWord(PRODUCER);
    return p !== undefined && p !== this.position && (p - this.position) >>> 0 <= this.capacity;
  }

  /** Gives back the space of the frames taken, up to the record ending at `upTo` (default: all of them). */
  release(upTo = this.position): boolean {
    const ahead = (upTo - this.released) >>> 0;
    if (ahead === 0) return true;
    assert(ahead <= (this.position - this.released) >>> 0, 'release past what was taken');
    if (!this.writeWord(CONSUMER, upTo)) return false;
    this.released = upTo;
    return true;
  }

  /** Ring space taken and not yet released (bytes). */
  get unreleased(): number {
    return (this.position - this.released) >>> 0;
  }

  /** Says the consumer waits for a doorbell; then re-check `pending()` before sleeping. */
  sleep(): void {
    this.writeWord(CONSUMER_ASLEEP, 1);
  }

  /** Whether the producer said it waits for space; clears the flag (the caller then signals it). */
  takeProducerAsleep(): boolean {
    if (this.readWord(PRODUCER_ASLEEP) !== 1) return false;
    this.writeWord(PRODUCER_ASLEEP, 0);
    return true;
  }
}
