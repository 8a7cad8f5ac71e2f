/**
 * ICMP for the host (RFC 792, RFC 1122 §3.2.2): answers echo requests, sends echo requests for `ping`,
 * sends destination-unreachable errors for the transports (port unreachable) and for unknown protocols,
 * and hands received errors to the transport whose datagram they quote.
 */
import {
  IcmpType,
  IcmpUnreachableCode,
  decodeIcmp,
  echoFields,
  echoRest,
  encodeIcmp,
  icmpChecksumOk,
  isIcmpError,
} from '../icmp.js';
import { IpProtocol } from '../ipv4.js';
import { PacketError, u16, u32 } from '../wire.js';
import type { StackContext } from './context.js';
import type { Ipv4Input, Ipv4Layer } from './ipv4.js';
import type { Timer } from './timers.js';

/** Reply datagrams quote as much of the offending datagram as fits 576 bytes (RFC 1812 §4.3.2.3). */
const ICMP_ERROR_MAX = 576;

/** An ICMP error as the transports see it: who sent it, and the start of the datagram it quotes. */
export interface IcmpErrorReport {
  readonly type: number;
  readonly code: number;
  /** The address that sent the error (this host itself when address resolution failed). */
  readonly from: number;
  /** Addresses and protocol of the quoted (our own, earlier) datagram. */
  readonly src: number;
  readonly dst: number;
  readonly protocol: number;
  /** The quoted transport header and data (at least 8 bytes, RFC 792). */
  readonly transport: Uint8Array;
}

export type PingResult =
  | {
      readonly kind: 'reply';
      readonly from: number;
      readonly sequence: number;
      readonly rttNs: number;
      readonly ttl: number;
      readonly bytes: number;
    }
  | { readonly kind: 'timeout'; readonly sequence: number }
  | { readonly kind: 'unreachable'; readonly sequence: number; readonly from: number; readonly code: number }
  | { readonly kind: 'no-route'; readonly sequence: number; readonly detail: string };

export interface PingOptions {
  /** Echo data (default 56 bytes counting up, as ping(8) sends). */
  readonly payload?: Uint8Array;
  /** Time to wait for the reply (default 1 s). */
  readonly timeoutNs?: number;
  readonly sequence?: number;
}

export interface PingRequest {
  readonly identifier: number;
  readonly sequence: number;
  /** Set once the reply, an error or the timeout came. */
  readonly result: PingResult | undefined;
}

interface Outstanding {
  readonly dst: number;
  readonly sentNs: number;
  readonly timer: Timer;
  readonly request: { identifier: number; sequence: number; result: PingResult | undefined };
  readonly onResult: ((result: PingResult) => void) | undefined;
}

export class IcmpLayer {
  readonly counters = {
    messagesIn: 0,
    messagesOut: 0,
    badChecksum: 0,
    malformed: 0,
    echoRequestsIn: 0,
    echoRepliesOut: 0,
    echoRepliesIn: 0,
    errorsIn: 0,
    errorsOut: 0,
    errorsSuppressed: 0,
    unmatchedReplies: 0,
  };
  /** Receivers of ICMP errors, by the protocol of the quoted datagram. */
  readonly errorHandlers = new Map<number, (report: IcmpErrorReport) => void>();
  private readonly identifier: number;
  private nextSequence = 0;
  private readonly outstanding = new Map<number, Outstanding>();

  constructor(
    private readonly ctx: StackContext,
    private readonly ip: Ipv4Layer,
  ) {
    this.identifier = ctx.random.below(0x10000);
  }

  input(input: Ipv4Input): void {
    this.ctx.count(this.counters, 'messagesIn');
    const bytes = input.packet.payload;
    let message;
    try {
      message = decodeIcmp(bytes);
    } catch (e) {
      if (!(e instanceof PacketError)) throw e;
      this.ctx.count(this.counters, 'malformed');
      return;
    }
    if (!icmpChecksumOk(bytes)) {
      this.ctx.count(this.counters, 'badChecksum');
      return;
    }
    switch (message.type) {
      case IcmpType.ECHO_REQUEST: {
        this.ctx.count(this.counters, 'echoRequestsIn');
        // RFC 1122 §3.2.2.6: a host MAY ignore echo requests sent to a broadcast address; Linux does.
        if (input.broadcast) return;
        // RFC 792: same identifier, sequence and data, type changed to 0.
        this.ctx.count(this.counters, 'echoRepliesOut');
        this.send(input.packet.src, {
          type: IcmpType.ECHO_REPLY,
          code: 0,
          rest: message.rest,
          payload: message.payload,
        });
        return;
      }
      case IcmpType.ECHO_REPLY: {
        this.ctx.count(this.counters, 'echoRepliesIn');
        const { identifier, sequence } = echoFields(message);
        const o = this.outstanding.get(sequence);
        if (identifier !== this.identifier || o === undefined || o.dst !== input.packet.src) {
          this.ctx.count(this.counters, 'unmatchedReplies');
          return;
        }
        this.settle(sequence, {
          kind: 'reply',
          from: input.packet.src,
          sequence,
          rttNs: this.ctx.timers.now - o.sentNs,
          ttl: input.packet.ttl,
          bytes: message.payload.length,
        });
        return;
      }
      default:
        if (isIcmpError(message.type)) {
          this.ctx.count(this.counters, 'errorsIn');
          this.dispatchError(message.type, message.code, input.packet.src, message.payload);
        }
    }
  }

  /** Sends an echo request to `dst` and reports the outcome through `onResult` (and the returned handle). */
  ping(dst: number, options: PingOptions = {}, onResult?: (result: PingResult) => void): PingRequest {
    const sequence = (options.sequence ?? this.nextSequence) & 0xffff;
    this.nextSequence = (sequence + 1) & 0xffff;
    const request = { identifier: this.identifier, sequence, result: undefined as PingResult | undefined };
    const payload = options.payload ?? Uint8Array.from({ length: 56 }, (_, i) => i);
    const previous = this.outstanding.get(sequence);
    if (previous !== undefined) this.settle(sequence, { kind: 'timeout', sequence });
    const timer = this.ctx.timers.timer(() => this.settle(sequence, { kind: 'timeout', sequence }));
    this.outstanding.set(sequence, { dst, sentNs: this.ctx.timers.now, timer, request, onResult });
    timer.after(options.timeoutNs ?? 1e9);
    const sent = this.send(dst, {
      type: IcmpType.ECHO_REQUEST,
      code: 0,
      rest: echoRest(this.identifier, sequence),
      payload,
    });
    if (!sent.ok) this.settle(sequence, { kind: 'no-route', sequence, detail: sent.detail });
    return request;
  }

  /**
   * Sends a destination-unreachable (or other) error about `input`, unless RFC 1122 §3.2.2 forbids one:
   * not about an ICMP error, a broadcast, a non-initial fragment, or a source that is not one host.
   */
  sendError(type: number, code: number, input: Ipv4Input, rest = 0): void {
    const p = input.packet;
    const src = p.src;
    const first = src >>> 24;
    const quotesError =
      p.protocol === IpProtocol.ICMP && p.payload.length >= 1 && isIcmpError(p.payload[0] ?? 0);
    if (
      quotesError ||
      input.broadcast ||
      p.fragmentOffset !== 0 ||
      src === 0 ||
      first === 127 ||
      first >= 224 ||
      this.ip.isBroadcast(src)
    ) {
      this.ctx.count(this.counters, 'errorsSuppressed');
      return;
    }
    this.ctx.count(this.counters, 'errorsOut');
    const quoted = input.datagram.subarray(0, ICMP_ERROR_MAX - 20 - 8);
    this.send(src, { type, code, rest, payload: quoted });
  }

  /** A protocol with no handler: protocol unreachable (RFC 1122 §3.2.2.1). */
  protocolUnreachable(input: Ipv4Input): void {
    this.sendError(IcmpType.DESTINATION_UNREACHABLE, IcmpUnreachableCode.PROTOCOL, input);
  }

  /** Our own datagrams that could not be delivered because the next hop did not answer ARP. */
  localUnreachable(datagrams: readonly Uint8Array[]): void {
    for (const d of datagrams)
      this.dispatchError(IcmpType.DESTINATION_UNREACHABLE, IcmpUnreachableCode.HOST, this.ip.address, d);
  }

  private send(dst: number, m: Parameters<typeof encodeIcmp>[0]) {
    this.ctx.count(this.counters, 'messagesOut');
    return this.ip.send(IpProtocol.ICMP, dst, encodeIcmp(m));
  }

  /** Routes an error to whoever sent the quoted datagram: a pending ping, or a transport. */
  private dispatchError(type: number, code: number, from: number, quoted: Uint8Array): void {
    if (quoted.length < 20) return;
    const ihl = ((quoted[0] ?? 0) & 0xf) * 4;
    if ((quoted[0] ?? 0) >>> 4 !== 4 || ihl < 20 || quoted.length < ihl + 8) {
      this.ctx.count(this.counters, 'malformed');
      return;
    }
    const protocol = quoted[9] ?? 0;
    const src = u32(quoted, 12);
    const dst = u32(quoted, 16);
    if (src !== this.ip.address) return;
    const transport = quoted.subarray(ihl);
    if (protocol === IpProtocol.ICMP) {
      if (transport[0] !== IcmpType.ECHO_REQUEST || u16(transport, 4) !== this.identifier) return;
      const sequence = u16(transport, 6);
      const o = this.outstanding.get(sequence);
      if (o === undefined || o.dst !== dst) return;
      if (type === IcmpType.DESTINATION_UNREACHABLE)
        this.settle(sequence, { kind: 'unreachable', sequence, from, code });
      return;
    }
    this.errorHandlers.get(protocol)?.({ type, code, from, src, dst, protocol, transport });
  }

  private settle(sequence: number, result: PingResult): void {
    const o = this.outstanding.get(sequence);
    if (o === undefined) return;
    this.outstanding.delete(sequence);
    o.timer.stop();
    o.request.result = result;
    const callback = o.onResult;
    if (callback !== undefined) this.ctx.defer(() => callback(result));
  }
}
