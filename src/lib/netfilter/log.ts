/**
 * The text of a LOG line as the kernel writes it (net/netfilter/nf_log_syslog.c: nf_log_ip_packet,
 * dump_ipv4_packet, nf_log_dump_tcp_header / udp_header), e.g.
 * `fw: IN=eth0 OUT= MAC=… SRC=10.0.0.2 DST=10.0.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP
 * SPT=40000 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 `. The UID/GID of local sockets (--log-uid) and
 * skb marks do not exist here and are never printed.
 */
import { formatIpv4 } from '../net/address.js';
import { u16, u32 } from '../net/wire.js';
import type { LogOptions } from './ruleset.js';

export interface LogEntry {
  readonly prefix: string;
  readonly level: number;
  /** The line, prefix included, as `dmesg` shows it. */
  readonly text: string;
}

/** ICMP types whose body the kernel needs before printing details (required_len). */
const ICMP_REQUIRED: Readonly<Record<number, number>> = {
  0: 4,
  3: 28,
  4: 28,
  5: 28,
  8: 4,
  11: 28,
  12: 28,
  13: 20,
  14: 20,
  17: 12,
  18: 12,
};

export function formatLog(
  options: LogOptions,
  datagram: Uint8Array,
  inInterface: string,
  outInterface: string,
  linkHeader?: Uint8Array,
): LogEntry {
  let s = `${options.prefix}IN=${inInterface} OUT=${outInterface} `;
  if (inInterface !== '') {
    s += 'MAC=';
    if (linkHeader && linkHeader.length > 0)
      s += Array.from(linkHeader, (b) => b.toString(16).padStart(2, '0')).join(':');
    s += ' ';
  }
  s += dumpIpv4(datagram, 0, options, true);
  return { prefix: options.prefix, level: options.level, text: s };
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');
}

function dumpIpv4(b: Uint8Array, at: number, o: LogOptions, outer: boolean): string {
  if (b.length - at < 20) return 'TRUNCATED';
  const ihl = ((b[at] ?? 0) & 15) * 4;
  const tos = b[at + 1] ?? 0;
  const frag = u16(b, at + 6);
  let s = `SRC=${formatIpv4(u32(b, at + 12))} DST=${formatIpv4(u32(b, at + 16))} `;
  s += `LEN=${u16(b, at + 2)} TOS=0x${hex2(tos & 0x1e)} PREC=0x${hex2(tos & 0xe0)} TTL=${b[at + 8] ?? 0} ID=${u16(b, at + 4)} `;
  if (frag & 0x8000) s += 'CE ';
  if (frag & 0x4000) s += 'DF ';
  if (frag & 0x2000) s += 'MF ';
  const offset = frag & 0x1fff;
  if (offset) s += `FRAG:${offset} `;
  if (o.ipOptions && ihl > 20) s += `OPT (${hex(b.subarray(at + 20, at + ihl))}) `;
  const l4 = at + ihl;
  const avail = b.length - l4;
  switch (b[at + 9]) {
    case 6: {
      s += 'PROTO=TCP ';
      if (offset) break;
      if (avail < 20) {
        s += `INCOMPLETE [${Math.max(0, avail)} bytes] `;
        break;
      }
      s += `SPT=${u16(b, l4)} DPT=${u16(b, l4 + 2)} `;
      if (o.tcpSequence) s += `SEQ=${u32(b, l4 + 4)} ACK=${u32(b, l4 + 8)} `;
      s += `WINDOW=${u16(b, l4 + 14)} `;
      s += `RES=0x${hex2(((b[l4 + 12] ?? 0) & 0x0f) << 2)} `;
      const f = b[l4 + 13] ?? 0;
      for (const [bit, name] of [
        [0x80, 'CWR'],
        [0x40, 'ECE'],
        [0x20, 'URG'],
        [0x10, 'ACK'],
        [0x08, 'PSH'],
        [0x04, 'RST'],
        [0x02, 'SYN'],
        [0x01, 'FIN'],
      ] as const)
        if (f & bit) s += `${name} `;
      s += `URGP=${u16(b, l4 + 18)} `;
      const doff = ((b[l4 + 12] ?? 0) >>> 4) * 4;
      if (o.tcpOptions && doff > 20 && avail >= doff) s += `OPT (${hex(b.subarray(l4 + 20, l4 + doff))}) `;
      break;
    }
    case 17:
    case 136: {
      s += b[at + 9] === 17 ? 'PROTO=UDP ' : 'PROTO=UDPLITE ';
      if (offset) break;
      if (avail < 8) {
        s += `INCOMPLETE [${Math.max(0, avail)} bytes] `;
        break;
      }
      s += `SPT=${u16(b, l4)} DPT=${u16(b, l4 + 2)} LEN=${u16(b, l4 + 4)} `;
      break;
    }
    case 1: {
      s += 'PROTO=ICMP ';
      if (offset) break;
      if (avail < 4) {
        s += `INCOMPLETE [${Math.max(0, avail)} bytes] `;
        break;
      }
      const type = b[l4] ?? 0;
      const code = b[l4 + 1] ?? 0;
      s += `TYPE=${type} CODE=${code} `;
      const need = ICMP_REQUIRED[type];
      if (need !== undefined && avail < need) {
        s += `INCOMPLETE [${avail} bytes] `;
        break;
      }
      switch (type) {
        case 0:
        case 8:
          s += `ID=${u16(b, l4 + 4)} SEQ=${u16(b, l4 + 6)} `;
          break;
        case 12:
          s += `PARAMETER=${b[l4 + 4] ?? 0} `;
          break;
        case 5:
        case 3:
        case 4:
        case 11:
          if (type === 5) s += `GATEWAY=${formatIpv4(u32(b, l4 + 4))} `;
          if (outer) s += `[${dumpIpv4(b, l4 + 8, o, false)}] `;
          if (type === 3 && code === 4) s += `MTU=${u16(b, l4 + 6)} `;
          break;
        default:
          break;
      }
      break;
    }
    case 51:
    case 50: {
      const ah = b[at + 9] === 51;
      s += ah ? 'PROTO=AH ' : 'PROTO=ESP ';
      if (offset) break;
      const spiAt = ah ? l4 + 4 : l4;
      if (avail < (ah ? 8 : 4)) {
        s += `INCOMPLETE [${Math.max(0, avail)} bytes] `;
        break;
      }
      s += `SPI=0x${u32(b, spiAt).toString(16)} `;
      break;
    }
    default:
      s += `PROTO=${b[at + 9] ?? 0} `;
  }
  return s;
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
