/**
 * The firewall as the kernel runs the filter table for one network namespace: IPv4 header checks
 * (ip_rcv), defragmentation (always before INPUT and OUTPUT; before FORWARD when conntrack is on),
 * connection tracking when the ruleset needs it (a state match makes nf_conntrack and nf_defrag_ipv4
 * active, as nf_ct_netns_get does), the INPUT / FORWARD / OUTPUT chain,
 * confirmation of new connections for accepted packets, REJECT replies and LOG lines, per-rule counters.
 *
 * Everything is driven by the caller: packets come with their hook, interfaces and virtual time; the
 * engine holds no timers and reads no clock.
 */
import { PacketError } from '../net/wire.js';
import { type Ipv4Packet, decodeIpv4, encodeIpv4, isFragment } from '../net/ipv4.js';
import { type FragmentDropReason, Ipv4Reassembler, type ReassemblyOptions } from '../net/ipv4-fragments.js';
import { CompiledClassifier } from './compiled.js';
import {
  type ConntrackOptions,
  type ConntrackStats,
  ConnectionTracker,
  type CtVerdict,
} from './conntrack.js';
import { type Decision, LinearEvaluator } from './evaluate.js';
import { type LogEntry, formatLog } from './log.js';
import { LimitState } from './match.js';
import { CT_STATE_ORDER, CtState } from './names.js';
import { filterPacket } from './packet.js';
import { rejectReply } from './reject.js';
import { type BuiltinChain, type Ruleset, usesConntrack } from './ruleset.js';
import { formatRule, saveRuleset } from './save.js';

export interface FirewallOptions {
  /** `compiled` (default) or the `linear` reference. */
  readonly evaluator?: 'compiled' | 'linear';
  /** Connection tracking and defragmentation: on, off, or `auto` (on when a rule matches on state). */
  readonly conntrack?: boolean | 'auto';
  readonly conntrackOptions?: ConntrackOptions;
  readonly reassembly?: ReassemblyOptions;
  /** Source address of ICMP errors REJECT sends from the FORWARD chain (the gateway's own address). */
  readonly forwardIcmpSource?: number;
}

export interface PacketInput {
  readonly hook: BuiltinChain;
  /** The IPv4 datagram (bytes after its total length, such as link padding, are ignored). */
  readonly datagram: Uint8Array;
  readonly inInterface?: string;
  readonly outInterface?: string;
  readonly nowNs: bigint;
  /** The link-layer header the datagram came with, printed by LOG as MAC=. */
  readonly linkHeader?: Uint8Array;
}

/** The rule that decided, located in the ruleset and its file. */
export interface DecidingRule {
  readonly chain: string;
  /** 1-based, as `iptables -L --line-numbers` counts. */
  readonly number: number;
  /** Line in the rules file. */
  readonly line: number;
  /** The rule as iptables-save prints it. */
  readonly text: string;
}

export type FirewallResult =
  | {
      readonly kind: 'verdict';
      readonly verdict: 'ACCEPT' | 'DROP' | 'REJECT';
      readonly chain: BuiltinChain;
      /** Absent when the chain's policy decided. */
      readonly rule?: DecidingRule;
      readonly hotdrop?: boolean;
      readonly ctState: string;
      readonly ctReason?: string;
      readonly logs: readonly LogEntry[];
      /** The REJECT reply, when the kernel would send one. */
      readonly reply?: Uint8Array;
      /** The datagram evaluated (the reassembled one when fragments were joined). */
      readonly datagram: Uint8Array;
      /** Fragments joined into it, with the key they were held under. */
      readonly reassembled?: {
        readonly key: string;
        readonly fragments: number;
        /** The largest fragment's total length (frag_max_size). */
        readonly largest: number;
      };
    }
  /** A fragment waiting for the rest of its datagram. */
  | { readonly kind: 'held'; readonly key: string }
  /**
   * Dropped before the filter table: a malformed header, a failed reassembly, TTL exhausted in
   * forwarding, a new flow finding the connection table full (code CONNTRACK_TABLE_FULL).
   */
  | {
      readonly kind: 'dropped';
      readonly reason: 'malformed' | 'reassembly' | 'ttl-exceeded' | 'conntrack';
      readonly code: string;
      readonly detail: string;
      readonly offset?: number;
      readonly key?: string;
    };

export interface FirewallStats {
  accepted: number;
  dropped: number;
  rejected: number;
  held: number;
  malformed: number;
  reassemblyFailures: number;
  ttlExceeded: number;
  /** New flows dropped because the connection table was full. */
  conntrackFull: number;
}

/** Connection-table entries the garbage collector looks at per `expire` call (besides those per packet). */
const GC_SCAN_PER_EXPIRE = 64;

export class Firewall {
  readonly ruleset: Ruleset;
  readonly conntrackEnabled: boolean;
  readonly stats: FirewallStats = {
    accepted: 0,
    dropped: 0,
    rejected: 0,
    held: 0,
    malformed: 0,
    reassemblyFailures: 0,
    ttlExceeded: 0,
    conntrackFull: 0,
  };
  private readonly evaluator: LinearEvaluator | CompiledClassifier;
  private readonly tracker: ConnectionTracker | undefined;
  private readonly reassembler: Ipv4Reassembler;
  private readonly limits = new LimitState();
  /**
   * REJECT replies sent for tracked packets, by replyKey: the kernel attaches the rejected packet's
   * conntrack to its reply (nf_ct_attach), so the reply leaves through OUTPUT as RELATED.
   */
  private readonly ownReplies = new Map<string, number>();
  private readonly ruleText = new Map<string, string[]>();

  constructor(
    ruleset: Ruleset,
    private readonly options: FirewallOptions = {},
  ) {
    this.ruleset = ruleset;
    this.evaluator =
      options.evaluator === 'linear' ? new LinearEvaluator(ruleset) : new CompiledClassifier(ruleset);
    const ct = options.conntrack ?? 'auto';
    this.conntrackEnabled = ct === 'auto' ? usesConntrack(ruleset) : ct;
    this.tracker = this.conntrackEnabled ? new ConnectionTracker(options.conntrackOptions) : undefined;
    this.reassembler = new Ipv4Reassembler(options.reassembly);
    for (const c of ruleset.chains) this.ruleText.set(c.name, c.rules.map(formatRule));
  }

  /** Runs one datagram through its hook. */
  process(input: PacketInput): FirewallResult {
    let ip: Ipv4Packet;
    let datagram = input.datagram;
    try {
      ip = decodeIpv4(datagram);
    } catch (e) {
      if (!(e instanceof PacketError)) throw e;
      this.stats.malformed++;
      return {
        kind: 'dropped',
        reason: 'malformed',
        code: e.code,
        detail: e.detail,
        ...(e.location.offset !== undefined ? { offset: e.location.offset } : {}),
      };
    }
    let headerLength = ((datagram[0] ?? 0) & 15) * 4;
    let reassembled: { key: string; fragments: number; largest: number } | undefined;
    // INPUT always sees whole datagrams (ip_local_deliver reassembles before LOCAL_IN) and so does
    // OUTPUT (local datagrams are fragmented after POSTROUTING); FORWARD sees fragments unless
    // connection tracking brought nf_defrag_ipv4 in at PREROUTING.
    const defrag = input.hook !== 'FORWARD' || this.conntrackEnabled;
    if (defrag && isFragment(ip)) {
      const key = fragmentKey(ip);
      const r = this.reassembler.push(ip, input.nowNs);
      if (r.kind === 'held') {
        this.stats.held++;
        return { kind: 'held', key };
      }
      if (r.kind === 'dropped') {
        this.stats.reassemblyFailures++;
        return {
          kind: 'dropped',
          reason: 'reassembly',
          code: reassemblyCode(r.reason),
          detail: r.reason,
          key,
        };
      }
      ip = r.packet;
      datagram = encodeIpv4(ip);
      headerLength = ((datagram[0] ?? 0) & 15) * 4;
      reassembled = { key, fragments: r.fragments, largest: r.largest ?? datagram.length };
    } else {
      datagram = datagram.subarray(0, headerLength + ip.payload.length);
    }
    let ct: CtVerdict | undefined;
    const own = this.tracker && input.hook === 'OUTPUT' ? this.takeOwnReply(datagram) : false;
    if (own) {
      ct = { state: CtState.RELATED, dir: 1 };
    } else if (this.tracker) {
      ct = this.tracker.track(
        {
          src: ip.src,
          dst: ip.dst,
          protocol: ip.protocol,
          payload: ip.payload,
          fragmentOffset: ip.fragmentOffset,
          moreFragments: ip.moreFragments,
        },
        input.hook === 'OUTPUT' ? 'OUTPUT' : 'PREROUTING',
        input.nowNs,
      );
      if (ct.drop) {
        // nf_conntrack_in returns NF_DROP: the packet never reaches the filter table.
        this.stats.conntrackFull++;
        return {
          kind: 'dropped',
          reason: 'conntrack',
          code: ct.drop,
          detail: 'connection table full, no connection could be evicted',
        };
      }
    }
    if (input.hook === 'FORWARD' && ip.ttl <= 1) {
      // ip_forward sends Time Exceeded and drops before the FORWARD hook.
      this.stats.ttlExceeded++;
      return {
        kind: 'dropped',
        reason: 'ttl-exceeded',
        code: 'TTL_EXCEEDED',
        detail: `TTL ${ip.ttl} in forwarding`,
      };
    }
    const inIf = input.hook === 'OUTPUT' ? '' : (input.inInterface ?? '');
    const outIf = input.hook === 'INPUT' ? '' : (input.outInterface ?? '');
    const ctState = ct?.state ?? CtState.INVALID;
    const fp = filterPacket(ip, headerLength, inIf, outIf, ctState);
    const d: Decision = this.evaluator.evaluate(input.hook, fp, { limits: this.limits, nowNs: input.nowNs });
    if (d.verdict === 'ACCEPT') {
      this.stats.accepted++;
      if (ct) this.tracker?.confirm(ct);
    } else if (d.verdict === 'REJECT') this.stats.rejected++;
    else this.stats.dropped++;
    const logs = d.logs.map((l) => formatLog(l.options, datagram, inIf, outIf, input.linkHeader));
    let reply: Uint8Array | undefined;
    if (d.verdict === 'REJECT' && d.rejectWith) {
      const source = input.hook === 'FORWARD' ? this.options.forwardIcmpSource : undefined;
      reply = rejectReply(d.rejectWith, {
        datagram,
        ip,
        incoming: input.hook !== 'OUTPUT',
        ...(source !== undefined ? { icmpSource: source } : {}),
      });
      if (reply && ct && ct.state !== CtState.INVALID) this.rememberOwnReply(reply);
    }
    return {
      kind: 'verdict',
      verdict: d.verdict,
      chain: input.hook,
      ...(d.rule ? { rule: this.describe(d.rule.chain, d.rule.index) } : {}),
      ...(d.hotdrop ? { hotdrop: true } : {}),
      ctState: ctName(ctState),
      ...(ct?.reason !== undefined ? { ctReason: ct.reason } : {}),
      logs,
      ...(reply ? { reply } : {}),
      datagram,
      ...(reassembled ? { reassembled } : {}),
    };
  }

  /**
   * Fragments held longer than the reassembly timeout are dropped, and a bounded batch of expired
   * connections is reclaimed; call as virtual time advances. Returns the datagrams dropped.
   */
  expire(nowNs: bigint): number {
    this.tracker?.gc(nowNs, GC_SCAN_PER_EXPIRE);
    return this.reassembler.expire(nowNs).length;
  }

  /** The fragment queues' counters and memory charge (ipfrag). */
  reassemblyStats() {
    return this.reassembler.stats();
  }

  /** The connection table's counters (undefined when tracking is off). */
  conntrackStats(): ConntrackStats | undefined {
    return this.tracker?.stats();
  }

  /** Live connections (when tracking is on). */
  connections(nowNs: bigint) {
    return this.tracker?.connections(nowNs) ?? [];
  }

  /** The ruleset with live counters, as `iptables-save -c` prints it. */
  save(options: { counters?: boolean } = {}): string {
    return saveRuleset(this.ruleset, {
      counters: options.counters ?? true,
      live: this.evaluator.program.counters(),
    });
  }

  /** Live counters per chain: policy, then one per rule. */
  counters() {
    return this.evaluator.program.counters();
  }

  private rememberOwnReply(reply: Uint8Array): void {
    const key = replyKey(reply);
    if (key === undefined) return;
    this.ownReplies.set(key, (this.ownReplies.get(key) ?? 0) + 1);
    // Bounded: the oldest entries go first.
    if (this.ownReplies.size > 4096) this.ownReplies.delete(this.ownReplies.keys().next().value!);
  }

  private takeOwnReply(datagram: Uint8Array): boolean {
    const key = replyKey(datagram);
    const n = key === undefined ? undefined : this.ownReplies.get(key);
    if (key === undefined || n === undefined) return false;
    if (n > 1) this.ownReplies.set(key, n - 1);
    else this.ownReplies.delete(key);
    return true;
  }

  private describe(chain: string, index: number): DecidingRule {
    const c = this.ruleset.chains.find((x) => x.name === chain);
    return {
      chain,
      number: index + 1,
      line: c?.rules[index]?.line ?? 0,
      text: `-A ${chain}${this.ruleText.get(chain)?.[index] ?? ''}`,
    };
  }
}

/**
 * What identifies a REJECT reply whatever the IP identification, TTL or TOS the sender chose: the
 * addresses and the RST's ports, sequence numbers and flags, or the ICMP type, code and quoted header.
 */
function replyKey(d: Uint8Array): string | undefined {
  if (d.length < 20) return undefined;
  const ihl = ((d[0] ?? 0) & 15) * 4;
  const l4 = d.subarray(ihl);
  const addrs = d.subarray(12, 20).join('.');
  if (d[9] === 6 && l4.length >= 14) return `6:${addrs}:${l4.subarray(0, 14).join('.')}`;
  if (d[9] === 1 && l4.length >= 36)
    return `1:${addrs}:${l4.subarray(0, 2).join('.')}:${l4.subarray(8, 36).join('.')}`;
  return undefined;
}

function fragmentKey(ip: Ipv4Packet): string {
  return `${ip.src},${ip.dst},${ip.protocol},${ip.identification}`;
}

function reassemblyCode(reason: FragmentDropReason): string {
  return `FRAGMENT_${reason.toUpperCase().replace(/-/g, '_')}`;
}

export function ctName(bit: number): string {
  return CT_STATE_ORDER.find((n) => CtState[n] === bit) ?? 'INVALID';
}
