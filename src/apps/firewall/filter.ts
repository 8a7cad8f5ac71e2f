/**
 * The firewall's packet path, frame by frame, between the WAN (the NIC driver's rings) and the Normal
 * World (its proxy driver's rings). The Normal World is a host behind the firewall, so the netfilter
 * engine (src/lib/netfilter/) sees what a Linux host's firewall sees: datagrams from the WAN go through
 * INPUT (arriving on `eth0`), datagrams from the Normal World through OUTPUT (leaving on `eth0`), with
 * connection tracking and reassembly as the kernel does them.
 *
 * Beyond the ruleset, at the link layer: ARP passes both ways (iptables does not filter it); a frame of
 * any other EtherType (IPv6 included: there is no ip6tables ruleset), a VLAN-tagged frame, a frame that
 * does not decode, and a Normal World frame whose source MAC is not the NIC's are dropped and counted.
 * Every drop and every reject is reported as a log line; nothing is thrown for anything a frame holds.
 *
 * Pure: no kernel calls, no clock (time comes with each frame). The trusted application runs it in its
 * compartment; tests and the benchmark run it as it is.
 */
import { PacketError } from '../../lib/net/wire.js';
import { decodeArp } from '../../lib/net/arp.js';
import { EtherType, decodeEthernet, encodeEthernet } from '../../lib/net/ethernet.js';
import { IpProtocol, decodeIpv4, encodeIpv4 } from '../../lib/net/ipv4.js';
import { fragmentIpv4 } from '../../lib/net/ipv4-fragments.js';
import { IcmpRateLimiter, type IcmpRateLimitOptions, fragmentationNeeded } from '../../lib/net/icmp-error.js';
import { summarizeIpv4 } from '../../lib/net/summary.js';
import { Firewall, type FirewallOptions, type FirewallResult } from '../../lib/netfilter/firewall.js';
import type { Ruleset } from '../../lib/netfilter/ruleset.js';
import { WAN_INTERFACE } from './protocol.js';

export type Side = 'wan' | 'normal-world';

/** What became of one frame. */
export interface FrameOutcome {
  /** Frames to pass on to the other side. */
  readonly forward: Uint8Array[];
  /** Frames to send back to the side it came from (REJECT replies). */
  readonly reply: Uint8Array[];
  /** Log lines (drops, rejects, LOG rules); empty for a plain accept. */
  readonly log: string[];
  readonly verdict: 'ACCEPT' | 'DROP' | 'REJECT' | 'HELD';
}

/** Per side: what came in and what became of it. */
export interface SideCounters {
  frames: number;
  accepted: number;
  dropped: number;
  rejected: number;
  /** Fragments waiting for the rest of their datagram. */
  held: number;
  arp: number;
  /** Dropped before the ruleset: malformed Ethernet/IPv4, failed reassembly. */
  malformed: number;
  /** Dropped before the ruleset: not IPv4 or ARP, or VLAN-tagged. */
  notIpv4: number;
  /** Normal World frames whose source MAC is not the NIC's. */
  spoofed: number;
  /** Frames of a new flow dropped because the connection table was full (CONNTRACK_TABLE_FULL). */
  conntrackFull: number;
  /**
   * Datagrams the ruleset accepted, with DF set and larger than the MTU of the link they were to leave
   * by: dropped (not counted as accepted), answered with ICMP fragmentation needed (unless rate-limited).
   */
  fragNeeded: number;
  /** Frames whose handling threw: dropped and logged, the loop goes on. */
  internalErrors: number;
}

/** The MTU of both links (Ethernet), unless the filter is told otherwise. */
const MTU = 1500;
const MIN_MTU = 68;

export interface EntryFilterOptions extends Omit<FirewallOptions, 'conntrack'> {
  /** MTU of the link to the Normal World (what WAN datagrams leave by); default 1500. */
  readonly insideMtu?: number;
  /** MTU of the WAN link (what Normal World datagrams leave by); default 1500. */
  readonly wanMtu?: number;
  readonly icmpRateLimit?: IcmpRateLimitOptions;
}

function sideCounters(): SideCounters {
  return {
    frames: 0,
    accepted: 0,
    dropped: 0,
    rejected: 0,
    held: 0,
    arp: 0,
    malformed: 0,
    notIpv4: 0,
    spoofed: 0,
    conntrackFull: 0,
    fragNeeded: 0,
    internalErrors: 0,
  };
}

const hex16 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
const sameMac = (a: Uint8Array, b: Uint8Array) =>
  a.length >= 6 && b.length >= 6 && a.every((x, i) => i >= 6 || x === b[i]);

export class EntryFilter {
  readonly firewall: Firewall;
  readonly counters: Record<Side, SideCounters> = { wan: sideCounters(), 'normal-world': sideCounters() };
  /** The NIC's MAC address (the Normal World's source address, the REJECT replies' source). */
  mac: Uint8Array | undefined;
  /** ICMP errors the filter itself sends (fragmentation needed), rate-limited as Linux's are. */
  readonly icmpLimiter: IcmpRateLimiter;
  private readonly mtu: Record<Side, number>;

  constructor(ruleset: Ruleset, options: EntryFilterOptions = {}) {
    const { insideMtu, wanMtu, icmpRateLimit, ...engine } = options;
    this.firewall = new Firewall(ruleset, { ...engine, evaluator: engine.evaluator ?? 'compiled' });
    // A frame from the WAN leaves by the inside link, one from the Normal World by the WAN.
    // RFC 791 §3.2: every link carries 68 octets (a 60-byte header and 8 of data), so that fragmenting
    // to the MTU always leaves room for data.
    const link = (m: number | undefined) => Math.max(MIN_MTU, Math.floor(m ?? MTU));
    this.mtu = { wan: link(insideMtu), 'normal-world': link(wanMtu) };
    this.icmpLimiter = new IcmpRateLimiter(icmpRateLimit);
  }

  /** Runs one frame from `side` through the link checks and the ruleset; it never throws. */
  process(side: Side, frame: Uint8Array, nowNs: bigint): FrameOutcome {
    const c = this.counters[side];
    c.frames++;
    try {
      return this.processFrame(side, frame, nowNs);
    } catch (e) {
      // No frame may stop the loop: what throws is a counted, logged drop of that frame alone.
      c.internalErrors++;
      const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      const from = side === 'wan' ? `in=${WAN_INTERFACE}` : `out=${WAN_INTERFACE}`;
      return {
        forward: [],
        reply: [],
        log: [`DROP ${from} internal error on a ${frame.length}-byte frame: ${why.slice(0, 200)}`],
        verdict: 'DROP',
      };
    }
  }

  private processFrame(side: Side, frame: Uint8Array, nowNs: bigint): FrameOutcome {
    const c = this.counters[side];
    const from = side === 'wan' ? `in=${WAN_INTERFACE}` : `out=${WAN_INTERFACE}`;
    const drop = (counter: 'malformed' | 'notIpv4' | 'spoofed', why: string): FrameOutcome => {
      c[counter]++;
      return { forward: [], reply: [], log: [`DROP ${from} ${why}`], verdict: 'DROP' };
    };
    let eth;
    try {
      eth = decodeEthernet(frame);
    } catch (e) {
      if (!(e instanceof PacketError)) throw e;
      return drop(
        'malformed',
        `malformed frame (${frame.length} bytes): ${e.code} at ${e.location.offset ?? 0}`,
      );
    }
    if (side === 'normal-world' && this.mac && !sameMac(eth.src, this.mac))
      return drop('spoofed', `source MAC ${macText(eth.src)} is not the interface's`);
    if (eth.vlans.length > 0) return drop('notIpv4', 'VLAN-tagged frame');
    if (eth.etherType === EtherType.ARP) {
      try {
        decodeArp(eth.payload, 14);
      } catch (e) {
        if (!(e instanceof PacketError)) throw e;
        return drop('malformed', `malformed ARP: ${e.code} at ${e.location.offset ?? 0}`);
      }
      c.arp++;
      return { forward: [frame], reply: [], log: [], verdict: 'ACCEPT' };
    }
    if (eth.etherType !== EtherType.IPV4)
      return drop('notIpv4', `EtherType ${hex16(eth.etherType)} not forwarded`);
    const r = this.firewall.process({
      hook: side === 'wan' ? 'INPUT' : 'OUTPUT',
      datagram: eth.payload,
      ...(side === 'wan'
        ? { inInterface: WAN_INTERFACE, linkHeader: frame.subarray(0, 14) }
        : { outInterface: WAN_INTERFACE }),
      nowNs,
    });
    return this.outcome(side, frame, eth, r, from, nowNs);
  }

  private outcome(
    side: Side,
    frame: Uint8Array,
    eth: ReturnType<typeof decodeEthernet>,
    r: FirewallResult,
    from: string,
    nowNs: bigint,
  ): FrameOutcome {
    const c = this.counters[side];
    if (r.kind === 'held') {
      c.held++;
      return { forward: [], reply: [], log: [], verdict: 'HELD' };
    }
    if (r.kind === 'dropped') {
      if (r.reason === 'conntrack') c.conntrackFull++;
      else c.malformed++;
      return {
        forward: [],
        reply: [],
        log: [
          `DROP ${from} ${r.reason} ${r.code}${r.offset !== undefined ? ` at ${r.offset}` : ''}: ${summarizeIpv4(eth.payload)}`,
        ],
        verdict: 'DROP',
      };
    }
    const log = r.logs.map((l) => `LOG ${l.text}`);
    const decided = r.rule ? `${r.chain} rule ${r.rule.number} (line ${r.rule.line})` : `${r.chain} policy`;
    const what = `${summarizeIpv4(r.datagram)} ct=${r.ctState}`;
    if (r.verdict === 'ACCEPT') {
      const mtu = this.mtu[side];
      if (exceedsMtu(r, mtu)) return this.fragmentationNeeded(side, eth, r, log, from, what, mtu, nowNs);
      c.accepted++;
      return { forward: this.frames(frame, eth, r, mtu), reply: [], log, verdict: 'ACCEPT' };
    }
    if (r.verdict === 'DROP') {
      c.dropped++;
      log.push(`DROP ${from} ${decided}${r.hotdrop ? ' (hotdrop)' : ''}: ${what}`);
      return { forward: [], reply: [], log, verdict: 'DROP' };
    }
    c.rejected++;
    const reply: Uint8Array[] = [];
    // An ICMP answer is an icmp_send, rate-limited like every ICMP error (icmpv4_xrlim_allow; the
    // default icmp_ratemask covers destination unreachable); a TCP reset is not.
    const limited =
      r.reply !== undefined &&
      r.reply[9] === IpProtocol.ICMP &&
      !this.icmpLimiter.allow(decodeIpv4(r.reply).dst, nowNs);
    let sent = r.reply !== undefined && !limited;
    if (r.reply && sent && side === 'wan') {
      // As in Linux, the reply to a datagram rejected in INPUT is a local datagram: it leaves through
      // OUTPUT (where connection tracking knows it as RELATED to what it answers).
      const out = this.firewall.process({
        hook: 'OUTPUT',
        datagram: r.reply,
        outInterface: WAN_INTERFACE,
        nowNs,
      });
      sent = out.kind === 'verdict' && out.verdict === 'ACCEPT';
      if (out.kind === 'verdict') log.push(...out.logs.map((l) => `LOG ${l.text}`));
    }
    if (r.reply && sent) reply.push(this.replyFrame(eth, r.reply));
    const answer = !r.reply
      ? ' (no reply)'
      : limited
        ? ' (ICMP rate-limited)'
        : sent
          ? ` -> ${summarizeIpv4(r.reply)}`
          : ' (reply dropped in OUTPUT)';
    log.push(`REJECT ${from} ${decided}: ${what}${answer}`);
    return { forward: [], reply, log, verdict: 'REJECT' };
  }

  /**
   * An accepted datagram that may not be fragmented and does not fit the link it leaves by
   * (ip_forward, ip_exceeds_mtu): dropped and answered, as Linux answers, with destination unreachable,
   * fragmentation needed and DF set carrying the next-hop MTU (RFC 1191 §4), rate-limited like every
   * ICMP error Linux sends. (Linux exempts this one from icmp_ratemask so that path MTU discovery is
   * never slowed; the firewall applies its buckets anyway, so that a flood of oversize datagrams with
   * spoofed sources is not reflected at line rate.)
   */
  private fragmentationNeeded(
    side: Side,
    eth: ReturnType<typeof decodeEthernet>,
    r: Extract<FirewallResult, { kind: 'verdict' }>,
    log: string[],
    from: string,
    what: string,
    mtu: number,
    nowNs: bigint,
  ): FrameOutcome {
    const c = this.counters[side];
    c.fragNeeded++;
    const ip = decodeIpv4(r.datagram);
    // From the address the datagram was sent to (the gateway's, from the WAN); for the Normal World's
    // own datagram, from its own address, as Linux's icmp_send answers a local one (saddr = the host's).
    let icmp = fragmentationNeeded(r.datagram, ip, mtu, side === 'wan' ? ip.dst : ip.src);
    let answer = icmp ? '' : ' (no ICMP error for it)';
    if (icmp && !this.icmpLimiter.allow(ip.src, nowNs)) {
      icmp = undefined;
      answer = ' (ICMP rate-limited)';
    }
    if (icmp && side === 'wan') {
      // A local datagram: it leaves through OUTPUT, RELATED to the datagram it is about.
      const out = this.firewall.process({
        hook: 'OUTPUT',
        datagram: icmp,
        outInterface: WAN_INTERFACE,
        nowNs,
      });
      if (out.kind === 'verdict') log.push(...out.logs.map((l) => `LOG ${l.text}`));
      if (out.kind !== 'verdict' || out.verdict !== 'ACCEPT') {
        icmp = undefined;
        answer = ' (ICMP dropped in OUTPUT)';
      }
    }
    if (icmp) answer = ` -> ${summarizeIpv4(icmp)}`;
    log.push(
      `DROP ${from} fragmentation needed: DF set, ${r.datagram.length} bytes over MTU ${mtu}: ${what}${answer}`,
    );
    return { forward: [], reply: icmp ? [this.replyFrame(eth, icmp)] : [], log, verdict: 'DROP' };
  }

  /** Back to the sender: from the address it wrote to (ours, for a broadcast), to the address it came from. */
  private replyFrame(eth: ReturnType<typeof decodeEthernet>, datagram: Uint8Array): Uint8Array {
    const group = ((eth.dst[0] ?? 0) & 1) === 1;
    const src = group && this.mac ? this.mac : eth.dst;
    return encodeEthernet(
      { dst: eth.src, src, vlans: [], etherType: EtherType.IPV4, payload: datagram },
      { pad: true },
    );
  }

  /**
   * The frames an accepted datagram leaves as: the frame itself, or, when it was reassembled or does
   * not fit the link, its fragments (DF, when set, kept on each: their sizes came through the same MTU).
   */
  private frames(
    frame: Uint8Array,
    eth: ReturnType<typeof decodeEthernet>,
    r: Extract<FirewallResult, { kind: 'verdict' }>,
    mtu: number,
  ): Uint8Array[] {
    if (!r.reassembled && r.datagram.length <= mtu) return [frame];
    const packet = decodeIpv4(r.datagram);
    const pieces =
      r.datagram.length <= mtu
        ? [packet]
        : fragmentIpv4({ ...packet, dontFragment: false }, mtu).map((p) => ({
            ...p,
            dontFragment: packet.dontFragment,
          }));
    return pieces.map((p) =>
      encodeEthernet(
        { dst: eth.dst, src: eth.src, vlans: [], etherType: EtherType.IPV4, payload: encodeIpv4(p) },
        { pad: true },
      ),
    );
  }
}

/**
 * ip_exceeds_mtu: larger than the link, DF set, and not a reassembled datagram whose fragments all
 * fitted (Linux compares a reassembled datagram's largest fragment, frag_max_size, with the MTU).
 */
function exceedsMtu(r: Extract<FirewallResult, { kind: 'verdict' }>, mtu: number): boolean {
  if (r.datagram.length <= mtu || ((r.datagram[6] ?? 0) & 0x40) === 0) return false;
  return r.reassembled ? r.reassembled.largest > mtu : true;
}

function macText(m: Uint8Array): string {
  return Array.from(m.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}
