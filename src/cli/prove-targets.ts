/**
 * Proof targets for `rampart prove`: a name and the module that exports its obligations. Loaded lazily, so
 * proving one target never imports another. (Outside `src/proof/`, which must not know the kernel.)
 */
import type { ProofTarget } from '../proof/obligation.js';

const kernel = () => import('../kernel/spec/target.js');
const kernelProfile = (name: string) => async () =>
  (await kernel()).profileTargets[`kernel/${name}`] as ProofTarget;

export const proofTargets: Readonly<Record<string, () => Promise<ProofTarget>>> = {
  examples: async () => (await import('../proof/examples/index.js')).target,
  kernel: async () => (await kernel()).target,
  // One kernel profile each (`kernel` is all of them).
  'kernel/proof': kernelProfile('proof'),
  'kernel/application': kernelProfile('application'),
  'kernel/microcontroller': kernelProfile('microcontroller'),
};

/** What `rampart prove` proves when no target is named: every target, each obligation once. */
export const defaultTargets: readonly string[] = ['examples', 'kernel'];
