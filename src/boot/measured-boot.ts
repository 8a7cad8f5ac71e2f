/**
 * Measured boot: a bank of platform configuration registers extended TPM-style (TCG PC Client PFP §2.3:
 * PCR_new = SHA-256(PCR_old ‖ measurement)), and the event log that says what was measured. Replaying
 * the log from all-zero registers must give the final values; any edited, dropped or reordered event
 * gives different ones.
 */
import { assert, InputError } from '../common/errors.js';
import { sha256, toHex } from './keys.js';

/** PCR allocation (docs/boot.md §"Measured boot"). */
export const PCR = {
  /** The secure bundle's signed manifest and the kernel configuration (measured by the ROM). */
  SECURE_FIRMWARE: 0,
  /** Each trusted application's manifest and code (measured by the kernel stage). */
  TRUSTED_APPLICATIONS: 1,
  /** The TZASC/TZPC/interrupt-group configuration as applied and locked. */
  SECURITY_CONFIGURATION: 2,
  /** The Normal World image's signed manifest and each component. */
  NORMAL_WORLD: 3,
} as const;
export const PCR_COUNT = 4;

export type MeasuringStage = 'rom' | 'kernel';
export type EventType = 'image-manifest' | 'component' | 'security-configuration';

export interface MeasurementEvent {
  readonly sequence: number;
  readonly pcr: number;
  readonly stage: MeasuringStage;
  readonly type: EventType;
  /** What was measured, e.g. `secure-bundle`, `ta-code:hello`. */
  readonly name: string;
  /** The measurement: SHA-256 of what was measured. */
  readonly digest: Uint8Array;
}

export function extendPcr(pcr: Uint8Array, measurement: Uint8Array): Uint8Array {
  const both = new Uint8Array(pcr.length + measurement.length);
  both.set(pcr, 0);
  both.set(measurement, pcr.length);
  return sha256(both);
}

export function initialPcrs(count = PCR_COUNT): Uint8Array[] {
  return Array.from({ length: count }, () => new Uint8Array(32));
}

export class MeasuredBoot {
  readonly #pcrs = initialPcrs();
  readonly #events: MeasurementEvent[] = [];

  extend(pcr: number, stage: MeasuringStage, type: EventType, name: string, digest: Uint8Array): void {
    const current = this.#pcrs[pcr];
    assert(current !== undefined && digest.length === 32, `bad PCR ${pcr} or digest length ${digest.length}`);
    this.#pcrs[pcr] = extendPcr(current, digest);
    this.#events.push({ sequence: this.#events.length, pcr, stage, type, name, digest: digest.slice() });
  }

  pcrs(): Uint8Array[] {
    return this.#pcrs.map((p) => p.slice());
  }

  events(): MeasurementEvent[] {
    return this.#events.map((e) => ({ ...e, digest: e.digest.slice() }));
  }
}

/** Recomputes the PCR values from an event log. */
export function replayEventLog(events: readonly MeasurementEvent[], count = PCR_COUNT): Uint8Array[] {
  const pcrs = initialPcrs(count);
  for (const [i, e] of events.entries()) {
    const current = pcrs[e.pcr];
    if (current === undefined || e.digest.length !== 32)
      throw new InputError(
        'BAD_EVENT_LOG',
        `the event names PCR ${e.pcr} (there are ${count}) or has a ${e.digest.length}-byte digest`,
        { field: `events[${i}]` },
      );
    pcrs[e.pcr] = extendPcr(current, e.digest);
  }
  return pcrs;
}

/** Does the log account for the PCR values? Names the first register that disagrees. */
export function checkEventLog(
  events: readonly MeasurementEvent[],
  pcrs: readonly Uint8Array[],
): { ok: true } | { ok: false; pcr: number; expected: string; replayed: string } {
  const replayed = replayEventLog(events, pcrs.length);
  for (const [i, p] of pcrs.entries()) {
    const r = replayed[i] as Uint8Array;
    if (toHex(r) !== toHex(p)) return { ok: false, pcr: i, expected: toHex(p), replayed: toHex(r) };
  }
  return { ok: true };
}
