/** One-line, tcpdump-like descriptions of IPv4 datagrams, for reports and logs. */
import { formatIpv4 } from './address.js';
import { u16, u32 } from './wire.js';

const TCP_FLAG_LETTERS: readonly (readonly [number, string])[] = [
  [0x02, 'S'],
  [0x01, 'F'],
  [0x04, 'R'],
  [0x08, 'P'],
  [0x10, '.'],
  [0x20, 'U'],
  [0x40, 'E'],
  [0x80, 'W'],
];

/** e.g. `10.0.0.2.40000 > 10.0.0.1.22: TCP [S] seq 1000 len 0` (never throws, even on garbage). */
export function summarizeIpv4(d: Uint8Array): string {
  if (d.length < 20 || (d[0] ?? 0) >>> 4 !== 4) return `not IPv4 (${d.length} bytes)`;
  const ihl = ((d[0] ?? 0) & 15) * 4;
  const total = Math.min(u16(d, 2), d.length);
  const src = formatIpv4(u32(d, 12));
  const dst = formatIpv4(u32(d, 16));
  const frag = u16(d, 6);
  const offset = (frag & 0x1fff) * 8;
  const fragText = frag & 0x2000 || offset ? ` frag ${offset}${frag & 0x2000 ? '+' : ''}` : '';
  const l4 = d.subarray(Math.min(ihl, total), total);
  const proto = d[9] ?? 0;
  if (offset === 0) {
    if (proto === 6 && l4.length >= 14) {
      let flags = '';
      for (const [bit, ch] of TCP_FLAG_LETTERS) if ((l4[13] ?? 0) & bit) flags += ch;
      const doff = ((l4[12] ?? 0) >>> 4) * 4;
      return `${src}.${u16(l4, 0)} > ${dst}.${u16(l4, 2)}: TCP [${flags || 'none'}] seq ${u32(l4, 4)} len ${Math.max(0, l4.length - doff)}${fragText}`;
    }
    if (proto === 17 && l4.length >= 8)
      return `${src}.${u16(l4, 0)} > ${dst}.${u16(l4, 2)}: UDP len ${Math.max(0, u16(l4, 4) - 8)}${fragText}`;
    if (proto === 1 && l4.length >= 2) return `${src} > ${dst}: ICMP type ${l4[0]} code ${l4[1]}${fragText}`;
  }
  return `${src} > ${dst}: proto ${proto} len ${total}${fragText}`;
}
