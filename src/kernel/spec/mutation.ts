/**
 * The kernel's mutation check: every guard (`g.check`) and guarded update (`g.update`) of every call is
 * disabled in turn, and at least one obligation must then fail with a counterexample (replayed
 * concretely). A guard is named `<call>.<what>`, so a mutant changes only that call's obligations; they
 * are tried a few at a time — the safety and security properties first, the refinement last — and the
 * first batch with a counterexample kills the mutant. (`rampart prove kernel --mutants` runs the proof
 * tool's exhaustive version: every obligation of every mutant.)
 */
import { assert } from '../../common/errors.js';
import { Guards, productionGuards } from '../../proof/guards.js';
import { lemma } from '../../proof/obligation.js';
import type { Ops } from '../../proof/ops.js';
import { record, type Theory } from '../../proof/sorts.js';
import { makeCtx } from '../core/kit.js';
import { kernelMachine } from '../core/machine.js';
import { kernelInvariant } from './invariant.js';
import type { KState } from '../core/state.js';
import { discoverGuards } from '../../proof/mutation.js';
import type { Obligation } from '../../proof/obligation.js';
import { buildQuery, proveObligations, type ProverOptions } from '../../proof/prover.js';
import type { Counterexample } from '../../proof/replay.js';
import { proofProfile, type KernelProfile } from '../core/profile.js';
import { kernelObligations } from './target.js';

export interface KernelMutant {
  readonly guard: string;
  readonly killed: boolean;
  /** The obligations that failed in the batch that killed it. */
  readonly killedBy: readonly string[];
  /** Obligations that ended unknown, timed out or in error along the way. */
  readonly inconclusive: readonly string[];
  /**
   * Killed by the refinement alone: the same bug made in the specification too (its paired guard
   * removed, `spec`) is then tried against the refinement again — `killed` when it still fails (the
   * specification's check is not where the implementation's was), `return-code-only` when the mutant's
   * state after every call equals production's (only the answer differs: no access is gained), and
   * `survives` otherwise (a same-way bug that only a property could catch, and none does).
   */
  readonly sameWay?: { readonly spec?: string; readonly verdict: 'killed' | 'return-code-only' | 'survives' };
  /** One counterexample, for the record. */
  readonly counterexample?: Counterexample;
  readonly ms: number;
}

export interface KernelMutationReport {
  readonly guards: number;
  readonly killed: number;
  readonly killRate: number;
  /** Mutants killed by an invariant, integrity, authority, world-separation or noninterference obligation. */
  readonly killedByProperty: number;
  /** Mutants only the refinement obligation killed. */
  readonly killedByRefinementOnly: number;
  /** Of those, the same-way mutants (implementation and specification changed alike) that survive. */
  readonly sameWaySurvivors: readonly string[];
  readonly wallMs: number;
  readonly mutants: readonly KernelMutant[];
}

/** Order in which a mutant's obligations are tried. */
const order = [
  'invariant',
  'integrity',
  'authority',
  'world',
  'local-respect',
  'output-consistency',
  'step-consistency',
  'refinement',
];

function rank(name: string): number {
  const i = order.findIndex((k) => name.includes(`/${k}/`));
  return i < 0 ? order.length : i;
}

/**
 * The specification guard paired with each implementation check: within a call, the one failing with
 * the same error code at the same rank among that code's checks (the specification checks what the
 * implementation checks, with the same codes, in the same order).
 */
export function sameWayPairs(p: KernelProfile): Map<string, string> {
  const impl = new Guards(new Set(), { record: true });
  const spec = new Guards(new Set(), { record: true });
  for (const ob of kernelObligations(p, impl, spec)) if (ob.name.includes('/refinement/')) buildQuery(ob);
  const ranked = (g: Guards, strip: string) => {
    const out = new Map<string, string>();
    const seen = new Map<string, number>();
    for (const [name, code] of g.codes) {
      const call = name.slice(strip.length, name.indexOf('.'));
      const key = `${call}/${code}`;
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      out.set(`${key}/${n}`, name);
    }
    return out;
  };
  const specByRank = ranked(spec, 'spec:');
  const pairs = new Map<string, string>();
  for (const [rank, name] of ranked(impl, '')) {
    const paired = specByRank.get(rank);
    if (paired !== undefined) pairs.set(name, paired);
  }
  return pairs;
}

/** `<call>` with `guard` removed leaves the state exactly as production does, for all states and arguments. */
function sameStateLemma(p: KernelProfile, guard: string, call: string) {
  const production = kernelMachine(p);
  const mutant = kernelMachine(p, new Guards(new Set([guard])));
  const prod = production.calls[call];
  const mut = mutant.calls[call];
  assert(prod !== undefined && mut !== undefined, `no call ${call}`);
  const c = makeCtx(p, productionGuards);
  type Run = (o: Ops<Theory>, s: unknown, a: unknown) => { state: unknown };
  return lemma(
    `kernel/${p.name}/same-state/${call}`,
    record({ before: production.state, args: prod.args }),
    (o, v) => {
      const { before, args } = v as { before: KState<Theory>; args: unknown };
      const a = (prod.run as unknown as Run)(o, before, args).state;
      const b = (mut.run as unknown as Run)(o, before, args).state;
      return {
        assume: kernelInvariant(c, o, before as never),
        prove: { 'the mutant leaves the state production leaves': o.equal(a, b) },
      };
    },
  );
}

export async function kernelMutationCheck(
  options: Omit<ProverOptions, 'onStart' | 'onResult'>,
  p: KernelProfile = proofProfile,
  onMutant?: (m: KernelMutant, done: number, total: number) => void,
  only?: (guard: string) => boolean,
): Promise<KernelMutationReport> {
  const start = performance.now();
  const build = (g: Guards): Obligation[] => kernelObligations(p, g);
  const guards = discoverGuards(build).filter((g) => only?.(g) ?? true);
  const production = new Map(build(new Guards()).map((ob) => [ob.name, ob]));
  const mutants: KernelMutant[] = [];
  const pairs = sameWayPairs(p);
  const sameWayVerdict = async (guard: string, call: string): Promise<KernelMutant['sameWay']> => {
    const spec = pairs.get(guard);
    if (spec !== undefined) {
      const refinement = kernelObligations(
        p,
        new Guards(new Set([guard])),
        new Guards(new Set([spec])),
      ).filter((ob) => ob.name === `kernel/${p.name}/refinement/${call}`);
      const r = await proveObligations(refinement, options);
      if (r.results.some((x) => x.status === 'failed')) return { spec, verdict: 'killed' };
    }
    const same = await proveObligations([sameStateLemma(p, guard, call)], options);
    const verdict = same.results.every((x) => x.status === 'proven') ? 'return-code-only' : 'survives';
    return { ...(spec !== undefined ? { spec } : {}), verdict };
  };
  for (const guard of guards) {
    const t0 = performance.now();
    const call = guard.slice(0, guard.indexOf('.'));
    const mutantObs = build(new Guards(new Set([guard])))
      .filter((ob) => ob.name.endsWith(`/${call}`))
      .filter((ob) => {
        const before = production.get(ob.name);
        return before === undefined || buildQuery(before).text !== buildQuery(ob).text;
      })
      .sort((a, b) => rank(a.name) - rank(b.name));
    const killedBy: string[] = [];
    const inconclusive: string[] = [];
    let counterexample: Counterexample | undefined;
    for (let i = 0; i < mutantObs.length && killedBy.length === 0; i += options.jobs) {
      const report = await proveObligations(mutantObs.slice(i, i + options.jobs), options);
      for (const r of report.results) {
        if (r.status === 'failed') {
          killedBy.push(r.name);
          counterexample ??= r.counterexample;
        } else if (r.status !== 'proven') inconclusive.push(r.name);
      }
    }
    const refinementOnly = killedBy.length > 0 && killedBy.every((n) => n.includes('/refinement/'));
    const sameWay = refinementOnly ? await sameWayVerdict(guard, call) : undefined;
    const m: KernelMutant = {
      guard,
      killed: killedBy.length > 0,
      killedBy,
      inconclusive,
      ...(sameWay ? { sameWay } : {}),
      ...(counterexample ? { counterexample } : {}),
      ms: performance.now() - t0,
    };
    mutants.push(m);
    onMutant?.(m, mutants.length, guards.length);
  }
  const killed = mutants.filter((m) => m.killed);
  const byRefinementOnly = killed.filter((m) => m.killedBy.every((n) => n.includes('/refinement/'))).length;
  return {
    guards: guards.length,
    killed: killed.length,
    killRate: guards.length === 0 ? 1 : killed.length / guards.length,
    killedByProperty: killed.length - byRefinementOnly,
    killedByRefinementOnly: byRefinementOnly,
    sameWaySurvivors: mutants.filter((m) => m.sameWay?.verdict === 'survives').map((m) => m.guard),
    wallMs: performance.now() - start,
    mutants,
  };
}
