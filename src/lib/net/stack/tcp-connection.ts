/**
 * One TCP connection: its Transmission Control Block and state machine (RFC 9293 §3.3.2, §3.10).
 *
 * Implemented: three-way handshake and simultaneous open (§3.5), MSS option (§3.7.1), window scale
 * (RFC 7323 §2), sliding window with receiver and sender SWS avoidance (§3.8.6.2) and Nagle (§3.7.4),
 * zero-window probing (§3.8.6.1), retransmission timeout per RFC 6298 with Karn's rule, slow start,
 * congestion avoidance, fast retransmit and NewReno fast recovery (RFC 5681 §3, RFC 6582), delayed ACKs
 * (§3.8.6.3), out-of-order reassembly (§3.10.7.4), FIN teardown in both orders with TIME-WAIT (§3.6),
 * RST generation and handling with the RFC 5961 in-window checks (challenge ACKs for RST, SYN and
 * out-of-range ACKs). Not implemented: urgent data (URG is ignored and the data read inline), SACK,
 * timestamps, keep-alives.
 */
import type { IcmpErrorReport } from './icmp.js';
import { ByteQueue } from './byte-queue.js';
import type { StackContext } from './context.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax } from './seq.js';
import { SegmentReassembly } from './tcp-reassembly.js';
import { RtoEstimator } from './tcp-rto.js';
import type { Timer } from './timers.js';
import { TcpFlags, type TcpOption, type TcpSegment } from '../tcp.js';

/** The TCP layer's counters, all zero. */
export function newTcpCounters() {
  return {
    segmentsIn: 0,
    segmentsOut: 0,
    malformed: 0,
    badChecksum: 0,
    broadcastDropped: 0,
    activeOpens: 0,
    passiveOpens: 0,
    listenOverflow: 0,
    resetsIn: 0,
    resetsOut: 0,
    noConnection: 0,
    outOfWindow: 0,
    duplicateBytes: 0,
    outOfOrderSegments: 0,
    zeroWindowDrops: 0,
    zeroWindowProbes: 0,
    badAcks: 0,
    challengeAcks: 0,
    acksOut: 0,
    retransmittedSegments: 0,
    retransmitTimeouts: 0,
    fastRetransmits: 0,
    timeouts: 0,
    icmpIgnored: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
}
export type TcpCounters = ReturnType<typeof newTcpCounters>;

const { FIN, SYN, RST, PSH, ACK } = TcpFlags;

/** RFC 9293 §3.3.2. */
export type TcpState =
  | 'CLOSED'
  | 'LISTEN'
  | 'SYN-SENT'
  | 'SYN-RECEIVED'
  | 'ESTABLISHED'
  | 'FIN-WAIT-1'
  | 'FIN-WAIT-2'
  | 'CLOSE-WAIT'
  | 'CLOSING'
  | 'LAST-ACK'
  | 'TIME-WAIT';

/**
 * Why a connection ended: `closed` both sides sent FIN; `reset` a RST came; `refused` a RST answered
 * our SYN; `timeout` retransmissions ran out (RFC 9293 §3.8.3, R2); `unreachable` an ICMP hard error
 * (RFC 1122 §4.2.3.9) answered our SYN; `aborted` the application aborted.
 */
export type TcpCloseReason = 'closed' | 'reset' | 'refused' | 'timeout' | 'unreachable' | 'aborted';

/** Application callbacks, all run after the stack finished the input or call that caused them. */
export interface TcpSocketHandlers {
  /** The handshake completed (active open). */
  onConnect?(): void;
  /** Received bytes, in order, exactly once. With this handler set the stack consumes data as it comes. */
  onData?(data: Uint8Array): void;
  /** Without `onData`: new bytes wait in the receive buffer for `read()`. */
  onReadable?(): void;
  /** Room came back in the send buffer after a `send` accepted less than it was given. */
  onWritable?(): void;
  /** The peer sent FIN: no more data will come. */
  onEnd?(): void;
  onClose?(reason: TcpCloseReason): void;
  onStateChange?(from: TcpState, to: TcpState): void;
}

export type TcpSendResult =
  | { readonly ok: true; readonly accepted: number }
  | { readonly ok: false; readonly code: 'closing' | 'closed'; readonly detail: string };

/** What applications hold: a connected (or connecting) TCP socket. */
export interface TcpSocket {
  readonly state: TcpState;
  readonly localAddress: number;
  readonly localPort: number;
  readonly remoteAddress: number;
  readonly remotePort: number;
  handlers: TcpSocketHandlers;
  /** Queues bytes for sending; accepts as many as fit the send buffer. */
  send(data: Uint8Array): TcpSendResult;
  /** Free room in the send buffer. */
  readonly writable: number;
  /** Bytes sent but not yet acknowledged, plus bytes not yet sent. */
  readonly unacknowledged: number;
  /** Takes up to `max` received bytes (pull mode, when no `onData` handler is set). */
  read(max?: number): Uint8Array;
  readonly readable: number;
  /** The peer's FIN came and every byte before it has been read. */
  readonly ended: boolean;
  /**
   * Sends FIN after the queued data (half-close); receiving continues until the peer's FIN. Before the
   * handshake completes the FIN waits for it.
   */
  close(): void;
  /** Drops the connection at once with a RST (RFC 9293 §3.10.5). */
  abort(): void;
  /** Set once the connection is over. */
  readonly closeReason: TcpCloseReason | undefined;
  /** The last ICMP error reported for the connection (soft errors, RFC 1122 §4.2.3.9). */
  readonly lastIcmpError: IcmpErrorReport | undefined;
}

export interface TcpConfig {
  /** MSS we announce (RFC 9293 §3.7.1): MTU − 40. */
  readonly mss: number;
  readonly sendBuffer: number;
  readonly receiveBuffer: number;
  readonly windowScaling: boolean;
  readonly noDelay: boolean;
  readonly delayedAckNs: number;
  readonly timeWaitNs: number;
  readonly initialRtoNs: number;
  readonly minRtoNs: number;
  readonly maxRtoNs: number;
  readonly clockGranularityNs: number;
  /** Retransmissions of a data segment before the connection is dropped (R2, RFC 9293 §3.8.3). */
  readonly maxRetransmits: number;
  /** Retransmissions of a SYN before the connection attempt fails. */
  readonly maxSynRetransmits: number;
  /** Zero-window probes answered with a zero window before the connection is dropped (0: never). */
  readonly maxPersistProbes: number;
}

/** A segment to send, as the connection describes it to its layer. */
export interface OutSegment {
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly window: number;
  readonly options: readonly TcpOption[];
  readonly payload: Uint8Array;
}

/** What a connection needs from the TCP layer that owns it. */
export interface TcpHost {
  readonly ctx: StackContext;
  readonly config: TcpConfig;
  readonly counters: TcpCounters;
  transmit(conn: TcpConnection, segment: OutSegment): void;
  /** The connection reached CLOSED: forget it. */
  detach(conn: TcpConnection): void;
  /** A passively opened connection reached ESTABLISHED. */
  accepted(conn: TcpConnection): void;
  stateChanged(conn: TcpConnection, from: TcpState, to: TcpState): void;
}

const NO_OPTIONS: readonly TcpOption[] = [];
const EMPTY = new Uint8Array(0);
/** RFC 9293 §3.7.1: without the MSS option, the peer accepts 536 bytes. */
const DEFAULT_PEER_MSS = 536;

export class TcpConnection implements TcpSocket {
  state: TcpState;
  handlers: TcpSocketHandlers = {};
  closeReason: TcpCloseReason | undefined = undefined;
  lastIcmpError: IcmpErrorReport | undefined = undefined;
  /** True for a connection created by a listener (RFC 9293 "passive OPEN"). */
  readonly passive: boolean;

  // Send sequence variables (RFC 9293 §3.3.1); SND.MAX is the highest sequence number sent.
  readonly iss: number;
  private sndUna: number;
  private sndNxt: number;
  private sndMax: number;
  private sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private maxSndWnd = 0;
  // Receive sequence variables; RCV.ADV is the right edge of the window last advertised.
  private irs = 0;
  private rcvNxt = 0;
  private rcvAdv = 0;
  /** Window scale shifts (RFC 7323 §2.2): ours applies to windows we send, the peer's to windows we receive. */
  private rcvShift = 0;
  private sndShift = 0;
  private readonly wantScale: number;
  private scaleAgreed = false;
  /** Effective send MSS (RFC 9293 §3.7.1). */
  private mss: number;

  /** Bytes from SND.UNA on (those sent and unacknowledged, then those not yet sent); `bufSeq` is the first. */
  private readonly sendBuf = new ByteQueue();
  private bufSeq: number;
  private finQueued = false;
  private readonly recvBuf = new ByteQueue();
  private readonly outOfOrder = new SegmentReassembly();
  /** Sequence number of a FIN that came ahead of missing data. */
  private pendingFin: number | undefined = undefined;
  private finReceived = false;

  // Congestion control (RFC 5681) and NewReno recovery (RFC 6582).
  private cwnd: number;
  private ssthresh = 0x7fffffff;
  private dupAcks = 0;
  private recover: number;
  private inRecovery = false;

  // Retransmission (RFC 6298) with Karn's rule: one timed segment at a time, never a retransmitted one.
  private readonly rto: RtoEstimator;
  private timedSeq: number | undefined = undefined;
  private timedAtNs = 0;
  private retransmits = 0;
  private synRetransmitted = false;
  private persistProbes = 0;
  private persistBackoff = 0;

  private ackNow = false;
  private unackedSegments = 0;
  private writerBlocked = false;
  private readableSignalled = false;
  private closeSignalled = false;

  private readonly rtxTimer: Timer;
  private readonly persistTimer: Timer;
  private readonly delackTimer: Timer;
  private readonly timeWaitTimer: Timer;

  constructor(
    private readonly host: TcpHost,
    readonly localAddress: number,
    readonly localPort: number,
    readonly remoteAddress: number,
    readonly remotePort: number,
    iss: number,
    passive: boolean,
  ) {
    const { config, ctx } = host;
    this.passive = passive;
    this.state = passive ? 'LISTEN' : 'CLOSED';
    this.iss = iss >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
    this.bufSeq = seqAdd(this.iss, 1);
    this.recover = this.iss;
    this.mss = Math.min(config.mss, DEFAULT_PEER_MSS);
    this.cwnd = initialWindow(this.mss);
    let shift = 0;
    while (shift < 14 && config.receiveBuffer >>> shift > 0xffff) shift++;
    this.wantScale = config.windowScaling ? shift : -1;
    this.rto = new RtoEstimator(config);
    this.rtxTimer = ctx.timers.timer(() => this.retransmitTimeout());
    this.persistTimer = ctx.timers.timer(() => this.persistTimeout());
    this.delackTimer = ctx.timers.timer(() => {
      this.ackNow = true;
      this.output();
    });
    this.timeWaitTimer = ctx.timers.timer(() => this.finish(undefined));
  }

  // ---- Application interface (RFC 9293 §3.10.1–§3.10.5) ----

  get writable(): number {
    return this.finQueued || this.state === 'CLOSED'
      ? 0
      : Math.max(0, this.host.config.sendBuffer - this.sendBuf.length);
  }

  get unacknowledged(): number {
    return this.sendBuf.length;
  }

  get readable(): number {
    return this.recvBuf.length;
  }

  get ended(): boolean {
    return this.finReceived && this.recvBuf.length === 0;
  }

  /** Effective send MSS (for tests and diagnostics). */
  get sendMss(): number {
    return this.mss;
  }

  /** Peer's receive window as last advertised, in bytes. */
  get peerWindow(): number {
    return this.sndWnd;
  }

  get congestionWindow(): number {
    return this.cwnd;
  }

  get rtoNs(): number {
    return this.rto.rtoNs;
  }

  send(data: Uint8Array): TcpSendResult {
    return this.host.ctx.run(() => {
      // RFC 9293 §3.10.2: SEND is allowed until CLOSE, and queued while the handshake is under way.
      if (this.state === 'CLOSED' || this.state === 'TIME-WAIT')
        return { ok: false, code: 'closed', detail: 'connection is closed' } as const;
      if (this.finQueued) return { ok: false, code: 'closing', detail: 'connection is closing' } as const;
      const n = Math.min(data.length, this.writable);
      if (n < data.length) this.writerBlocked = true;
      if (n > 0) {
        this.sendBuf.push(n === data.length ? data : data.subarray(0, n));
        this.output();
      }
      return { ok: true, accepted: n } as const;
    });
  }

  read(max?: number): Uint8Array {
    return this.host.ctx.run(() => {
      this.readableSignalled = false;
      const data = this.recvBuf.take(max);
      if (data.length > 0 && this.windowUpdateDue()) {
        // RFC 9293 §3.8.6.2.2: the window opened enough to be worth announcing.
        this.ackNow = true;
        this.output();
      }
      return data;
    });
  }

  close(): void {
    this.host.ctx.run(() => {
      switch (this.state) {
        case 'CLOSED':
        case 'LISTEN':
          return;
        case 'SYN-SENT':
        case 'SYN-RECEIVED':
          // RFC 9293 §3.10.4 queues a CLOSE in SYN-RECEIVED; we do the same in SYN-SENT (where the RFC
          // deletes the TCB) so that "connect, send, close" delivers the data. `abort()` cancels instead.
          this.finQueued = true;
          return;
        case 'ESTABLISHED':
          this.finQueued = true;
          this.setState('FIN-WAIT-1');
          this.output();
          return;
        case 'CLOSE-WAIT':
          this.finQueued = true;
          this.setState('LAST-ACK');
          this.output();
          return;
        default:
          return;
      }
    });
  }

  abort(): void {
    this.host.ctx.run(() => {
      // RFC 9293 §3.10.5: a RST in the synchronized states, then CLOSED.
      if (
        this.state === 'SYN-RECEIVED' ||
        this.state === 'ESTABLISHED' ||
        this.state === 'FIN-WAIT-1' ||
        this.state === 'FIN-WAIT-2' ||
        this.state === 'CLOSE-WAIT'
      ) {
        this.host.ctx.count(this.host.counters, 'resetsOut');
        this.emit({ seq: this.sndNxt, ack: 0, flags: RST, window: 0, options: NO_OPTIONS, payload: EMPTY });
      }
      if (this.state !== 'CLOSED') this.finish('aborted');
    });
  }

  // ---- Opening ----

  /** Active OPEN (RFC 9293 §3.10.1): send SYN, enter SYN-SENT. */
  open(): void {
    this.setState('SYN-SENT');
    this.output();
  }

  /** A SYN reached a listener (RFC 9293 §3.10.7.2, third): enter SYN-RECEIVED and answer SYN,ACK. */
  listenSyn(seg: TcpSegment): void {
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.rcvAdv = this.rcvNxt;
    this.takeSynOptions(seg);
    this.sndWnd = seg.window;
    this.maxSndWnd = this.sndWnd;
    this.sndWl1 = seg.seq;
    this.sndWl2 = this.iss;
    // Data carried on the SYN is not acknowledged; the peer sends it again after the handshake.
    this.setState('SYN-RECEIVED');
    this.output();
  }

  // ---- Segment arrival (RFC 9293 §3.10.7) ----

  segmentArrives(seg: TcpSegment): void {
    if (this.state === 'SYN-SENT') {
      this.synSentArrives(seg);
      return;
    }
    if (this.state === 'CLOSED' || this.state === 'LISTEN') return;
    const counters = this.host.counters;
    const ctx = this.host.ctx;
    const flags = seg.flags;
    let seq = seg.seq;
    let payload = seg.payload;
    let syn = (flags & SYN) !== 0;
    let fin = (flags & FIN) !== 0;
    const rst = (flags & RST) !== 0;

    // A SYN seen before (the peer's SYN or SYN,ACK again) is the old part of the segment: trim it.
    if (syn && seq === this.irs) {
      syn = false;
      seq = seqAdd(seq, 1);
      this.ackNow = true;
      if (this.state === 'SYN-RECEIVED' && (flags & ACK) === 0 && !rst) {
        // Our SYN,ACK was lost: send it again now.
        this.sndNxt = this.iss;
        this.output();
        return;
      }
    }

    // First, check the sequence number (§3.10.7.4, table of four cases).
    const wnd = this.acceptWindow();
    const segLen = payload.length + (syn ? 1 : 0) + (fin ? 1 : 0);
    let acceptable: boolean;
    let zeroWindowProbe = false;
    if (segLen === 0) {
      acceptable = wnd === 0 ? seq === this.rcvNxt : this.inWindow(seq, wnd);
    } else if (wnd === 0) {
      acceptable = false;
      // "special allowance should be made to accept valid ACKs, URGs, and RSTs": the probe's ACK counts.
      if (seq === this.rcvNxt && !syn) {
        acceptable = true;
        zeroWindowProbe = true;
      }
    } else {
      acceptable = this.inWindow(seq, wnd) || this.inWindow(seqAdd(seq, segLen - 1), wnd);
    }
    if (!acceptable) {
      ctx.count(counters, 'outOfWindow');
      if (!rst) {
        // An old duplicate (e.g. the peer's FIN again in TIME-WAIT): acknowledge it (§3.10.7.4, eighth).
        if (this.state === 'TIME-WAIT' && fin) this.timeWaitTimer.after(this.host.config.timeWaitNs);
        this.ackNow = true;
        this.output();
      }
      return;
    }
    if (zeroWindowProbe) {
      ctx.count(counters, 'zeroWindowDrops');
      payload = EMPTY;
      fin = false;
      this.ackNow = true;
    }
    // Trim what lies before RCV.NXT (a SYN already seen, bytes already received) and beyond the window.
    let before = seqDiff(this.rcvNxt, seq);
    if (before > 0) {
      if (syn) {
        syn = false;
        seq = seqAdd(seq, 1);
        before--;
      }
      if (before > payload.length) {
        fin = false;
        before = payload.length;
      }
      if (before > 0) ctx.count(counters, 'duplicateBytes', before);
      payload = payload.subarray(before);
      seq = seqAdd(seq, before);
      this.ackNow = true;
    }
    const beyond = seqDiff(seqAdd(seq, payload.length), seqAdd(this.rcvNxt, wnd));
    if (beyond > 0) {
      payload = payload.subarray(0, payload.length - beyond);
      fin = false;
      this.ackNow = true;
    }

    // Second, the RST bit (RFC 5961 §3.2: only an exact RCV.NXT match resets; else a challenge ACK).
    if (rst) {
      ctx.count(counters, 'resetsIn');
      if (seg.seq !== this.rcvNxt) {
        this.challengeAck();
        return;
      }
      if (this.state === 'SYN-RECEIVED') {
        // A passive open returns to LISTEN (the listener stays); an active one was refused.
        this.finish(this.passive ? undefined : 'refused');
      } else if (this.state === 'TIME-WAIT') {
        this.finish(undefined);
      } else {
        this.finish('reset');
      }
      return;
    }

    // Fourth, the SYN bit: a SYN in the window is answered with a challenge ACK (RFC 5961 §4.2).
    if (syn) {
      if (this.state === 'SYN-RECEIVED' && this.passive) {
        this.finish(undefined);
        return;
      }
      this.challengeAck();
      return;
    }

    // Fifth, the ACK field.
    if ((flags & ACK) === 0) return;
    if (this.state === 'SYN-RECEIVED') {
      if (!(seqLt(this.sndUna, seg.ack) && seqLe(seg.ack, this.sndMax))) {
        // <SEQ=SEG.ACK><CTL=RST>
        ctx.count(counters, 'resetsOut');
        this.emit({ seq: seg.ack, ack: 0, flags: RST, window: 0, options: NO_OPTIONS, payload: EMPTY });
        return;
      }
      this.sndWnd = seg.window << this.sndShift;
      this.maxSndWnd = Math.max(this.maxSndWnd, this.sndWnd);
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      this.established();
    }
    if (!this.processAck(seg, payload.length, syn || fin)) return;

    // Seventh, the segment text (sixth, URG, is not supported: urgent bytes are read inline).
    if (
      payload.length > 0 &&
      (this.state === 'ESTABLISHED' || this.state === 'FIN-WAIT-1' || this.state === 'FIN-WAIT-2')
    ) {
      this.receiveText(seq, payload);
    }

    // Eighth, the FIN bit.
    if (fin && !this.finReceived) {
      const finSeq = seqAdd(seq, payload.length);
      if (finSeq === this.rcvNxt) this.receiveFin();
      else this.pendingFin = finSeq;
    } else if (fin && this.state === 'TIME-WAIT') {
      this.ackNow = true;
      this.timeWaitTimer.after(this.host.config.timeWaitNs);
    }
    this.output();
  }

  /** RFC 9293 §3.10.7.3. */
  private synSentArrives(seg: TcpSegment): void {
    const ctx = this.host.ctx;
    const counters = this.host.counters;
    const flags = seg.flags;
    const hasAck = (flags & ACK) !== 0;
    // First, the ACK bit.
    if (hasAck && (seqLe(seg.ack, this.iss) || seqGt(seg.ack, this.sndMax))) {
      if ((flags & RST) === 0) {
        ctx.count(counters, 'resetsOut');
        this.emit({ seq: seg.ack, ack: 0, flags: RST, window: 0, options: NO_OPTIONS, payload: EMPTY });
      }
      return;
    }
    const ackOk = hasAck && seqLe(this.sndUna, seg.ack) && seqLe(seg.ack, this.sndMax);
    // Second, the RST bit: valid only if it acknowledges our SYN (RFC 5961 §3.2 keeps this rule).
    if ((flags & RST) !== 0) {
      ctx.count(counters, 'resetsIn');
      if (ackOk) this.finish('refused');
      return;
    }
    // Fourth, the SYN bit.
    if ((flags & SYN) === 0) return;
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.rcvAdv = this.rcvNxt;
    this.takeSynOptions(seg);
    if (ackOk && seqGt(seg.ack, this.sndUna)) this.newAck(seg.ack);
    if (seqGt(this.sndUna, this.iss)) {
      // Our SYN is acknowledged: ESTABLISHED, and ACK the peer's SYN.
      this.sndWnd = seg.window << this.sndShift;
      this.maxSndWnd = this.sndWnd;
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      this.established();
      this.ackNow = true;
      const fin = (flags & FIN) !== 0;
      if (seg.payload.length > 0) this.receiveText(this.rcvNxt, seg.payload);
      if (fin) this.receiveFin();
      this.output();
      return;
    }
    // Simultaneous open (§3.5, figure 7): SYN-RECEIVED, and send SYN,ACK with the same ISS.
    this.sndWnd = seg.window;
    this.maxSndWnd = this.sndWnd;
    this.sndWl1 = seg.seq;
    this.sndWl2 = this.iss;
    this.setState('SYN-RECEIVED');
    this.sndNxt = this.iss;
    this.timedSeq = undefined;
    this.output();
  }

  /** Fifth step for the synchronized states. Returns false when the segment must be dropped. */
  private processAck(seg: TcpSegment, dataLength: number, synOrFin: boolean): boolean {
    const ctx = this.host.ctx;
    const counters = this.host.counters;
    const ack = seg.ack;
    // RFC 5961 §5.2: acceptable if SND.UNA − MAX.SND.WND ≤ SEG.ACK ≤ SND.NXT (SND.MAX here, since
    // SND.NXT goes back to SND.UNA after a timeout); anything else gets an ACK and is dropped.
    if (seqGt(ack, this.sndMax) || seqLt(ack, seqAdd(this.sndUna, -this.maxSndWnd))) {
      ctx.count(counters, 'badAcks');
      this.ackNow = true;
      this.output();
      return false;
    }
    const window = seg.window << this.sndShift;
    if (seqGt(ack, this.sndUna)) {
      this.newAck(ack);
    } else if (
      // RFC 5681 §2: a duplicate ACK.
      ack === this.sndUna &&
      dataLength === 0 &&
      !this.persistTimer.armed &&
      !synOrFin &&
      window === this.sndWnd &&
      this.sndMax !== this.sndUna
    ) {
      this.duplicateAck();
    }
    // Send window update (§3.10.7.4, fifth step).
    if (
      seqLe(this.sndUna, ack) &&
      (seqLt(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && seqLe(this.sndWl2, ack)))
    ) {
      const opened = this.sndWnd === 0 && window > 0;
      this.sndWnd = window;
      this.maxSndWnd = Math.max(this.maxSndWnd, window);
      this.sndWl1 = seg.seq;
      this.sndWl2 = ack;
      if (opened && this.persistTimer.armed) {
        // The window opened: leave persist mode; the probe byte, if dropped, goes again.
        this.persistTimer.stop();
        this.persistProbes = 0;
        this.persistBackoff = 0;
        this.sndNxt = this.sndUna;
      }
    }
    const finAcked = this.finQueued && seqGt(this.sndUna, this.finSeq());
    switch (this.state) {
      case 'FIN-WAIT-1':
        if (finAcked) this.setState('FIN-WAIT-2');
        break;
      case 'CLOSING':
        if (finAcked) this.enterTimeWait();
        break;
      case 'LAST-ACK':
        if (finAcked) {
          this.finish('closed');
          return false;
        }
        break;
      default:
        break;
    }
    return true;
  }

  private newAck(ack: number): void {
    const acked = seqDiff(ack, this.sndUna);
    // RFC 6298 §3 (Karn): time only segments never retransmitted.
    if (this.timedSeq !== undefined && seqGt(ack, this.timedSeq)) {
      this.rto.sample(this.host.ctx.timers.now - this.timedAtNs);
      this.timedSeq = undefined;
    }
    this.ackSyn(ack);
    this.retransmits = 0;
    if (this.inRecovery) {
      if (seqGe(ack, this.recover)) {
        // RFC 6582 §3.2 step 3: full acknowledgment, leave fast recovery.
        this.inRecovery = false;
        this.cwnd = Math.min(this.ssthresh, Math.max(this.flightSize(), 0) + this.mss);
      } else {
        // Step 4: partial acknowledgment, retransmit the next hole and deflate.
        this.retransmitFirst();
        this.cwnd = Math.max(this.cwnd - acked + this.mss, this.mss);
        this.rtxTimer.after(this.rto.rtoNs);
      }
    } else if (this.cwnd < this.ssthresh) {
      // RFC 5681 §3.1, slow start (eq. 2).
      this.cwnd += Math.min(acked, this.mss);
    } else {
      // Congestion avoidance (eq. 3).
      this.cwnd += Math.max(1, Math.floor((this.mss * this.mss) / this.cwnd));
    }
    this.dupAcks = 0;
    // RFC 6298 §5.2, §5.3.
    if (this.sndUna === this.sndMax) this.rtxTimer.stop();
    else if (!this.inRecovery) this.rtxTimer.after(this.rto.rtoNs);
    if (this.writerBlocked && this.writable > 0) {
      this.writerBlocked = false;
      this.notify('onWritable');
    }
  }

  /** Advances SND.UNA to `ack` and releases the acknowledged bytes. */
  private ackSyn(ack: number): void {
    this.sndUna = ack;
    if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
    const released = Math.min(Math.max(seqDiff(ack, this.bufSeq), 0), this.sendBuf.length);
    if (released > 0) {
      this.sendBuf.drop(released);
      this.bufSeq = seqAdd(this.bufSeq, released);
    }
  }

  private duplicateAck(): void {
    const counters = this.host.counters;
    this.dupAcks++;
    if (this.dupAcks === 3 && !this.inRecovery && seqGt(this.sndUna, this.recover)) {
      // RFC 5681 §3.2 steps 2–3 with RFC 6582 §3.2 step 2.
      this.host.ctx.count(counters, 'fastRetransmits');
      this.ssthresh = Math.max(Math.floor(this.flightSize() / 2), 2 * this.mss);
      this.recover = this.sndMax;
      this.inRecovery = true;
      this.timedSeq = undefined;
      this.retransmitFirst();
      this.cwnd = this.ssthresh + 3 * this.mss;
      this.rtxTimer.after(this.rto.rtoNs);
    } else if (this.dupAcks > 3 && this.inRecovery) {
      // Step 4: each further duplicate means a segment left the network.
      this.cwnd += this.mss;
    } else if (this.dupAcks === 3) {
      this.dupAcks = 0;
    }
  }

  // ---- Receiving data ----

  private receiveText(seq: number, payload: Uint8Array): void {
    const ctx = this.host.ctx;
    if (seq !== this.rcvNxt) {
      // Out of order: hold it, and send a duplicate ACK at once (RFC 5681 §4.2).
      ctx.count(this.host.counters, 'outOfOrderSegments');
      this.outOfOrder.insert(seq, payload);
      this.ackNow = true;
      return;
    }
    this.deliver(payload);
    this.rcvNxt = seqAdd(this.rcvNxt, payload.length);
    if (!this.outOfOrder.empty) {
      for (const chunk of this.outOfOrder.takeFrom(this.rcvNxt)) {
        this.deliver(chunk);
        this.rcvNxt = seqAdd(this.rcvNxt, chunk.length);
      }
      // A segment that fills a gap is acknowledged at once (RFC 5681 §4.2).
      this.ackNow = true;
    } else {
      this.unackedSegments++;
      // RFC 9293 §3.8.6.3: ACK at least every second full-sized segment, and within the delay.
      if (this.host.config.delayedAckNs === 0 || this.unackedSegments >= 2) this.ackNow = true;
      else if (!this.delackTimer.armed) this.delackTimer.after(this.host.config.delayedAckNs);
    }
    if (this.pendingFin === this.rcvNxt) this.receiveFin();
  }

  private deliver(data: Uint8Array): void {
    const ctx = this.host.ctx;
    ctx.count(this.host.counters, 'bytesIn', data.length);
    const onData = this.handlers.onData;
    if (onData !== undefined && this.recvBuf.length === 0) {
      // Flowing mode: the bytes leave the receive buffer at once, so the window stays open.
      const bytes = data.slice();
      ctx.defer(() => onData.call(this.handlers, bytes));
      return;
    }
    this.recvBuf.push(data);
    if (!this.readableSignalled) {
      this.readableSignalled = true;
      ctx.defer(() => this.signalReadable());
    }
  }

  /** Hands buffered bytes to `onData` if the application has set it by now, else signals `onReadable`. */
  private signalReadable(): void {
    this.readableSignalled = false;
    if (this.recvBuf.length === 0) return;
    const onData = this.handlers.onData;
    if (onData !== undefined) onData.call(this.handlers, this.read());
    else this.handlers.onReadable?.call(this.handlers);
  }

  /**
   * Defers an application callback, looked up when it runs: a socket handed to `onAccept` gets the
   * events that happened during the same input once its handlers are set.
   */
  private notify<K extends keyof TcpSocketHandlers>(
    name: K,
    ...args: Parameters<NonNullable<TcpSocketHandlers[K]>>
  ): void {
    this.host.ctx.defer(() => {
      const handler = this.handlers[name] as ((...a: typeof args) => void) | undefined;
      handler?.apply(this.handlers, args);
    });
  }

  private receiveFin(): void {
    this.pendingFin = undefined;
    this.finReceived = true;
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.ackNow = true;
    this.notify('onEnd');
    switch (this.state) {
      case 'SYN-RECEIVED':
      case 'ESTABLISHED':
        this.setState('CLOSE-WAIT');
        break;
      case 'FIN-WAIT-1':
        // Our FIN not yet acknowledged: simultaneous close (§3.6, figure 13).
        this.setState('CLOSING');
        break;
      case 'FIN-WAIT-2':
        this.enterTimeWait();
        break;
      default:
        break;
    }
  }

  /** Bytes of the receive buffer still free: the window we can offer. */
  private receiveSpace(): number {
    return Math.max(0, this.host.config.receiveBuffer - this.recvBuf.length);
  }

  /** Window used to judge incoming segments: what we advertised, or more if the buffer has room. */
  private acceptWindow(): number {
    return Math.max(seqDiff(this.rcvAdv, this.rcvNxt), this.receiveSpace());
  }

  private inWindow(seq: number, wnd: number): boolean {
    const d = seqDiff(seq, this.rcvNxt);
    return d >= 0 && d < wnd;
  }

  /** RFC 9293 §3.8.6.2.2: move the right edge only by at least min(buffer / 2, MSS); never shrink it. */
  private windowToAdvertise(): number {
    if (seqLt(this.rcvAdv, this.rcvNxt)) this.rcvAdv = this.rcvNxt;
    const edge = seqAdd(this.rcvNxt, this.receiveSpace());
    const step = Math.min(this.host.config.receiveBuffer / 2, this.mss);
    if (seqDiff(edge, this.rcvAdv) >= step || this.receiveSpace() === this.host.config.receiveBuffer) {
      this.rcvAdv = seqMax(this.rcvAdv, edge);
    }
    const field = Math.min(seqDiff(this.rcvAdv, this.rcvNxt) >>> this.rcvShift, 0xffff);
    this.rcvAdv = seqAdd(this.rcvNxt, field << this.rcvShift);
    return field;
  }

  private windowUpdateDue(): boolean {
    if (this.state !== 'ESTABLISHED' && this.state !== 'FIN-WAIT-1' && this.state !== 'FIN-WAIT-2')
      return false;
    const edge = seqAdd(this.rcvNxt, this.receiveSpace());
    return seqDiff(edge, this.rcvAdv) >= Math.min(this.host.config.receiveBuffer / 2, 2 * this.mss);
  }

  // ---- Sending ----

  private finSeq(): number {
    return seqAdd(this.bufSeq, this.sendBuf.length);
  }

  private flightSize(): number {
    return seqDiff(this.sndMax, this.sndUna);
  }

  /** Sends whatever the windows, Nagle and SWS avoidance allow, then an ACK if one is still owed. */
  private output(): void {
    if (this.state === 'CLOSED' || this.state === 'LISTEN') return;
    if (this.state !== 'TIME-WAIT') while (this.sendOne(false));
    if (this.ackNow) this.sendAck();
    this.armPersist();
  }

  private sendOne(force: boolean): boolean {
    const config = this.host.config;
    if (this.state === 'SYN-SENT' || this.state === 'SYN-RECEIVED') {
      if (this.sndNxt !== this.iss) return false;
      const options: TcpOption[] = [{ type: 'mss', mss: config.mss }];
      // RFC 7323 §1.3: offer window scaling on a SYN; on a SYN,ACK only if the SYN offered it.
      const offerScale = this.state === 'SYN-SENT' ? this.wantScale >= 0 : this.scaleAgreed;
      if (offerScale) options.push({ type: 'nop' }, { type: 'window-scale', shift: this.wantScale });
      const synAck = this.state === 'SYN-RECEIVED';
      this.transmitSegment(
        this.iss,
        synAck ? SYN | ACK : SYN,
        EMPTY,
        options,
        Math.min(this.receiveSpace(), 0xffff),
      );
      return true;
    }
    const off = seqDiff(this.sndNxt, this.bufSeq);
    const queued = this.sendBuf.length;
    const avail = Math.max(queued - off, 0);
    const win = force ? Math.max(this.sndWnd, 1) : Math.min(this.sndWnd, this.cwnd);
    const usable = Math.max(seqDiff(seqAdd(this.sndUna, win), this.sndNxt), 0);
    const len = Math.min(avail, usable, this.mss);
    const finState = this.state === 'FIN-WAIT-1' || this.state === 'CLOSING' || this.state === 'LAST-ACK';
    const fin = this.finQueued && finState && off + len === queued && seqLe(this.sndNxt, this.finSeq());
    let go = false;
    if (len > 0) {
      if (len === this.mss) go = true;
      // §3.7.4 Nagle: a short segment only when nothing is in flight (or with noDelay).
      else if (off + len === queued && (config.noDelay || this.sndNxt === this.sndUna || fin)) go = true;
      // §3.8.6.2.1: or when it fills at least half the largest window the peer offered.
      else if (this.maxSndWnd > 0 && len >= this.maxSndWnd / 2) go = true;
      else if (force) go = true;
    } else if (fin) {
      go = true;
    }
    if (!go) return false;
    let flags = ACK;
    if (fin) flags |= FIN;
    if (len > 0 && off + len === queued) flags |= PSH;
    const payload = len > 0 ? this.sendBuf.view(off, len) : EMPTY;
    this.transmitSegment(this.sndNxt, flags, payload, NO_OPTIONS, this.windowToAdvertise());
    return true;
  }

  /** Puts a segment on the wire and moves SND.NXT over what it carries (SYN, data, FIN). */
  private transmitSegment(
    seq: number,
    flags: number,
    payload: Uint8Array,
    options: readonly TcpOption[],
    window: number,
  ): void {
    const counters = this.host.counters;
    const ctx = this.host.ctx;
    const length = payload.length + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
    const retransmission = seqLt(seq, this.sndMax);
    if (retransmission) {
      ctx.count(counters, 'retransmittedSegments');
      this.timedSeq = undefined;
    } else if (this.timedSeq === undefined && length > 0) {
      this.timedSeq = seq;
      this.timedAtNs = ctx.timers.now;
    }
    ctx.count(counters, 'bytesOut', payload.length);
    this.emit({
      seq,
      ack: flags & ACK ? this.rcvNxt : 0,
      flags,
      window,
      options,
      payload,
    });
    const end = seqAdd(seq, length);
    if (seqGt(end, this.sndNxt)) this.sndNxt = end;
    if (seqGt(end, this.sndMax)) this.sndMax = end;
    if (length > 0 && !this.rtxTimer.armed) this.rtxTimer.after(this.rto.rtoNs);
    if (flags & ACK) {
      this.ackNow = false;
      this.unackedSegments = 0;
      this.delackTimer.stop();
    }
  }

  /** Resends one segment from SND.UNA (fast retransmit, partial ACK) without moving SND.NXT. */
  private retransmitFirst(): void {
    const off = seqDiff(this.sndUna, this.bufSeq);
    const len = Math.min(Math.max(this.sendBuf.length - off, 0), this.mss);
    const fin =
      this.finQueued &&
      off + len === this.sendBuf.length &&
      seqLe(this.sndUna, this.finSeq()) &&
      seqGt(this.sndMax, this.finSeq());
    if (len === 0 && !fin) return;
    let flags = ACK;
    if (fin) flags |= FIN;
    this.transmitSegment(
      this.sndUna,
      flags,
      this.sendBuf.view(off, len),
      NO_OPTIONS,
      this.windowToAdvertise(),
    );
  }

  private sendAck(): void {
    this.host.ctx.count(this.host.counters, 'acksOut');
    this.transmitSegment(this.sndNxt, ACK, EMPTY, NO_OPTIONS, this.windowToAdvertise());
  }

  /** RFC 5961 §3.2, §4.2, §5.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
  private challengeAck(): void {
    this.host.ctx.count(this.host.counters, 'challengeAcks');
    this.sendAck();
  }

  private emit(segment: OutSegment): void {
    this.host.transmit(this, segment);
  }

  // ---- Timers ----

  /** RFC 6298 §5.4–§5.7 with the loss window of RFC 5681 §3.1 and go-back-N from SND.UNA. */
  private retransmitTimeout(): void {
    const config = this.host.config;
    const ctx = this.host.ctx;
    const handshake = this.state === 'SYN-SENT' || this.state === 'SYN-RECEIVED';
    if (!handshake && this.sndWnd === 0 && this.sendBuf.length > seqDiff(this.sndUna, this.bufSeq)) {
      // The peer closed its window with our data in flight: probe it instead (§3.8.6.1).
      this.sndNxt = this.sndUna;
      this.persistTimer.after(this.persistInterval());
      return;
    }
    this.retransmits++;
    const limit = handshake ? config.maxSynRetransmits : config.maxRetransmits;
    if (this.retransmits > limit) {
      ctx.count(this.host.counters, 'timeouts');
      const hard =
        this.state === 'SYN-SENT' && this.lastIcmpError !== undefined && this.lastIcmpError.type === 3;
      this.finish(hard ? 'unreachable' : 'timeout');
      return;
    }
    ctx.count(this.host.counters, 'retransmitTimeouts');
    if (handshake) this.synRetransmitted = true;
    else {
      if (this.retransmits === 1) this.ssthresh = Math.max(Math.floor(this.flightSize() / 2), 2 * this.mss);
      this.cwnd = this.mss;
      this.inRecovery = false;
      this.recover = this.sndMax;
      this.dupAcks = 0;
    }
    this.rto.backoff();
    this.timedSeq = undefined;
    this.sndNxt = handshake ? this.iss : this.sndUna;
    this.output();
    if (seqLt(this.sndUna, this.sndMax)) this.rtxTimer.after(this.rto.rtoNs);
  }

  /**
   * Arms the persist timer when data waits but nothing is in flight to bring an ACK back: the peer's
   * window is zero (probing, §3.8.6.1), or too small for sender SWS avoidance to use it (the override
   * timeout of §3.8.6.2.1). Without it, a lost window update would stall the connection for ever.
   */
  private armPersist(): void {
    if (this.persistTimer.armed || this.rtxTimer.armed) return;
    if (this.sndNxt !== this.sndUna) return;
    if (
      this.state !== 'ESTABLISHED' &&
      this.state !== 'CLOSE-WAIT' &&
      this.state !== 'FIN-WAIT-1' &&
      this.state !== 'LAST-ACK'
    )
      return;
    if (this.sendBuf.length - seqDiff(this.sndNxt, this.bufSeq) <= 0) return;
    this.persistTimer.after(this.persistInterval());
  }

  private persistInterval(): number {
    const config = this.host.config;
    return Math.min(this.rto.rtoNs * 2 ** this.persistBackoff, config.maxRtoNs);
  }

  private persistTimeout(): void {
    const config = this.host.config;
    const ctx = this.host.ctx;
    if (this.sendBuf.length - seqDiff(this.sndNxt, this.bufSeq) <= 0) return;
    if (this.sndWnd !== 0) {
      // Sender SWS override: send what the window allows even if it is less than an MSS.
      this.sendOne(true);
      this.output();
      return;
    }
    // RFC 9293 §3.8.6.1: one byte beyond the zero window; keep probing with backoff while it stays zero.
    this.persistProbes++;
    if (config.maxPersistProbes > 0 && this.persistProbes > config.maxPersistProbes) {
      ctx.count(this.host.counters, 'timeouts');
      this.finish('timeout');
      return;
    }
    ctx.count(this.host.counters, 'zeroWindowProbes');
    this.sndNxt = this.sndUna;
    this.sendOne(true);
    // The probe is covered by the persist timer, not the retransmission timer.
    this.rtxTimer.stop();
    this.persistBackoff = Math.min(this.persistBackoff + 1, 16);
    this.persistTimer.after(this.persistInterval());
  }

  // ---- ICMP (RFC 5927, RFC 1122 §4.2.3.9) ----

  icmpError(report: IcmpErrorReport, quotedSeq: number): void {
    // RFC 5927 §4.1: the quoted sequence number must be one we have sent and not had acknowledged.
    if (seqLt(quotedSeq, this.sndUna) || seqGe(quotedSeq, this.sndMax)) {
      this.host.ctx.count(this.host.counters, 'icmpIgnored');
      return;
    }
    this.lastIcmpError = report;
    // Protocol, port unreachable and fragmentation needed are hard errors; they abort a connection
    // attempt, while established connections only record them (RFC 5461 §4).
    const hard = report.type === 3 && (report.code === 2 || report.code === 3 || report.code === 4);
    if (hard && this.state === 'SYN-SENT') this.finish('unreachable');
  }

  // ---- State changes ----

  private takeSynOptions(seg: TcpSegment): void {
    let peerMss = DEFAULT_PEER_MSS;
    let peerShift = -1;
    for (const o of seg.options) {
      if (o.type === 'mss') peerMss = o.mss;
      else if (o.type === 'window-scale') peerShift = Math.min(o.shift, 14);
    }
    this.mss = Math.max(Math.min(peerMss, this.host.config.mss), 64);
    this.cwnd = initialWindow(this.mss);
    // RFC 7323 §1.3: scaling is in force only when both SYNs carry the option.
    if (peerShift >= 0 && this.wantScale >= 0) {
      this.scaleAgreed = true;
      this.sndShift = peerShift;
      this.rcvShift = this.wantScale;
    } else {
      this.sndShift = 0;
      this.rcvShift = 0;
    }
  }

  private established(): void {
    this.setState('ESTABLISHED');
    // RFC 6298 §5.7: a SYN that had to be retransmitted, and no RTT measured: RTO is 3 s for the data.
    if (this.synRetransmitted && this.rto.srttNs === undefined)
      this.rto.rtoNs = Math.min(3e9, this.host.config.maxRtoNs);
    this.retransmits = 0;
    if (this.passive) this.host.accepted(this);
    else {
      this.notify('onConnect');
    }
    // A CLOSE issued in SYN-RECEIVED takes effect now (§3.10.4).
    if (this.finQueued) this.setState('FIN-WAIT-1');
  }

  private enterTimeWait(): void {
    this.setState('TIME-WAIT');
    this.rtxTimer.stop();
    this.persistTimer.stop();
    this.delackTimer.stop();
    this.timeWaitTimer.after(this.host.config.timeWaitNs);
    this.signalClose('closed');
  }

  /** Enters CLOSED and forgets the TCB; `reason` is reported unless the application was told already. */
  private finish(reason: TcpCloseReason | undefined): void {
    this.setState('CLOSED');
    this.rtxTimer.stop();
    this.persistTimer.stop();
    this.delackTimer.stop();
    this.timeWaitTimer.stop();
    this.outOfOrder.clear();
    this.host.detach(this);
    if (reason !== undefined) this.signalClose(reason);
  }

  private signalClose(reason: TcpCloseReason): void {
    if (this.closeSignalled) return;
    this.closeSignalled = true;
    this.closeReason = reason;
    this.notify('onClose', reason);
  }

  private setState(to: TcpState): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.host.stateChanged(this, from, to);
    this.notify('onStateChange', from, to);
  }
}

/** RFC 6928 §2: IW = min(10·MSS, max(2·MSS, 14600)). */
function initialWindow(mss: number): number {
  return Math.min(10 * mss, Math.max(2 * mss, 14600));
}
