/** Ethernet II framing (IEEE 802.3 §3.2) with IEEE 802.1Q / 802.1ad VLAN tags. */
import type { MacAddress } from './address.js';
import { PacketError, need, put16, u16 } from './wire.js';

export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  IPV6: 0x86dd,
} as const;

/** An 802.1Q tag: `tpid` is 0x8100 (C-tag) or 0x88a8 (S-tag); PCP, DEI and VID form the TCI (802.1Q §9.6). */
export interface VlanTag {
  readonly tpid: number;
  readonly pcp: number;
  readonly dei: boolean;
  readonly vid: number;
}

export interface EthernetFrame {
  readonly dst: MacAddress;
  readonly src: MacAddress;
  /** Outermost first. */
  readonly vlans: readonly VlanTag[];
  /** EtherType (≥ 0x0600) or, for 802.3 LLC frames, the length field (≤ 1500). */
  readonly etherType: number;
  /** Everything after the header, including any padding up to the 60-byte minimum. */
  readonly payload: Uint8Array;
}

const MAX_TAGS = 8;

/** Decodes a frame without FCS (as captures and TAP devices present it). */
export function decodeEthernet(frame: Uint8Array, base = 0): EthernetFrame {
  need(frame, 14, base, 'ETHERNET_TRUNCATED', 'Ethernet header');
  const vlans: VlanTag[] = [];
  let at = 12;
  let type = u16(frame, at);
  while (type === EtherType.VLAN || type === EtherType.QINQ) {
    if (vlans.length === MAX_TAGS)
      throw new PacketError('ETHERNET_TOO_MANY_TAGS', `more than ${MAX_TAGS} VLAN tags`, base + at, 'vlan');
    need(frame, at + 6, base, 'ETHERNET_TRUNCATED', '802.1Q tag');
    const tci = u16(frame, at + 2);
    vlans.push({ tpid: type, pcp: tci >>> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0x0fff });
    at += 4;
    type = u16(frame, at);
  }
  return {
    dst: frame.slice(0, 6),
    src: frame.slice(6, 12),
    vlans,
    etherType: type,
    payload: frame.subarray(at + 2),
  };
}

/** Encodes a frame; with `pad`, short frames are zero-padded to the 60-byte minimum (FCS excluded). */
export function encodeEthernet(f: EthernetFrame, options: { pad?: boolean } = {}): Uint8Array {
  const header = 14 + 4 * f.vlans.length;
  const length = Math.max(header + f.payload.length, options.pad ? 60 : 0);
  const out = new Uint8Array(length);
  out.set(f.dst.subarray(0, 6), 0);
  out.set(f.src.subarray(0, 6), 6);
  let at = 12;
  for (const tag of f.vlans) {
    put16(out, at, tag.tpid);
    put16(out, at + 2, ((tag.pcp & 7) << 13) | (tag.dei ? 0x1000 : 0) | (tag.vid & 0xfff));
    at += 4;
  }
  put16(out, at, f.etherType);
  out.set(f.payload, at + 2);
  return out;
}
