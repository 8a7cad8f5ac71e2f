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
 *
 * Memory is bounded as Linux's ipfrag bounds it (net/ipv4/inet_fragment.c, ip_fragment.c): every held
 * fragment is charged its size plus an sk_buff's overhead (its truesize), every queue its own struct;
 * when a fragment would take the total over `highThresh` (ipfrag_high_thresh, 4 MiB), the oldest
 * queues are evicted until it is under `lowThresh` (ipfrag_low_thresh, 3 MiB; the evictor of Linux
 * before 4.17). Sizes are checked against the datagram reassembly would build (header of the offset-0
 * fragment plus data at most 65535 bytes). Every discarded fragment and datagram is counted; nothing a
 * fragment holds makes it throw.
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
  /**
   * The datagram is whole: `packet` is it (header of the offset-0 fragment, payload joined; DF set when
   * the largest fragment had it, as ip_frag_reasm sets it); `largest` is the largest fragment's total
   * length (IPCB frag_max_size, what forwarding compares with the next hop's MTU).
   */
  | {
      readonly kind: 'complete';
      readonly packet: Ipv4Packet;
      readonly fragments: number;
      readonly largest?: number;
    }
  /** Held, waiting for more fragments. */
  | { readonly kind: 'held' }
  /** This fragment was dropped; with `datagramDropped` the fragments held for its datagram went too. */
  | { readonly kind: 'dropped'; readonly reason: FragmentDropReason; readonly datagramDropped: boolean };

export type FragmentDropReason =
  'duplicate' | 'overlap' | 'inconsistent-end' | 'empty' | 'too-big' | 'no-memory';

const DROP_REASONS: readonly FragmentDropReason[] = [
  'duplicate',
  'overlap',
  'inconsistent-end',
  'empty',
  'too-big',
  'no-memory',
];

export interface ReassemblyOptions {
  /** Default 30 s (Linux net.ipv4.ipfrag_time). */
  readonly timeoutNs?: bigint;
  /** Bytes charged at most before eviction (default 4 MiB, net.ipv4.ipfrag_high_thresh). */
  readonly highThresh?: number;
  /** Eviction goes on until the charge is under this (default 3 MiB, net.ipv4.ipfrag_low_thresh). */
  readonly lowThresh?: number;
}

/** What a held fragment is charged beyond its bytes: an sk_buff and its shared info (SKB_TRUESIZE). */
export const FRAGMENT_OVERHEAD = 576;
/** What a reassembly queue is charged (struct ipq). */
export const QUEUE_OVERHEAD = 192;
const MIN_HEADER = 20;
const MAX_DATAGRAM = 65535;

/** Counters, as /proc/net/snmp's Reasm* and /proc/net/sockstat's FRAG line report them. */
export interface ReassemblyStats {
  /** Incomplete datagrams held, and the bytes they are charged. */
  queues: number;
  memory: number;
  highThresh: number;
  lowThresh: number;
  /** Fragments received (ReasmReqds) and datagrams reassembled (ReasmOKs). */
  reqds: number;
  oks: number;
  /** Datagrams discarded: for a bad fragment, on timeout (ReasmTimeout), evicted under memory pressure. */
  failed: number;
  timeouts: number;
  evicted: number;
  /** Fragments dropped, by reason. */
  drops: Record<FragmentDropReason, number>;
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
  /** Header length of the offset-0 fragment once it came (the reassembled datagram's header). */
  headerLength: number | undefined;
  /** Bytes charged for it (truesize of its fragments, and the queue itself). */
  charge: number;
  /** Largest fragment (total length), and largest with DF set (qp->q.max_size, max_df_size). */
  maxSize: number;
  maxDfSize: number;
}

export class Ipv4Reassembler {
  /** In creation order: the oldest first, for the timeout and the evictor. */
  private readonly queues = new Map<string, Queue>();
  private readonly timeoutNs: bigint;
  private readonly highThresh: number;
  private readonly lowThresh: number;
  private memory = 0;
  private readonly counters = { reqds: 0, oks: 0, failed: 0, timeouts: 0, evicted: 0 };
  private readonly drops = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<
    FragmentDropReason,
    number
  >;

  constructor(options: ReassemblyOptions = {}) {
    this.timeoutNs = options.timeoutNs ?? 30_000_000_000n;
    this.highThresh = options.highThresh ?? 4 * 1024 * 1024;
    this.lowThresh = Math.min(options.lowThresh ?? 3 * 1024 * 1024, this.highThresh);
  }

  /** Bytes charged for what is held (at most `highThresh`). */
  get held(): number {
    return this.memory;
  }

  /** Number of incomplete datagrams held. */
  get pending(): number {
    return this.queues.size;
  }

  stats(): ReassemblyStats {
    return {
      queues: this.queues.size,
      memory: this.memory,
      highThresh: this.highThresh,
      lowThresh: this.lowThresh,
      ...this.counters,
      drops: { ...this.drops },
    };
  }

  /** Takes one datagram or fragment; whole datagrams come straight back as complete. */
  push(p: Ipv4Packet, nowNs: bigint): ReassemblyResult {
    this.expire(nowNs);
    if (!isFragment(p)) return { kind: 'complete', packet: p, fragments: 1 };
    this.counters.reqds++;
    const key = `${p.src},${p.dst},${p.protocol},${p.identification}`;
    let q = this.queues.get(key);
    if (!q) {
      q = {
        createdNs: nowNs,
        fragments: [],
        holes: [{ first: 0, last: Infinity }],
        end: undefined,
        maxEnd: 0,
        headerLength: undefined,
        charge: QUEUE_OVERHEAD,
        maxSize: 0,
        maxDfSize: 0,
      };
      this.queues.set(key, q);
      this.memory += QUEUE_OVERHEAD;
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
    if (end <= start) return this.discard(key, 'empty');
    // The datagram this builds: the offset-0 fragment's header (the least there is, until it comes)
    // and data to the highest end (RFC 791 §3.1: total length is 16 bits).
    const headerLength = start === 0 ? ipv4HeaderLength(p.options) : (q.headerLength ?? MIN_HEADER);
    if (headerLength + Math.max(end, q.maxEnd) > MAX_DATAGRAM) return this.discard(key, 'too-big');
    for (const f of q.fragments) {
      if (f.start === start && f.end === end) return this.drop('duplicate');
      if (start < f.end && f.start < end) return this.discard(key, 'overlap');
    }
    const cost = ipv4HeaderLength(p.options) + payload.length + FRAGMENT_OVERHEAD;
    if (this.memory + cost > this.highThresh) {
      this.evict(q, cost);
      if (this.memory + cost > this.highThresh) return this.discard(key, 'no-memory');
    }
    if (start === 0) q.headerLength = headerLength;
    if (!p.moreFragments) q.end = end;
    q.maxEnd = Math.max(q.maxEnd, end);
    q.fragments.push({ start, end, packet: payload === p.payload ? p : { ...p, payload } });
    q.charge += cost;
    this.memory += cost;
    const size = ipv4HeaderLength(p.options) + p.payload.length;
    q.maxSize = Math.max(q.maxSize, size);
    if (p.dontFragment) q.maxDfSize = Math.max(q.maxDfSize, size);
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
    this.release(key, q);
    q.fragments.sort((a, b) => a.start - b.start);
    const first = q.fragments[0];
    if (first === undefined || first.start !== 0) return this.failed('empty');
    // Checked again on the datagram as built: the header is the offset-0 fragment's, options included.
    if (ipv4HeaderLength(first.packet.options) + q.end > MAX_DATAGRAM) return this.failed('too-big');
    const data = new Uint8Array(q.end);
    for (const f of q.fragments) data.set(f.packet.payload, f.start);
    this.counters.oks++;
    return {
      kind: 'complete',
      packet: {
        ...first.packet,
        dontFragment: q.maxDfSize === q.maxSize,
        moreFragments: false,
        fragmentOffset: 0,
        payload: data,
      },
      fragments: q.fragments.length,
      largest: q.maxSize,
    };
  }

  /**
   * Drops every datagram older than the timeout at `nowNs` and returns them (ip_expire). Queues are
   * held oldest first, so this stops at the first one still in time.
   */
  expire(nowNs: bigint): ExpiredDatagram[] {
    const out: ExpiredDatagram[] = [];
    for (const [key, q] of this.queues) {
      if (nowNs - q.createdNs < this.timeoutNs) break;
      this.release(key, q);
      this.counters.failed++;
      this.counters.timeouts++;
      const any = q.fragments[0]?.packet;
      if (!any) continue;
      const first = q.fragments.find((f) => f.start === 0)?.packet;
      const base = { src: any.src, dst: any.dst, protocol: any.protocol, identification: any.identification };
      out.push(first ? { ...base, first } : base);
    }
    return out;
  }

  /** The evictor: the oldest queues but `keep` go until `cost` more bytes would leave the charge under lowThresh. */
  private evict(keep: Queue, cost: number): void {
    for (const [key, q] of this.queues) {
      if (this.memory + cost <= this.lowThresh) return;
      if (q === keep) continue;
      this.release(key, q);
      this.counters.failed++;
      this.counters.evicted++;
    }
  }

  private release(key: string, q: Queue): void {
    this.queues.delete(key);
    this.memory -= q.charge;
  }

  private drop(reason: FragmentDropReason): ReassemblyResult {
    this.drops[reason]++;
    return { kind: 'dropped', reason, datagramDropped: false };
  }

  private failed(reason: FragmentDropReason): ReassemblyResult {
    this.drops[reason]++;
    this.counters.failed++;
    return { kind: 'dropped', reason, datagramDropped: true };
  }

  private discard(key: string, reason: FragmentDropReason): ReassemblyResult {
    const q = this.queues.get(key);
    if (q) this.release(key, q);
    return this.failed(reason);
  }
}
