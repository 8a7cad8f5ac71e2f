/** ICMP for IPv4 (RFC 792) and ICMPv6 (RFC 4443): type, code, the 4-byte rest of header, data. */
import { type PseudoHeader, internetChecksum, need, put16, put32, u32, upperLayerChecksum } from './wire.js';

export const IcmpType = {
  ECHO_REPLY: 0,
  DESTINATION_UNREACHABLE: 3,
  SOURCE_QUENCH: 4,
  REDIRECT: 5,
  ECHO_REQUEST: 8,
  ROUTER_ADVERTISEMENT: 9,
  ROUTER_SOLICITATION: 10,
  TIME_EXCEEDED: 11,
  PARAMETER_PROBLEM: 12,
  TIMESTAMP_REQUEST: 13,
  TIMESTAMP_REPLY: 14,
  INFO_REQUEST: 15,
  INFO_REPLY: 16,
  ADDRESS_MASK_REQUEST: 17,
  ADDRESS_MASK_REPLY: 18,
} as const;

export const Icmpv6Type = {
  DESTINATION_UNREACHABLE: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAMETER_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  ROUTER_SOLICITATION: 133,
  ROUTER_ADVERTISEMENT: 134,
  NEIGHBOR_SOLICITATION: 135,
  NEIGHBOR_ADVERTISEMENT: 136,
  REDIRECT: 137,
} as const;

/** Destination-unreachable codes (RFC 792, RFC 1812 §5.2.7.1). */
export const IcmpUnreachableCode = {
  NET: 0,
  HOST: 1,
  PROTOCOL: 2,
  PORT: 3,
  FRAG_NEEDED: 4,
  NET_PROHIBITED: 9,
  HOST_PROHIBITED: 10,
  ADMIN_PROHIBITED: 13,
} as const;

export interface IcmpMessage {
  readonly type: number;
  readonly code: number;
  /** The 32 bits after the checksum: identifier/sequence, pointer, gateway, MTU or unused. */
  readonly rest: number;
  readonly payload: Uint8Array;
}

/** ICMP error types (RFC 1122 §3.2.2), whose data begins with the offending datagram's header. */
export function isIcmpError(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** ICMPv6 error messages are types 0–127 (RFC 4443 §2.1). */
export function isIcmpv6Error(type: number): boolean {
  return type < 128;
}

export function decodeIcmp(buf: Uint8Array, base = 0): IcmpMessage {
  return decode(buf, base, 'ICMP');
}

export function decodeIcmpv6(buf: Uint8Array, base = 0): IcmpMessage {
  return decode(buf, base, 'ICMPV6');
}

function decode(buf: Uint8Array, base: number, what: 'ICMP' | 'ICMPV6'): IcmpMessage {
  need(buf, 8, base, `${what}_TRUNCATED`, `${what} header`);
  return { type: buf[0] ?? 0, code: buf[1] ?? 0, rest: u32(buf, 4), payload: buf.subarray(8) };
}

function layout(m: IcmpMessage): Uint8Array {
  const out = new Uint8Array(8 + m.payload.length);
  out[0] = m.type;
  out[1] = m.code;
  put32(out, 4, m.rest);
  out.set(m.payload, 8);
  return out;
}

export function encodeIcmp(m: IcmpMessage): Uint8Array {
  const out = layout(m);
  put16(out, 2, internetChecksum(out));
  return out;
}

/** ICMPv6's checksum covers the IPv6 pseudo-header (RFC 4443 §2.3). */
export function encodeIcmpv6(m: IcmpMessage, ph: PseudoHeader & { version: 6 }): Uint8Array {
  const out = layout(m);
  put16(out, 2, upperLayerChecksum(ph, 58, out));
  return out;
}

export function icmpChecksumOk(bytes: Uint8Array): boolean {
  return internetChecksum(bytes) === 0;
}

export function icmpv6ChecksumOk(bytes: Uint8Array, ph: PseudoHeader & { version: 6 }): boolean {
  return upperLayerChecksum(ph, 58, bytes) === 0;
}

/** Identifier and sequence number of an echo request or reply. */
export function echoFields(m: IcmpMessage): { identifier: number; sequence: number } {
  return { identifier: m.rest >>> 16, sequence: m.rest & 0xffff };
}

export function echoRest(identifier: number, sequence: number): number {
  return (((identifier & 0xffff) << 16) | (sequence & 0xffff)) >>> 0;
}
