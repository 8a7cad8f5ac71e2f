/**
 * The mutation check: a proof that cannot fail proves nothing. For every named guard (see `guards.ts`) a
 * mutant is built with that guard disabled and proven; the guard is "killed" when at least one obligation
 * fails with a counterexample. Unknowns and timeouts do not kill. With the proof cache, each mutant only
 * re-solves the obligations whose query the guard touches.
 */
import { Guards } from './guards.js';
import type { Obligation } from './obligation.js';
import { buildQuery, proveObligations, type ProverOptions } from './prover.js';

export interface MutantResult {
  readonly guard: string;
  readonly killed: boolean;
  /** Obligations that failed with a counterexample in this mutant. */
  readonly killedBy: readonly string[];
  /** Obligations that ended unknown/timeout/error (they neither kill nor prove). */
  readonly inconclusive: readonly string[];
}

export interface MutationReport {
  readonly guards: number;
  readonly killed: number;
  /** killed / guards (1 when there are no guards). */
  readonly killRate: number;
  readonly mutants: readonly MutantResult[];
}

/** The guard names an obligation set uses (found by stating every obligation once). */
export function discoverGuards(build: (g: Guards) => Obligation[]): string[] {
  const g = new Guards(new Set(), { record: true });
  for (const ob of build(g)) buildQuery(ob);
  return [...g.seen];
}

export async function mutationCheck(
  build: (g: Guards) => Obligation[],
  options: ProverOptions,
  onMutant?: (m: MutantResult, done: number, total: number) => void,
): Promise<MutationReport> {
  const names = discoverGuards(build);
  const mutants: MutantResult[] = [];
  for (const guard of names) {
    const { onStart: _s, onResult: _r, ...quiet } = options;
    const report = await proveObligations(build(new Guards(new Set([guard]))), quiet);
    const killedBy = report.results.filter((r) => r.status === 'failed').map((r) => r.name);
    const inconclusive = report.results
      .filter((r) => r.status !== 'failed' && r.status !== 'proven')
      .map((r) => r.name);
    const m = { guard, killed: killedBy.length > 0, killedBy, inconclusive };
    mutants.push(m);
    onMutant?.(m, mutants.length, names.length);
  }
  const killed = mutants.filter((m) => m.killed).length;
  return { guards: names.length, killed, killRate: names.length === 0 ? 1 : killed / names.length, mutants };
}
