/**
 * The symbolic names iptables accepts and prints for the filter table: protocols, ports, ICMP types,
 * TCP flags, conntrack states, REJECT types and LOG levels (iptables 1.8.9 extensions libxt_tcp,
 * libxt_icmp, libxt_conntrack, libxt_state, libipt_REJECT, libxt_LOG).
 */
import { PROTOCOLS, SERVICES } from './netdb.js';

const PROTOCOL_BY_NAME = new Map<string, number>();
const PROTOCOL_NAME = new Map<number, string>();
for (const [name, number, ...aliases] of PROTOCOLS) {
  for (const n of [name, ...aliases]) if (!PROTOCOL_BY_NAME.has(n)) PROTOCOL_BY_NAME.set(n, number);
  if (!PROTOCOL_NAME.has(number)) PROTOCOL_NAME.set(number, name);
}
/** xtables_chain_protos: names iptables knows without the system database. */
const BUILTIN_PROTOCOLS: Readonly<Record<string, number>> = {
  tcp: 6,
  sctp: 132,
  udp: 17,
  udplite: 136,
  icmp: 1,
  icmpv6: 58,
  'ipv6-icmp': 58,
  esp: 50,
  ah: 51,
  'ipv6-mh': 135,
  mh: 135,
  all: 0,
};

/**
 * C strtoul with base 0 (decimal, 0x hex, 0 octal) over the whole string, leading white space and one
 * '+' allowed (C11 7.22.1.4): how xtables_strtoui reads numbers. Undefined unless the whole text is a
 * number within [0, max].
 */
export function strtoui(text: string, max: number, base: 0 | 10 = 0): number | undefined {
  const s = text.replace(/^[ \t\n\v\f\r]+\+?|^\+/, '');
  let m: RegExpExecArray | null;
  let v: number;
  if (base === 0 && (m = /^0[xX]([0-9a-fA-F]+)$/.exec(s))) v = parseInt(m[1] ?? '', 16);
  else if (base === 0 && /^0[0-9]/.test(s)) {
    if (!/^0[0-7]+$/.test(s)) return undefined;
    v = parseInt(s, 8);
  } else if (/^[0-9]+$/.test(s)) v = parseInt(s, 10);
  else return undefined;
  return v <= max ? v : undefined;
}

/** `-p` argument (already lower-cased, as iptables does) to protocol number; undefined if unknown. */
export function parseProtocol(text: string): number | undefined {
  const n = strtoui(text, 255);
  if (n !== undefined) return n;
  if (text === 'all') return 0;
  return (
    PROTOCOL_BY_NAME.get(text) ??
    (Object.hasOwn(BUILTIN_PROTOCOLS, text) ? BUILTIN_PROTOCOLS[text] : undefined)
  );
}

/** How iptables-save prints a protocol number (getprotobynumber, else the number). */
export function protocolName(n: number): string {
  return PROTOCOL_NAME.get(n) ?? String(n);
}

/**
 * A port number or a service name for the given protocol ('tcp' | 'udp' | other), as xtables_parse_port.
 * iptables-nft 1.8.9 reads the number with base 0 (`026` is 22) except for libxt_udp's --sport/--dport,
 * which read base 10 (`026` is 26, `0x16` refused): `base` says which.
 */
export function parsePort(text: string, protocol: string, base: 0 | 10): number | undefined {
  const n = strtoui(text, 65535, base);
  if (n !== undefined) return n;
  const entry = Object.hasOwn(SERVICES, text) ? SERVICES[text] : undefined;
  if (!entry) return undefined;
  const port = protocol === 'tcp' ? entry[0] : protocol === 'udp' ? entry[1] : -1;
  return port >= 0 ? port : undefined;
}

/** TCP flag names in the order iptables prints them (libxt_tcp tcp_flag_names). */
export const TCP_FLAG_NAMES: readonly (readonly [string, number])[] = [
  ['FIN', 0x01],
  ['SYN', 0x02],
  ['RST', 0x04],
  ['PSH', 0x08],
  ['ACK', 0x10],
  ['URG', 0x20],
  ['ALL', 0x3f],
  ['NONE', 0],
];

export function formatTcpFlagList(flags: number): string {
  if (flags === 0) return 'NONE';
  const out: string[] = [];
  for (const [name, bit] of TCP_FLAG_NAMES.slice(0, 6)) if (flags & bit) out.push(name);
  return out.join(',');
}

/** Connection tracking states, bit values and print order of libxt_conntrack / libxt_state. */
export const CtState = {
  INVALID: 1 << 0,
  NEW: 1 << 1,
  RELATED: 1 << 2,
  ESTABLISHED: 1 << 3,
  UNTRACKED: 1 << 4,
  SNAT: 1 << 5,
  DNAT: 1 << 6,
} as const;
export type CtStateName = keyof typeof CtState;
export const CT_STATE_ORDER: readonly CtStateName[] = [
  'INVALID',
  'NEW',
  'RELATED',
  'ESTABLISHED',
  'UNTRACKED',
  'SNAT',
  'DNAT',
];

export function formatCtStates(bits: number): string {
  return CT_STATE_ORDER.filter((n) => bits & CtState[n]).join(',');
}

/** libxt_icmp icmp_codes: name, type, lowest and highest code. */
export const ICMP_TYPE_NAMES: readonly (readonly [string, number, number, number])[] = [
  ['any', 0xff, 0, 0xff],
  ['echo-reply', 0, 0, 0xff],
  ['pong', 0, 0, 0xff],
  ['destination-unreachable', 3, 0, 0xff],
  ['network-unreachable', 3, 0, 0],
  ['host-unreachable', 3, 1, 1],
  ['protocol-unreachable', 3, 2, 2],
  ['port-unreachable', 3, 3, 3],
  ['fragmentation-needed', 3, 4, 4],
  ['source-route-failed', 3, 5, 5],
  ['network-unknown', 3, 6, 6],
  ['host-unknown', 3, 7, 7],
  ['network-prohibited', 3, 9, 9],
  ['host-prohibited', 3, 10, 10],
  ['TOS-network-unreachable', 3, 11, 11],
  ['TOS-host-unreachable', 3, 12, 12],
  ['communication-prohibited', 3, 13, 13],
  ['host-precedence-violation', 3, 14, 14],
  ['precedence-cutoff', 3, 15, 15],
  ['source-quench', 4, 0, 0xff],
  ['redirect', 5, 0, 0xff],
  ['network-redirect', 5, 0, 0],
  ['host-redirect', 5, 1, 1],
  ['TOS-network-redirect', 5, 2, 2],
  ['TOS-host-redirect', 5, 3, 3],
  ['echo-request', 8, 0, 0xff],
  ['ping', 8, 0, 0xff],
  ['router-advertisement', 9, 0, 0xff],
  ['router-solicitation', 10, 0, 0xff],
  ['time-exceeded', 11, 0, 0xff],
  ['ttl-exceeded', 11, 0, 0xff],
  ['ttl-zero-during-transit', 11, 0, 0],
  ['ttl-zero-during-reassembly', 11, 1, 1],
  ['parameter-problem', 12, 0, 0xff],
  ['ip-header-bad', 12, 0, 0],
  ['required-option-missing', 12, 1, 1],
  ['timestamp-request', 13, 0, 0xff],
  ['timestamp-reply', 14, 0, 0xff],
  ['address-mask-request', 17, 0, 0xff],
  ['address-mask-reply', 18, 0, 0xff],
];

export type IcmpTypeParse =
  | { readonly ok: true; readonly type: number; readonly codeMin: number; readonly codeMax: number }
  | { readonly ok: false; readonly reason: string };

/** `--icmp-type` argument: a (case-insensitive, unambiguous prefix of a) name, or TYPE[/CODE]. */
export function parseIcmpType(text: string): IcmpTypeParse {
  const hits = ICMP_TYPE_NAMES.filter(([name]) => name.toLowerCase().startsWith(text.toLowerCase()));
  const exact = hits.find(([name]) => name.toLowerCase() === text.toLowerCase());
  const hit = exact ?? (hits.length === 1 ? hits[0] : undefined);
  if (text.length > 0 && hits.length > 1 && !exact)
    return {
      ok: false,
      reason: `ambiguous ICMP type '${text}': ${hits.map(([n]) => `'${n}'`).join(' or ')}`,
    };
  if (hit) return { ok: true, type: hit[1], codeMin: hit[2], codeMax: hit[3] };
  const [typeText, codeText, ...rest] = text.split('/');
  const type = typeText === undefined ? undefined : strtoui(typeText, 255);
  if (type === undefined || rest.length > 0) return { ok: false, reason: `unknown ICMP type '${text}'` };
  if (codeText === undefined) return { ok: true, type, codeMin: 0, codeMax: 0xff };
  const code = strtoui(codeText, 255);
  if (code === undefined) return { ok: false, reason: `unknown ICMP code '${text}'` };
  return { ok: true, type, codeMin: code, codeMax: code };
}

/** How iptables-save prints an ICMP type match. */
export function formatIcmpType(type: number, codeMin: number, codeMax: number): string {
  if (type === 0xff) return 'any';
  if (codeMin === 0 && codeMax === 0xff) return String(type);
  return `${type}/${codeMin}`;
}

/** libipt_REJECT reject_table: name, alias; the index is the kernel's ipt_reject_with value. */
export const REJECT_TYPES = [
  ['icmp-net-unreachable', 'net-unreach'],
  ['icmp-host-unreachable', 'host-unreach'],
  ['icmp-proto-unreachable', 'proto-unreach'],
  ['icmp-port-unreachable', 'port-unreach'],
  // 4 was echo-reply, no longer supported by the kernel.
  ['icmp-net-prohibited', 'net-prohib'],
  ['icmp-host-prohibited', 'host-prohib'],
  ['tcp-reset', 'tcp-rst'],
  ['icmp-admin-prohibited', 'admin-prohib'],
] as const;
export type RejectWith = (typeof REJECT_TYPES)[number][0];

/** `--reject-with`: the first type whose name or alias starts with the argument (case-insensitive). */
export function parseRejectWith(text: string): RejectWith | undefined {
  const t = text.toLowerCase();
  for (const [name, alias] of REJECT_TYPES) if (name.startsWith(t) || alias.startsWith(t)) return name;
  return undefined;
}

/** ICMP destination-unreachable code each REJECT type sends (RFC 792, RFC 1812 §5.2.7.1). */
export const REJECT_ICMP_CODE: Readonly<Record<Exclude<RejectWith, 'tcp-reset'>, number>> = {
  'icmp-net-unreachable': 0,
  'icmp-host-unreachable': 1,
  'icmp-proto-unreachable': 2,
  'icmp-port-unreachable': 3,
  'icmp-net-prohibited': 9,
  'icmp-host-prohibited': 10,
  'icmp-admin-prohibited': 13,
};

/** syslog levels accepted by `--log-level` (xtables_parse_log_level). */
export const LOG_LEVELS: Readonly<Record<string, number>> = {
  alert: 1,
  crit: 2,
  debug: 7,
  emerg: 0,
  error: 3,
  info: 6,
  notice: 5,
  panic: 0,
  warning: 4,
};
