/**
 * Chain traversal shared by the evaluators, and the plain linear evaluator kept as the reference.
 *
 * Traversal is ipt_do_table / nft_do_chain: rules in order; a matching rule counts the packet; LOG and
 * rules without a target fall through; ACCEPT, DROP and REJECT end the walk; `-j` pushes a return point,
 * `-g` does not; RETURN or the end of a user chain pops it; RETURN or the end of a built-in chain (with
 * nothing to pop) applies the chain's policy, which has its own counters. A hotdrop drops the packet at
 * once without counting.
 */
import { assert } from '../../common/errors.js';
import { HOTDROP, MATCH, type MatchContext, type MatchResult, ruleMatches } from './match.js';
import type { FilterPacket } from './packet.js';
import type { BuiltinChain, LogOptions, RejectWith, Rule, Ruleset, Target } from './ruleset.js';

export type FinalVerdict = 'ACCEPT' | 'DROP' | 'REJECT';

const T_ACCEPT = 0;
const T_DROP = 1;
const T_REJECT = 2;
const T_LOG = 3;
const T_NONE = 4;
const T_RETURN = 5;
const T_JUMP = 6;
const T_GOTO = 7;
const TARGET_CODE: Readonly<Record<Target['kind'], number>> = {
  ACCEPT: T_ACCEPT,
  DROP: T_DROP,
  REJECT: T_REJECT,
  LOG: T_LOG,
  none: T_NONE,
  RETURN: T_RETURN,
  jump: T_JUMP,
  goto: T_GOTO,
};
const NO_LOGS: readonly (RuleRef & { readonly options: LogOptions })[] = Object.freeze([]);

export interface RuleRef {
  readonly chain: string;
  /** 0-based index in the chain. */
  readonly index: number;
}

export interface Decision {
  readonly verdict: FinalVerdict;
  /** The rule whose target decided, or undefined when the built-in chain's policy did. */
  readonly rule?: RuleRef;
  /** The built-in chain entered. */
  readonly chain: BuiltinChain;
  readonly rejectWith?: RejectWith;
  /** True when an xt match dropped the packet because it could not read it. */
  readonly hotdrop?: boolean;
  /** LOG targets reached, in order. */
  readonly logs: readonly (RuleRef & { readonly options: LogOptions })[];
}

/** The ruleset with chain names resolved to indices; counters live here, one slot per rule. */
export class Program {
  readonly chains: readonly ProgramChain[];
  readonly byName: ReadonlyMap<string, number>;

  constructor(readonly ruleset: Ruleset) {
    const byName = new Map<string, number>();
    ruleset.chains.forEach((c, i) => byName.set(c.name, i));
    this.byName = byName;
    this.chains = ruleset.chains.map((c) => ({
      name: c.name,
      builtin: c.builtin,
      policy: c.policy ?? 'ACCEPT',
      rules: c.rules,
      targets: Int32Array.from(c.rules, (r) => {
        if (r.target.kind !== 'jump' && r.target.kind !== 'goto') return -1;
        const t = byName.get(r.target.chain);
        assert(t !== undefined, `jump to unknown chain ${r.target.chain}`);
        return t;
      }),
      counts: c.rules.flatMap((r) => [r.counters.packets, r.counters.bytes]),
      kinds: Uint8Array.from(c.rules, (r) => TARGET_CODE[r.target.kind]),
      policyPackets: c.policyCounters.packets,
      policyBytes: c.policyCounters.bytes,
    }));
  }

  chainIndex(name: string): number {
    const i = this.byName.get(name);
    assert(i !== undefined, `no chain ${name}`);
    return i;
  }

  /** Counters in the shape `saveRuleset` takes. */
  counters(): Map<
    string,
    { policy: { packets: number; bytes: number }; rules: { packets: number; bytes: number }[] }
  > {
    const out = new Map<
      string,
      { policy: { packets: number; bytes: number }; rules: { packets: number; bytes: number }[] }
    >();
    for (const c of this.chains)
      out.set(c.name, {
        policy: { packets: c.policyPackets, bytes: c.policyBytes },
        rules: c.rules.map((_, i) => ({ packets: c.counts[2 * i] ?? 0, bytes: c.counts[2 * i + 1] ?? 0 })),
      });
    return out;
  }
}

export interface ProgramChain {
  readonly name: string;
  readonly builtin: boolean;
  readonly policy: 'ACCEPT' | 'DROP';
  readonly rules: readonly Rule[];
  /** Chain index of each rule's jump/goto target, -1 otherwise. */
  readonly targets: Int32Array;
  /**
   * Packets and bytes of each rule, interleaved. A plain array: compartments (the firewall trusted
   * application) have no Float64Array, and counters must outgrow 32 bits.
   */
  readonly counts: number[];
  /** TARGET_CODE of each rule's target, so that the walk need not load the rule to branch. */
  readonly kinds: Uint8Array;
  policyPackets: number;
  policyBytes: number;
}

/** How an evaluator finds, from position `from`, the next rule of a chain that may match. */
export interface CandidateSource {
  /** Returns a cursor over candidate rule indices of `chain` for packet `p`, in increasing order. */
  candidates(chain: number, p: FilterPacket): CandidateCursor;
  /** Whether rule `index` of `chain` matches: must equal `ruleMatches` on that rule. */
  matches(chain: number, index: number, p: FilterPacket, ctx: MatchContext): MatchResult;
}

export interface CandidateCursor {
  /** The smallest candidate index ≥ `from`, or -1. */
  next(from: number): number;
}

/** Walks the chains from a built-in one; `source` decides which rules are tried (all, or indexed ones). */
export function traverse(
  program: Program,
  source: CandidateSource,
  hook: BuiltinChain,
  p: FilterPacket,
  ctx: MatchContext,
): Decision {
  const start = program.chainIndex(hook);
  const stack: { chain: number; index: number; cursor: CandidateCursor }[] = [];
  let logs: (RuleRef & { options: LogOptions })[] | undefined;
  let chain = start;
  let cursor = source.candidates(chain, p);
  let i = cursor.next(0);
  for (;;) {
    const c = program.chains[chain]!;
    if (i < 0) {
      const back = stack.pop();
      if (!back) return policy(program, start, hook, p, logs);
      chain = back.chain;
      cursor = back.cursor;
      i = cursor.next(back.index + 1);
      continue;
    }
    const res = source.matches(chain, i, p, ctx);
    if (res !== MATCH) {
      if (res === HOTDROP) return { verdict: 'DROP', chain: hook, hotdrop: true, logs: logs ?? NO_LOGS };
      i = cursor.next(i + 1);
      continue;
    }
    c.counts[2 * i]! += 1;
    c.counts[2 * i + 1]! += p.length;
    switch (c.kinds[i]) {
      case T_ACCEPT:
        return { verdict: 'ACCEPT', rule: { chain: c.name, index: i }, chain: hook, logs: logs ?? NO_LOGS };
      case T_DROP:
        return { verdict: 'DROP', rule: { chain: c.name, index: i }, chain: hook, logs: logs ?? NO_LOGS };
      case T_REJECT: {
        const t = c.rules[i]!.target as Extract<Target, { kind: 'REJECT' }>;
        return {
          verdict: 'REJECT',
          rule: { chain: c.name, index: i },
          chain: hook,
          rejectWith: t.with,
          logs: logs ?? NO_LOGS,
        };
      }
      case T_LOG:
        (logs ??= []).push({
          chain: c.name,
          index: i,
          options: c.rules[i]!.target as Extract<Target, { kind: 'LOG' }>,
        });
        i = cursor.next(i + 1);
        continue;
      case T_NONE:
        i = cursor.next(i + 1);
        continue;
      case T_RETURN: {
        const back = stack.pop();
        if (!back) return policy(program, start, hook, p, logs);
        chain = back.chain;
        cursor = back.cursor;
        i = cursor.next(back.index + 1);
        continue;
      }
      default: {
        if (c.kinds[i] === T_JUMP) stack.push({ chain, index: i, cursor });
        chain = c.targets[i]!;
        cursor = source.candidates(chain, p);
        i = cursor.next(0);
        continue;
      }
    }
  }
}

function policy(
  program: Program,
  start: number,
  hook: BuiltinChain,
  p: FilterPacket,
  logs: (RuleRef & { options: LogOptions })[] | undefined,
): Decision {
  const c = program.chains[start]!;
  c.policyPackets += 1;
  c.policyBytes += p.length;
  return { verdict: c.policy, chain: hook, logs: logs ?? NO_LOGS };
}

/** Every rule is a candidate: the reference evaluator. */
export class AllRules implements CandidateSource {
  private readonly cursors: CandidateCursor[];
  constructor(private readonly program: Program) {
    this.cursors = program.chains.map((c) => {
      const n = c.rules.length;
      return { next: (from: number) => (from < n ? from : -1) };
    });
  }
  candidates(chain: number): CandidateCursor {
    return this.cursors[chain]!;
  }
  matches(chain: number, index: number, p: FilterPacket, ctx: MatchContext): MatchResult {
    return ruleMatches(this.program.chains[chain]!.rules[index]!, p, ctx);
  }
}

/** The linear reference evaluator: tries every rule in order, exactly as the kernel walks a chain. */
export class LinearEvaluator {
  readonly program: Program;
  private readonly source: AllRules;

  constructor(ruleset: Ruleset) {
    this.program = new Program(ruleset);
    this.source = new AllRules(this.program);
  }

  evaluate(hook: BuiltinChain, p: FilterPacket, ctx: MatchContext): Decision {
    return traverse(this.program, this.source, hook, p, ctx);
  }
}
