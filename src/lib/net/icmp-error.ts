/**
 * Building ICMP error messages about a datagram, and limiting their rate, as Linux's icmp_send does
 * (net/ipv4/icmp.c, RFC 1812 §4.3.2):
 *
 * - no error about an ICMP error (or an ICMP message of unknown type), about a fragment other than the
 *   first, or about a datagram from or to a broadcast or multicast address, or from 0.0.0.0
 *   (RFC 1122 §3.2.2);
 * - the error quotes as much of the offending datagram as fits a 576-byte reply (RFC 1812 §4.3.2.3);
 * - its TOS is IPTOS_PREC_INTERNETCONTROL with the original TOS bits, its TTL the default (64).
 *
 * `IcmpRateLimiter` is the pair of token buckets Linux applies: per destination (inet_peer_xrlim_allow,
 * net.ipv4.icmp_ratelimit 1000 ms, a burst of XRLIM_BURST_FACTOR 6) and for the host
 * (icmp_global_allow, net.ipv4.icmp_msgs_per_sec 1000, icmp_msgs_burst 50). Time is virtual.
 */
import { encodeIcmp, isIcmpError } from './icmp.js';
import { type Ipv4Packet, encodeIpv4 } from './ipv4.js';
import { u16 } from './wire.js';

/** net.ipv4.ip_default_ttl. */
export const DEFAULT_TTL = 64;
/** icmp_send quotes as much of the datagram as fits a 576-byte reply (RFC 1812 §4.3.2.3). */
export const ICMP_ERROR_MAX = 576;

export interface IcmpErrorInput {
  readonly type: number;
  readonly code: number;
  /** The 32 bits after the checksum: 0, a pointer, a gateway, or the next-hop MTU (RFC 1191 §4). */
  readonly rest?: number;
  /** The offending datagram as received (header and payload), and decoded. */
  readonly datagram: Uint8Array;
  readonly ip: Ipv4Packet;
  /** Source address of the error; default the offending datagram's destination. */
  readonly source?: number;
}

const groupOrBroadcast = (a: number) => a === 0xffffffff || a >>> 28 === 0xe;

/** The ICMP error datagram, or undefined when icmp_send would send none. */
export function icmpErrorDatagram(e: IcmpErrorInput): Uint8Array | undefined {
  const { ip, datagram } = e;
  if (ip.fragmentOffset !== 0) return undefined;
  if (ip.protocol === 1) {
    const type = ip.payload[0];
    if (type === undefined || type > 18 || isIcmpError(type)) return undefined;
  }
  if (groupOrBroadcast(ip.dst) || groupOrBroadcast(ip.src) || ip.src === 0) return undefined;
  const total = datagram.length >= 4 ? u16(datagram, 2) : datagram.length;
  const quoted = datagram.subarray(0, Math.min(total, ICMP_ERROR_MAX - 28));
  const tos = (ip.dscp << 2) | ip.ecn;
  return encodeIpv4({
    dscp: ((tos & 0x1e) | 0xc0) >>> 2,
    ecn: 0,
    identification: 0,
    reservedFlag: false,
    dontFragment: false,
    moreFragments: false,
    fragmentOffset: 0,
    ttl: DEFAULT_TTL,
    protocol: 1,
    src: e.source ?? ip.dst,
    dst: ip.src,
    options: [],
    payload: encodeIcmp({ type: e.type, code: e.code, rest: (e.rest ?? 0) >>> 0, payload: quoted }),
  });
}

/** Destination unreachable, fragmentation needed and DF set, with the next-hop MTU (RFC 1191 §4). */
export function fragmentationNeeded(
  datagram: Uint8Array,
  ip: Ipv4Packet,
  mtu: number,
  source?: number,
): Uint8Array | undefined {
  return icmpErrorDatagram({
    type: 3,
    code: 4,
    rest: mtu & 0xffff, // unused (16 bits of zero), then the next-hop MTU
    datagram,
    ip,
    ...(source !== undefined ? { source } : {}),
  });
}

export interface IcmpRateLimitOptions {
  /** net.ipv4.icmp_ratelimit: the interval one error per destination costs (default 1 s). */
  readonly intervalNs?: bigint;
  /** XRLIM_BURST_FACTOR: intervals a destination may save up (default 6). */
  readonly burstFactor?: number;
  /** net.ipv4.icmp_msgs_per_sec (default 1000) and icmp_msgs_burst (default 50): for all destinations. */
  readonly msgsPerSec?: number;
  readonly msgsBurst?: number;
  /** Destinations remembered at most; the least recently used is forgotten first (inet_peer's pool). */
  readonly maxPeers?: number;
}

const NS_PER_S = 1_000_000_000n;

export class IcmpRateLimiter {
  readonly counters = { sent: 0, limited: 0 };
  private readonly interval: bigint;
  private readonly peerBurst: bigint;
  private readonly perSec: bigint;
  private readonly burst: bigint;
  private readonly maxPeers: number;
  /** Per destination: tokens (ns of credit) and when they were counted, least recently used first. */
  private readonly peers = new Map<number, { tokens: bigint; lastNs: bigint }>();
  /** Global credit in messages × 1e9 (to refill at msgsPerSec in ns without rounding away). */
  private credit: bigint;
  private creditNs: bigint | undefined;

  constructor(o: IcmpRateLimitOptions = {}) {
    this.interval = o.intervalNs ?? NS_PER_S;
    this.peerBurst = this.interval * BigInt(o.burstFactor ?? 6);
    this.perSec = BigInt(o.msgsPerSec ?? 1000);
    this.burst = BigInt(o.msgsBurst ?? 50) * NS_PER_S;
    this.credit = this.burst;
    this.maxPeers = Math.max(1, o.maxPeers ?? 1024);
  }

  /** Whether an error to `dst` may go at `nowNs`; a refusal is counted. */
  allow(dst: number, nowNs: bigint): boolean {
    // The host's bucket is looked at first and paid last (icmp_global_allow, icmp_global_consume).
    const ok = this.globalCredit(nowNs) && this.peerAllow(dst, nowNs);
    if (ok) {
      this.credit -= NS_PER_S;
      this.counters.sent++;
    } else this.counters.limited++;
    return ok;
  }

  /** icmp_global_allow: a bucket of msgsBurst messages refilled at msgsPerSec. */
  private globalCredit(nowNs: bigint): boolean {
    if (this.creditNs !== undefined && nowNs > this.creditNs) {
      this.credit += (nowNs - this.creditNs) * this.perSec;
      if (this.credit > this.burst) this.credit = this.burst;
    }
    this.creditNs = nowNs;
    return this.credit >= NS_PER_S;
  }

  /** inet_peer_xrlim_allow: a new destination starts with a full burst. */
  private peerAllow(dst: number, nowNs: bigint): boolean {
    const peer = this.peers.get(dst) ?? { tokens: this.peerBurst, lastNs: nowNs };
    this.peers.delete(dst);
    this.peers.set(dst, peer);
    if (this.peers.size > this.maxPeers) this.peers.delete(this.peers.keys().next().value as number);
    if (nowNs > peer.lastNs) peer.tokens += nowNs - peer.lastNs;
    peer.lastNs = nowNs;
    if (peer.tokens > this.peerBurst) peer.tokens = this.peerBurst;
    if (peer.tokens < this.interval) return false;
    peer.tokens -= this.interval;
    return true;
  }
}
