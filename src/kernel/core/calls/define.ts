/** How a system call is written: a function of the kit, the state and its typed arguments. */
import type { Theory } from '../../../proof/sorts.js';
import type { Kit, KStep } from '../kit.js';
import type { KState } from '../state.js';
import type { Args, CallName } from '../table.js';

export type CallImpl<N extends CallName> = <T extends Theory>(
  x: Kit<T>,
  s: KState<T>,
  a: Args<T, N>,
) => KStep<T>;

/** A set of call implementations, keyed by their table names. */
export type CallImpls<N extends CallName> = { readonly [K in N]: CallImpl<K> };
