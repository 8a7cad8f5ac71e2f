/** ARP (RFC 826), any hardware/protocol address sizes. */
import { assert } from '../../common/errors.js';
import { PacketError, need, put16, u16 } from './wire.js';

export const ArpOperation = { REQUEST: 1, REPLY: 2 } as const;
export const ARP_HARDWARE_ETHERNET = 1;

export interface ArpPacket {
  readonly hardwareType: number;
  readonly protocolType: number;
  readonly operation: number;
  readonly senderHardware: Uint8Array;
  readonly senderProtocol: Uint8Array;
  readonly targetHardware: Uint8Array;
  readonly targetProtocol: Uint8Array;
}

/** Decodes an ARP packet; bytes after it (Ethernet padding) are ignored. */
export function decodeArp(buf: Uint8Array, base = 0): ArpPacket {
  need(buf, 8, base, 'ARP_TRUNCATED', 'ARP header');
  const hlen = buf[4] ?? 0;
  const plen = buf[5] ?? 0;
  if (hlen === 0) throw new PacketError('ARP_BAD_LENGTH', 'hardware address length 0', base + 4, 'arp.hlen');
  if (plen === 0) throw new PacketError('ARP_BAD_LENGTH', 'protocol address length 0', base + 5, 'arp.plen');
  need(buf, 8 + 2 * (hlen + plen), base, 'ARP_TRUNCATED', 'ARP addresses');
  let at = 8;
  const take = (n: number) => {
    const v = buf.slice(at, at + n);
    at += n;
    return v;
  };
  return {
    hardwareType: u16(buf, 0),
    protocolType: u16(buf, 2),
    operation: u16(buf, 6),
    senderHardware: take(hlen),
    senderProtocol: take(plen),
    targetHardware: take(hlen),
    targetProtocol: take(plen),
  };
}

export function encodeArp(p: ArpPacket): Uint8Array {
  const hlen = p.senderHardware.length;
  const plen = p.senderProtocol.length;
  assert(
    p.targetHardware.length === hlen && p.targetProtocol.length === plen && hlen > 0 && plen > 0,
    'ARP sender and target addresses must have equal, non-zero lengths',
  );
  assert(hlen < 256 && plen < 256, 'ARP addresses must be shorter than 256 bytes');
  const out = new Uint8Array(8 + 2 * (hlen + plen));
  put16(out, 0, p.hardwareType);
  put16(out, 2, p.protocolType);
  out[4] = hlen;
  out[5] = plen;
  put16(out, 6, p.operation);
  out.set(p.senderHardware, 8);
  out.set(p.senderProtocol, 8 + hlen);
  out.set(p.targetHardware, 8 + hlen + plen);
  out.set(p.targetProtocol, 8 + 2 * hlen + plen);
  return out;
}
