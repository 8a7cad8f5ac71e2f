/**
 * Whole-frame decoding: link layer (by pcap link type), network layer, transport layer, each with its
 * checksum verdict. Offsets in errors are from the start of the frame.
 */
import { type ArpPacket, decodeArp } from './arp.js';
import { EtherType, type EthernetFrame, decodeEthernet } from './ethernet.js';
import { type IcmpMessage, decodeIcmp, decodeIcmpv6, icmpChecksumOk, icmpv6ChecksumOk } from './icmp.js';
import { IpProtocol, type Ipv4Packet, decodeIpv4, isFragment } from './ipv4.js';
import { type Ipv6Packet, decodeIpv6 } from './ipv6.js';
import { LinkType } from './pcap.js';
import { type TcpSegment, decodeTcp, tcpChecksumOk } from './tcp.js';
import { type UdpDatagram, decodeUdp, udpChecksumOk } from './udp.js';
import { PacketError, type PseudoHeader, need, u16 } from './wire.js';

export type Transport =
  | { readonly protocol: 'tcp'; readonly segment: TcpSegment; readonly checksumOk: boolean }
  | { readonly protocol: 'udp'; readonly datagram: UdpDatagram; readonly checksumOk: boolean }
  | { readonly protocol: 'icmp'; readonly message: IcmpMessage; readonly checksumOk: boolean }
  | { readonly protocol: 'icmpv6'; readonly message: IcmpMessage; readonly checksumOk: boolean };

export interface DecodedFrame {
  readonly ethernet?: EthernetFrame;
  readonly arp?: ArpPacket;
  readonly ipv4?: Ipv4Packet;
  readonly ipv6?: Ipv6Packet;
  /** Absent for fragments, unknown protocols and non-IP frames. */
  readonly transport?: Transport;
  /** Offset of the network-layer header in the frame (undefined for non-IP, non-ARP frames). */
  readonly networkOffset?: number;
}

/** Decodes a captured frame of the given pcap link type (Ethernet, raw IP, IPv4, IPv6, Linux cooked). */
export function decodeFrame(frame: Uint8Array, linkType: number): DecodedFrame {
  switch (linkType) {
    case LinkType.ETHERNET: {
      const ethernet = decodeEthernet(frame);
      const at = frame.length - ethernet.payload.length;
      return { ethernet, ...decodeNetwork(ethernet.payload, ethernet.etherType, at) };
    }
    case LinkType.RAW:
    case LinkType.IPV4:
    case LinkType.IPV6: {
      need(frame, 1, 0, 'IP_TRUNCATED', 'IP header');
      const version = (frame[0] ?? 0) >>> 4;
      if (version !== 4 && version !== 6)
        throw new PacketError('IP_BAD_VERSION', `IP version ${version}`, 0, 'ip.version');
      return decodeNetwork(frame, version === 4 ? EtherType.IPV4 : EtherType.IPV6, 0);
    }
    case LinkType.LINUX_SLL: {
      need(frame, 16, 0, 'SLL_TRUNCATED', 'Linux cooked header');
      return decodeNetwork(frame.subarray(16), u16(frame, 14), 16);
    }
    default:
      throw new PacketError('LINKTYPE_UNSUPPORTED', `link type ${linkType} is not supported`, 0);
  }
}

function decodeNetwork(buf: Uint8Array, etherType: number, at: number): DecodedFrame {
  if (etherType === EtherType.ARP) return { arp: decodeArp(buf, at), networkOffset: at };
  if (etherType === EtherType.IPV4) {
    const ipv4 = decodeIpv4(buf, at);
    const ph: PseudoHeader = { version: 4, src: ipv4.src, dst: ipv4.dst };
    const l4at = at + (ipv4.payload.byteOffset - buf.byteOffset);
    if (isFragment(ipv4)) return { ipv4, networkOffset: at };
    const transport = decodeTransport(ipv4.protocol, ipv4.payload, ph, l4at);
    return transport ? { ipv4, transport, networkOffset: at } : { ipv4, networkOffset: at };
  }
  if (etherType === EtherType.IPV6) {
    const ipv6 = decodeIpv6(buf, at);
    const ph: PseudoHeader = { version: 6, src: ipv6.src, dst: ipv6.dst };
    const l4at = at + (ipv6.payload.byteOffset - buf.byteOffset);
    if (ipv6.extensions.some((e) => e.kind === 'fragment')) return { ipv6, networkOffset: at };
    const transport = decodeTransport(ipv6.protocol, ipv6.payload, ph, l4at);
    return transport ? { ipv6, transport, networkOffset: at } : { ipv6, networkOffset: at };
  }
  return {};
}

/** Decodes the upper layer of a whole (unfragmented or reassembled) datagram. */
export function decodeTransport(
  protocol: number,
  payload: Uint8Array,
  ph: PseudoHeader,
  base = 0,
): Transport | undefined {
  switch (protocol) {
    case IpProtocol.TCP:
      return { protocol: 'tcp', segment: decodeTcp(payload, base), checksumOk: tcpChecksumOk(payload, ph) };
    case IpProtocol.UDP: {
      const datagram = decodeUdp(payload, base);
      const bytes = payload.subarray(0, 8 + datagram.payload.length);
      return { protocol: 'udp', datagram, checksumOk: udpChecksumOk(bytes, ph) };
    }
    case IpProtocol.ICMP:
      if (ph.version !== 4) return undefined;
      return { protocol: 'icmp', message: decodeIcmp(payload, base), checksumOk: icmpChecksumOk(payload) };
    case IpProtocol.ICMPV6:
      if (ph.version !== 6) return undefined;
      return {
        protocol: 'icmpv6',
        message: decodeIcmpv6(payload, base),
        checksumOk: icmpv6ChecksumOk(payload, ph),
      };
    default:
      return undefined;
  }
}
