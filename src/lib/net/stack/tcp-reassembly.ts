/**
 * Out-of-order segments held until the gap before them is filled (RFC 9293 §3.10.7.4, seventh step:
 * segments beyond RCV.NXT within the window are kept for later processing). Ranges never overlap: when
 * new data overlaps data already held, only the new bytes are kept.
 */
import { seqAdd, seqDiff, seqGt, seqLe, seqLt } from './seq.js';

interface Range {
  readonly seq: number;
  readonly data: Uint8Array;
}

export class SegmentReassembly {
  private ranges: Range[] = [];
  /** Bytes held. */
  bytes = 0;

  get empty(): boolean {
    return this.ranges.length === 0;
  }

  /** Number of separate ranges held (gaps + 1, roughly). */
  get count(): number {
    return this.ranges.length;
  }

  /** Holds `data` (copied) starting at sequence number `seq`. */
  insert(seq: number, data: Uint8Array): void {
    let s = seq;
    let d = data;
    const r = this.ranges;
    let i = 0;
    while (i < r.length && seqLe(end(r[i] as Range), s)) i++;
    while (d.length > 0 && i < r.length) {
      const x = r[i] as Range;
      if (seqLe(seqAdd(s, d.length), x.seq)) break;
      if (seqLt(s, x.seq)) {
        const n = seqDiff(x.seq, s);
        r.splice(i, 0, { seq: s, data: d.slice(0, n) });
        this.bytes += n;
        i++;
        d = d.subarray(n);
        s = x.seq;
      }
      const covered = seqDiff(end(x), s);
      if (covered >= d.length) {
        d = d.subarray(d.length);
        break;
      }
      d = d.subarray(covered);
      s = end(x);
      i++;
    }
    if (d.length > 0) {
      r.splice(i, 0, { seq: s, data: d.slice() });
      this.bytes += d.length;
    }
  }

  /** Removes the data that now continues from `rcvNxt`, in order. */
  takeFrom(rcvNxt: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let next = rcvNxt;
    while (this.ranges.length > 0) {
      const x = this.ranges[0] as Range;
      if (seqGt(x.seq, next)) break;
      this.ranges.shift();
      this.bytes -= x.data.length;
      const skip = seqDiff(next, x.seq);
      if (skip < x.data.length) {
        out.push(skip === 0 ? x.data : x.data.subarray(skip));
        next = end(x);
      }
    }
    return out;
  }

  clear(): void {
    this.ranges = [];
    this.bytes = 0;
  }
}

function end(x: Range): number {
  return seqAdd(x.seq, x.data.length);
}
