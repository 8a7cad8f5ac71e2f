/**
 * Address text forms: MAC (IEEE 802 colon-hex), IPv4 dotted quad (kept as an unsigned 32-bit number),
 * IPv6 (RFC 4291 §2.2 text, RFC 5952 canonical output; kept as 16 bytes).
 */
import { InputError } from '../../common/errors.js';

export type MacAddress = Uint8Array;

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

export function parseMac(text: string): MacAddress {
  const m =
    /^([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})$/i.exec(
      text,
    );
  if (!m) throw new InputError('BAD_MAC', `not a MAC address: '${text}'`);
  return Uint8Array.from(m.slice(1), (h) => parseInt(h, 16));
}

export function formatIpv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** Strict dotted-quad parse (four decimal octets); undefined when `text` is not one. */
export function tryParseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return undefined;
    v = v * 256 + o;
  }
  return v >>> 0;
}

export function parseIpv4(text: string): number {
  const v = tryParseIpv4(text);
  if (v === undefined) throw new InputError('BAD_IPV4', `not an IPv4 address: '${text}'`);
  return v;
}

/** RFC 5952 canonical text: lower case, longest run (≥2) of zero groups compressed, leftmost on ties. */
export function formatIpv6(a: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((a[i] ?? 0) << 8) | (a[i + 1] ?? 0));
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}

export function parseIpv6(text: string): Uint8Array {
  const fail = () => new InputError('BAD_IPV6', `not an IPv6 address: '${text}'`);
  let s = text;
  // A trailing dotted quad (RFC 4291 §2.2 form 3) becomes its two hex groups.
  const v4 = /(^|:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = tryParseIpv4(v4[2] ?? '');
    if (n === undefined) throw fail();
    s =
      s.slice(0, s.length - (v4[2] ?? '').length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) throw fail();
  const group = (p: string): number[] =>
    p === ''
      ? []
      : p.split(':').map((h) => {
          if (!/^[0-9a-f]{1,4}$/i.test(h)) throw fail();
          return parseInt(h, 16);
        });
  const head = group(halves[0] ?? '');
  const rest = halves.length === 2 ? group(halves[1] ?? '') : [];
  const total = head.length + rest.length;
  let groups: number[];
  if (halves.length === 2) {
    if (total > 7) throw fail();
    groups = [...head, ...new Array<number>(8 - total).fill(0), ...rest];
  } else {
    if (total !== 8) throw fail();
    groups = head;
  }
  const out = new Uint8Array(16);
  groups.forEach((x, i) => {
    out[2 * i] = x >>> 8;
    out[2 * i + 1] = x & 0xff;
  });
  return out;
}
