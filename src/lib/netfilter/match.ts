/**
 * Whether one rule matches one packet, with the semantics each option has in iptables-nft 1.8.9 (checked
 * with `nft --debug=netlink list ruleset`): the header fields, `-f`, the tcp/udp ports and TCP flags are
 * native nf_tables expressions — a transport field never matches a later fragment or a datagram too
 * short to hold it (NFT_BREAK, even when inverted), and an option not given costs nothing; `-m icmp`,
 * `-m multiport`, `-m iprange`, `-m conntrack`/`-m state` and `-m comment` stay xt matches — icmp and
 * multiport drop the packet when their header is missing (hotdrop); `-m limit` is nft's token bucket, in
 * nanoseconds of virtual time.
 */
import type { FilterPacket } from './packet.js';
import type { InterfaceMatch, Match, PortMatch, Rule } from './ruleset.js';

export const NO_MATCH = 0;
export const MATCH = 1;
/** The packet must be dropped at once (xt `hotdrop`). */
export const HOTDROP = 2;
export type MatchResult = typeof NO_MATCH | typeof MATCH | typeof HOTDROP;

/** Token buckets of `-m limit` matches, keyed by the match object; time is supplied by the caller. */
export class LimitState {
  private readonly buckets = new Map<Match, { tokens: bigint; last: bigint }>();

  /** nft_limit_eval for packet limits: cost = unit / rate, capacity = cost × burst, full at start. */
  pass(m: Extract<Match, { kind: 'limit' }>, nowNs: bigint): boolean {
    const cost = (BigInt(m.unitSeconds) * 1_000_000_000n) / BigInt(m.rate);
    const max = cost * BigInt(m.burst);
    let b = this.buckets.get(m);
    if (!b) {
      b = { tokens: max, last: nowNs };
      this.buckets.set(m, b);
    }
    let tokens = b.tokens + (nowNs > b.last ? nowNs - b.last : 0n);
    if (tokens > max) tokens = max;
    b.last = nowNs > b.last ? nowNs : b.last;
    if (tokens >= cost) {
      b.tokens = tokens - cost;
      return true;
    }
    b.tokens = tokens;
    return false;
  }

  reset(): void {
    this.buckets.clear();
  }
}

export interface MatchContext {
  readonly limits: LimitState;
  readonly nowNs: bigint;
}

/** ifname_compare: a trailing `+` compares the prefix only. */
export function interfaceMatches(m: InterfaceMatch, name: string): boolean {
  const hit = m.name.endsWith('+') ? name.startsWith(m.name.slice(0, -1)) : name === m.name;
  return hit !== m.invert;
}

/** The header part of a rule (`-s -d -i -o -p -f`), which has no state. */
export function headerMatches(r: Rule, p: FilterPacket): boolean {
  if (r.src && ((p.src & r.src.mask) >>> 0 === r.src.address) === r.src.invert) return false;
  if (r.dst && ((p.dst & r.dst.mask) >>> 0 === r.dst.address) === r.dst.invert) return false;
  if (r.inInterface && !interfaceMatches(r.inInterface, p.inInterface)) return false;
  if (r.outInterface && !interfaceMatches(r.outInterface, p.outInterface)) return false;
  if (r.protocol && (p.protocol === r.protocol.number) === r.protocol.invert) return false;
  if (r.fragment && (p.fragmentOffset !== 0) === r.fragment.invert) return false;
  return true;
}

function portIn(m: PortMatch, port: number): boolean {
  return (port >= m.min && port <= m.max) !== m.invert;
}

/** One extension match. `ctx` is consulted only by stateful matches. */
export function extensionMatches(m: Match, p: FilterPacket, ctx: MatchContext): MatchResult {
  switch (m.kind) {
    case 'tcp':
    case 'udp': {
      // Native payload loads: only the options given are compared, each needing its bytes.
      const sport =
        m.sport && !(m.sport.min === 0 && m.sport.max === 65535 && !m.sport.invert) ? m.sport : undefined;
      const dport =
        m.dport && !(m.dport.min === 0 && m.dport.max === 65535 && !m.dport.invert) ? m.dport : undefined;
      const flags =
        m.kind === 'tcp' && m.flags && (m.flags.mask !== 0 || m.flags.comp !== 0 || m.flags.invert)
          ? m.flags
          : undefined;
      if (!sport && !dport && !flags) return MATCH;
      if (p.fragmentOffset !== 0) return NO_MATCH;
      if (sport && (p.l4Length < 2 || !portIn(sport, p.sport))) return NO_MATCH;
      if (dport && (p.l4Length < 4 || !portIn(dport, p.dport))) return NO_MATCH;
      if (flags && (p.l4Length < 14 || ((p.tcpFlags & flags.mask) === flags.comp) === flags.invert))
        return NO_MATCH;
      return MATCH;
    }
    case 'icmp': {
      // xt icmp (iptables-nft keeps it as an xt match): a later fragment never matches; a missing
      // 8-byte ICMP header drops the packet.
      if (p.fragmentOffset !== 0) return NO_MATCH;
      if (p.l4Length < 8) return HOTDROP;
      const hit =
        m.type === 0xff || (p.icmpType === m.type && p.icmpCode >= m.codeMin && p.icmpCode <= m.codeMax);
      return hit !== m.invert ? MATCH : NO_MATCH;
    }
    case 'multiport': {
      // xt multiport: the ports must be there, or the packet is dropped.
      if (p.fragmentOffset !== 0) return NO_MATCH;
      if (p.l4Length < 4) return HOTDROP;
      let hit = false;
      for (const r of m.ports) {
        if (m.direction !== 'dst' && p.sport >= r.min && p.sport <= r.max) hit = true;
        if (m.direction !== 'src' && p.dport >= r.min && p.dport <= r.max) hit = true;
        if (hit) break;
      }
      return hit !== m.invert ? MATCH : NO_MATCH;
    }
    case 'conntrack':
    case 'state':
      return ((p.ctState & m.states) !== 0) !== m.invert ? MATCH : NO_MATCH;
    case 'iprange': {
      if (m.src && (p.src >= m.src.min && p.src <= m.src.max) === m.src.invert) return NO_MATCH;
      if (m.dst && (p.dst >= m.dst.min && p.dst <= m.dst.max) === m.dst.invert) return NO_MATCH;
      return MATCH;
    }
    case 'limit':
      return ctx.limits.pass(m, ctx.nowNs) ? MATCH : NO_MATCH;
    case 'comment':
      return MATCH;
  }
}

/** The whole rule: header first, then each extension in order (so a limit is charged only when reached). */
export function ruleMatches(r: Rule, p: FilterPacket, ctx: MatchContext): MatchResult {
  if (!headerMatches(r, p)) return NO_MATCH;
  for (const m of r.matches) {
    const res = extensionMatches(m, p, ctx);
    if (res !== MATCH) return res;
  }
  return MATCH;
}
