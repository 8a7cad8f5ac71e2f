/**
 * IPv4 fragmentation (RFC 791 §3.2, "Fragmentation and reassembly") and reassembly with the hole
 * descriptor list of RFC 815.
 *
 * Overlap policy (that of Linux since 4.19, and RFC 5722 applied to IPv4): a fragment that exactly
 * repeats one already held is ignored; any other overlap discards the whole datagram. Other rules
 * follow Linux's ip_frag_queue: a non-final fragment whose length is not a multiple of 8 is cut down to
 * one; a second final fragment with a different end, or data beyond a known end, discards the datagram;
 * an empty fragment discards it. Time is virtual: the caller passes `nowNs` (nanoseconds) to every call
 * and the engine never reads a clock. A datagram not complete `timeoutNs` after its first fragment
 * (default 30 s, Linux's ipfrag_time) is dropped.
 */
import { assert } from '../../common/errors.js';
import { type Ipv4Option, type Ipv4Packet, ipv4HeaderLength, isFragment } from './ipv4.js';

/** Splits a datagram so that each fragment's total length is at most `mtu`; only copied options repeat. */
export function fragmentIpv4(p: Ipv4Packet, mtu: number): Ipv4Packet[] {
  const firstHeader = ipv4HeaderLength(p.options);
  if (firstHeader + p.payload.length <= mtu) return [p];
  assert(!p.dontFragment, 'datagram with DF set cannot be fragmented');
  // RFC 791 §3.1: options with the copied flag (bit 0x80) go in every fragment.
  const copied: Ipv4Option[] = p.options.filter((o) => (o.type & 0x80) !== 0);
  const out: Ipv4Packet[] = [];
  let off = 0;
  while (off < p.payload.length) {
    const header = off === 0 ? firstHeader : ipv4HeaderLength(copied);
    const room = (mtu - header) & ~7;
    assert(room >= 8, `MTU ${mtu} leaves no room for data`);
    const chunk = p.payload.subarray(off, off + room);
    const last = off + chunk.length >= p.payload.length;
    out.push({
      ...p,
      options: off === 0 ? p.options : copied,
      fragmentOffset: p.fragmentOffset + off,
      moreFragments: last ? p.moreFragments : true,
      payload: chunk,
    });
    off += chunk.length;
  }
  return out;
}

export type ReassemblyResult =
  /** The datagram is whole: `packet` is it (header of the offset-0 fragment, payload joined). */
  | { readonly kind: 'complete'; readonly packet: Ipv4Packet; readonly fragments: number }
  /** Held, waiting for more fragments. */
  | { readonly kind: 'held' }
  /** This fragment was dropped; with `datagramDropped` the fragments held for its datagram went too. */
  | { readonly kind: 'dropped'; readonly reason: FragmentDropReason; readonly datagramDropped: boolean };

export type FragmentDropReason =
  'duplicate' | 'overlap' | 'inconsistent-end' | 'empty' | 'too-big' | 'no-memory';

export interface ReassemblyOptions {
  /** Default 30 s (Linux net.ipv4.ipfrag_time). */
  readonly timeoutNs?: bigint;
  /** Bytes of fragment data held at most (default 4 MiB, Linux ipfrag_high_thresh). */
  readonly maxBytes?: number;
}

/** A datagram dropped by timeout; `first` is its offset-0 fragment when it came (for ICMP time exceeded). */
export interface ExpiredDatagram {
  readonly src: number;
  readonly dst: number;
  readonly protocol: number;
  readonly identification: number;
  readonly first?: Ipv4Packet;
}

interface Hole {
  first: number;
  /** Inclusive; Infinity while the final fragment has not come. */
  last: number;
}

interface Queue {
  readonly createdNs: bigint;
  readonly fragments: { start: number; end: number; packet: Ipv4Packet }[];
  holes: Hole[];
  /** End of the datagram's data once the final fragment came. */
  end: number | undefined;
  /** Highest end seen so far. */
  maxEnd: number;
  bytes: number;
}

export class Ipv4Reassembler {
  private readonly queues = new Map<string, Queue>();
  private readonly timeoutNs: bigint;
  private readonly maxBytes: number;
  private heldBytes = 0;

  constructor(options: ReassemblyOptions = {}) {
    this.timeoutNs = options.timeoutNs ?? 30_000_000_000n;
    this.maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  }

  /** Bytes of fragment data held (at most `maxBytes`). */
  get held(): number {
    return this.heldBytes;
  }

  /** Number of incomplete datagrams held. */
  get pending(): number {
    return this.queues.size;
  }

  /** Takes one datagram or fragment; whole datagrams come straight back as complete. */
  push(p: Ipv4Packet, nowNs: bigint): ReassemblyResult {
    this.expire(nowNs);
    if (!isFragment(p)) return { kind: 'complete', packet: p, fragments: 1 };
    const key = `${p.src},${p.dst},${p.protocol},${p.identification}`;
    let q = this.queues.get(key);
    if (!q) {
      q = {
        createdNs: nowNs,
        fragments: [],
        holes: [{ first: 0, last: Infinity }],
        end: undefined,
        maxEnd: 0,
        bytes: 0,
      };
      this.queues.set(key, q);
    }
    const start = p.fragmentOffset;
    let end = start + p.payload.length;
    let payload = p.payload;
    if (p.moreFragments) {
      if (end & 7) {
        end &= ~7;
        payload = payload.subarray(0, end - start);
      }
      if (q.end !== undefined && end > q.end) return this.discard(key, 'inconsistent-end');
    } else if (end < q.maxEnd || (q.end !== undefined && end !== q.end)) {
      return this.discard(key, 'inconsistent-end');
    }
    if (end === start) return this.discard(key, 'empty');
    if (end + ipv4HeaderLength(p.options) > 65535) return this.discard(key, 'too-big');
    for (const f of q.fragments) {
      if (f.start === start && f.end === end)
        return { kind: 'dropped', reason: 'duplicate', datagramDropped: false };
      if (start < f.end && f.start < end) return this.discard(key, 'overlap');
    }
    if (this.heldBytes + payload.length > this.maxBytes) return this.discard(key, 'no-memory');
    if (!p.moreFragments) q.end = end;
    q.maxEnd = Math.max(q.maxEnd, end);
    q.fragments.push({ start, end, packet: payload === p.payload ? p : { ...p, payload } });
    q.bytes += payload.length;
    this.heldBytes += payload.length;
    // RFC 815 §3, steps 1–8, on the inclusive range [start, end - 1].
    const last = end - 1;
    const holes: Hole[] = [];
    for (const h of q.holes) {
      if (start > h.last || last < h.first) {
        holes.push(h);
        continue;
      }
      if (start > h.first) holes.push({ first: h.first, last: start - 1 });
      if (last < h.last && p.moreFragments) holes.push({ first: last + 1, last: h.last });
    }
    q.holes = holes;
    if (holes.length > 0 || q.end === undefined) return { kind: 'held' };
    this.queues.delete(key);
    this.heldBytes -= q.bytes;
    q.fragments.sort((a, b) => a.start - b.start);
    const first = q.fragments[0];
    if (first === undefined || first.start !== 0) return this.dropped('empty');
    // RFC 791 §3.1: total length is 16 bits; the header is the offset-0 fragment's, options included.
    if (ipv4HeaderLength(first.packet.options) + q.end > 65535) return this.dropped('too-big');
    const data = new Uint8Array(q.end);
    for (const f of q.fragments) data.set(f.packet.payload, f.start);
    return {
      kind: 'complete',
      packet: { ...first.packet, moreFragments: false, fragmentOffset: 0, payload: data },
      fragments: q.fragments.length,
    };
  }

  /** Drops every datagram older than the timeout at `nowNs` and returns them. */
  expire(nowNs: bigint): ExpiredDatagram[] {
    const out: ExpiredDatagram[] = [];
    for (const [key, q] of this.queues) {
      if (nowNs - q.createdNs < this.timeoutNs) continue;
      this.queues.delete(key);
      this.heldBytes -= q.bytes;
      const any = q.fragments[0]?.packet;
      if (!any) continue;
      const first = q.fragments.find((f) => f.start === 0)?.packet;
      const base = { src: any.src, dst: any.dst, protocol: any.protocol, identification: any.identification };
      out.push(first ? { ...base, first } : base);
    }
    return out;
  }

  private dropped(reason: FragmentDropReason): ReassemblyResult {
    return { kind: 'dropped', reason, datagramDropped: true };
  }

  private discard(key: string, reason: FragmentDropReason): ReassemblyResult {
    const q = this.queues.get(key);
    if (q) {
      this.queues.delete(key);
      this.heldBytes -= q.bytes;
    }
    return { kind: 'dropped', reason, datagramDropped: true };
  }
}
