/**
 * A FIFO of bytes in one growable buffer: appended at the end, consumed from the front, read in place.
 * Used for the TCP send buffer (bytes from SND.UNA on) and the in-order receive buffer.
 */
export class ByteQueue {
  private buf: Uint8Array;
  private start = 0;
  private end = 0;

  constructor(initialCapacity = 4096) {
    this.buf = new Uint8Array(initialCapacity);
  }

  get length(): number {
    return this.end - this.start;
  }

  push(bytes: Uint8Array): void {
    const n = bytes.length;
    if (n === 0) return;
    if (this.end + n > this.buf.length) {
      const live = this.length;
      if (live + n <= this.buf.length / 2) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        let cap = this.buf.length * 2;
        while (cap < live + n) cap *= 2;
        const next = new Uint8Array(cap);
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(bytes, this.end);
    this.end += n;
  }

  /** A view (not a copy) of `length` bytes from `offset`; valid until the next `push`. */
  view(offset: number, length: number): Uint8Array {
    const from = this.start + offset;
    return this.buf.subarray(from, Math.min(from + length, this.end));
  }

  /** Removes and returns (as a copy) up to `max` bytes from the front. */
  take(max = this.length): Uint8Array {
    const n = Math.min(max, this.length);
    const out = this.buf.slice(this.start, this.start + n);
    this.drop(n);
    return out;
  }

  drop(n: number): void {
    this.start += Math.min(n, this.length);
    if (this.start === this.end) this.start = this.end = 0;
  }
}
