/**
 * The TCP layer of the host (RFC 9293): demultiplexes segments to connections and listeners, answers
 * segments for which there is no connection with RST (§3.10.7.1), opens connections actively and
 * passively (§3.10.1, §3.10.7.2), chooses initial sequence numbers (§3.4.1, RFC 6528) and ephemeral
 * ports (RFC 6056) from the stack's seeded source, and routes ICMP errors to the connection they concern.
 */
import { assert } from '../../../common/errors.js';
import { IpProtocol } from '../ipv4.js';
import { TcpFlags, type TcpSegment, decodeTcp, encodeTcp, tcpChecksumOk } from '../tcp.js';
import { PacketError, u16, u32 } from '../wire.js';
import type { StackContext } from './context.js';
import type { IcmpErrorReport } from './icmp.js';
import type { Ipv4Input, Ipv4Layer } from './ipv4.js';
import { allocateEphemeralPort } from './ports.js';
import {
  type OutSegment,
  type TcpConfig,
  TcpConnection,
  type TcpHost,
  newTcpCounters,
  type TcpSocket,
  type TcpSocketHandlers,
  type TcpState,
} from './tcp-connection.js';

const { FIN, SYN, RST, ACK } = TcpFlags;

export interface TcpOptions {
  /** MSS to announce; default MTU − 40. */
  readonly mss?: number;
  /** Send buffer in bytes (default 256 KiB). */
  readonly sendBuffer?: number;
  /** Receive buffer in bytes, the most we advertise (default 256 KiB; window scaling makes it usable). */
  readonly receiveBuffer?: number;
  /** Offer the RFC 7323 window scale option (default true). */
  readonly windowScaling?: boolean;
  /** Disable Nagle's algorithm (default false). */
  readonly noDelay?: boolean;
  /** Delayed-ACK timeout; 0 acknowledges every segment at once (default 40 ms, RFC 9293 §3.8.6.3 allows up to 500 ms). */
  readonly delayedAckNs?: number;
  /** TIME-WAIT duration (2·MSL, RFC 9293 §3.4.2); shortened for simulation (default 1 s instead of 4 min). */
  readonly timeWaitNs?: number;
  /** RFC 6298 parameters (defaults 1 s initial, 1 s minimum, 60 s maximum, 1 ms granularity). */
  readonly initialRtoNs?: number;
  readonly minRtoNs?: number;
  readonly maxRtoNs?: number;
  readonly clockGranularityNs?: number;
  /** Data retransmissions before the connection is dropped (default 12). */
  readonly maxRetransmits?: number;
  /** SYN retransmissions before a connection attempt fails (default 6, as Linux tcp_syn_retries). */
  readonly maxSynRetransmits?: number;
  /** Unanswered zero-window probes before the connection is dropped (default 0: probe for ever). */
  readonly maxPersistProbes?: number;
  /** Listen backlog when `listen` is given none (default 128). */
  readonly backlog?: number;
  /**
   * Initial sequence numbers; default RFC 6528: a 4 µs clock plus a keyed hash of the connection's
   * addresses and ports, keyed from the stack's seed (deterministic, not cryptographic).
   */
  readonly isn?: (tuple: ConnectionTuple, nowNs: number) => number;
}

export interface ConnectionTuple {
  readonly localAddress: number;
  readonly localPort: number;
  readonly remoteAddress: number;
  readonly remotePort: number;
}

export interface TcpListenerHandlers {
  /** A connection completed its handshake; without this handler it waits for `accept()`. */
  onAccept?(socket: TcpSocket): void;
}

export class TcpListener {
  handlers: TcpListenerHandlers;
  /** @internal Connections still in SYN-RECEIVED. */
  readonly embryonic = new Set<TcpConnection>();
  private readonly ready: TcpConnection[] = [];
  private open = true;

  constructor(
    private readonly layer: TcpLayer,
    readonly port: number,
    readonly backlog: number,
    handlers: TcpListenerHandlers,
  ) {
    this.handlers = handlers;
  }

  get closed(): boolean {
    return !this.open;
  }

  /** Connections established and waiting to be accepted. */
  get pending(): number {
    return this.ready.length;
  }

  /** @internal Whether another SYN may be taken (RFC 9293 leaves the queue limit to the implementation). */
  get full(): boolean {
    return this.embryonic.size + this.ready.length >= this.backlog;
  }

  accept(): TcpSocket | undefined {
    return this.ready.shift();
  }

  /** Stops listening; connections not yet accepted are reset. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.layer.unlisten(this);
    for (const c of [...this.embryonic, ...this.ready.splice(0)]) c.abort();
    this.embryonic.clear();
  }

  /** @internal */
  established(conn: TcpConnection, ctx: StackContext): void {
    this.embryonic.delete(conn);
    const onAccept = this.handlers.onAccept;
    if (onAccept !== undefined) ctx.defer(() => onAccept.call(this.handlers, conn));
    else this.ready.push(conn);
  }
}

export type ListenResult =
  | { readonly ok: true; readonly listener: TcpListener }
  | { readonly ok: false; readonly code: 'address-in-use'; readonly detail: string };

export type ConnectResult =
  | { readonly ok: true; readonly socket: TcpSocket }
  | { readonly ok: false; readonly code: 'no-route' | 'address-in-use'; readonly detail: string };

export interface ConnectOptions {
  readonly localPort?: number;
  readonly handlers?: TcpSocketHandlers;
}

/** One TCP state change, for traces and tests. */
export interface TcpStateChange {
  readonly tuple: ConnectionTuple;
  readonly from: TcpState;
  readonly to: TcpState;
  readonly atNs: number;
}

export class TcpLayer implements TcpHost {
  readonly counters = newTcpCounters();
  readonly config: TcpConfig;
  /** Called on every state change of every connection (for traces). */
  onStateChange: ((change: TcpStateChange) => void) | undefined = undefined;
  private readonly connections = new Map<string, TcpConnection>();
  private readonly listeners = new Map<number, TcpListener>();
  private readonly isn: (tuple: ConnectionTuple, nowNs: number) => number;
  private readonly backlog: number;

  constructor(
    readonly ctx: StackContext,
    private readonly ip: Ipv4Layer,
    mtu: number,
    options: TcpOptions = {},
  ) {
    this.config = {
      mss: options.mss ?? mtu - 40,
      sendBuffer: options.sendBuffer ?? 256 * 1024,
      receiveBuffer: options.receiveBuffer ?? 256 * 1024,
      windowScaling: options.windowScaling ?? true,
      noDelay: options.noDelay ?? false,
      delayedAckNs: options.delayedAckNs ?? 40e6,
      timeWaitNs: options.timeWaitNs ?? 1e9,
      initialRtoNs: options.initialRtoNs ?? 1e9,
      minRtoNs: options.minRtoNs ?? 1e9,
      maxRtoNs: options.maxRtoNs ?? 60e9,
      clockGranularityNs: options.clockGranularityNs ?? 1e6,
      maxRetransmits: options.maxRetransmits ?? 12,
      maxSynRetransmits: options.maxSynRetransmits ?? 6,
      maxPersistProbes: options.maxPersistProbes ?? 0,
    };
    assert(
      this.config.mss >= 64 && this.config.mss <= mtu - 40,
      `TCP MSS ${this.config.mss} does not fit MTU ${mtu}`,
    );
    assert(
      this.config.receiveBuffer >= 1 && this.config.receiveBuffer <= 0x3fffffff,
      'bad TCP receive buffer',
    );
    this.backlog = options.backlog ?? 128;
    this.isn = options.isn ?? rfc6528Isn(ctx);
  }

  /** Passive OPEN (RFC 9293 §3.10.1). */
  listen(port: number, handlers: TcpListenerHandlers = {}, backlog = this.backlog): ListenResult {
    assert(Number.isInteger(port) && port > 0 && port < 65536, `bad TCP port ${port}`);
    assert(backlog >= 1, 'backlog must be at least 1');
    if (this.listeners.has(port))
      return { ok: false, code: 'address-in-use', detail: `TCP port ${port} is already listening` };
    const listener = new TcpListener(this, port, backlog, handlers);
    this.listeners.set(port, listener);
    return { ok: true, listener };
  }

  /** Active OPEN (RFC 9293 §3.10.1): sends SYN; the socket reports `onConnect` or `onClose`. */
  connect(address: number, port: number, options: ConnectOptions = {}): ConnectResult {
    return this.ctx.run((): ConnectResult => {
      assert(Number.isInteger(port) && port > 0 && port < 65536, `bad TCP port ${port}`);
      const remote = address >>> 0;
      if (this.ip.route(remote) === undefined || this.ip.isBroadcast(remote))
        return {
          ok: false,
          code: 'no-route',
          detail: `no route to host ${remote >>> 24}.${(remote >>> 16) & 255}.${(remote >>> 8) & 255}.${remote & 255}`,
        };
      const taken = (p: number) => this.connections.has(key(remote, port, p));
      let localPort = options.localPort ?? 0;
      if (localPort === 0)
        localPort = allocateEphemeralPort(this.ctx.random, (p) => taken(p) || this.listeners.has(p));
      else if (taken(localPort))
        return {
          ok: false,
          code: 'address-in-use',
          detail: `connection to that peer from port ${localPort} exists`,
        };
      const tuple = { localAddress: this.ip.address, localPort, remoteAddress: remote, remotePort: port };
      const conn = new TcpConnection(
        this,
        this.ip.address,
        localPort,
        remote,
        port,
        this.isn(tuple, this.ctx.timers.now),
        false,
      );
      if (options.handlers !== undefined) conn.handlers = options.handlers;
      this.connections.set(key(remote, port, localPort), conn);
      this.ctx.count(this.counters, 'activeOpens');
      conn.open();
      return { ok: true, socket: conn };
    });
  }

  /** Connections in the table (TIME-WAIT included). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Snapshot of every connection's tuple and state. */
  connectionStates(): (ConnectionTuple & { state: TcpState })[] {
    return [...this.connections.values()].map((c) => ({
      localAddress: c.localAddress,
      localPort: c.localPort,
      remoteAddress: c.remoteAddress,
      remotePort: c.remotePort,
      state: c.state,
    }));
  }

  input(input: Ipv4Input): void {
    this.ctx.count(this.counters, 'segmentsIn');
    const p = input.packet;
    if (input.broadcast) {
      // RFC 1122 §4.2.3.10: TCP does not take broadcast segments.
      this.ctx.count(this.counters, 'broadcastDropped');
      return;
    }
    let seg: TcpSegment;
    try {
      seg = decodeTcp(p.payload);
    } catch (e) {
      if (!(e instanceof PacketError)) throw e;
      this.ctx.count(this.counters, 'malformed');
      return;
    }
    if (!tcpChecksumOk(p.payload, { version: 4, src: p.src, dst: p.dst })) {
      this.ctx.count(this.counters, 'badChecksum');
      return;
    }
    const conn = this.connections.get(key(p.src, seg.srcPort, seg.dstPort));
    if (conn !== undefined) {
      conn.segmentArrives(seg);
      return;
    }
    const listener = this.listeners.get(seg.dstPort);
    if (listener !== undefined) {
      this.listenArrives(listener, p.src, p.dst, seg);
      return;
    }
    this.ctx.count(this.counters, 'noConnection');
    this.resetFor(p.src, p.dst, seg);
  }

  /** RFC 9293 §3.10.7.2, a segment for a LISTEN socket. */
  private listenArrives(listener: TcpListener, src: number, dst: number, seg: TcpSegment): void {
    if (seg.flags & RST) return;
    if (seg.flags & ACK) {
      this.resetFor(src, dst, seg);
      return;
    }
    if (!(seg.flags & SYN)) return;
    if (listener.full) {
      // Like Linux, a full queue drops the SYN; the peer retries.
      this.ctx.count(this.counters, 'listenOverflow');
      return;
    }
    const tuple = { localAddress: dst, localPort: seg.dstPort, remoteAddress: src, remotePort: seg.srcPort };
    const conn = new TcpConnection(
      this,
      dst,
      seg.dstPort,
      src,
      seg.srcPort,
      this.isn(tuple, this.ctx.timers.now),
      true,
    );
    this.connections.set(key(src, seg.srcPort, seg.dstPort), conn);
    listener.embryonic.add(conn);
    this.ctx.count(this.counters, 'passiveOpens');
    conn.listenSyn(seg);
  }

  /** RFC 9293 §3.10.7.1: the reply to a segment that belongs to no connection. */
  private resetFor(src: number, dst: number, seg: TcpSegment): void {
    if (seg.flags & RST) return;
    const length = seg.payload.length + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);
    const reply =
      seg.flags & ACK
        ? { seq: seg.ack, ack: 0, flags: RST }
        : { seq: 0, ack: (seg.seq + length) >>> 0, flags: RST | ACK };
    this.ctx.count(this.counters, 'resetsOut');
    this.send(dst, seg.dstPort, src, seg.srcPort, {
      ...reply,
      window: 0,
      options: [],
      payload: new Uint8Array(0),
    });
  }

  /** @internal TcpHost */
  transmit(conn: TcpConnection, segment: OutSegment): void {
    this.send(conn.localAddress, conn.localPort, conn.remoteAddress, conn.remotePort, segment);
  }

  private send(src: number, srcPort: number, dst: number, dstPort: number, s: OutSegment): void {
    this.ctx.count(this.counters, 'segmentsOut');
    const bytes = encodeTcp(
      {
        srcPort,
        dstPort,
        seq: s.seq,
        ack: s.ack,
        reserved: 0,
        flags: s.flags,
        window: s.window,
        urgentPointer: 0,
        options: s.options,
        payload: s.payload,
      },
      { version: 4, src, dst },
    );
    // Segments never exceed the MSS, so DF is set (RFC 1191 path MTU discovery, as Linux does).
    this.ip.send(IpProtocol.TCP, dst, bytes, { dontFragment: true });
  }

  /** @internal TcpHost */
  detach(conn: TcpConnection): void {
    const k = key(conn.remoteAddress, conn.remotePort, conn.localPort);
    if (this.connections.get(k) === conn) this.connections.delete(k);
    this.listeners.get(conn.localPort)?.embryonic.delete(conn);
  }

  /** @internal TcpHost */
  accepted(conn: TcpConnection): void {
    const listener = this.listeners.get(conn.localPort);
    if (listener === undefined || !listener.embryonic.has(conn)) {
      // The listener went away during the handshake.
      conn.abort();
      return;
    }
    listener.established(conn, this.ctx);
  }

  /** @internal TcpHost */
  stateChanged(conn: TcpConnection, from: TcpState, to: TcpState): void {
    const observer = this.onStateChange;
    if (observer === undefined) return;
    const change: TcpStateChange = {
      tuple: {
        localAddress: conn.localAddress,
        localPort: conn.localPort,
        remoteAddress: conn.remoteAddress,
        remotePort: conn.remotePort,
      },
      from,
      to,
      atNs: this.ctx.timers.now,
    };
    this.ctx.defer(() => observer(change));
  }

  /** @internal */
  unlisten(listener: TcpListener): void {
    if (this.listeners.get(listener.port) === listener) this.listeners.delete(listener.port);
  }

  /** RFC 5927: an ICMP error quoting one of our segments. */
  icmpError(report: IcmpErrorReport): void {
    if (report.transport.length < 8) return;
    const srcPort = u16(report.transport, 0);
    const dstPort = u16(report.transport, 2);
    const conn = this.connections.get(key(report.dst, dstPort, srcPort));
    if (conn === undefined) return;
    conn.icmpError(report, u32(report.transport, 4));
  }
}

function key(remoteAddress: number, remotePort: number, localPort: number): string {
  return `${remoteAddress}:${remotePort}:${localPort}`;
}

/**
 * RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), M a 4 µs clock.
 * F here is a 32-bit keyed mix seeded from the stack's generator: reproducible, not a cryptographic PRF.
 */
function rfc6528Isn(ctx: StackContext): (tuple: ConnectionTuple, nowNs: number) => number {
  const k0 = ctx.random.nextU32();
  const k1 = ctx.random.nextU32();
  return (t, nowNs) => {
    let h = k0;
    for (const word of [t.localAddress, t.localPort * 65536 + t.remotePort, t.remoteAddress, k1]) {
      h = Math.imul(h ^ (word >>> 0), 0x9e3779b1);
      h ^= h >>> 15;
      h = Math.imul(h, 0x85ebca77);
      h ^= h >>> 13;
    }
    return (Math.floor(nowNs / 4000) + (h >>> 0)) >>> 0;
  };
}
