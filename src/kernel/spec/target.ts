/** `rampart prove kernel`: every obligation of the separation kernel core, for the proof profile. */
import { productionGuards, type Guards } from '../../proof/guards.js';
import {
  invariantObligations,
  refinementObligations,
  type Obligation,
  type ProofTarget,
} from '../../proof/obligation.js';
import type { Ops } from '../../proof/ops.js';
import type { Theory } from '../../proof/sorts.js';
import type { KState } from '../core/state.js';
import { makeCtx } from '../core/kit.js';
import { kernelMachine } from '../core/machine.js';
import { proofProfile, type KernelProfile } from '../core/profile.js';
import { abstraction } from './abstraction.js';
import {
  capabilityInvariant,
  configInvariant,
  kernelInvariant,
  objectInvariant,
  partitionInvariant,
} from './invariant.js';
import { kernelNoninterference } from './noninterference.js';
import { specMachine } from './machine.js';

export function kernelObligations(
  p: KernelProfile = proofProfile,
  g: Guards = productionGuards,
): Obligation[] {
  const c = makeCtx(p, g);
  const m = kernelMachine(p, g);
  const invariant = <T extends Theory>(o: Ops<T>, s: KState<T>) => kernelInvariant(c, o, s);
  return [
    ...invariantObligations('kernel', m, invariant),
    ...refinementObligations('kernel', {
      impl: m,
      spec: specMachine(p),
      abstraction: (o, s) => abstraction(c, o, s),
      invariant,
    }),
    ...kernelNoninterference('kernel', {
      ctx: c,
      machine: m as never,
      invariant: (x, s) => ({
        ...configInvariant(x, s),
        ...partitionInvariant(x, s),
        ...objectInvariant(x, s),
        ...capabilityInvariant(x, s),
      }),
    }),
  ];
}

export const target: ProofTarget = {
  name: 'kernel',
  description:
    'the separation kernel core: invariant, refinement, integrity, world separation, noninterference',
  obligations: (g) => kernelObligations(proofProfile, g),
};
