/**
 * The IPv4 layer of a host (RFC 791, RFC 1122 §3.3): one interface address with its subnet and default
 * gateway; output with fragmentation when a datagram exceeds the MTU and DF is clear (`fragmentIpv4`),
 * input with header checks (`decodeIpv4`) and fragment reassembly (`Ipv4Reassembler`), then dispatch to
 * the transport by protocol number.
 */
import { formatIpv4 } from '../address.js';
import { EtherType } from '../ethernet.js';
import { Ipv4Reassembler, fragmentIpv4 } from '../ipv4-fragments.js';
import { type Ipv4Packet, decodeIpv4, encodeIpv4 } from '../ipv4.js';
import { PacketError } from '../wire.js';
import type { ArpLayer } from './arp.js';
import type { StackContext } from './context.js';
import { BROADCAST_MAC, type EthernetLayer, type LinkInput } from './ethernet.js';

export const LIMITED_BROADCAST = 0xffffffff;

export interface Ipv4Options {
  readonly address: number;
  /** Subnet prefix length, 0–32. */
  readonly prefixLength: number;
  /** Default gateway on the subnet; without one, only on-link destinations are reachable. */
  readonly gateway?: number;
  /** TTL of outgoing datagrams (default 64, RFC 1700 / Linux ip_default_ttl). */
  readonly ttl?: number;
  /** Reassembly timeout (default 30 s). */
  readonly reassemblyTimeoutNs?: number;
}

/** A datagram received for this host, whole (reassembled if it came in fragments). */
export interface Ipv4Input {
  readonly packet: Ipv4Packet;
  /** The datagram's bytes as received; for a reassembled one, re-encoded from the first fragment's header. */
  readonly datagram: Uint8Array;
  /** Addressed to a broadcast address rather than to this host alone (no ICMP errors, RFC 1122 §3.2.2). */
  readonly broadcast: boolean;
  /** Number of fragments it came in (1 if it was not fragmented). */
  readonly fragments: number;
}

export type Ipv4SendResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'no-route' | 'too-big'; readonly detail: string };

export interface Ipv4SendOptions {
  readonly dontFragment?: boolean;
  readonly ttl?: number;
  readonly dscp?: number;
}

export class Ipv4Layer {
  readonly counters = {
    datagramsIn: 0,
    datagramsOut: 0,
    delivered: 0,
    malformed: 0,
    notForUs: 0,
    fragmentsIn: 0,
    fragmentsHeld: 0,
    fragmentsDropped: 0,
    reassembled: 0,
    reassemblyTimeouts: 0,
    fragmentsOut: 0,
    noRoute: 0,
    unknownProtocol: 0,
  };
  /** Transport handlers by IP protocol number. */
  readonly handlers = new Map<number, (input: Ipv4Input) => void>();
  /** Called for a datagram whose protocol has no handler (the ICMP layer answers protocol unreachable). */
  onUnknownProtocol: (input: Ipv4Input) => void = () => undefined;
  readonly address: number;
  readonly prefixLength: number;
  readonly netmask: number;
  readonly gateway: number | undefined;
  private readonly ttl: number;
  private readonly reassembler: Ipv4Reassembler;
  private readonly reassemblyTimeoutNs: number;
  private identification: number;

  constructor(
    private readonly ctx: StackContext,
    private readonly eth: EthernetLayer,
    private readonly arp: ArpLayer,
    options: Ipv4Options,
  ) {
    this.address = options.address >>> 0;
    this.prefixLength = options.prefixLength;
    this.netmask = options.prefixLength === 0 ? 0 : (0xffffffff << (32 - options.prefixLength)) >>> 0;
    this.gateway = options.gateway;
    this.ttl = options.ttl ?? 64;
    this.reassemblyTimeoutNs = options.reassemblyTimeoutNs ?? 30e9;
    this.reassembler = new Ipv4Reassembler({ timeoutNs: BigInt(this.reassemblyTimeoutNs) });
    // RFC 6864 §4.1: the identification only has to be unique per source, destination and protocol.
    this.identification = ctx.random.below(0x10000);
  }

  get broadcastAddress(): number {
    return (this.address | ~this.netmask) >>> 0;
  }

  onLink(dst: number): boolean {
    return ((dst ^ this.address) & this.netmask) === 0;
  }

  isBroadcast(dst: number): boolean {
    return dst === LIMITED_BROADCAST || (this.prefixLength < 31 && dst === this.broadcastAddress);
  }

  /** Next hop for `dst` (RFC 1122 §3.3.1.1): itself on the subnet, else the gateway. */
  route(dst: number): number | undefined {
    if (this.isBroadcast(dst) || this.onLink(dst)) return dst;
    return this.gateway;
  }

  send(protocol: number, dst: number, payload: Uint8Array, options: Ipv4SendOptions = {}): Ipv4SendResult {
    const nextHop = this.route(dst);
    if (nextHop === undefined) {
      this.ctx.count(this.counters, 'noRoute');
      return {
        ok: false,
        code: 'no-route',
        detail: `no route to ${formatIpv4(dst)} (no gateway configured)`,
      };
    }
    const packet: Ipv4Packet = {
      dscp: options.dscp ?? 0,
      ecn: 0,
      identification: this.identification,
      reservedFlag: false,
      dontFragment: options.dontFragment ?? false,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: options.ttl ?? this.ttl,
      protocol,
      src: this.address,
      dst,
      options: [],
      payload,
    };
    this.identification = (this.identification + 1) & 0xffff;
    const mtu = this.eth.mtu;
    if (20 + payload.length > mtu) {
      if (packet.dontFragment)
        return { ok: false, code: 'too-big', detail: `${20 + payload.length} bytes exceed the MTU ${mtu}` };
      if (20 + payload.length > 65535)
        return { ok: false, code: 'too-big', detail: `${20 + payload.length} bytes exceed 65535` };
      // RFC 791 §3.2: fragment to the MTU.
      for (const fragment of fragmentIpv4(packet, mtu)) {
        this.ctx.count(this.counters, 'fragmentsOut');
        this.transmit(nextHop, dst, encodeIpv4(fragment));
      }
      return { ok: true };
    }
    this.transmit(nextHop, dst, encodeIpv4(packet));
    return { ok: true };
  }

  private transmit(nextHop: number, dst: number, datagram: Uint8Array): void {
    this.ctx.count(this.counters, 'datagramsOut');
    if (this.isBroadcast(dst)) this.eth.send(BROADCAST_MAC, EtherType.IPV4, datagram);
    else this.arp.output(nextHop, datagram);
  }

  input(link: LinkInput): void {
    this.ctx.count(this.counters, 'datagramsIn');
    let packet: Ipv4Packet;
    try {
      packet = decodeIpv4(link.payload, link.offset);
    } catch (e) {
      if (!(e instanceof PacketError)) throw e;
      this.ctx.count(this.counters, 'malformed');
      return;
    }
    const broadcast = this.isBroadcast(packet.dst);
    // RFC 1122 §3.3.4.2 / §3.2.1.3: a host takes datagrams for its address or a broadcast; it does not forward.
    if (packet.dst !== this.address && !broadcast) {
      this.ctx.count(this.counters, 'notForUs');
      return;
    }
    const datagram = link.payload.subarray(
      0,
      packet.payload.byteOffset - link.payload.byteOffset + packet.payload.length,
    );
    if (!(packet.moreFragments || packet.fragmentOffset !== 0)) {
      this.deliver({ packet, datagram, broadcast, fragments: 1 });
      return;
    }
    this.ctx.count(this.counters, 'fragmentsIn');
    // The reassembler keeps views into the frame; copy, since the caller may reuse its buffer.
    const held = { ...packet, payload: packet.payload.slice() };
    const now = this.ctx.timers.now;
    const r = this.reassembler.push(held, BigInt(now));
    if (r.kind === 'held') {
      this.ctx.count(this.counters, 'fragmentsHeld');
      this.ctx.timers.timer(() => this.expire()).after(this.reassemblyTimeoutNs);
      return;
    }
    if (r.kind === 'dropped') {
      this.ctx.count(this.counters, 'fragmentsDropped');
      return;
    }
    this.ctx.count(this.counters, 'reassembled');
    this.deliver({ packet: r.packet, datagram: encodeIpv4(r.packet), broadcast, fragments: r.fragments });
  }

  private expire(): void {
    const expired = this.reassembler.expire(BigInt(this.ctx.timers.now));
    this.ctx.count(this.counters, 'reassemblyTimeouts', expired.length);
  }

  private deliver(input: Ipv4Input): void {
    const handler = this.handlers.get(input.packet.protocol);
    if (handler === undefined) {
      this.ctx.count(this.counters, 'unknownProtocol');
      this.onUnknownProtocol(input);
      return;
    }
    this.ctx.count(this.counters, 'delivered');
    handler(input);
  }
}
