/**
 * The boot ROM: the first code to run, and the only code trusted without verification. It trusts one
 * thing besides itself, the root-of-trust public key hash in the OTP fuses.
 *
 * On each cold boot it reads the A/B boot state, picks the bank to try (an update on trial first, else
 * the confirmed bank; the other bank as the fallback), and for that bank: reads the secure bundle once
 * into its own memory, authenticates it (signature by the fused key, anti-rollback counter), hash-checks
 * and measures the kernel configuration, and starts the kernel, whose stage (kernel-stage.ts) goes on to
 * the trusted applications and the Normal World. If any step refuses, the SoC is warm-reset and the next
 * bank is tried; if none boots, the device halts in a state an update can still repair.
 *
 * NV counters are advanced only by a confirmed boot: here, when the confirmed bank has booted; for an
 * update on trial, when the running system confirms it (update.ts: confirmBoot).
 */
import { assert, RampartError } from '../common/errors.js';
import { stableStringify } from '../common/json.js';
import { readBootState, writeBootState, type BootState } from './boot-state.js';
import { chainFailure, guarded, imageFailure, type BootFailure } from './failure.js';
import { BANK_NAMES, checkFlashLayout, otherBank, type BankIndex } from './flash-layout.js';
import { runKernelStage } from './kernel-stage.js';
import { toHex } from './keys.js';
import { MeasuredBoot, PCR, type MeasurementEvent } from './measured-boot.js';
import type { BootPolicy } from './policy.js';
import type { BootDevice, MonotonicCounters } from './ports.js';
import { readImageFromSlot } from './slots.js';
import { authenticate, type AuthenticImage, type ImageSummary } from './verify.js';

/** How the bank that is being booted came to be chosen. */
export type BootMode = 'confirmed' | 'trial' | 'fallback';

export interface BootAttempt {
  readonly bank: BankIndex;
  readonly mode: BootMode;
  readonly failure: BootFailure;
}

export interface CounterAdvance {
  readonly index: number;
  readonly from: number;
  readonly to: number;
}

export interface RunningOutcome {
  readonly status: 'running';
  readonly bank: BankIndex;
  readonly mode: BootMode;
  readonly secureBundle: ImageSummary;
  readonly normalWorld: ImageSummary;
  readonly trustedApplications: readonly string[];
  readonly events: readonly MeasurementEvent[];
  readonly pcrs: readonly Uint8Array[];
  /** Attempts refused before this one (other bank, earlier in the same power cycle). */
  readonly refused: readonly BootAttempt[];
  readonly bootState: BootState;
  /** Counters raised by this boot (only a boot of the confirmed bank raises any). */
  readonly countersAdvanced: readonly CounterAdvance[];
}

export interface HaltedOutcome {
  readonly status: 'halted';
  readonly refused: readonly BootAttempt[];
  readonly bootState: BootState;
}

export type BootOutcome = RunningOutcome | HaltedOutcome;

/** True when the fuses hold something that can be a key hash (not blank: all zeros or all ones). */
function usableKeyHash(hash: Uint8Array): boolean {
  return hash.length === 32 && !hash.every((b) => b === 0) && !hash.every((b) => b === 0xff);
}

/** Raises each counter to the booted image's security counter; never lowers one. */
export function advanceCounters(
  counters: MonotonicCounters,
  targets: readonly { index: number; value: number }[],
): CounterAdvance[] {
  const out: CounterAdvance[] = [];
  for (const { index, value } of targets) {
    const from = counters.read(index);
    if (value > from) {
      counters.advanceTo(index, value);
      out.push({ index, from, to: value });
    }
  }
  return out;
}

export async function coldBoot(device: BootDevice, policy: BootPolicy): Promise<BootOutcome> {
  const { flash } = device;
  const layout = policy.layout;
  const problem = checkFlashLayout(layout, flash.size, flash.eraseBlockSize);
  if (problem) throw new RampartError('FLASH_LAYOUT', `the board's boot flash layout is wrong: ${problem}`);
  let state = readBootState(flash, layout).state;
  const refused: BootAttempt[] = [];

  const trustedKeyHash = device.rootOfTrust.rotpkHash().slice();
  if (!usableKeyHash(trustedKeyHash)) {
    const failure = chainFailure(
      'rom',
      'NO_ROOT_OF_TRUST',
      `OTP ROTPK hash is blank (${toHex(trustedKeyHash)})`,
    );
    return {
      status: 'halted',
      refused: [{ bank: state.activeBank, mode: 'confirmed', failure }],
      bootState: state,
    };
  }

  // Bank selection (docs/boot.md §"A/B and recovery").
  const candidates: { bank: BankIndex; mode: BootMode }[] = [];
  const trial = state.trial;
  if (trial && trial.attemptsLeft > 0) {
    // Count the attempt before making it: a trial that hangs or resets is a failed trial.
    state = writeBootState(flash, layout, {
      activeBank: state.activeBank,
      trial: { bank: trial.bank, attemptsLeft: trial.attemptsLeft - 1 },
    });
    candidates.push({ bank: trial.bank, mode: 'trial' }, { bank: state.activeBank, mode: 'confirmed' });
  } else {
    if (state.trial)
      state = writeBootState(flash, layout, { activeBank: state.activeBank, trial: undefined });
    candidates.push(
      { bank: state.activeBank, mode: 'confirmed' },
      { bank: otherBank(state.activeBank), mode: 'fallback' },
    );
  }

  for (const { bank, mode } of candidates) {
    const measured = new MeasuredBoot();
    const result = await bootBank(device, policy, bank, trustedKeyHash, measured);
    if (result.ok) {
      const countersAdvanced =
        mode === 'confirmed'
          ? advanceCounters(device.counters, [
              { index: policy.counters.secureBundle, value: result.bundle.securityCounter },
              { index: policy.counters.normalWorld, value: result.normal.securityCounter },
            ])
          : [];
      return {
        status: 'running',
        bank,
        mode,
        secureBundle: result.bundle.summary,
        normalWorld: result.normal.summary,
        trustedApplications: result.trustedApplications,
        events: measured.events(),
        pcrs: measured.pcrs(),
        refused,
        bootState: state,
        countersAdvanced,
      };
    }
    refused.push({ bank, mode, failure: result.failure });
    // A refused image will be refused again: drop the trial now rather than after its attempts run out.
    if (mode === 'trial' && result.failure.image !== undefined)
      state = writeBootState(flash, layout, { activeBank: state.activeBank, trial: undefined });
    device.reset.warmReset();
  }
  return { status: 'halted', refused, bootState: state };
}

type BankResult =
  | { ok: true; bundle: AuthenticImage; normal: AuthenticImage; trustedApplications: string[] }
  | { ok: false; failure: BootFailure };

/** The ROM stage for one bank, then the kernel stage. */
async function bootBank(
  device: BootDevice,
  policy: BootPolicy,
  bank: BankIndex,
  trustedKeyHash: Uint8Array,
  measured: MeasuredBoot,
): Promise<BankResult> {
  const counter = await guarded('rom', 'DEVICE_ERROR', 'reading the secure-bundle NV counter', () =>
    device.counters.read(policy.counters.secureBundle),
  );
  if (!counter.ok) return counter;
  const read = await guarded('rom', 'DEVICE_ERROR', `reading bank ${BANK_NAMES[bank]}`, () =>
    readImageFromSlot(device.flash, policy.layout.banks[bank].secure),
  );
  if (!read.ok) return read;
  if (!read.value.ok) return { ok: false, failure: imageFailure('rom', 'secure-bundle', read.value.fault) };
  const auth = authenticate(read.value.bytes, {
    trustedKeyHash,
    expectedKind: 'secure-bundle',
    minSecurityCounter: counter.value,
  });
  if (!auth.ok) return { ok: false, failure: imageFailure('rom', 'secure-bundle', auth.fault) };
  const bundle = auth.image;
  const kernelEntry = bundle.manifest.components.find((c) => c.kind === 'kernel-config');
  assert(kernelEntry !== undefined, 'the parser let through a secure bundle without kernel-config');
  const kernel = bundle.component(kernelEntry);
  if (!kernel.ok) return { ok: false, failure: imageFailure('rom', 'secure-bundle', kernel.fault) };
  measured.extend(PCR.SECURE_FIRMWARE, 'rom', 'image-manifest', 'secure-bundle', bundle.measurement);
  measured.extend(
    PCR.SECURE_FIRMWARE,
    'rom',
    'component',
    `kernel-config:${kernelEntry.name}`,
    kernel.component.sha256,
  );
  const started = await guarded('rom', 'STAGE_FAILED', 'kernel', () =>
    device.secureWorld.startKernel({ bank, image: bundle.summary, config: kernel.component }),
  );
  if (!started.ok) return started;
  const k = await runKernelStage({ device, policy, bank, bundle, trustedKeyHash, measured });
  if (!k.ok) return k;
  return { ok: true, bundle, normal: k.normal, trustedApplications: k.trustedApplications };
}

/** A JSON-able view of an outcome (`rampart boot --json` and the docs use this shape). */
export function outcomeReport(outcome: BootOutcome): unknown {
  const refused = outcome.refused.map((a) => ({ bank: BANK_NAMES[a.bank], mode: a.mode, ...a.failure }));
  const state = {
    sequence: outcome.bootState.sequence,
    activeBank: BANK_NAMES[outcome.bootState.activeBank],
    trial: outcome.bootState.trial
      ? { bank: BANK_NAMES[outcome.bootState.trial.bank], attemptsLeft: outcome.bootState.trial.attemptsLeft }
      : undefined,
  };
  if (outcome.status === 'halted')
    return JSON.parse(stableStringify({ status: 'halted', refused, bootState: state }));
  return JSON.parse(
    stableStringify({
      status: 'running',
      bank: BANK_NAMES[outcome.bank],
      mode: outcome.mode,
      secureBundle: outcome.secureBundle,
      normalWorld: outcome.normalWorld,
      trustedApplications: outcome.trustedApplications,
      measuredBoot: { pcrs: outcome.pcrs, events: outcome.events },
      refused,
      bootState: state,
      countersAdvanced: outcome.countersAdvanced,
    }),
  );
}
