/** UDP (RFC 768); checksum over the IPv4 or IPv6 pseudo-header (RFC 8200 §8.1 makes it mandatory for IPv6). */
import { PacketError, type PseudoHeader, need, put16, u16, upperLayerChecksum } from './wire.js';

export interface UdpDatagram {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Uint8Array;
}

/** Decodes a datagram; its length field must fit `buf`, and bytes beyond it are ignored. */
export function decodeUdp(buf: Uint8Array, base = 0): UdpDatagram {
  need(buf, 8, base, 'UDP_TRUNCATED', 'UDP header');
  const length = u16(buf, 4);
  if (length < 8) throw new PacketError('UDP_BAD_LENGTH', `length ${length} below 8`, base + 4, 'udp.length');
  if (length > buf.length)
    throw new PacketError(
      'UDP_TRUNCATED',
      `length ${length} exceeds the ${buf.length} bytes received`,
      base + 4,
      'udp.length',
    );
  return { srcPort: u16(buf, 0), dstPort: u16(buf, 2), payload: buf.subarray(8, length) };
}

/** Encodes with a checksum; IPv4 may omit it (`checksum: false` writes zero, RFC 768). */
export function encodeUdp(
  d: UdpDatagram,
  ph: PseudoHeader,
  options: { checksum?: boolean } = {},
): Uint8Array {
  const out = new Uint8Array(8 + d.payload.length);
  put16(out, 0, d.srcPort);
  put16(out, 2, d.dstPort);
  put16(out, 4, out.length > 0xffff ? 0 : out.length);
  out.set(d.payload, 8);
  if (options.checksum ?? true) {
    const c = upperLayerChecksum(ph, 17, out);
    // A computed zero is sent as all ones; zero means "no checksum" (RFC 768).
    put16(out, 6, c === 0 ? 0xffff : c);
  }
  return out;
}

/** True when the checksum verifies, or is absent (zero) on IPv4. `bytes` is exactly the UDP datagram. */
export function udpChecksumOk(bytes: Uint8Array, ph: PseudoHeader): boolean {
  if (u16(bytes, 6) === 0) return ph.version === 4;
  return upperLayerChecksum(ph, 17, bytes) === 0;
}
