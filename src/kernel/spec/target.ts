/** `rampart prove kernel`: every obligation of the separation kernel core, for the proof profile. */
import { productionGuards, type Guards } from '../../proof/guards.js';
import { invariantObligations, type Obligation, type ProofTarget } from '../../proof/obligation.js';
import { makeCtx } from '../core/kit.js';
import { kernelMachine } from '../core/machine.js';
import { proofProfile, type KernelProfile } from '../core/profile.js';
import { kernelInvariant } from './invariant.js';

export function kernelObligations(
  p: KernelProfile = proofProfile,
  g: Guards = productionGuards,
): Obligation[] {
  const c = makeCtx(p, g);
  const m = kernelMachine(p, g);
  return [...invariantObligations('kernel', m, (o, s) => kernelInvariant(c, o, s))];
}

export const target: ProofTarget = {
  name: 'kernel',
  description:
    'the separation kernel core: invariant, refinement, integrity, world separation, noninterference',
  obligations: (g) => kernelObligations(proofProfile, g),
};
