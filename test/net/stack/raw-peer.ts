/** A hand-driven peer: builds frames with the codecs, injects them into a stack, decodes what comes back. */
import { ArpOperation, encodeArp } from '../../../src/lib/net/arp.js';
import { EtherType, encodeEthernet } from '../../../src/lib/net/ethernet.js';
import { type DecodedFrame, decodeFrame } from '../../../src/lib/net/packet.js';
import { IpProtocol, encodeIpv4 } from '../../../src/lib/net/ipv4.js';
import { LinkType } from '../../../src/lib/net/pcap.js';
import { type TcpOption, type TcpSegment, encodeTcp } from '../../../src/lib/net/tcp.js';
import { encodeUdp } from '../../../src/lib/net/udp.js';
import { parseMac } from '../../../src/lib/net/address.js';
import type { NetworkStack } from '../../../src/lib/net/stack/index.js';

export const PEER_MAC = parseMac('02:00:00:00:00:99');

export class RawPeer {
  readonly out: DecodedFrame[] = [];

  constructor(
    readonly stack: NetworkStack,
    readonly address: number,
  ) {
    stack.attach({ send: (frame) => this.out.push(decodeFrame(frame, LinkType.ETHERNET)) });
    // An ARP request for the stack teaches it our MAC (RFC 826), so its replies come straight back.
    const ip4 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
    this.inject(
      EtherType.ARP,
      encodeArp({
        hardwareType: 1,
        protocolType: EtherType.IPV4,
        operation: ArpOperation.REQUEST,
        senderHardware: PEER_MAC,
        senderProtocol: ip4(address),
        targetHardware: new Uint8Array(6),
        targetProtocol: ip4(stack.address),
      }),
    );
    this.out.length = 0;
  }

  inject(etherType: number, payload: Uint8Array): void {
    this.stack.receive(encodeEthernet({ dst: this.stack.mac, src: PEER_MAC, vlans: [], etherType, payload }));
  }

  ip(
    protocol: number,
    payload: Uint8Array,
    extra: { dst?: number; moreFragments?: boolean; fragmentOffset?: number; identification?: number } = {},
  ): void {
    this.inject(
      EtherType.IPV4,
      encodeIpv4({
        dscp: 0,
        ecn: 0,
        identification: extra.identification ?? 1,
        reservedFlag: false,
        dontFragment: false,
        moreFragments: extra.moreFragments ?? false,
        fragmentOffset: extra.fragmentOffset ?? 0,
        ttl: 64,
        protocol,
        src: this.address,
        dst: extra.dst ?? this.stack.address,
        options: [],
        payload,
      }),
    );
  }

  tcp(s: Partial<TcpSegment> & { srcPort: number; dstPort: number; flags: number }): void {
    const seg: TcpSegment = {
      seq: 0,
      ack: 0,
      reserved: 0,
      window: 65535,
      urgentPointer: 0,
      options: [] as TcpOption[],
      payload: new Uint8Array(0),
      ...s,
    };
    this.ip(IpProtocol.TCP, encodeTcp(seg, { version: 4, src: this.address, dst: this.stack.address }));
  }

  udp(srcPort: number, dstPort: number, payload: Uint8Array): void {
    this.ip(
      IpProtocol.UDP,
      encodeUdp({ srcPort, dstPort, payload }, { version: 4, src: this.address, dst: this.stack.address }),
    );
  }

  /** TCP segments the stack sent since the last call. */
  takeTcp(): TcpSegment[] {
    const segs = this.out.flatMap((f) => (f.transport?.protocol === 'tcp' ? [f.transport.segment] : []));
    this.out.length = 0;
    return segs;
  }

  take(): DecodedFrame[] {
    return this.out.splice(0);
  }
}
