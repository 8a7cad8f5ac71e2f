/** Builders for test datagrams (IPv4 + TCP/UDP/ICMP), written with Rampart's own codecs. */
import { parseIpv4 } from '../../src/lib/net/address.js';
import { encodeIcmp } from '../../src/lib/net/icmp.js';
import { type Ipv4Packet, encodeIpv4 } from '../../src/lib/net/ipv4.js';
import { type TcpOption, encodeTcp } from '../../src/lib/net/tcp.js';
import { encodeUdp } from '../../src/lib/net/udp.js';

export const F = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32, ECE: 64, CWR: 128 } as const;

export function ip(
  src: string,
  dst: string,
  protocol: number,
  payload: Uint8Array,
  extra: Partial<Ipv4Packet> = {},
): Uint8Array {
  return encodeIpv4({
    dscp: 0,
    ecn: 0,
    identification: 1,
    reservedFlag: false,
    dontFragment: true,
    moreFragments: false,
    fragmentOffset: 0,
    ttl: 64,
    protocol,
    src: parseIpv4(src),
    dst: parseIpv4(dst),
    options: [],
    payload,
    ...extra,
  });
}

export interface TcpSpec {
  sport: number;
  dport: number;
  flags: number;
  seq?: number;
  ack?: number;
  window?: number;
  data?: Uint8Array;
  options?: TcpOption[];
}

export function tcp(src: string, dst: string, s: TcpSpec, extra: Partial<Ipv4Packet> = {}): Uint8Array {
  const seg = encodeTcp(
    {
      srcPort: s.sport,
      dstPort: s.dport,
      seq: s.seq ?? 1000,
      ack: s.ack ?? 0,
      reserved: 0,
      flags: s.flags,
      window: s.window ?? 64240,
      urgentPointer: 0,
      options: s.options ?? [],
      payload: s.data ?? new Uint8Array(0),
    },
    { version: 4, src: parseIpv4(src), dst: parseIpv4(dst) },
  );
  return ip(src, dst, 6, seg, extra);
}

export function udp(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  data: Uint8Array = new Uint8Array(4),
): Uint8Array {
  return ip(
    src,
    dst,
    17,
    encodeUdp(
      { srcPort: sport, dstPort: dport, payload: data },
      { version: 4, src: parseIpv4(src), dst: parseIpv4(dst) },
    ),
  );
}

export function icmp(
  src: string,
  dst: string,
  type: number,
  code: number,
  rest: number,
  payload: Uint8Array = new Uint8Array(8),
): Uint8Array {
  return ip(src, dst, 1, encodeIcmp({ type, code, rest, payload }));
}

/** An ICMP error from `src` to `dst` quoting the first 28 bytes of `quoted`. */
export function icmpError(
  src: string,
  dst: string,
  type: number,
  code: number,
  quoted: Uint8Array,
): Uint8Array {
  return icmp(src, dst, type, code, 0, quoted.subarray(0, 28));
}

/** A TCP conversation helper that keeps sequence numbers right in both directions. */
export class TcpFlow {
  private cseq: number;
  private sseq: number;
  constructor(
    readonly client: string,
    readonly server: string,
    readonly cport: number,
    readonly sport: number,
    iss = 1000,
    irs = 5000,
  ) {
    this.cseq = iss;
    this.sseq = irs;
  }

  syn(): Uint8Array {
    return tcp(this.client, this.server, {
      sport: this.cport,
      dport: this.sport,
      flags: F.SYN,
      seq: this.cseq,
    });
  }
  synAck(): Uint8Array {
    return tcp(this.server, this.client, {
      sport: this.sport,
      dport: this.cport,
      flags: F.SYN | F.ACK,
      seq: this.sseq,
      ack: this.cseq + 1,
    });
  }
  /** Client ACK completing the handshake (advances past both SYNs). */
  ack(): Uint8Array {
    this.cseq += 1;
    this.sseq += 1;
    return tcp(this.client, this.server, {
      sport: this.cport,
      dport: this.sport,
      flags: F.ACK,
      seq: this.cseq,
      ack: this.sseq,
    });
  }
  clientData(n: number, flags = F.ACK | F.PSH): Uint8Array {
    const p = tcp(this.client, this.server, {
      sport: this.cport,
      dport: this.sport,
      flags,
      seq: this.cseq,
      ack: this.sseq,
      data: new Uint8Array(n).fill(0x61),
    });
    this.cseq += n + (flags & F.FIN ? 1 : 0);
    return p;
  }
  serverData(n: number, flags = F.ACK | F.PSH): Uint8Array {
    const p = tcp(this.server, this.client, {
      sport: this.sport,
      dport: this.cport,
      flags,
      seq: this.sseq,
      ack: this.cseq,
      data: new Uint8Array(n).fill(0x62),
    });
    this.sseq += n + (flags & F.FIN ? 1 : 0);
    return p;
  }
}
