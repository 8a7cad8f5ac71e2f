/** IPv4 (RFC 791 §3.1), header checksum (RFC 1071), options as a list; fragments are reassembled elsewhere. */
import { assert } from '../../common/errors.js';
import { PacketError, internetChecksum, need, put16, put32, u16, u32 } from './wire.js';

/** IANA protocol numbers used by Rampart. */
export const IpProtocol = {
  HOPOPT: 0,
  ICMP: 1,
  IGMP: 2,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  GRE: 47,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  SCTP: 132,
  UDPLITE: 136,
} as const;

/** RFC 791 §3.1 option types with no length octet. */
export const IPV4_OPTION_EOL = 0;
export const IPV4_OPTION_NOP = 1;

/** An IPv4 option: EOL and NOP carry no data; every other type is type, length, `data`. */
export interface Ipv4Option {
  readonly type: number;
  readonly data: Uint8Array;
}

export interface Ipv4Packet {
  readonly dscp: number;
  readonly ecn: number;
  readonly identification: number;
  /** The reserved flag bit (must be zero per RFC 791; kept so that decoding is lossless). */
  readonly reservedFlag: boolean;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  readonly fragmentOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly src: number;
  readonly dst: number;
  readonly options: readonly Ipv4Option[];
  readonly payload: Uint8Array;
}

export interface Ipv4DecodeOptions {
  /** Check the header checksum (default true); the kernel drops a bad one before any netfilter hook. */
  readonly verifyChecksum?: boolean;
}

/** Length of the header `encodeIpv4` will write for these options. */
export function ipv4HeaderLength(options: readonly Ipv4Option[]): number {
  let n = 0;
  for (const o of options)
    n += o.type === IPV4_OPTION_EOL || o.type === IPV4_OPTION_NOP ? 1 : 2 + o.data.length;
  return 20 + ((n + 3) & ~3);
}

/**
 * Decodes a datagram. Bytes beyond the total length (link-layer padding) are ignored; everything else
 * that does not follow RFC 791 throws a `PacketError` with the offset of the offending field.
 */
export function decodeIpv4(buf: Uint8Array, base = 0, opts: Ipv4DecodeOptions = {}): Ipv4Packet {
  need(buf, 20, base, 'IPV4_TRUNCATED', 'IPv4 header');
  const b0 = buf[0] ?? 0;
  if (b0 >>> 4 !== 4) throw new PacketError('IPV4_BAD_VERSION', `version ${b0 >>> 4}`, base, 'ipv4.version');
  const ihl = (b0 & 0xf) * 4;
  if (ihl < 20) throw new PacketError('IPV4_BAD_IHL', `header length ${ihl} below 20`, base, 'ipv4.ihl');
  need(buf, ihl, base, 'IPV4_TRUNCATED', 'IPv4 header with options');
  const total = u16(buf, 2);
  if (total < ihl)
    throw new PacketError(
      'IPV4_BAD_LENGTH',
      `total length ${total} below header length ${ihl}`,
      base + 2,
      'ipv4.totalLength',
    );
  if (total > buf.length)
    throw new PacketError(
      'IPV4_TRUNCATED',
      `total length ${total} exceeds the ${buf.length} bytes received`,
      base + 2,
      'ipv4.totalLength',
    );
  if ((opts.verifyChecksum ?? true) && internetChecksum(buf, 0, ihl) !== 0)
    throw new PacketError(
      'IPV4_BAD_CHECKSUM',
      `header checksum 0x${u16(buf, 10).toString(16)} is wrong`,
      base + 10,
      'ipv4.checksum',
    );
  const frag = u16(buf, 6);
  const fragmentOffset = (frag & 0x1fff) * 8;
  if (fragmentOffset + total - ihl > 65535)
    throw new PacketError(
      'IPV4_BAD_FRAGMENT',
      `fragment ends beyond 65535 bytes`,
      base + 6,
      'ipv4.fragmentOffset',
    );
  return {
    dscp: (buf[1] ?? 0) >>> 2,
    ecn: (buf[1] ?? 0) & 3,
    identification: u16(buf, 4),
    reservedFlag: (frag & 0x8000) !== 0,
    dontFragment: (frag & 0x4000) !== 0,
    moreFragments: (frag & 0x2000) !== 0,
    fragmentOffset,
    ttl: buf[8] ?? 0,
    protocol: buf[9] ?? 0,
    src: u32(buf, 12),
    dst: u32(buf, 16),
    options: decodeOptions(buf, ihl, base),
    payload: buf.subarray(ihl, total),
  };
}

function decodeOptions(buf: Uint8Array, ihl: number, base: number): Ipv4Option[] {
  const out: Ipv4Option[] = [];
  let at = 20;
  while (at < ihl) {
    const type = buf[at] ?? 0;
    if (type === IPV4_OPTION_EOL) {
      // Bytes after End of Option List are padding (RFC 791 §3.1).
      out.push({ type, data: new Uint8Array(0) });
      break;
    }
    if (type === IPV4_OPTION_NOP) {
      out.push({ type, data: new Uint8Array(0) });
      at++;
      continue;
    }
    if (at + 1 >= ihl)
      throw new PacketError(
        'IPV4_BAD_OPTION',
        `option ${type} has no length octet`,
        base + at,
        'ipv4.options',
      );
    const len = buf[at + 1] ?? 0;
    if (len < 2 || at + len > ihl)
      throw new PacketError(
        'IPV4_BAD_OPTION',
        `option ${type} length ${len} does not fit the header`,
        base + at + 1,
        'ipv4.options',
      );
    out.push({ type, data: buf.slice(at + 2, at + len) });
    at += len;
  }
  return out;
}

/** Encodes a datagram, computing header length, total length and header checksum. */
export function encodeIpv4(p: Ipv4Packet): Uint8Array {
  const ihl = ipv4HeaderLength(p.options);
  assert(ihl <= 60, `IPv4 options need ${ihl - 20} bytes, more than 40`);
  const total = ihl + p.payload.length;
  assert(total <= 65535, `IPv4 datagram of ${total} bytes exceeds 65535`);
  assert(
    p.fragmentOffset % 8 === 0 && p.fragmentOffset <= 0x1fff * 8,
    `bad fragment offset ${p.fragmentOffset}`,
  );
  const out = new Uint8Array(total);
  out[0] = 0x40 | (ihl >>> 2);
  out[1] = ((p.dscp & 0x3f) << 2) | (p.ecn & 3);
  put16(out, 2, total);
  put16(out, 4, p.identification);
  put16(
    out,
    6,
    (p.reservedFlag ? 0x8000 : 0) |
      (p.dontFragment ? 0x4000 : 0) |
      (p.moreFragments ? 0x2000 : 0) |
      (p.fragmentOffset / 8),
  );
  out[8] = p.ttl;
  out[9] = p.protocol;
  put32(out, 12, p.src);
  put32(out, 16, p.dst);
  let at = 20;
  for (const o of p.options) {
    out[at++] = o.type;
    if (o.type === IPV4_OPTION_EOL || o.type === IPV4_OPTION_NOP) continue;
    assert(o.data.length <= 253, `option ${o.type} data too long`);
    out[at++] = o.data.length + 2;
    out.set(o.data, at);
    at += o.data.length;
  }
  put16(out, 10, internetChecksum(out, 0, ihl));
  out.set(p.payload, ihl);
  return out;
}

/** True when the datagram is a fragment (not the whole datagram). */
export function isFragment(p: Ipv4Packet): boolean {
  return p.moreFragments || p.fragmentOffset !== 0;
}
