/**
 * UDP for the host (RFC 768, RFC 1122 §4.1): sockets bound to a port, checksums verified on input and
 * always sent, ICMP port unreachable for datagrams to a port nobody is bound to (RFC 1122 §4.1.3.1),
 * and ICMP errors about our datagrams reported to the socket that sent them (§4.1.3.3).
 */
import { assert } from '../../../common/errors.js';
import { IcmpType, IcmpUnreachableCode } from '../icmp.js';
import { IpProtocol } from '../ipv4.js';
import { decodeUdp, encodeUdp, udpChecksumOk } from '../udp.js';
import { PacketError, u16 } from '../wire.js';
import type { StackContext } from './context.js';
import type { IcmpErrorReport, IcmpLayer } from './icmp.js';
import type { Ipv4Input, Ipv4Layer, Ipv4SendResult } from './ipv4.js';
import { allocateEphemeralPort } from './ports.js';

export interface UdpMessage {
  readonly from: number;
  readonly fromPort: number;
  /** The address it was sent to (ours, or a broadcast address). */
  readonly to: number;
  readonly payload: Uint8Array;
}

export interface UdpSocketHandlers {
  /** Each datagram as it arrives; without it datagrams wait in the socket for `receive()`. */
  onMessage?(message: UdpMessage): void;
  /** An ICMP error about a datagram this socket sent (e.g. port unreachable). */
  onError?(error: IcmpErrorReport): void;
}

export type UdpSendResult =
  Ipv4SendResult | { readonly ok: false; readonly code: 'closed'; readonly detail: string };

export type UdpBindResult =
  | { readonly ok: true; readonly socket: UdpSocket }
  | { readonly ok: false; readonly code: 'address-in-use'; readonly detail: string };

export interface UdpBindOptions {
  /** Datagrams held for `receive()` before new ones are dropped (default 64). */
  readonly queueLimit?: number;
}

export class UdpSocket {
  handlers: UdpSocketHandlers;
  private readonly queue: UdpMessage[] = [];
  private open = true;
  private readonly errors: IcmpErrorReport[] = [];

  constructor(
    private readonly layer: UdpLayer,
    readonly localPort: number,
    handlers: UdpSocketHandlers,
    private readonly queueLimit: number,
  ) {
    this.handlers = handlers;
  }

  get closed(): boolean {
    return !this.open;
  }

  /** Datagrams waiting for `receive()`. */
  get pending(): number {
    return this.queue.length;
  }

  sendTo(address: number, port: number, payload: Uint8Array): UdpSendResult {
    if (!this.open)
      return { ok: false, code: 'closed', detail: `socket on port ${this.localPort} is closed` };
    assert(Number.isInteger(port) && port > 0 && port < 65536, `bad destination port ${port}`);
    return this.layer.send(this.localPort, address >>> 0, port, payload);
  }

  /** Next waiting datagram, if any. */
  receive(): UdpMessage | undefined {
    return this.queue.shift();
  }

  /** ICMP errors received for this socket since the last call (when no `onError` handler is set). */
  takeErrors(): IcmpErrorReport[] {
    return this.errors.splice(0);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.layer.unbind(this.localPort);
  }

  /** @internal */
  deliver(message: UdpMessage, ctx: StackContext, counters: UdpLayer['counters']): void {
    const handler = this.handlers.onMessage;
    if (handler !== undefined) {
      ctx.defer(() => handler.call(this.handlers, message));
      return;
    }
    if (this.queue.length >= this.queueLimit) {
      ctx.count(counters, 'queueOverflow');
      return;
    }
    this.queue.push(message);
  }

  /** @internal */
  error(report: IcmpErrorReport, ctx: StackContext): void {
    const handler = this.handlers.onError;
    if (handler !== undefined) ctx.defer(() => handler.call(this.handlers, report));
    else if (this.errors.length < 16) this.errors.push(report);
  }
}

export class UdpLayer {
  readonly counters = {
    datagramsIn: 0,
    datagramsOut: 0,
    malformed: 0,
    badChecksum: 0,
    noPort: 0,
    queueOverflow: 0,
    errorsIn: 0,
  };
  private readonly sockets = new Map<number, UdpSocket>();

  constructor(
    private readonly ctx: StackContext,
    private readonly ip: Ipv4Layer,
    private readonly icmp: IcmpLayer,
  ) {}

  /** Binds `port` (0 or omitted: an ephemeral port, RFC 6056). */
  bind(port = 0, handlers: UdpSocketHandlers = {}, options: UdpBindOptions = {}): UdpBindResult {
    assert(Number.isInteger(port) && port >= 0 && port < 65536, `bad UDP port ${port}`);
    if (this.sockets.has(port))
      return { ok: false, code: 'address-in-use', detail: `UDP port ${port} is already bound` };
    const local = port === 0 ? allocateEphemeralPort(this.ctx.random, (p) => this.sockets.has(p)) : port;
    const socket = new UdpSocket(this, local, handlers, options.queueLimit ?? 64);
    this.sockets.set(local, socket);
    return { ok: true, socket };
  }

  isBound(port: number): boolean {
    return this.sockets.has(port);
  }

  /** @internal */
  unbind(port: number): void {
    this.sockets.delete(port);
  }

  /** @internal */
  send(srcPort: number, dst: number, dstPort: number, payload: Uint8Array): UdpSendResult {
    const ph = { version: 4 as const, src: this.ip.address, dst };
    return this.ctx.run(() => {
      this.ctx.count(this.counters, 'datagramsOut');
      return this.ip.send(IpProtocol.UDP, dst, encodeUdp({ srcPort, dstPort, payload }, ph));
    });
  }

  input(input: Ipv4Input): void {
    this.ctx.count(this.counters, 'datagramsIn');
    const p = input.packet;
    let datagram;
    try {
      datagram = decodeUdp(p.payload);
    } catch (e) {
      if (!(e instanceof PacketError)) throw e;
      this.ctx.count(this.counters, 'malformed');
      return;
    }
    const bytes = p.payload.subarray(0, 8 + datagram.payload.length);
    if (!udpChecksumOk(bytes, { version: 4, src: p.src, dst: p.dst })) {
      this.ctx.count(this.counters, 'badChecksum');
      return;
    }
    const socket = this.sockets.get(datagram.dstPort);
    if (socket === undefined) {
      this.ctx.count(this.counters, 'noPort');
      // RFC 1122 §4.1.3.1: port unreachable (sendError leaves out broadcasts).
      this.icmp.sendError(IcmpType.DESTINATION_UNREACHABLE, IcmpUnreachableCode.PORT, input);
      return;
    }
    socket.deliver(
      { from: p.src, fromPort: datagram.srcPort, to: p.dst, payload: datagram.payload.slice() },
      this.ctx,
      this.counters,
    );
  }

  /** RFC 1122 §4.1.3.3: ICMP errors go to the application. */
  icmpError(report: IcmpErrorReport): void {
    if (report.transport.length < 8) return;
    const socket = this.sockets.get(u16(report.transport, 0));
    if (socket === undefined) return;
    this.ctx.count(this.counters, 'errorsIn');
    socket.error(report, this.ctx);
  }
}
