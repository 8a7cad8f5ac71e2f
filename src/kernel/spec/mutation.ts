/**
 * The kernel's mutation check: every guard (`g.check`) and guarded update (`g.update`) of every call is
 * disabled in turn, and at least one obligation must then fail with a counterexample (replayed
 * concretely). A guard is named `<call>.<what>`, so a mutant changes only that call's obligations; they
 * are tried a few at a time — the safety and security properties first, the refinement last — and the
 * first batch with a counterexample kills the mutant. (`rampart prove kernel --mutants` runs the proof
 * tool's exhaustive version: every obligation of every mutant.)
 */
import { Guards } from '../../proof/guards.js';
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
    const m: KernelMutant = {
      guard,
      killed: killedBy.length > 0,
      killedBy,
      inconclusive,
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
    wallMs: performance.now() - start,
    mutants,
  };
}
