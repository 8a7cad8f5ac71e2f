/** IPv6 (RFC 8200 §3) with its extension header chain (§4). */
import { assert } from '../../common/errors.js';
import { PacketError, need, put16, put32, u16, u32 } from './wire.js';

export const Ipv6NextHeader = {
  HOP_BY_HOP: 0,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  NO_NEXT: 59,
  DESTINATION: 60,
  MOBILITY: 135,
  HIP: 139,
  SHIM6: 140,
} as const;

/** Extension headers in the type-length-data form (RFC 8200 §4.2 Hdr Ext Len in 8-octet units). */
const TLV_EXTENSIONS: ReadonlySet<number> = new Set([0, 43, 60, 135, 139, 140]);

export type Ipv6Extension =
  /** RFC 8200 §4.5. */
  | {
      readonly kind: 'fragment';
      readonly fragmentOffset: number;
      readonly moreFragments: boolean;
      readonly identification: number;
      /** The reserved octet and the two reserved bits, kept so that decoding is lossless. */
      readonly reserved: number;
      readonly reservedBits: number;
    }
  /** Hop-by-hop, routing, destination options, mobility, HIP, shim6 and AH (RFC 4302 §2.2, 4-octet units). */
  | { readonly kind: 'generic'; readonly type: number; readonly data: Uint8Array };

export interface Ipv6Packet {
  readonly trafficClass: number;
  readonly flowLabel: number;
  readonly hopLimit: number;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  /** In order; `protocol` is the Next Header of the last one (or of the fixed header). */
  readonly extensions: readonly Ipv6Extension[];
  /** Upper-layer protocol: 6, 17, 58, … or 50 (ESP) / 59 (no next header), where the chain stops. */
  readonly protocol: number;
  readonly payload: Uint8Array;
}

const MAX_EXTENSIONS = 16;

function extensionType(e: Ipv6Extension): number {
  return e.kind === 'fragment' ? Ipv6NextHeader.FRAGMENT : e.type;
}

function extensionLength(e: Ipv6Extension): number {
  return e.kind === 'fragment' ? 8 : 2 + e.data.length;
}

export function decodeIpv6(buf: Uint8Array, base = 0): Ipv6Packet {
  need(buf, 40, base, 'IPV6_TRUNCATED', 'IPv6 header');
  const w0 = u32(buf, 0);
  if (w0 >>> 28 !== 6)
    throw new PacketError('IPV6_BAD_VERSION', `version ${w0 >>> 28}`, base, 'ipv6.version');
  const payloadLength = u16(buf, 4);
  if (payloadLength === 0 && buf[6] === Ipv6NextHeader.HOP_BY_HOP && buf.length > 40)
    throw new PacketError(
      'IPV6_JUMBOGRAM',
      'jumbograms (RFC 2675) are not supported',
      base + 4,
      'ipv6.payloadLength',
    );
  if (40 + payloadLength > buf.length)
    throw new PacketError(
      'IPV6_TRUNCATED',
      `payload length ${payloadLength} exceeds the ${buf.length - 40} bytes received`,
      base + 4,
      'ipv6.payloadLength',
    );
  const end = 40 + payloadLength;
  const extensions: Ipv6Extension[] = [];
  let next = buf[6] ?? 0;
  let at = 40;
  for (;;) {
    if (next === Ipv6NextHeader.FRAGMENT) {
      if (at + 8 > end)
        throw new PacketError('IPV6_TRUNCATED', 'fragment header truncated', base + at, 'ipv6.fragment');
      const f = u16(buf, at + 2);
      extensions.push({
        kind: 'fragment',
        fragmentOffset: f & 0xfff8,
        moreFragments: (f & 1) !== 0,
        identification: u32(buf, at + 4),
        reserved: buf[at + 1] ?? 0,
        reservedBits: (f >>> 1) & 3,
      });
      next = buf[at] ?? 0;
      at += 8;
    } else if (TLV_EXTENSIONS.has(next) || next === Ipv6NextHeader.AH) {
      if (next === Ipv6NextHeader.HOP_BY_HOP && extensions.length > 0)
        throw new PacketError(
          'IPV6_BAD_EXTENSION_ORDER',
          'hop-by-hop options not first (RFC 8200 §4.1)',
          base + at,
          'ipv6.extensions',
        );
      if (at + 2 > end)
        throw new PacketError(
          'IPV6_TRUNCATED',
          `extension header ${next} truncated`,
          base + at,
          'ipv6.extensions',
        );
      const len = next === Ipv6NextHeader.AH ? ((buf[at + 1] ?? 0) + 2) * 4 : ((buf[at + 1] ?? 0) + 1) * 8;
      if (at + len > end)
        throw new PacketError(
          'IPV6_TRUNCATED',
          `extension header ${next} of ${len} bytes overruns the payload`,
          base + at + 1,
          'ipv6.extensions',
        );
      extensions.push({ kind: 'generic', type: next, data: buf.slice(at + 2, at + len) });
      next = buf[at] ?? 0;
      at += len;
    } else {
      break;
    }
    if (extensions.length > MAX_EXTENSIONS)
      throw new PacketError(
        'IPV6_TOO_MANY_EXTENSIONS',
        `more than ${MAX_EXTENSIONS} extension headers`,
        base + at,
        'ipv6.extensions',
      );
  }
  return {
    trafficClass: (w0 >>> 20) & 0xff,
    flowLabel: w0 & 0xfffff,
    hopLimit: buf[7] ?? 0,
    src: buf.slice(8, 24),
    dst: buf.slice(24, 40),
    extensions,
    protocol: next,
    payload: buf.subarray(at, end),
  };
}

export function encodeIpv6(p: Ipv6Packet): Uint8Array {
  const extLen = p.extensions.reduce((n, e) => n + extensionLength(e), 0);
  const total = 40 + extLen + p.payload.length;
  assert(total - 40 <= 65535, `IPv6 payload of ${total - 40} bytes needs a jumbogram`);
  assert(p.src.length === 16 && p.dst.length === 16, 'IPv6 addresses are 16 bytes');
  const out = new Uint8Array(total);
  put32(out, 0, (6 << 28) | ((p.trafficClass & 0xff) << 20) | (p.flowLabel & 0xfffff));
  put16(out, 4, total - 40);
  out[6] = p.extensions[0] ? extensionType(p.extensions[0]) : p.protocol;
  out[7] = p.hopLimit;
  out.set(p.src, 8);
  out.set(p.dst, 24);
  let at = 40;
  p.extensions.forEach((e, i) => {
    const following = p.extensions[i + 1];
    out[at] = following ? extensionType(following) : p.protocol;
    if (e.kind === 'fragment') {
      assert(
        e.fragmentOffset % 8 === 0 && e.fragmentOffset < 65536,
        `bad fragment offset ${e.fragmentOffset}`,
      );
      out[at + 1] = e.reserved;
      put16(out, at + 2, e.fragmentOffset | ((e.reservedBits & 3) << 1) | (e.moreFragments ? 1 : 0));
      put32(out, at + 4, e.identification);
    } else {
      const len = 2 + e.data.length;
      if (e.type === Ipv6NextHeader.AH) {
        assert(len % 4 === 0 && len >= 8, `AH length ${len} is not a multiple of 4 of at least 8`);
        out[at + 1] = len / 4 - 2;
      } else {
        assert(
          len % 8 === 0 && len <= 2048,
          `extension header length ${len} is not a multiple of 8 up to 2048`,
        );
        out[at + 1] = len / 8 - 1;
      }
      out.set(e.data, at + 2);
    }
    at += extensionLength(e);
  });
  out.set(p.payload, at);
  return out;
}
