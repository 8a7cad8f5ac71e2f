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
import { HOTDROP, MATCH, type MatchContext, ruleMatches } from './match.js';
import type { FilterPacket } from './packet.js';
import type { BuiltinChain, LogOptions, RejectWith, Rule, Ruleset } from './ruleset.js';

export type FinalVerdict = 'ACCEPT' | 'DROP' | 'REJECT';

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
      packets: Float64Array.from(c.rules, (r) => r.counters.packets),
      bytes: Float64Array.from(c.rules, (r) => r.counters.bytes),
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
        rules: Array.from(c.packets, (p, i) => ({ packets: p, bytes: c.bytes[i] ?? 0 })),
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
  readonly packets: Float64Array;
  readonly bytes: Float64Array;
  policyPackets: number;
  policyBytes: number;
}

/** How an evaluator finds, from position `from`, the next rule of a chain that may match. */
export interface CandidateSource {
  /** Returns a cursor over candidate rule indices of `chain` for packet `p`, in increasing order. */
  candidates(chain: number, p: FilterPacket): CandidateCursor;
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
    const rule = c.rules[i]!;
    const res = ruleMatches(rule, p, ctx);
    if (res !== MATCH) {
      if (res === HOTDROP) return { verdict: 'DROP', chain: hook, hotdrop: true, logs: logs ?? [] };
      i = cursor.next(i + 1);
      continue;
    }
    c.packets[i]! += 1;
    c.bytes[i]! += p.length;
    const t = rule.target;
    switch (t.kind) {
      case 'ACCEPT':
      case 'DROP':
        return { verdict: t.kind, rule: { chain: c.name, index: i }, chain: hook, logs: logs ?? [] };
      case 'REJECT':
        return {
          verdict: 'REJECT',
          rule: { chain: c.name, index: i },
          chain: hook,
          rejectWith: t.with,
          logs: logs ?? [],
        };
      case 'LOG':
        (logs ??= []).push({ chain: c.name, index: i, options: t });
        i = cursor.next(i + 1);
        continue;
      case 'none':
        i = cursor.next(i + 1);
        continue;
      case 'RETURN': {
        const back = stack.pop();
        if (!back) return policy(program, start, hook, p, logs);
        chain = back.chain;
        cursor = back.cursor;
        i = cursor.next(back.index + 1);
        continue;
      }
      case 'jump':
      case 'goto': {
        if (t.kind === 'jump') stack.push({ chain, index: i, cursor });
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
  return { verdict: c.policy, chain: hook, logs: logs ?? [] };
}

/** Every rule is a candidate: the reference evaluator. */
class AllRules implements CandidateSource {
  private readonly cursors: CandidateCursor[];
  constructor(program: Program) {
    this.cursors = program.chains.map((c) => {
      const n = c.rules.length;
      return { next: (from: number) => (from < n ? from : -1) };
    });
  }
  candidates(chain: number): CandidateCursor {
    return this.cursors[chain]!;
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
