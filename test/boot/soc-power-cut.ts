/**
 * Power cuts during updates staged through the real flash controller (registers and DMA, as the update
 * client in the secure world would write them): the scenario update → confirm → update → confirm on the
 * iot-gateway, and a check that a cut at a given flash operation leaves a device that boots and can still
 * be updated. The cut is the NOR flash's own power-cut injection (a torn erase or program, then no power).
 */
import assert from 'node:assert/strict';
import { boardBootPolicy, factoryProgramImages, socBootDevice } from '../../src/boot/machine-boot.js';
import { FlashPowerLoss } from '../../src/boot/soc-adapters.js';
import { confirmBoot, stageUpdate } from '../../src/boot/update.js';
import type { Machine, NorFlash } from '../../src/soc/index.js';
import { goodImages } from './images.js';
import {
  board,
  bootOn,
  developmentKey,
  machine,
  powerCycle,
  RecordingWorlds,
  running,
  SOC,
} from './soc-harness.js';

const key = developmentKey();

export interface FlashOperation {
  readonly index: number;
  readonly op: 'erase' | 'program';
  readonly offset: number;
}

interface Run {
  readonly m: Machine;
  readonly worlds: RecordingWorlds;
  readonly flash: NorFlash;
}

async function factoryDevice(seed: number): Promise<Run> {
  const m = machine(board(), seed);
  const worlds = new RecordingWorlds(m.chip(SOC));
  factoryProgramImages(m, SOC, goodImages(1, 'v1', key));
  running((await bootOn(m, worlds)).outcome);
  return { m, worlds, flash: m.chip(SOC).device<NorFlash>('flash', 'nor-flash') };
}

/**
 * The scenario, in power-on segments (a power cycle re-powers the flash and forgets a pending cut, so the
 * cut is re-armed at the start of each segment). `cutAt` counts erase/program operations from the start.
 */
async function updateConfirmTwice(run: Run, cutAt: number | undefined): Promise<void> {
  const start = run.flash.operations;
  const arm = () => {
    const remaining = cutAt === undefined ? 0 : cutAt - (run.flash.operations - start);
    if (remaining >= 1) run.flash.cutPowerAfter(remaining);
  };
  const reboot = async () => {
    powerCycle(run.m);
    arm();
    return bootOn(run.m, run.worlds);
  };
  arm();
  const device = socBootDevice(run.m, SOC, run.worlds);
  stageUpdate(device.flash, boardBootPolicy(run.m.board, SOC).layout, goodImages(2, 'v2', key));
  const first = await reboot();
  const trial = running(first.outcome);
  assert.equal(trial.mode, 'trial');
  confirmBoot(first.device, first.policy, trial);
  stageUpdate(first.device.flash, first.policy.layout, goodImages(3, 'v3', key));
  const second = await reboot();
  const trial2 = running(second.outcome);
  assert.equal(trial2.mode, 'trial');
  confirmBoot(second.device, second.policy, trial2);
}

/** Every flash operation of the scenario, in order, from an uncut run. */
export async function scenarioOperations(): Promise<FlashOperation[]> {
  const run = await factoryDevice(1);
  const ops: FlashOperation[] = [];
  run.m.trace.subscribe((e) => {
    if (e.source !== `${SOC}/flash` || (e.event !== 'flash.erase' && e.event !== 'flash.program')) return;
    const detail = e.detail as { offset: number };
    ops.push({
      index: ops.length + 1,
      op: e.event === 'flash.erase' ? 'erase' : 'program',
      offset: detail.offset,
    });
  });
  await updateConfirmTwice(run, undefined);
  return ops;
}

/**
 * Cuts the power at operation `cutAt` of the scenario, powers the device back on, and checks it boots on
 * images the NV counters admit, then takes a genuine update (staged through the controller) and confirms it.
 */
export async function cutAndRecover(cutAt: number, seed: number): Promise<void> {
  const run = await factoryDevice(seed);
  await assert.rejects(
    updateConfirmTwice(run, cutAt),
    (e: unknown) => e instanceof FlashPowerLoss && e.code === 'POWER_CUT',
    `cut at operation ${cutAt}`,
  );
  powerCycle(run.m);
  const after = await bootOn(run.m, run.worlds);
  const o = running(after.outcome);
  const counters = [0, 1].map((i) => after.device.counters.read(i));
  assert.ok(o.secureBundle.securityCounter >= counters[0]!, `cut ${cutAt}: secure bundle below its counter`);
  assert.ok(o.normalWorld.securityCounter >= counters[1]!, `cut ${cutAt}: Normal World below its counter`);
  assert.ok(
    run.worlds.views.at(-1)?.locks.every((l) => l === 1),
    `cut ${cutAt}: locked before the Normal World`,
  );
  stageUpdate(after.device.flash, after.policy.layout, goodImages(4, 'v4', key));
  powerCycle(run.m);
  const updated = await bootOn(run.m, run.worlds);
  const u = running(updated.outcome);
  assert.deepEqual([u.mode, u.secureBundle.securityCounter], ['trial', 4], `cut ${cutAt}`);
  confirmBoot(updated.device, updated.policy, u);
  assert.deepEqual(
    [0, 1].map((i) => updated.device.counters.read(i)),
    [4, 4],
    `cut ${cutAt}`,
  );
}

/**
 * Cut points worth trying: every operation on the boot-state blocks, every program (image pages and slot
 * trailers), the first and last erase of each run of slot erases, plus `extra` erases drawn from `seed`.
 */
export function cutPoints(
  ops: readonly FlashOperation[],
  bootStateEnd: number,
  extra: number,
  seed: number,
): number[] {
  const picked = new Set<number>();
  ops.forEach((o, i) => {
    if (o.offset < bootStateEnd || o.op === 'program') picked.add(o.index);
    const prev = ops[i - 1];
    const next = ops[i + 1];
    if (o.op === 'erase' && o.offset >= bootStateEnd) {
      if (prev?.op !== 'erase' || prev.offset >= o.offset || prev.offset < bootStateEnd) picked.add(o.index);
      if (next?.op !== 'erase' || next.offset <= o.offset) picked.add(o.index);
    }
  });
  let x = seed >>> 0 || 1;
  for (let n = 0; n < extra; n++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    picked.add((x % ops.length) + 1);
  }
  return [...picked].sort((a, b) => a - b);
}
