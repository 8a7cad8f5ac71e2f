/**
 * `rampart prove kernel`: every obligation of the separation kernel core, stated for every profile a
 * system can boot (`profiles`: the proof profile and the board profiles) and for all states (and all
 * configurations `checkConfig` accepts). Names: `kernel/<profile>/<property>/<call>`:
 *
 * - `invariant/boot-any-configuration`, `invariant/init`, `invariant/<call>`: the representation invariant
 *   holds at boot and every call preserves it;
 * - `refinement/init`, `refinement/<call>`: the implementation refines the specification (Serval's theorem);
 * - `integrity/<call>`: a call changes only what its caller may change;
 * - `authority/<call>`: the access rules (rights, badges, waiting, copying) hold on the implementation's states;
 * - `world/state`, `world/<call>`: world separation;
 * - `output-consistency|step-consistency|local-respect/<call>`: noninterference for the configured policy.
 */
import { productionGuards, type Guards } from '../../proof/guards.js';
import {
  invariantObligations,
  lemma,
  refinementObligations,
  type Obligation,
  type ProofTarget,
} from '../../proof/obligation.js';
import type { Ops } from '../../proof/ops.js';
import { record, type Theory } from '../../proof/sorts.js';
import { initialState } from '../core/config.js';
import { Kit, makeCtx } from '../core/kit.js';
import { kernelMachine } from '../core/machine.js';
import { profiles, proofProfile, type KernelProfile } from '../core/profile.js';
import { configFields, type KState } from '../core/state.js';
import { abstraction } from './abstraction.js';
import { authorityObligations } from './authority.js';
import { integrityObligations } from './integrity.js';
import {
  capabilityInvariant,
  configInvariant,
  kernelInvariant,
  objectInvariant,
  partitionInvariant,
} from './invariant.js';
import { specMachine } from './machine.js';
import { kernelNoninterference } from './noninterference.js';
import { worldObligations } from './world.js';

/**
 * The solver resource limit of a board profile's obligations: larger tables take more than the prover's
 * default (which the proof profile, and the mutation check at that profile, keep). At the application
 * profile's sizes `refinement/cap_revoke` needs more than 400M (docs/kernel.md); z3 takes up to 2^32 − 1.
 */
export const boardProfileRlimit = 4_000_000_000;

/** `g` disables implementation guards, `specGuards` specification guards (the mutation check's mutants). */
export function kernelObligations(
  p: KernelProfile = proofProfile,
  g: Guards = productionGuards,
  specGuards: Guards = productionGuards,
): Obligation[] {
  const obligations = profileObligations(p, g, specGuards);
  return p === proofProfile ? obligations : obligations.map((ob) => ({ ...ob, rlimit: boardProfileRlimit }));
}

function profileObligations(p: KernelProfile, g: Guards, specGuards: Guards): Obligation[] {
  const c = makeCtx(p, g);
  const m = kernelMachine(p, g);
  const prefix = `kernel/${p.name}`;
  const invariant = <T extends Theory>(o: Ops<T>, s: KState<T>) => kernelInvariant(c, o, s);
  const full = <T extends Theory>(x: Kit<T>, s: KState<T>) => kernelInvariant(c, x.o, s);
  const schema = m.state.fields;
  const configSchema = record(Object.fromEntries(configFields.map((f) => [f, schema[f]])));
  return [
    lemma(`${prefix}/invariant/boot-any-configuration`, configSchema, (o, cfg) => {
      const s = initialState(p, o, cfg as never);
      const x = new Kit(c, o);
      return {
        assume: {
          ...configInvariant(x, s),
          'partition 0 is the admin partition': x.isAdminDom(x.dom(s, x.idx(0))),
        },
        prove: invariant(o, s),
        show: { configuration: cfg, boot: s },
      };
    }),
    ...invariantObligations(prefix, m, invariant),
    ...refinementObligations(prefix, {
      impl: m,
      spec: specMachine(p, specGuards),
      abstraction: (o, s) => abstraction(c, o, s),
      invariant,
    }),
    ...integrityObligations(prefix, c, m.state, m.calls as never, full),
    ...authorityObligations(prefix, c, m.state, m.calls as never, full),
    ...worldObligations(prefix, c, m.state, m.calls as never, full),
    ...kernelNoninterference(prefix, {
      ctx: c,
      machine: m as never,
      // The reference counts play no part in who sees what: the rest of the invariant suffices.
      invariant: (x, s) => ({
        ...configInvariant(x, s),
        ...partitionInvariant(x, s),
        ...objectInvariant(x, s),
        ...capabilityInvariant(x, s),
      }),
    }),
  ];
}

/** The proof target of one profile: `kernel/<profile>`. */
export function profileTarget(p: KernelProfile): ProofTarget {
  return {
    name: `kernel/${p.name}`,
    description: `the separation kernel core at the ${p.name} profile (${p.description})`,
    obligations: (g) => kernelObligations(p, g),
  };
}

/** Every profile's target, by name (`kernel/proof`, `kernel/application`, `kernel/microcontroller`). */
export const profileTargets: Readonly<Record<string, ProofTarget>> = Object.fromEntries(
  Object.values(profiles).map((p) => [`kernel/${p.name}`, profileTarget(p)]),
);

/** `kernel`: every profile a system can boot — a profile the runtime accepts is a profile proven here. */
export const target: ProofTarget = {
  name: 'kernel',
  description:
    'the separation kernel core at every profile: invariant, refinement, integrity, world separation, noninterference',
  obligations: (g) => Object.values(profiles).flatMap((p) => kernelObligations(p, g)),
};
