/**
 * Replays a packet capture through the firewall, as a host (INPUT for datagrams addressed to it, OUTPUT
 * for datagrams it sent) or as a gateway forwarding between two interfaces (FORWARD, both directions).
 * Time is the capture's own: each record's timestamp is the virtual time of its packet.
 */
import { InputError } from '../../common/errors.js';
import { tryParseIpv4 } from '../net/address.js';
import { EtherType, decodeEthernet } from '../net/ethernet.js';
import { type Capture, type CaptureRecord, LinkType } from '../net/pcap.js';
import { summarizeIpv4 } from '../net/summary.js';
import { PacketError, u16, u32 } from '../net/wire.js';
import { Firewall, type FirewallOptions, type FirewallResult } from './firewall.js';
import type { BuiltinChain, Ruleset } from './ruleset.js';

export interface Network {
  readonly address: number;
  readonly mask: number;
}

export type ReplayMode =
  /** Datagrams to one of `addresses` go through INPUT (arriving on `iface`), from one through OUTPUT. */
  | { readonly kind: 'host'; readonly addresses: readonly number[]; readonly iface: string }
  /**
   * Datagrams cross from interface `a` to `b` or back through FORWARD. The interface a datagram
   * arrived on is the capture's (pcapng interface named `a` or `b`), else `a` when its source lies in
   * `sideA`, else `b`.
   */
  | { readonly kind: 'gateway'; readonly a: string; readonly b: string; readonly sideA: readonly Network[] };

export type ReplayOutcome =
  | 'ACCEPT'
  | 'DROP'
  | 'REJECT'
  /** A fragment held until its datagram is complete (the verdict comes with the last one). */
  | 'HELD'
  /** Dropped before the filter: malformed frame or header, failed reassembly, TTL exhausted. */
  | 'INVALID-PACKET'
  /** Not IPv4 (ARP, IPv6, …): the IPv4 filter table does not see it; it passes. */
  | 'NOT-IPV4'
  /** Host mode: neither from nor to the host. */
  | 'NOT-FOR-HOST';

export interface ReplayPacket {
  /** 1-based record number in the capture. */
  readonly index: number;
  readonly timeNs: bigint;
  readonly summary: string;
  readonly outcome: ReplayOutcome;
  readonly hook?: BuiltinChain;
  readonly in?: string;
  readonly out?: string;
  readonly rule?: {
    readonly chain: string;
    readonly number: number;
    readonly line: number;
    readonly text: string;
  };
  /** Decided by the built-in chain's policy. */
  readonly policy?: boolean;
  readonly ctState?: string;
  readonly ctReason?: string;
  readonly logs?: readonly string[];
  /** The REJECT reply, summarised. */
  readonly reply?: string;
  /** Why the packet was INVALID-PACKET, HELD or reassembled. */
  readonly detail?: string;
  /** Record numbers of the fragments this verdict covers (reassembled datagrams). */
  readonly fragments?: readonly number[];
}

export interface ReplayReport {
  readonly packets: readonly ReplayPacket[];
  /** Records that came out of the firewall (accepted, or not IPv4), in capture order of their verdict. */
  readonly passed: readonly CaptureRecord[];
  /** `iptables-save -c` with the counters after the replay. */
  readonly counters: string;
  readonly totals: Readonly<Record<ReplayOutcome, number>>;
  readonly conntrack: boolean;
}

export function replayCapture(
  capture: Capture,
  ruleset: Ruleset,
  mode: ReplayMode,
  options: FirewallOptions = {},
): ReplayReport {
  const fw = new Firewall(ruleset, options);
  const packets: ReplayPacket[] = [];
  const passed: CaptureRecord[] = [];
  const held = new Map<string, { rec: CaptureRecord; index: number }[]>();
  const totals: Record<ReplayOutcome, number> = {
    ACCEPT: 0,
    DROP: 0,
    REJECT: 0,
    HELD: 0,
    'INVALID-PACKET': 0,
    'NOT-IPV4': 0,
    'NOT-FOR-HOST': 0,
  };
  if (mode.kind === 'gateway' && mode.sideA.length === 0) {
    const names = capture.interfaces.map((i) => i.name);
    if (!(names.includes(mode.a) && names.includes(mode.b)))
      throw new InputError(
        'REPLAY_DIRECTION',
        `gateway mode needs the networks behind ${mode.a} (--side-a) or a pcapng capture naming interfaces ${mode.a} and ${mode.b}`,
      );
  }
  capture.records.forEach((rec, k) => {
    const push = (p: ReplayPacket) => {
      packets.push(p);
      totals[p.outcome]++;
    };
    const base = { index: k + 1, timeNs: rec.timeNs };
    const linkType = capture.interfaces[rec.interfaceIndex]?.linkType ?? LinkType.ETHERNET;
    let network: { datagram: Uint8Array; linkHeader?: Uint8Array } | 'not-ipv4';
    try {
      network = ipv4Of(rec.frame, linkType);
    } catch (e) {
      if (!(e instanceof PacketError)) throw e;
      push({
        ...base,
        summary: `malformed frame (${rec.frame.length} bytes)`,
        outcome: 'INVALID-PACKET',
        detail: `${e.code} at offset ${e.location.offset}: ${e.detail}`,
      });
      return;
    }
    if (network === 'not-ipv4') {
      passed.push(rec);
      push({ ...base, summary: `non-IPv4 frame (${rec.frame.length} bytes)`, outcome: 'NOT-IPV4' });
      return;
    }
    const d = network.datagram;
    const summary = summarizeIpv4(d);
    const where = route(d, mode, capture, rec);
    if (!where) {
      push({ ...base, summary, outcome: 'NOT-FOR-HOST' });
      return;
    }
    const r: FirewallResult = fw.process({
      hook: where.hook,
      datagram: d,
      inInterface: where.in,
      outInterface: where.out,
      nowNs: rec.timeNs,
      ...(network.linkHeader ? { linkHeader: network.linkHeader } : {}),
    });
    const at = {
      hook: where.hook,
      ...(where.in ? { in: where.in } : {}),
      ...(where.out ? { out: where.out } : {}),
    };
    if (r.kind === 'held') {
      const list = held.get(r.key) ?? [];
      list.push({ rec, index: k + 1 });
      held.set(r.key, list);
      push({ ...base, summary, outcome: 'HELD', ...at, detail: 'fragment held for reassembly' });
      return;
    }
    if (r.kind === 'dropped') {
      if (r.key) held.delete(r.key);
      push({
        ...base,
        summary,
        outcome: 'INVALID-PACKET',
        ...at,
        detail: `${r.reason}: ${r.code}${r.offset !== undefined ? ` at offset ${r.offset}` : ''} (${r.detail})`,
      });
      return;
    }
    const group = [...(r.reassembled ? (held.get(r.reassembled.key) ?? []) : []), { rec, index: k + 1 }];
    if (r.reassembled) held.delete(r.reassembled.key);
    if (r.verdict === 'ACCEPT') passed.push(...group.map((g) => g.rec));
    push({
      ...base,
      summary: r.reassembled ? summarizeIpv4(r.datagram) : summary,
      outcome: r.verdict,
      ...at,
      ...(r.rule ? { rule: r.rule } : { policy: true }),
      ctState: r.ctState,
      ...(r.ctReason !== undefined ? { ctReason: r.ctReason } : {}),
      ...(r.logs.length > 0 ? { logs: r.logs.map((l) => l.text) } : {}),
      ...(r.reply ? { reply: summarizeIpv4(r.reply) } : {}),
      ...(r.hotdrop ? { detail: 'dropped by a match that could not read the packet (hotdrop)' } : {}),
      ...(r.reassembled ? { fragments: group.map((g) => g.index) } : {}),
    });
  });
  return { packets, passed, counters: fw.save(), totals, conntrack: fw.conntrackEnabled };
}

/** The IPv4 datagram carried by a frame of the given link type, or 'not-ipv4'. */
function ipv4Of(
  frame: Uint8Array,
  linkType: number,
): { datagram: Uint8Array; linkHeader?: Uint8Array } | 'not-ipv4' {
  switch (linkType) {
    case LinkType.ETHERNET: {
      const eth = decodeEthernet(frame);
      if (eth.etherType !== EtherType.IPV4) return 'not-ipv4';
      return { datagram: eth.payload, linkHeader: frame.subarray(0, frame.length - eth.payload.length) };
    }
    case LinkType.RAW:
    case LinkType.IPV4:
    case LinkType.IPV6:
      return frame.length > 0 && (frame[0] ?? 0) >>> 4 === 4 ? { datagram: frame } : 'not-ipv4';
    case LinkType.LINUX_SLL:
      if (frame.length < 16)
        throw new PacketError('SLL_TRUNCATED', 'Linux cooked header needs 16 bytes', frame.length);
      return u16(frame, 14) === EtherType.IPV4 ? { datagram: frame.subarray(16) } : 'not-ipv4';
    default:
      throw new InputError('LINKTYPE_UNSUPPORTED', `link type ${linkType} is not supported`);
  }
}

function route(
  d: Uint8Array,
  mode: ReplayMode,
  capture: Capture,
  rec: CaptureRecord,
): { hook: BuiltinChain; in: string; out: string } | undefined {
  // Addresses are read leniently: a damaged header is reported by the firewall itself.
  const src = d.length >= 20 ? u32(d, 12) : 0;
  const dst = d.length >= 20 ? u32(d, 16) : 0;
  if (mode.kind === 'host') {
    if (mode.addresses.includes(dst)) return { hook: 'INPUT', in: mode.iface, out: '' };
    if (mode.addresses.includes(src)) return { hook: 'OUTPUT', in: '', out: mode.iface };
    return undefined;
  }
  const name = capture.interfaces[rec.interfaceIndex]?.name;
  let fromA: boolean;
  if (name === mode.a || name === mode.b) fromA = name === mode.a;
  else fromA = mode.sideA.some((n) => (src & n.mask) >>> 0 === n.address);
  return fromA ? { hook: 'FORWARD', in: mode.a, out: mode.b } : { hook: 'FORWARD', in: mode.b, out: mode.a };
}

/** `A.B.C.D[/len]` list to networks (for `--side-a`). */
export function parseNetworks(text: string, option: string): Network[] {
  return text
    .split(',')
    .filter((s) => s !== '')
    .map((part) => {
      const m = /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d{1,2}))?$/.exec(part);
      const len = m?.[2] === undefined ? 32 : Number(m[2]);
      const addr = m ? tryParseIpv4(m[1] ?? '') : undefined;
      if (!m || addr === undefined || len > 32)
        throw new InputError('BAD_ARGUMENTS', `${option}: '${part}' is not an IPv4 address or network`);
      const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      return { address: (addr & mask) >>> 0, mask };
    });
}
