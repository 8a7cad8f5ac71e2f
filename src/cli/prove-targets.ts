/**
 * Proof targets for `rampart prove`: a name and the module that exports its obligations. Loaded lazily, so
 * proving one target never imports another. (Outside `src/proof/`, which must not know the kernel.)
 */
import type { ProofTarget } from '../proof/obligation.js';

export const proofTargets: Readonly<Record<string, () => Promise<ProofTarget>>> = {
  examples: async () => (await import('../proof/examples/index.js')).target,
  kernel: async () => (await import('../kernel/spec/target.js')).target,
};
