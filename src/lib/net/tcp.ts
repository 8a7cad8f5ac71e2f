/** TCP header (RFC 9293 §3.1) with its options (§3.2; RFC 7323 window scale and timestamps; RFC 2018 SACK). */
import { assert } from '../../common/errors.js';
import { PacketError, type PseudoHeader, need, put16, put32, u16, u32, upperLayerChecksum } from './wire.js';

/** Control bits; AE (RFC 9768 / former NS) is bit 8, the rest are header byte 13. */
export const TcpFlags = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
  AE: 0x100,
} as const;

export type TcpOption =
  | { readonly type: 'eol' }
  | { readonly type: 'nop' }
  | { readonly type: 'mss'; readonly mss: number }
  | { readonly type: 'window-scale'; readonly shift: number }
  | { readonly type: 'sack-permitted' }
  | { readonly type: 'sack'; readonly blocks: readonly (readonly [number, number])[] }
  | { readonly type: 'timestamps'; readonly value: number; readonly echo: number }
  | { readonly type: 'other'; readonly kind: number; readonly data: Uint8Array };

export interface TcpSegment {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** The three reserved bits of byte 12 (kept so that decoding is lossless). */
  readonly reserved: number;
  readonly flags: number;
  readonly window: number;
  readonly urgentPointer: number;
  readonly options: readonly TcpOption[];
  readonly payload: Uint8Array;
}

const OPTION_KIND = {
  eol: 0,
  nop: 1,
  mss: 2,
  'window-scale': 3,
  'sack-permitted': 4,
  sack: 5,
  timestamps: 8,
} as const;
const FIXED_LENGTH: Readonly<Record<number, number>> = { 2: 4, 3: 3, 4: 2, 8: 10 };

export function decodeTcp(buf: Uint8Array, base = 0): TcpSegment {
  need(buf, 20, base, 'TCP_TRUNCATED', 'TCP header');
  const offset = ((buf[12] ?? 0) >>> 4) * 4;
  if (offset < 20)
    throw new PacketError('TCP_BAD_OFFSET', `data offset ${offset} below 20`, base + 12, 'tcp.dataOffset');
  if (offset > buf.length)
    throw new PacketError(
      'TCP_TRUNCATED',
      `data offset ${offset} exceeds the ${buf.length} bytes received`,
      base + 12,
      'tcp.dataOffset',
    );
  return {
    srcPort: u16(buf, 0),
    dstPort: u16(buf, 2),
    seq: u32(buf, 4),
    ack: u32(buf, 8),
    reserved: ((buf[12] ?? 0) >>> 1) & 7,
    flags: (buf[13] ?? 0) | (((buf[12] ?? 0) & 1) << 8),
    window: u16(buf, 14),
    urgentPointer: u16(buf, 18),
    options: decodeTcpOptions(buf.subarray(20, offset), base + 20),
    payload: buf.subarray(offset),
  };
}

/** Decodes an option list; bytes after End of Option List are padding. */
export function decodeTcpOptions(buf: Uint8Array, base = 0): TcpOption[] {
  const out: TcpOption[] = [];
  let at = 0;
  while (at < buf.length) {
    const kind = buf[at] ?? 0;
    if (kind === 0) {
      out.push({ type: 'eol' });
      break;
    }
    if (kind === 1) {
      out.push({ type: 'nop' });
      at++;
      continue;
    }
    if (at + 1 >= buf.length)
      throw new PacketError('TCP_BAD_OPTION', `option ${kind} has no length`, base + at, 'tcp.options');
    const len = buf[at + 1] ?? 0;
    if (len < 2 || at + len > buf.length)
      throw new PacketError(
        'TCP_BAD_OPTION',
        `option ${kind} length ${len} does not fit`,
        base + at + 1,
        'tcp.options',
      );
    const fixed = FIXED_LENGTH[kind];
    if (fixed !== undefined && len !== fixed)
      throw new PacketError(
        'TCP_BAD_OPTION',
        `option ${kind} must be ${fixed} bytes, is ${len}`,
        base + at + 1,
        'tcp.options',
      );
    const d = at + 2;
    switch (kind) {
      case 2:
        out.push({ type: 'mss', mss: u16(buf, d) });
        break;
      case 3:
        out.push({ type: 'window-scale', shift: buf[d] ?? 0 });
        break;
      case 4:
        out.push({ type: 'sack-permitted' });
        break;
      case 5: {
        if ((len - 2) % 8 !== 0 || len === 2)
          throw new PacketError(
            'TCP_BAD_OPTION',
            `SACK length ${len} is not 2 + 8n`,
            base + at + 1,
            'tcp.options',
          );
        const blocks: [number, number][] = [];
        for (let i = d; i < at + len; i += 8) blocks.push([u32(buf, i), u32(buf, i + 4)]);
        out.push({ type: 'sack', blocks });
        break;
      }
      case 8:
        out.push({ type: 'timestamps', value: u32(buf, d), echo: u32(buf, d + 4) });
        break;
      default:
        out.push({ type: 'other', kind, data: buf.slice(d, at + len) });
    }
    at += len;
  }
  return out;
}

export function encodeTcpOptions(options: readonly TcpOption[]): Uint8Array {
  const parts: number[] = [];
  const p16 = (v: number) => parts.push((v >>> 8) & 255, v & 255);
  const p32 = (v: number) => parts.push((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  for (const o of options) {
    switch (o.type) {
      case 'eol':
      case 'nop':
      case 'sack-permitted':
        parts.push(OPTION_KIND[o.type]);
        if (o.type === 'sack-permitted') parts.push(2);
        break;
      case 'mss':
        parts.push(2, 4);
        p16(o.mss);
        break;
      case 'window-scale':
        parts.push(3, 3, o.shift);
        break;
      case 'sack':
        assert(o.blocks.length > 0 && o.blocks.length <= 4, 'SACK carries 1 to 4 blocks');
        parts.push(5, 2 + 8 * o.blocks.length);
        for (const [l, r] of o.blocks) {
          p32(l);
          p32(r);
        }
        break;
      case 'timestamps':
        parts.push(8, 10);
        p32(o.value);
        p32(o.echo);
        break;
      case 'other':
        assert(o.kind > 1 && o.data.length <= 38, `bad TCP option kind ${o.kind}`);
        parts.push(o.kind, o.data.length + 2, ...o.data);
        break;
    }
  }
  while (parts.length % 4 !== 0) parts.push(0);
  return Uint8Array.from(parts);
}

/** Encodes a segment with its checksum computed over the pseudo-header. */
export function encodeTcp(s: TcpSegment, ph: PseudoHeader): Uint8Array {
  const options = encodeTcpOptions(s.options);
  const offset = 20 + options.length;
  assert(offset <= 60, `TCP options need ${options.length} bytes, more than 40`);
  const out = new Uint8Array(offset + s.payload.length);
  put16(out, 0, s.srcPort);
  put16(out, 2, s.dstPort);
  put32(out, 4, s.seq);
  put32(out, 8, s.ack);
  out[12] = ((offset / 4) << 4) | ((s.reserved & 7) << 1) | ((s.flags >>> 8) & 1);
  out[13] = s.flags & 0xff;
  put16(out, 14, s.window);
  put16(out, 18, s.urgentPointer);
  out.set(options, 20);
  out.set(s.payload, offset);
  put16(out, 16, upperLayerChecksum(ph, 6, out));
  return out;
}

export function tcpChecksumOk(bytes: Uint8Array, ph: PseudoHeader): boolean {
  return upperLayerChecksum(ph, 6, bytes) === 0;
}

/** Flag names in tcpdump order, e.g. `SYN,ACK`. */
export function formatTcpFlags(flags: number): string {
  const names: string[] = [];
  for (const [name, bit] of Object.entries(TcpFlags)) if (flags & bit) names.push(name);
  return names.length === 0 ? 'NONE' : names.join(',');
}
