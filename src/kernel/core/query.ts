/**
 * Read-only questions the runtime asks of the current kernel state before it moves data the core does
 * not model (memory bytes, register values): the answer is the core's, read from its tables, never
 * the runtime's own bookkeeping.
 */
import type { KernelState } from './step.js';
import { kernelSorts } from './profile.js';
import { partitionStateNames, RUNNABLE, SECURE } from './state.js';

/** Rights with which `partition` maps `region` (0: not mapped, or an index out of range). */
export function mappedRights(s: KernelState, partition: number, region: number): number {
  const p = s.profile;
  if (!inRange(partition, p.partitions) || !inRange(region, p.regions)) return 0;
  return s.tables.map.get(partition * p.regions + region);
}

/** Whether `partition` owns `device` (the only way to its registers). */
export function ownsDevice(s: KernelState, partition: number, device: number): boolean {
  const p = s.profile;
  if (!inRange(partition, p.partitions) || !inRange(device, p.devices)) return false;
  return s.tables.devOwner.get(device) === partition && partition !== kernelSorts(p).NONE;
}

export function isRunnable(s: KernelState, partition: number): boolean {
  return inRange(partition, s.profile.partitions) && s.tables.partState.get(partition) === RUNNABLE;
}

export function partitionStateName(s: KernelState, partition: number): string {
  return partitionStateNames[s.tables.partState.get(partition)] ?? 'free';
}

export function domainOf(s: KernelState, partition: number): number {
  return s.tables.partDom.get(partition);
}

/** 'secure' or 'non-secure': the world of the partition's domain. */
export function worldOf(s: KernelState, partition: number): 'secure' | 'non-secure' {
  return s.tables.domWorld.get(domainOf(s, partition)) === SECURE ? 'secure' : 'non-secure';
}

function inRange(i: number, n: number): boolean {
  return Number.isInteger(i) && i >= 0 && i < n;
}
