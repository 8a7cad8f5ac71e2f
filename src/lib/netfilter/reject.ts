/**
 * The packets the REJECT target sends back (net/ipv4/netfilter/nf_reject_ipv4.c, net/ipv4/icmp.c):
 * a TCP RST (nf_send_reset) or an ICMP destination unreachable (nf_send_unreach → icmp_send).
 * Like the kernel, no reply goes to a later fragment, to a RST, to an ICMP error (or unknown ICMP type),
 * or to a packet whose checksum is wrong. The rate limit of an ICMP reply (icmp_ratelimit) is
 * `IcmpRateLimiter` in ../net/icmp-error.ts, applied by whoever sends the reply (the firewall application).
 */
import { DEFAULT_TTL, icmpErrorDatagram } from '../net/icmp-error.js';
import { type Ipv4Packet, encodeIpv4 } from '../net/ipv4.js';
import { encodeTcp, tcpChecksumOk } from '../net/tcp.js';
import { udpChecksumOk } from '../net/udp.js';
import { icmpChecksumOk } from '../net/icmp.js';
import { u16, u32 } from '../net/wire.js';
import { REJECT_ICMP_CODE, type RejectWith } from './names.js';

export interface RejectContext {
  /** The datagram as received (header and payload). */
  readonly datagram: Uint8Array;
  readonly ip: Ipv4Packet;
  /** Whether the packet arrived from outside (checksums are verified then). */
  readonly incoming: boolean;
  /** Source address of ICMP errors; default the rejected datagram's destination. */
  readonly icmpSource?: number;
}

/** The reply datagram, or undefined when the kernel would send none. */
export function rejectReply(kind: RejectWith, ctx: RejectContext): Uint8Array | undefined {
  return kind === 'tcp-reset' ? tcpReset(ctx) : icmpUnreachable(REJECT_ICMP_CODE[kind], ctx);
}

function tcpReset({ ip }: RejectContext): Uint8Array | undefined {
  if (ip.fragmentOffset !== 0 || ip.protocol !== 6) return undefined;
  const th = ip.payload;
  if (th.length < 20) return undefined;
  const flags = th[13] ?? 0;
  if (flags & 0x04) return undefined;
  if (!tcpChecksumOk(th, { version: 4, src: ip.src, dst: ip.dst })) return undefined;
  const doff = ((th[12] ?? 0) >>> 4) * 4;
  const ackSet = (flags & 0x10) !== 0;
  const seq = ackSet ? u32(th, 8) : 0;
  const ack = ackSet
    ? 0
    : (u32(th, 4) + (flags & 0x02 ? 1 : 0) + (flags & 0x01 ? 1 : 0) + Math.max(0, th.length - doff)) >>> 0;
  const segment = encodeTcp(
    {
      srcPort: u16(th, 2),
      dstPort: u16(th, 0),
      seq,
      ack,
      reserved: 0,
      flags: ackSet ? 0x04 : 0x14,
      window: 0,
      urgentPointer: 0,
      options: [],
      payload: new Uint8Array(0),
    },
    { version: 4, src: ip.dst, dst: ip.src },
  );
  return encodeIpv4({
    dscp: 0,
    ecn: 0,
    identification: 0,
    reservedFlag: false,
    dontFragment: true,
    moreFragments: false,
    fragmentOffset: 0,
    ttl: DEFAULT_TTL,
    protocol: 6,
    src: ip.dst,
    dst: ip.src,
    options: [],
    payload: segment,
  });
}

function icmpUnreachable(
  code: number,
  { datagram, ip, incoming, icmpSource }: RejectContext,
): Uint8Array | undefined {
  if (ip.fragmentOffset !== 0) return undefined;
  // nf_reject_verify_csum: only checksummed protocols are checked, and UDP only when it has one.
  const ph = { version: 4 as const, src: ip.src, dst: ip.dst };
  if (incoming) {
    if (ip.protocol === 6 && !tcpChecksumOk(ip.payload, ph)) return undefined;
    if (
      ip.protocol === 17 &&
      ip.payload.length >= 8 &&
      u16(ip.payload, 6) !== 0 &&
      !udpChecksumOk(ip.payload, ph)
    )
      return undefined;
    if (ip.protocol === 1 && !icmpChecksumOk(ip.payload)) return undefined;
  }
  return icmpErrorDatagram({
    type: 3,
    code,
    datagram,
    ip,
    ...(icmpSource !== undefined ? { source: icmpSource } : {}),
  });
}
