/**
 * Shared helpers for the packet codecs: bounds-checked reads that fail with the byte offset, the
 * Internet checksum (RFC 1071) and the pseudo-headers of RFC 768 / RFC 793 (IPv4) and RFC 8200 §8.1 (IPv6).
 */
import { InputError } from '../../common/errors.js';

/**
 * A malformed packet: `code` names the rule broken, `location.offset` the byte (from the start of the
 * outermost buffer handed to the decoder) and `location.field` the header field.
 */
export class PacketError extends InputError {
  constructor(code: string, detail: string, offset: number, field?: string) {
    super(code, detail, field === undefined ? { offset } : { offset, field });
  }
}

/** Throws `code` unless `buf` holds at least `length` bytes. `base` is `buf`'s offset in the outer packet. */
export function need(buf: Uint8Array, length: number, base: number, code: string, what: string): void {
  if (buf.length < length)
    throw new PacketError(code, `${what} needs ${length} bytes, ${buf.length} available`, base + buf.length);
}

export function u16(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}

export function u32(b: Uint8Array, at: number): number {
  return (((b[at] ?? 0) << 24) | ((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)) >>> 0;
}

export function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

export function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

/** One's-complement sum of 16-bit big-endian words (RFC 1071 §4.1), not yet folded or complemented. */
export function onesSum(b: Uint8Array, start = 0, end = b.length, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
  if (i < end) sum += (b[i] ?? 0) << 8;
  return sum;
}

/** Folds a one's-complement sum to 16 bits and complements it: the value that goes in a checksum field. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export function internetChecksum(b: Uint8Array, start = 0, end = b.length): number {
  return finishChecksum(onesSum(b, start, end));
}

/** The source and destination addresses an upper-layer checksum covers. */
export type PseudoHeader =
  | { readonly version: 4; readonly src: number; readonly dst: number }
  | { readonly version: 6; readonly src: Uint8Array; readonly dst: Uint8Array };

/** Sum of the pseudo-header for `protocol` and an upper-layer length of `length` bytes. */
export function pseudoHeaderSum(ph: PseudoHeader, protocol: number, length: number): number {
  if (ph.version === 4) {
    return (ph.src >>> 16) + (ph.src & 0xffff) + (ph.dst >>> 16) + (ph.dst & 0xffff) + protocol + length;
  }
  return onesSum(ph.src) + onesSum(ph.dst) + (length >>> 16) + (length & 0xffff) + protocol;
}

/** Checksum of an upper-layer message (checksum field included as it is) under a pseudo-header. */
export function upperLayerChecksum(ph: PseudoHeader, protocol: number, message: Uint8Array): number {
  return finishChecksum(onesSum(message, 0, message.length, pseudoHeaderSum(ph, protocol, message.length)));
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
