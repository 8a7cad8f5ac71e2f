/**
 * The update life cycle around the ROM: provision a factory device, stage an update into the bank that
 * is not confirmed (on trial for a number of boots), and confirm a running update, which makes its bank
 * the confirmed one and only then raises the anti-rollback counters.
 *
 * Staging writes the images first and the boot state last, so a power cut while staging leaves the
 * confirmed bank selected; confirming writes the boot state first and the counters after, so a cut in
 * between is finished by the next boot of the (now confirmed) bank, which raises them too.
 *
 * Staging does not verify: the ROM is the judge. An update client should check an image with
 * `verifyImage` before staging it, to avoid wasting a trial on it.
 */
import { assert, RampartError } from '../common/errors.js';
import { readBootState, writeBootState, type BootState } from './boot-state.js';
import { otherBank, type BankIndex, type FlashLayout } from './flash-layout.js';
import type { BootPolicy } from './policy.js';
import type { BootDevice, FlashMedium } from './ports.js';
import { advanceCounters, type CounterAdvance, type RunningOutcome } from './rom.js';
import { writeImageToSlot } from './slots.js';

export interface BankImages {
  readonly secureBundle: Uint8Array;
  readonly normalWorld: Uint8Array;
}

/** Factory programming: both images into `bank`, which becomes the confirmed bank. */
export function provisionDevice(
  flash: FlashMedium,
  layout: FlashLayout,
  images: BankImages,
  bank: BankIndex = 0,
): BootState {
  writeImageToSlot(flash, layout.banks[bank].secure, images.secureBundle);
  writeImageToSlot(flash, layout.banks[bank].normal, images.normalWorld);
  return writeBootState(flash, layout, { activeBank: bank, trial: undefined });
}

/** Writes an update into the bank that is not confirmed and puts it on trial for `attempts` boots. */
export function stageUpdate(
  flash: FlashMedium,
  layout: FlashLayout,
  images: BankImages,
  attempts = 1,
): BootState {
  assert(
    Number.isInteger(attempts) && attempts >= 1 && attempts <= 254,
    `trial attempts must be 1..254, got ${attempts}`,
  );
  const { state } = readBootState(flash, layout);
  const target = otherBank(state.activeBank);
  writeImageToSlot(flash, layout.banks[target].secure, images.secureBundle);
  writeImageToSlot(flash, layout.banks[target].normal, images.normalWorld);
  return writeBootState(flash, layout, {
    activeBank: state.activeBank,
    trial: { bank: target, attemptsLeft: attempts },
  });
}

/**
 * Confirms the running system (after whatever health check the system makes): its bank becomes the
 * confirmed bank, then the NV counters rise to its images' security counters. Refuses if the boot
 * state changed since this boot (an update was staged meanwhile).
 */
export function confirmBoot(
  device: BootDevice,
  policy: BootPolicy,
  running: RunningOutcome,
): { bootState: BootState; countersAdvanced: CounterAdvance[] } {
  const { state } = readBootState(device.flash, policy.layout);
  if (state.sequence !== running.bootState.sequence)
    throw new RampartError(
      'BOOT_STATE_CHANGED',
      `the boot state changed since this boot (sequence ${running.bootState.sequence} → ${state.sequence}); reboot first`,
    );
  const bootState =
    state.activeBank === running.bank && state.trial === undefined
      ? state
      : writeBootState(device.flash, policy.layout, { activeBank: running.bank, trial: undefined });
  const countersAdvanced = advanceCounters(device.counters, [
    { index: policy.counters.secureBundle, value: running.secureBundle.securityCounter },
    { index: policy.counters.normalWorld, value: running.normalWorld.securityCounter },
  ]);
  return { bootState, countersAdvanced };
}
