/**
 * The filter-table ruleset as iptables-restore reads it: built-in chains with policies, user chains,
 * rules made of the generic IPv4 header matches (`-s -d -i -o -p -f`), extension matches and a target.
 * Values are normalised the way the kernel stores them (addresses masked, protocols numeric, ports as
 * ranges), so that saving prints what `iptables-save` prints.
 */
import type { CtStateName, RejectWith } from './names.js';

export type BuiltinChain = 'INPUT' | 'FORWARD' | 'OUTPUT';
export const BUILTIN_CHAINS: readonly BuiltinChain[] = ['INPUT', 'FORWARD', 'OUTPUT'];
export type Policy = 'ACCEPT' | 'DROP';

export interface Counters {
  packets: number;
  bytes: number;
}

/** `-s`/`-d`: address under mask (host bits already cleared). */
export interface AddressMatch {
  readonly address: number;
  readonly mask: number;
  readonly invert: boolean;
}

/** `-i`/`-o`: a trailing `+` matches every name with that prefix. */
export interface InterfaceMatch {
  readonly name: string;
  readonly invert: boolean;
}

export interface PortRange {
  readonly min: number;
  readonly max: number;
}

export interface PortMatch extends PortRange {
  readonly invert: boolean;
}

export type Match =
  /** libxt_tcp: ports and `--tcp-flags MASK COMP` over header byte 13. */
  | {
      readonly kind: 'tcp';
      readonly sport?: PortMatch;
      readonly dport?: PortMatch;
      readonly flags?: { readonly mask: number; readonly comp: number; readonly invert: boolean };
    }
  | { readonly kind: 'udp'; readonly sport?: PortMatch; readonly dport?: PortMatch }
  /** libxt_icmp: type 255 is `any`. */
  | {
      readonly kind: 'icmp';
      readonly type: number;
      readonly codeMin: number;
      readonly codeMax: number;
      readonly invert: boolean;
    }
  | {
      readonly kind: 'multiport';
      readonly direction: 'src' | 'dst' | 'any';
      readonly ports: readonly PortRange[];
      readonly invert: boolean;
    }
  /** `-m conntrack --ctstate` and `-m state --state`: a bit set of `CtState`. */
  | { readonly kind: 'conntrack' | 'state'; readonly states: number; readonly invert: boolean }
  | {
      readonly kind: 'iprange';
      readonly src?: { readonly min: number; readonly max: number; readonly invert: boolean };
      readonly dst?: { readonly min: number; readonly max: number; readonly invert: boolean };
    }
  /** Token bucket: `rate` packets per `unitSeconds`, up to `burst` at once (nft limit semantics). */
  | { readonly kind: 'limit'; readonly rate: number; readonly unitSeconds: number; readonly burst: number }
  | { readonly kind: 'comment'; readonly text: string };

export type MatchKind = Match['kind'];

export interface LogOptions {
  readonly level: number;
  readonly prefix: string;
  readonly tcpSequence: boolean;
  readonly tcpOptions: boolean;
  readonly ipOptions: boolean;
  readonly uid: boolean;
  readonly macDecode: boolean;
}

export type Target =
  | { readonly kind: 'ACCEPT' }
  | { readonly kind: 'DROP' }
  | { readonly kind: 'RETURN' }
  | { readonly kind: 'REJECT'; readonly with: RejectWith }
  | ({ readonly kind: 'LOG' } & LogOptions)
  | { readonly kind: 'jump'; readonly chain: string }
  | { readonly kind: 'goto'; readonly chain: string }
  /** A rule without `-j`: it only counts. */
  | { readonly kind: 'none' };

export interface Rule {
  readonly src?: AddressMatch;
  readonly dst?: AddressMatch;
  readonly inInterface?: InterfaceMatch;
  readonly outInterface?: InterfaceMatch;
  /** `-p`: 0 (all) is never stored. */
  readonly protocol?: { readonly number: number; readonly invert: boolean };
  /** `-f` (second and further fragments) or `! -f`. */
  readonly fragment?: { readonly invert: boolean };
  readonly matches: readonly Match[];
  readonly target: Target;
  /** Line of the rules file the rule came from (0 when built in code). */
  readonly line: number;
  /** Counters given in the file (`[packets:bytes]`), as `iptables-restore -c` loads them. */
  readonly counters: Counters;
}

export interface Chain {
  readonly name: string;
  readonly builtin: boolean;
  /** Built-in chains only. */
  readonly policy?: Policy;
  readonly policyCounters: Counters;
  readonly rules: readonly Rule[];
}

export interface Ruleset {
  /** Built-in chains first (INPUT, FORWARD, OUTPUT), then user chains in declaration order. */
  readonly chains: readonly Chain[];
}

export function findChain(ruleset: Ruleset, name: string): Chain | undefined {
  return ruleset.chains.find((c) => c.name === name);
}

/** Connection tracking is needed (nf_ct_netns_get) as soon as one rule matches on state. */
export function usesConntrack(ruleset: Ruleset): boolean {
  return ruleset.chains.some((c) =>
    c.rules.some((r) => r.matches.some((m) => m.kind === 'conntrack' || m.kind === 'state')),
  );
}

export type { CtStateName, RejectWith };
