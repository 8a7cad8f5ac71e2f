/**
 * The view of an IPv4 datagram the filter table evaluates: header fields, the transport fields the
 * matches read (only when the datagram is not a later fragment and the header is there), the interfaces
 * and the connection tracking state.
 */
import { decodeIpv4, type Ipv4Packet } from '../net/ipv4.js';
import { u16 } from '../net/wire.js';

export interface FilterPacket {
  readonly src: number;
  readonly dst: number;
  readonly protocol: number;
  /** IP total length: what the byte counters add. */
  readonly length: number;
  /** Fragment offset in 8-byte units (the kernel's `fragoff`). */
  readonly fragmentOffset: number;
  readonly inInterface: string;
  readonly outInterface: string;
  /** Bytes of transport header present (IP payload length; 0 for later fragments). */
  readonly l4Length: number;
  /** Source / destination port (TCP, UDP, UDP-Lite, SCTP, DCCP), when `l4Length` ≥ 4; else -1. */
  readonly sport: number;
  readonly dport: number;
  /** TCP header byte 13 when `l4Length` ≥ 14; else -1. */
  readonly tcpFlags: number;
  /** ICMP type when `l4Length` ≥ 1 and code when ≥ 2; else -1. */
  readonly icmpType: number;
  readonly icmpCode: number;
  /** One `CtState` bit, set by connection tracking (INVALID when it is off: no ct attached). */
  ctState: number;
}

const PORT_PROTOCOLS = new Set([6, 17, 33, 132, 136]);

/** Builds the filter view of a decoded datagram (the decoder has already checked the IP header). */
export function filterPacket(
  ip: Ipv4Packet,
  headerLength: number,
  inInterface: string,
  outInterface: string,
  ctState: number,
): FilterPacket {
  const p = ip.payload;
  const fragoff = ip.fragmentOffset / 8;
  const l4 = fragoff === 0 ? p.length : 0;
  const ports = PORT_PROTOCOLS.has(ip.protocol) && l4 >= 4;
  const isTcp = ip.protocol === 6;
  const isIcmp = ip.protocol === 1;
  return {
    src: ip.src,
    dst: ip.dst,
    protocol: ip.protocol,
    length: headerLength + p.length,
    fragmentOffset: fragoff,
    inInterface,
    outInterface,
    l4Length: l4,
    sport: ports ? u16(p, 0) : -1,
    dport: ports ? u16(p, 2) : -1,
    tcpFlags: isTcp && l4 >= 14 ? (p[13] ?? 0) : -1,
    icmpType: isIcmp && l4 >= 1 ? (p[0] ?? 0) : -1,
    icmpCode: isIcmp && l4 >= 2 ? (p[1] ?? 0) : -1,
    ctState,
  };
}

/** Decodes and views raw IPv4 bytes; throws `PacketError` for what ip_rcv would drop. */
export function filterPacketFromBytes(
  datagram: Uint8Array,
  inInterface: string,
  outInterface: string,
  ctState: number,
): FilterPacket {
  const ip = decodeIpv4(datagram);
  return filterPacket(ip, ((datagram[0] ?? 0) & 15) * 4, inInterface, outInterface, ctState);
}
