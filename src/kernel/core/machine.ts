/**
 * The kernel as a state machine for the proof tool: the state schema of a profile, the initial state of
 * a configuration, and every call of the table, built with a set of guards (production, or a mutant).
 */
import { productionGuards, type Guards } from '../../proof/guards.js';
import type { CallDef, MachineDef } from '../../proof/obligation.js';
import type { Ops } from '../../proof/ops.js';
import type { RecordSort, Theory } from '../../proof/sorts.js';
import { capabilityCalls } from './calls/capability.js';
import type { CallImpl, CallImpls } from './calls/define.js';
import { deviceCalls } from './calls/device.js';
import { endpointCalls } from './calls/endpoint.js';
import { notificationCalls } from './calls/notification.js';
import { partitionCalls } from './calls/partition.js';
import { regionCalls } from './calls/region.js';
import { checkConfig, configValues, initialState, sampleConfig } from './config.js';
import { Kit, makeCtx, type Ctx } from './kit.js';
import type { KernelProfile } from './profile.js';
import { kernelStateSchema, type KernelStateSchema, type KState } from './state.js';
import { argsSchema, callNames, type Args, type CallName } from './table.js';

/** Every call's implementation, by name (the table's names). */
export const kernelCalls: CallImpls<CallName> = {
  ...partitionCalls,
  ...regionCalls,
  ...endpointCalls,
  ...notificationCalls,
  ...capabilityCalls,
  ...deviceCalls,
};

function toCallDef<N extends CallName>(
  c: Ctx,
  name: N,
  impl: CallImpl<N>,
): CallDef<KernelStateSchema, RecordSort> {
  return {
    args: argsSchema(c.p, name),
    run: <T extends Theory>(o: Ops<T>, s: KState<T>, a: unknown) => impl(new Kit(c, o), s, a as Args<T, N>),
  } as CallDef<KernelStateSchema, RecordSort>;
}

/** The implementation machine of a profile (initial state: the profile's sample configuration). */
export function kernelMachine(p: KernelProfile, g: Guards = productionGuards): MachineDef<KernelStateSchema> {
  const c = makeCtx(p, g);
  const calls: Record<string, CallDef<KernelStateSchema, RecordSort>> = {};
  for (const n of callNames) calls[n] = toCallDef(c, n, kernelCalls[n] as CallImpl<typeof n>);
  const tables = checkConfig(p, sampleConfig(p), `sample configuration of profile ${p.name}`);
  return {
    name: 'kernel',
    state: kernelStateSchema(p),
    init: (o) => initialState(p, o, configValues(p, o, tables)),
    calls,
  };
}
