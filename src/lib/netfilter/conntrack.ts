/**
 * Connection tracking with the Linux kernel's semantics (net/netfilter/nf_conntrack_core.c,
 * nf_conntrack_proto_{tcp,udp,icmp}.c, Linux 6.x, default sysctls: tcp_loose=1, tcp_be_liberal=0,
 * checksum=1, tcp_max_retrans=3):
 *
 * - a packet is INVALID when it cannot be tracked (truncated header, bad checksum on the way in,
 *   impossible TCP flag combination, TCP segment out of window, ICMP error about no known connection, …);
 * - a new connection is created for the first packet of a flow and stays NEW until a packet is seen in
 *   the reply direction; it enters the table only when its first packet is accepted (nf_conntrack_confirm);
 *   a packet dropped by the filter leaves no entry behind;
 * - TCP follows the kernel's state table, including loose pick-up of mid-stream connections (a bare ACK
 *   creates an ESTABLISHED-tracked flow whose window checks are liberal), window tracking, simultaneous
 *   open, re-opening from TIME_WAIT, RST validation;
 * - ICMP errors (destination unreachable, source quench, redirect, time exceeded, parameter problem)
 *   quoting a tracked connection are RELATED to it;
 * - timeouts run in virtual time supplied by the caller (`nowNs`); the tracker never reads a clock;
 * - the table is bounded as nf_conntrack_max bounds it: a new flow that finds it full evicts the oldest
 *   connection not ASSURED (early_drop), or is dropped and counted (`drop`) when every candidate scanned
 *   is ASSURED, so a flood of new flows costs the flood, not the established connections; expired
 *   entries are reclaimed a few at a time per packet, like gc_worker's bounded scans (never O(n) per packet).
 *
 * Other IP protocols are tracked as the generic tracker does (addresses and protocol, 600 s).
 */
import { icmpChecksumOk } from '../net/icmp.js';
import { tcpChecksumOk } from '../net/tcp.js';
import { udpChecksumOk } from '../net/udp.js';
import { u16, u32 } from '../net/wire.js';
import { CtState } from './names.js';

export type CtHook = 'PREROUTING' | 'OUTPUT';

/** One direction of a flow; for ICMP, `sport` is the echo identifier and `dport` is type << 8 | code. */
export interface Tuple {
  readonly src: number;
  readonly dst: number;
  readonly protocol: number;
  readonly sport: number;
  readonly dport: number;
}

/** TCP conntrack states (enum tcp_conntrack). */
export const TcpState = {
  NONE: 0,
  SYN_SENT: 1,
  SYN_RECV: 2,
  ESTABLISHED: 3,
  FIN_WAIT: 4,
  CLOSE_WAIT: 5,
  LAST_ACK: 6,
  TIME_WAIT: 7,
  CLOSE: 8,
  SYN_SENT2: 9,
} as const;
export const TCP_STATE_NAMES = [
  'NONE',
  'SYN_SENT',
  'SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT',
  'CLOSE_WAIT',
  'LAST_ACK',
  'TIME_WAIT',
  'CLOSE',
  'SYN_SENT2',
] as const;

const sNO = 0;
const sSS = 1;
const sSR = 2;
const sES = 3;
const sFW = 4;
const sCW = 5;
const sLA = 6;
const sTW = 7;
const sCL = 8;
const sS2 = 9;
const sIV = 10;
const sIG = 11;

const SYN_SET = 0;
const SYNACK_SET = 1;
const FIN_SET = 2;
const ACK_SET = 3;
const RST_SET = 4;
const NONE_SET = 5;

/** tcp_conntracks[dir][index][old state] (nf_conntrack_proto_tcp.c). */
const TCP_CONNTRACKS: readonly (readonly (readonly number[])[])[] = [
  [
    /* syn    */ [sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2],
    /* synack */ [sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR],
    /* fin    */ [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    /* ack    */ [sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV],
    /* rst    */ [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    /* none   */ [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
  [
    /* syn    */ [sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2],
    /* synack */ [sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR],
    /* fin    */ [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    /* ack    */ [sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG],
    /* rst    */ [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    /* none   */ [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
];

// ip_ct_tcp_state.flags
const F_WINDOW_SCALE = 0x01;
const F_SACK_PERM = 0x02;
const F_CLOSE_INIT = 0x04;
const F_BE_LIBERAL = 0x08;
const F_DATA_UNACKNOWLEDGED = 0x10;
const F_MAXACK_SET = 0x20;
const F_EXP_CHALLENGE_ACK = 0x40;
const F_SIMULTANEOUS_OPEN = 0x80;

const MAXACKWINCONST = 66000;
const TCP_MAX_WSCALE = 14;
const TCP_MAX_RETRANS = 3;
const S = 1_000_000_000n;

/** Timeouts in nanoseconds (the kernel's defaults). */
export interface ConntrackTimeouts {
  readonly tcp: readonly bigint[];
  readonly tcpRetrans: bigint;
  readonly tcpUnack: bigint;
  readonly udpUnreplied: bigint;
  readonly udpReplied: bigint;
  readonly icmp: bigint;
  readonly generic: bigint;
}

export const DEFAULT_TIMEOUTS: ConntrackTimeouts = {
  // Indexed by TcpState; NONE takes SYN_SENT's (tn->timeouts[0]).
  tcp: [120n, 120n, 60n, 432000n, 120n, 60n, 30n, 120n, 10n, 120n].map((s) => s * S),
  tcpRetrans: 300n * S,
  tcpUnack: 300n * S,
  udpUnreplied: 30n * S,
  udpReplied: 120n * S,
  icmp: 30n * S,
  generic: 600n * S,
};

interface TcpSide {
  tdEnd: number;
  tdMaxend: number;
  tdMaxwin: number;
  tdMaxack: number;
  tdScale: number;
  flags: number;
}

interface TcpTrack {
  state: number;
  seen: [TcpSide, TcpSide];
  lastIndex: number;
  lastDir: number;
  lastSeq: number;
  lastAck: number;
  lastEnd: number;
  lastWin: number;
  lastWscale: number;
  lastFlags: number;
  retrans: number;
}

export interface Connection {
  readonly id: number;
  readonly original: Tuple;
  readonly reply: Tuple;
  seenReply: boolean;
  assured: boolean;
  confirmed: boolean;
  /** Killed by its own packet (a RST before any reply): never enters the table. */
  dead: boolean;
  expiresNs: bigint;
  tcp?: TcpTrack;
  udpStreamNs?: bigint;
}

/** What the tracker says about one packet. */
export interface CtVerdict {
  /** One `CtState` bit: INVALID, NEW, ESTABLISHED or RELATED. */
  readonly state: number;
  /** Direction of the packet in its connection: 0 original, 1 reply. */
  readonly dir: 0 | 1;
  readonly connection?: Connection;
  /** Why the packet is INVALID. */
  readonly reason?: string;
  /** The packet must be dropped before the filter (NF_DROP from nf_conntrack_in): the table is full. */
  readonly drop?: typeof CONNTRACK_TABLE_FULL;
}

/** The IPv4 datagram as the tracker reads it. */
export interface CtPacket {
  readonly src: number;
  readonly dst: number;
  readonly protocol: number;
  /** The IP payload (transport header and data), as long as the datagram says. */
  readonly payload: Uint8Array;
  /** Fragment offset in bytes; after defragmentation only whole datagrams are tracked. */
  readonly fragmentOffset: number;
  readonly moreFragments: boolean;
}

export interface ConntrackOptions {
  readonly timeouts?: ConntrackTimeouts;
  /** net.netfilter.nf_conntrack_tcp_loose (default true). */
  readonly tcpLoose?: boolean;
  /** net.netfilter.nf_conntrack_tcp_be_liberal (default false). */
  readonly tcpBeLiberal?: boolean;
  /** net.netfilter.nf_conntrack_checksum (default true). */
  readonly checksum?: boolean;
  /** net.netfilter.nf_conntrack_max: connections held at most (default DEFAULT_CONNTRACK_MAX). */
  readonly max?: number;
}

/**
 * Default nf_conntrack_max. Linux sizes it from memory (a 64–128 MiB router gets a few thousand); the
 * firewall's compartment is of that order.
 */
export const DEFAULT_CONNTRACK_MAX = 8192;
/** Candidates early_drop looks at before giving up (NF_CT_EVICTION_RANGE). */
const EVICTION_RANGE = 8;
/** Entries the garbage collector looks at per packet (gc_worker scans in bounded batches too). */
const GC_SCAN_PER_PACKET = 4;

/** The drop reason of a packet that needs a new connection when the table is full and none can go. */
export const CONNTRACK_TABLE_FULL = 'CONNTRACK_TABLE_FULL';

/** Table counters, as `conntrack -S` and /proc/sys/net/netfilter/nf_conntrack_count report them. */
export interface ConntrackStats {
  /** Connections in the table (nf_conntrack_count); expired ones not yet reclaimed included. */
  count: number;
  /** nf_conntrack_max. */
  max: number;
  /** Connections evicted to make room for a new one (early_drop). */
  earlyDrop: number;
  /** Packets dropped because the table was full and nothing could be evicted (drop). */
  drop: number;
  /** Expired connections reclaimed by the garbage collector. */
  expired: number;
}

const PORT_PROTOCOLS = new Set([6, 17, 136]);
/** ICMP types whose tuple inverts (request ↔ reply): icmp invmap. */
const ICMP_INVERSE: Readonly<Record<number, number>> = {
  8: 0,
  0: 8,
  13: 14,
  14: 13,
  15: 16,
  16: 15,
  17: 18,
  18: 17,
};
/** Types that may open an ICMP "connection" (nf_conntrack_icmp_packet valid_new). */
const ICMP_VALID_NEW = new Set([8, 13, 15, 17]);
const NR_ICMP_TYPES = 18;
const ICMP_ERRORS = new Set([3, 4, 5, 11, 12]);

function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
function after(a: number, b: number): boolean {
  return before(b, a);
}

function key(t: Tuple): string {
  return `${t.src}|${t.dst}|${t.protocol}|${t.sport}|${t.dport}`;
}

function invert(t: Tuple): Tuple | undefined {
  if (t.protocol === 1) {
    const type = t.dport >>> 8;
    const inv = ICMP_INVERSE[type];
    if (inv === undefined) return undefined;
    return { src: t.dst, dst: t.src, protocol: 1, sport: t.sport, dport: (inv << 8) | (t.dport & 0xff) };
  }
  return { src: t.dst, dst: t.src, protocol: t.protocol, sport: t.dport, dport: t.sport };
}

const INVALID = (reason: string): CtVerdict => ({ state: CtState.INVALID, dir: 0, reason });

export class ConnectionTracker {
  private readonly table = new Map<string, { conn: Connection; dir: 0 | 1 }>();
  /** Confirmed connections by id, oldest first: what the garbage collector walks. */
  private readonly all = new Map<number, Connection>();
  /** Confirmed connections not (yet) ASSURED, oldest first: early_drop's candidates. */
  private readonly unassured = new Map<number, Connection>();
  /** The garbage collector's place in `all` (a Map iterator survives insertions and deletions). */
  private gcCursor: Iterator<Connection> | undefined;
  private readonly timeouts: ConntrackTimeouts;
  private readonly loose: boolean;
  private readonly liberal: boolean;
  private readonly checksum: boolean;
  private readonly max: number;
  private readonly counters = { earlyDrop: 0, drop: 0, expired: 0 };
  private nextId = 1;

  constructor(options: ConntrackOptions = {}) {
    this.timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
    this.loose = options.tcpLoose ?? true;
    this.liberal = options.tcpBeLiberal ?? false;
    this.checksum = options.checksum ?? true;
    this.max = Math.max(1, options.max ?? DEFAULT_CONNTRACK_MAX);
  }

  /** Confirmed connections alive at `nowNs`. */
  connections(nowNs: bigint): Connection[] {
    return [...this.all.values()].filter((c) => c.expiresNs > nowNs);
  }

  stats(): ConntrackStats {
    return { count: this.all.size, max: this.max, ...this.counters };
  }

  /**
   * Reclaims expired connections, looking at `budget` entries at most from where the last call stopped
   * (gc_worker: a bounded scan each run, so the cost per packet stays constant whatever the table holds).
   */
  gc(nowNs: bigint, budget: number): number {
    let reclaimed = 0;
    for (let i = 0; i < budget && this.all.size > 0; i++) {
      let next = this.gcCursor?.next();
      if (!next || next.done) {
        this.gcCursor = this.all.values();
        next = this.gcCursor.next();
        if (next.done) break;
      }
      const c = next.value;
      if (c.expiresNs <= nowNs) {
        this.remove(c);
        this.counters.expired++;
        reclaimed++;
      }
    }
    return reclaimed;
  }

  /** nf_conntrack_in: classify the packet and update its connection. */
  track(p: CtPacket, hook: CtHook, nowNs: bigint): CtVerdict {
    this.gc(nowNs, GC_SCAN_PER_PACKET);
    const v = this.classify(p, hook, nowNs);
    if (v.connection?.assured) this.unassured.delete(v.connection.id);
    return v;
  }

  /**
   * Room for one more connection (__nf_conntrack_alloc: when nf_conntrack_count reaches
   * nf_conntrack_max, early_drop evicts a connection that is not ASSURED). False: the packet is dropped.
   */
  private makeRoom(nowNs: bigint): boolean {
    if (this.all.size < this.max) return true;
    let scanned = 0;
    for (const c of this.unassured.values()) {
      if (scanned++ >= EVICTION_RANGE) break;
      this.unassured.delete(c.id);
      if (c.assured) continue;
      this.remove(c);
      if (c.expiresNs <= nowNs) this.counters.expired++;
      else this.counters.earlyDrop++;
      return true;
    }
    // Nothing unassured to evict: an expired entry the collector has not reached yet still may go.
    if (this.gc(nowNs, EVICTION_RANGE) > 0) return true;
    this.counters.drop++;
    return false;
  }

  private classify(p: CtPacket, hook: CtHook, nowNs: bigint): CtVerdict {
    const verifySum = this.checksum && hook === 'PREROUTING';
    if (p.protocol === 1) {
      const icmp = this.icmpError(p, verifySum, nowNs);
      if (icmp) return icmp;
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      const tuple = this.tupleOf(p);
      if (!tuple) return INVALID('cannot read the transport header');
      let found = this.lookup(tuple, nowNs);
      if (!found) {
        const reply = invert(tuple);
        if (!reply) return INVALID(`ICMP type ${tuple.dport >>> 8} cannot start a connection`);
        if (!this.makeRoom(nowNs))
          return { state: CtState.INVALID, dir: 0, reason: 'table full', drop: CONNTRACK_TABLE_FULL };
        const conn: Connection = {
          id: this.nextId++,
          original: tuple,
          reply,
          seenReply: false,
          assured: false,
          confirmed: false,
          dead: false,
          expiresNs: nowNs,
        };
        found = { conn, dir: 0 };
      }
      const { conn, dir } = found;
      const state = dir === 1 ? CtState.ESTABLISHED : conn.seenReply ? CtState.ESTABLISHED : CtState.NEW;
      const res = this.l4(conn, dir, p, verifySum, nowNs);
      if (res === 'repeat') {
        this.remove(conn);
        continue;
      }
      if (typeof res === 'string') return INVALID(res);
      if (dir === 1 && !conn.seenReply) conn.seenReply = true;
      if (res.killed) {
        conn.dead = true;
        this.remove(conn);
      }
      return { state, dir, connection: conn };
    }
    return INVALID('connection could not be reopened');
  }

  /**
   * nf_conntrack_confirm: a packet that opened a connection was accepted by the filter, so the
   * connection enters the table. Packets of connections already in the table need no confirmation.
   */
  confirm(v: CtVerdict): void {
    const c = v.connection;
    if (!c || c.confirmed || c.dead) return;
    c.confirmed = true;
    this.table.set(key(c.original), { conn: c, dir: 0 });
    this.table.set(key(c.reply), { conn: c, dir: 1 });
    this.all.set(c.id, c);
    if (!c.assured) this.unassured.set(c.id, c);
  }

  private remove(c: Connection): void {
    if (!c.confirmed) return;
    // Only the entries that are this connection's (a tuple taken over since stays with its new owner).
    for (const k of [key(c.original), key(c.reply)]) if (this.table.get(k)?.conn === c) this.table.delete(k);
    this.all.delete(c.id);
    this.unassured.delete(c.id);
  }

  private lookup(t: Tuple, nowNs: bigint): { conn: Connection; dir: 0 | 1 } | undefined {
    const hit = this.table.get(key(t));
    if (!hit) return undefined;
    if (hit.conn.expiresNs <= nowNs) {
      this.remove(hit.conn);
      return undefined;
    }
    return hit;
  }

  /** nf_ct_get_tuple: ports for TCP/UDP/UDP-Lite, type/code/id for ICMP, nothing else otherwise. */
  private tupleOf(p: CtPacket): Tuple | undefined {
    const l4 = p.payload;
    if (PORT_PROTOCOLS.has(p.protocol)) {
      if (l4.length < 4) return undefined;
      return { src: p.src, dst: p.dst, protocol: p.protocol, sport: u16(l4, 0), dport: u16(l4, 2) };
    }
    if (p.protocol === 1) {
      if (l4.length < 8) return undefined;
      return {
        src: p.src,
        dst: p.dst,
        protocol: 1,
        sport: u16(l4, 4),
        dport: ((l4[0] ?? 0) << 8) | (l4[1] ?? 0),
      };
    }
    return { src: p.src, dst: p.dst, protocol: p.protocol, sport: 0, dport: 0 };
  }

  /** nf_conntrack_icmpv4_error: undefined when the message is not an error and is tracked normally. */
  private icmpError(p: CtPacket, verifySum: boolean, nowNs: bigint): CtVerdict | undefined {
    const l4 = p.payload;
    if (l4.length < 8) return INVALID('short ICMP packet');
    if (verifySum && !icmpChecksumOk(l4)) return INVALID('bad ICMP checksum');
    const type = l4[0] ?? 0;
    if (type > NR_ICMP_TYPES) return INVALID(`invalid ICMP type ${type}`);
    if (!ICMP_ERRORS.has(type)) return undefined;
    // The quoted datagram: its header, then at least the ports.
    const inner = l4.subarray(8);
    if (inner.length < 20) return INVALID('ICMP error quotes no IP header');
    const ihl = ((inner[0] ?? 0) & 15) * 4;
    if (u16(inner, 6) & 0x1fff) return INVALID('ICMP error quotes a fragment');
    if (ihl > inner.length) return INVALID('ICMP error quotes a bogus IP header');
    const quoted = this.tupleOf({
      src: u32(inner, 12),
      dst: u32(inner, 16),
      protocol: inner[9] ?? 0,
      payload: inner.subarray(ihl),
      fragmentOffset: 0,
      moreFragments: false,
    });
    if (!quoted) return INVALID('ICMP error quotes a truncated header');
    const inv = invert(quoted);
    if (!inv) return INVALID('ICMP error quotes an untrackable ICMP message');
    const found = this.lookup(inv, nowNs);
    if (!found) return INVALID('ICMP error about no known connection');
    const dirTuple = found.dir === 0 ? found.conn.original : found.conn.reply;
    if (dirTuple.dst !== p.dst) return INVALID('ICMP error sent to another host than the quoted source');
    return { state: CtState.RELATED, dir: found.dir, connection: found.conn };
  }

  /** The protocol tracker: a string is a reason for INVALID. */
  private l4(
    c: Connection,
    dir: 0 | 1,
    p: CtPacket,
    verifySum: boolean,
    nowNs: bigint,
  ): { killed: boolean } | string | 'repeat' {
    switch (p.protocol) {
      case 6:
        return this.tcp(c, dir, p, verifySum, nowNs);
      case 17:
      case 136: {
        const l4 = p.payload;
        const ulen = u16(l4, 4);
        if (l4.length < 8) return 'short UDP packet';
        if (ulen > l4.length || ulen < 8) return 'truncated or malformed UDP packet';
        if (
          p.protocol === 17 &&
          verifySum &&
          u16(l4, 6) !== 0 &&
          !udpChecksumOk(l4, { version: 4, src: p.src, dst: p.dst })
        )
          return 'bad UDP checksum';
        if (!c.confirmed) c.udpStreamNs = nowNs + 2n * S;
        if (c.seenReply) {
          let extra = this.timeouts.udpUnreplied;
          if (nowNs > (c.udpStreamNs ?? 0n)) {
            extra = this.timeouts.udpReplied;
            c.assured = true;
          }
          c.expiresNs = nowNs + extra;
        } else {
          c.expiresNs = nowNs + this.timeouts.udpUnreplied;
        }
        return { killed: false };
      }
      case 1:
        if (!ICMP_VALID_NEW.has(c.original.dport >>> 8))
          return `ICMP type ${c.original.dport >>> 8} cannot open a flow`;
        c.expiresNs = nowNs + this.timeouts.icmp;
        return { killed: false };
      default:
        c.expiresNs = nowNs + this.timeouts.generic;
        return { killed: false };
    }
  }

  // TCP -----------------------------------------------------------------------------------------------

  private tcp(
    c: Connection,
    dir: 0 | 1,
    p: CtPacket,
    verifySum: boolean,
    nowNs: bigint,
  ): { killed: boolean } | string | 'repeat' {
    const th = p.payload;
    if (th.length < 20) return 'truncated TCP header';
    // tcp_error
    const doff = ((th[12] ?? 0) >>> 4) * 4;
    if (doff < 20 || th.length < doff) return 'truncated packet';
    if (verifySum && !tcpChecksumOk(th, { version: 4, src: p.src, dst: p.dst })) return 'bad checksum';
    const flags = th[13] ?? 0;
    if (!validFlags(flags & ~(0x40 | 0x80 | 0x08))) return 'invalid tcp flag combination';
    const seg = segment(th);
    if (!c.confirmed && !this.tcpNew(c, seg)) return 'invalid new';
    const t = c.tcp!;
    let oldState = t.state;
    const index = seg.index;
    let newState = TCP_CONNTRACKS[dir]![index]![oldState]!;
    let skipWindow = false;
    // A SYN that would reopen a closed or aborted connection starts a fresh one; otherwise a SYN
    // into TIME_WAIT/CLOSE is handled like the ignored packets.
    if (newState === sSS && oldState >= sTW) {
      if (
        (t.seen[dir].flags | t.seen[1 - dir]!.flags) & F_CLOSE_INIT ||
        (t.lastDir === dir && t.lastIndex === RST_SET)
      )
        return 'repeat';
      newState = sIG;
    }
    switch (newState) {
      case sIG: {
        if (index === SYNACK_SET && t.lastIndex === SYN_SET && t.lastDir !== dir && seg.ack === t.lastEnd) {
          // The SYN/ACK answers a SYN we ignored: both ends are in sync, we get in sync from it.
          oldState = sSS;
          newState = sSR;
          const ld = t.seen[t.lastDir as 0 | 1];
          ld.tdEnd = t.lastEnd;
          ld.tdMaxend = t.lastEnd;
          ld.tdMaxwin = t.lastWin === 0 ? 1 : t.lastWin;
          ld.tdScale = t.lastWscale;
          t.lastFlags &= ~F_EXP_CHALLENGE_ACK;
          ld.flags = t.lastFlags;
          resetSide(t.seen[dir]);
          break;
        }
        t.lastIndex = index;
        t.lastDir = dir;
        t.lastSeq = seg.seq;
        t.lastEnd = seg.end;
        t.lastWin = seg.win;
        if (index === SYN_SET && dir === 0) {
          const seen = newSide();
          tcpOptions(th, seen);
          t.lastFlags = 0;
          t.lastWscale = 0;
          if (seen.flags & F_WINDOW_SCALE) {
            t.lastFlags |= F_WINDOW_SCALE;
            t.lastWscale = seen.tdScale;
          }
          if (seen.flags & F_SACK_PERM) t.lastFlags |= F_SACK_PERM;
          if (oldState === sLA) t.lastFlags |= F_EXP_CHALLENGE_ACK;
        }
        if (oldState === sSS && index === ACK_SET && dir === 1) t.lastAck = seg.ack;
        // Ignored: accepted without a state change.
        return { killed: false };
      }
      case sIV:
        return `packet (index ${index}) in dir ${dir} invalid, state ${TCP_STATE_NAMES[oldState]}`;
      case sTW:
        if (
          oldState === sLA &&
          index === ACK_SET &&
          t.lastDir !== dir &&
          t.lastIndex === SYN_SET &&
          t.lastFlags & F_EXP_CHALLENGE_ACK
        ) {
          t.lastFlags &= ~F_EXP_CHALLENGE_ACK;
          return { killed: false };
        }
        break;
      case sS2:
        t.lastFlags |= F_SIMULTANEOUS_OPEN;
        break;
      case sSR:
        if (dir === 1 && index === ACK_SET && t.lastFlags & F_SIMULTANEOUS_OPEN) newState = sES;
        break;
      case sCL: {
        if (index !== RST_SET) break;
        if (canEarlyDrop(oldState)) {
          skipWindow = true;
          break;
        }
        const other = t.seen[1 - dir]!;
        if (other.flags & F_MAXACK_SET && t.lastIndex !== SYN_SET) {
          const seq = seg.seq;
          const established = oldState === sES && c.assured;
          if (seq === 0 && !established) break;
          if (before(seq, other.tdMaxack)) return 'invalid rst';
          if (!established || seq === other.tdMaxack) break;
          if (t.lastIndex === ACK_SET && t.lastDir === dir && seq === t.lastEnd) break;
          newState = oldState;
        }
        if (
          ((c.seenReply && t.lastIndex === SYN_SET) || (!c.assured && t.lastIndex === ACK_SET)) &&
          seg.ack === t.lastEnd
        ) {
          skipWindow = true;
          break;
        }
        if (oldState === sSS && t.lastIndex === ACK_SET && t.lastDir === 1 && seg.seq === t.lastAck)
          skipWindow = true;
        break;
      }
      default:
        break;
    }
    if (!skipWindow) {
      const res = this.inWindow(t, dir, index, seg, th);
      if (res === 'ignore') return { killed: false };
      if (res === 'invalid') {
        if (c.assured && (index === RST_SET || index === FIN_SET)) {
          if (!(t.lastDir !== dir && (t.lastIndex === FIN_SET || t.lastIndex === RST_SET))) {
            t.lastIndex = index;
            t.lastDir = dir;
          } else if (c.expiresNs - nowNs >= 120n * S && c.expiresNs - nowNs > this.timeouts.tcpUnack) {
            c.expiresNs = nowNs + this.timeouts.tcpUnack;
          }
        }
        return 'out of window';
      }
    }
    // in_window:
    t.lastIndex = index;
    t.lastDir = dir;
    t.state = newState;
    if (oldState !== newState && newState === sFW) t.seen[dir].flags |= F_CLOSE_INIT;
    const to = this.timeouts;
    const stateTimeout = to.tcp[newState] ?? to.tcp[0]!;
    let timeout: bigint;
    if (t.retrans >= TCP_MAX_RETRANS && stateTimeout > to.tcpRetrans) timeout = to.tcpRetrans;
    else if (index === RST_SET) timeout = to.tcp[sCL]!;
    else if ((t.seen[0].flags | t.seen[1].flags) & F_DATA_UNACKNOWLEDGED && stateTimeout > to.tcpUnack)
      timeout = to.tcpUnack;
    else if (t.lastWin === 0 && stateTimeout > to.tcpRetrans) timeout = to.tcpRetrans;
    else timeout = stateTimeout;
    if (!c.seenReply) {
      // Only reply so far is a RST: the connection goes at once.
      if (seg.rst) return { killed: true };
      // A retransmitted SYN does not extend the timeout.
      if (index === SYN_SET && oldState === sSS) return { killed: false };
      if (newState === sES && timeout > to.tcpUnack) timeout = to.tcpUnack;
    } else if (!c.assured && (oldState === sSR || oldState === sES) && newState === sES) {
      c.assured = true;
    }
    c.expiresNs = nowNs + timeout;
    return { killed: false };
  }

  /** tcp_new: set up tracking for the first packet; false when it cannot open a connection. */
  private tcpNew(c: Connection, seg: Segment): boolean {
    const newState = TCP_CONNTRACKS[0]![seg.index]![sNO]!;
    if (newState >= sIV) return false;
    const t: TcpTrack = {
      state: sNO,
      seen: [newSide(), newSide()],
      lastIndex: NONE_SET,
      lastDir: 0,
      lastSeq: 0,
      lastAck: 0,
      lastEnd: 0,
      lastWin: 0,
      lastWscale: 0,
      lastFlags: 0,
      retrans: 0,
    };
    const s0 = t.seen[0];
    s0.tdEnd = seg.end;
    s0.tdMaxwin = seg.win === 0 ? 1 : seg.win;
    if (newState === sSS) {
      s0.tdMaxend = s0.tdEnd;
      tcpOptions(seg.th, s0);
    } else {
      if (!this.loose) return false;
      // Mid-stream pick-up: history is lost; assume SACK and check windows liberally.
      s0.tdMaxend = (s0.tdEnd + s0.tdMaxwin) >>> 0;
      s0.flags = F_SACK_PERM | F_BE_LIBERAL;
      t.seen[1].flags = F_SACK_PERM | F_BE_LIBERAL;
    }
    c.tcp = t;
    return true;
  }

  /** tcp_in_window. */
  private inWindow(
    t: TcpTrack,
    dir: 0 | 1,
    index: number,
    seg: Segment,
    th: Uint8Array,
  ): 'accept' | 'ignore' | 'invalid' {
    const sender = t.seen[dir];
    const receiver = t.seen[1 - dir]!;
    const liberal = (verdict: 'ignore' | 'invalid') =>
      sender.flags & F_BE_LIBERAL || this.liberal ? 'accept' : verdict;
    let seq = seg.seq;
    let ack = seg.ack;
    let sack = ack;
    let win = seg.win;
    let end = seg.end;
    if (receiver.flags & F_SACK_PERM) sack = tcpSack(th, sack);
    if (sender.tdMaxwin === 0) {
      if (seg.syn) {
        initSender(sender, receiver, th, end, win, dir);
        if (!seg.ackFlag) return 'accept';
      } else {
        sender.tdEnd = end;
        const swin = (win << sender.tdScale) >>> 0;
        sender.tdMaxwin = swin === 0 ? 1 : swin;
        sender.tdMaxend = (end + sender.tdMaxwin) >>> 0;
        if (receiver.tdMaxwin === 0) {
          receiver.tdEnd = sack;
          receiver.tdMaxend = sack;
        } else if (sack === (receiver.tdEnd + 1) >>> 0) {
          receiver.tdEnd = (receiver.tdEnd + 1) >>> 0;
        }
      }
    } else if (seg.syn && after(end, sender.tdEnd) && (t.state === sSS || t.state === sSR)) {
      initSender(sender, receiver, th, end, win, dir);
      if (dir === 1 && !seg.ackFlag) return 'accept';
    }
    if (!seg.ackFlag) {
      ack = receiver.tdEnd;
      sack = ack;
    } else if (seg.rst && ack === 0) {
      ack = receiver.tdEnd;
      sack = ack;
    }
    if (seg.rst && seq === 0 && t.state === sSS) {
      seq = sender.tdEnd;
      end = sender.tdEnd;
    }
    const maxAckWindow = sender.tdMaxwin > MAXACKWINCONST ? sender.tdMaxwin : MAXACKWINCONST;
    if (!before(seq, (sender.tdMaxend + 1) >>> 0)) {
      const overshot = (end - sender.tdMaxend + 1) >>> 0;
      const ackOk = after(sack, (receiver.tdEnd - maxAckWindow - 1) >>> 0);
      const inRecvWin = receiver.tdMaxwin !== 0 && after(end, (sender.tdEnd - receiver.tdMaxwin - 1) >>> 0);
      if (inRecvWin && ackOk && overshot <= receiver.tdMaxwin && before(sack, (receiver.tdEnd + 1) >>> 0)) {
        sender.tdEnd = end;
        sender.flags |= F_DATA_UNACKNOWLEDGED;
        return liberal('ignore');
      }
      return liberal('invalid');
    }
    if (!before(sack, (receiver.tdEnd + 1) >>> 0)) return liberal('invalid');
    const inRecvWin = receiver.tdMaxwin === 0 || after(end, (sender.tdEnd - receiver.tdMaxwin - 1) >>> 0);
    if (!inRecvWin) return liberal('ignore');
    if (!after(sack, (receiver.tdEnd - maxAckWindow - 1) >>> 0)) return liberal('ignore');
    if (!seg.syn) win = (win << sender.tdScale) >>> 0;
    const swin = (win + (sack - ack)) >>> 0;
    if (sender.tdMaxwin < swin) sender.tdMaxwin = swin;
    if (after(end, sender.tdEnd)) {
      sender.tdEnd = end;
      sender.flags |= F_DATA_UNACKNOWLEDGED;
    }
    if (seg.ackFlag) {
      if (!(sender.flags & F_MAXACK_SET)) {
        sender.tdMaxack = ack;
        sender.flags |= F_MAXACK_SET;
      } else if (after(ack, sender.tdMaxack)) {
        sender.tdMaxack = ack;
      }
    }
    if (receiver.tdMaxwin !== 0 && after(end, sender.tdMaxend))
      receiver.tdMaxwin = (receiver.tdMaxwin + (end - sender.tdMaxend)) >>> 0;
    if (after((sack + win) >>> 0, (receiver.tdMaxend - 1) >>> 0)) {
      receiver.tdMaxend = (sack + win) >>> 0;
      if (win === 0) receiver.tdMaxend = (receiver.tdMaxend + 1) >>> 0;
    }
    if (ack === receiver.tdEnd) receiver.flags &= ~F_DATA_UNACKNOWLEDGED;
    if (index === ACK_SET) {
      if (
        t.lastDir === dir &&
        t.lastSeq === seq &&
        t.lastAck === ack &&
        t.lastEnd === end &&
        t.lastWin === seg.win
      ) {
        t.retrans++;
      } else {
        t.lastDir = dir;
        t.lastSeq = seq;
        t.lastAck = ack;
        t.lastEnd = end;
        t.lastWin = seg.win;
        t.retrans = 0;
      }
    }
    return 'accept';
  }
}

interface Segment {
  readonly th: Uint8Array;
  readonly seq: number;
  readonly ack: number;
  readonly win: number;
  /** seq + data length + SYN + FIN (segment_seq_plus_len). */
  readonly end: number;
  readonly index: number;
  readonly syn: boolean;
  readonly ackFlag: boolean;
  readonly rst: boolean;
}

function segment(th: Uint8Array): Segment {
  const flags = th[13] ?? 0;
  const syn = (flags & 0x02) !== 0;
  const fin = (flags & 0x01) !== 0;
  const rst = (flags & 0x04) !== 0;
  const ackFlag = (flags & 0x10) !== 0;
  const seq = u32(th, 4);
  const doff = ((th[12] ?? 0) >>> 4) * 4;
  return {
    th,
    seq,
    ack: u32(th, 8),
    win: u16(th, 14),
    end: (seq + (th.length - doff) + (syn ? 1 : 0) + (fin ? 1 : 0)) >>> 0,
    index: rst
      ? RST_SET
      : syn
        ? ackFlag
          ? SYNACK_SET
          : SYN_SET
        : fin
          ? FIN_SET
          : ackFlag
            ? ACK_SET
            : NONE_SET,
    syn,
    ackFlag,
    rst,
  };
}

/** tcp_valid_flags over FIN|SYN|RST|ACK|URG (PSH, ECE and CWR are always valid). */
function validFlags(f: number): boolean {
  switch (f) {
    case 0x02: // SYN
    case 0x22: // SYN|URG
    case 0x12: // SYN|ACK
    case 0x04: // RST
    case 0x14: // RST|ACK
    case 0x11: // FIN|ACK
    case 0x31: // FIN|ACK|URG
    case 0x10: // ACK
    case 0x30: // ACK|URG
      return true;
    default:
      return false;
  }
}

function newSide(): TcpSide {
  return { tdEnd: 0, tdMaxend: 0, tdMaxwin: 0, tdMaxack: 0, tdScale: 0, flags: 0 };
}

function resetSide(s: TcpSide): void {
  s.tdEnd = 0;
  s.tdMaxend = 0;
  s.tdMaxwin = 0;
  s.tdMaxack = 0;
  s.tdScale = 0;
  s.flags &= F_BE_LIBERAL;
}

function canEarlyDrop(state: number): boolean {
  return state === sFW || state === sLA || state === sTW || state === sCL || state === sCW;
}

function initSender(
  sender: TcpSide,
  receiver: TcpSide,
  th: Uint8Array,
  end: number,
  win: number,
  dir: 0 | 1,
): void {
  sender.tdEnd = end;
  sender.tdMaxend = end;
  sender.tdMaxwin = win === 0 ? 1 : win;
  tcpOptions(th, sender);
  if (dir === 1 && !(sender.flags & F_WINDOW_SCALE && receiver.flags & F_WINDOW_SCALE)) {
    sender.tdScale = 0;
    receiver.tdScale = 0;
  }
}

/** tcp_options: window scale and SACK-permitted, parsed as leniently as the kernel does. */
function tcpOptions(th: Uint8Array, side: TcpSide): void {
  const doff = ((th[12] ?? 0) >>> 4) * 4;
  let length = doff - 20;
  if (length <= 0 || th.length < doff) return;
  side.tdScale = 0;
  side.flags &= F_BE_LIBERAL;
  let at = 20;
  while (length > 0) {
    const opcode = th[at++] ?? 0;
    if (opcode === 0) return;
    if (opcode === 1) {
      length--;
      continue;
    }
    if (length < 2) return;
    const opsize = th[at++] ?? 0;
    if (opsize < 2 || opsize > length) return;
    if (opcode === 4 && opsize === 2) side.flags |= F_SACK_PERM;
    else if (opcode === 3 && opsize === 3) {
      side.tdScale = Math.min(th[at] ?? 0, TCP_MAX_WSCALE);
      side.flags |= F_WINDOW_SCALE;
    }
    at += opsize - 2;
    length -= opsize;
  }
}

/** tcp_sack: the highest SACK right edge after `sack`. */
function tcpSack(th: Uint8Array, sack: number): number {
  const doff = ((th[12] ?? 0) >>> 4) * 4;
  let length = doff - 20;
  if (length <= 0 || th.length < doff) return sack;
  if (length === 12 && u32(th, 20) === 0x0101080a) return sack;
  let at = 20;
  while (length > 0) {
    const opcode = th[at++] ?? 0;
    if (opcode === 0) return sack;
    if (opcode === 1) {
      length--;
      continue;
    }
    if (length < 2) return sack;
    const opsize = th[at++] ?? 0;
    if (opsize < 2 || opsize > length) return sack;
    if (opcode === 5 && opsize >= 10 && (opsize - 2) % 8 === 0) {
      for (let i = 0; i < opsize - 2; i += 8) {
        const edge = u32(th, at + i + 4);
        if (after(edge, sack)) sack = edge;
      }
      return sack;
    }
    at += opsize - 2;
    length -= opsize;
  }
  return sack;
}
