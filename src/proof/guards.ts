/**
 * Named guards, for mutation testing of proofs: proven code writes each check as
 * `g.check(o, 'transfer.owner', cond)`. In production the guard is just `cond`; a mutant built with that
 * name disabled treats the check as always passing, and the proofs must then fail (a proof that cannot
 * fail proves nothing). `mutationCheck` (in `mutation.ts`) runs every single-guard mutant.
 */
import type { Ops } from './ops.js';
import type { Theory } from './sorts.js';

export class Guards {
  /** Every guard name seen by `check`/`update`, in first-seen order (drives the mutant enumeration). */
  readonly seen = new Set<string>();
  /** The error code each check seen fails with, where the caller names one. */
  readonly codes = new Map<string, number>();
  /** Production guards (nothing disabled, nothing recorded) cost one branch. */
  private readonly inert: boolean;

  constructor(
    readonly disabled: ReadonlySet<string> = new Set(),
    options: { record?: boolean } = {},
  ) {
    this.inert = disabled.size === 0 && options.record !== true;
  }

  check<T extends Theory>(o: Ops<T>, name: string, cond: T['bool'], code?: number): T['bool'] {
    if (this.inert) return cond;
    this.seen.add(name);
    if (code !== undefined) this.codes.set(name, code);
    return this.disabled.has(name) ? o.true : cond;
  }

  /** A named update: a mutant with `name` disabled skips it (keeps `original`). */
  update<X>(name: string, updated: () => X, original: () => X): X {
    if (this.inert) return updated();
    this.seen.add(name);
    return this.disabled.has(name) ? original() : updated();
  }
}

/** Guards with nothing disabled: what the running system uses. */
export const productionGuards = new Guards();
