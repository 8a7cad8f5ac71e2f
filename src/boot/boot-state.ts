/**
 * The A/B boot state: which bank is confirmed, and which (if any) holds an update on trial with how many
 * boot attempts left. Kept as two copies in two erase blocks (as PSA FWU keeps two metadata copies);
 * each write goes to the copy that does not hold the newest valid record, with a higher sequence number
 * and a SHA-256 seal, so a power cut at any point leaves the previous state readable.
 *
 * Record (64 bytes, little-endian; docs/boot.md §"Boot state"):
 *   0  4  magic "RBST"     4 1 format (1)     5 1 active bank     6 1 trial bank (0xFF: none)
 *   7  1  trial attempts left                 8 4 sequence        12 20 reserved (0)
 *   32 32 SHA-256 of bytes 0..31
 */
import { otherBank, type BankIndex, type FlashLayout } from './flash-layout.js';
import { sha256 } from './keys.js';
import type { FlashMedium } from './ports.js';

export const BOOT_STATE_MAGIC = Uint8Array.of(0x52, 0x42, 0x53, 0x54); // "RBST"
export const BOOT_STATE_SIZE = 64;
const NO_TRIAL = 0xff;

export interface Trial {
  readonly bank: BankIndex;
  readonly attemptsLeft: number;
}

export interface BootState {
  readonly sequence: number;
  readonly activeBank: BankIndex;
  readonly trial: Trial | undefined;
}

/** What a device with no valid record (fresh flash) assumes: bank A, nothing on trial. */
export const FACTORY_BOOT_STATE: BootState = { sequence: 0, activeBank: 0, trial: undefined };

export function encodeBootState(state: BootState): Uint8Array {
  const b = new Uint8Array(BOOT_STATE_SIZE);
  b.set(BOOT_STATE_MAGIC, 0);
  b[4] = 1;
  b[5] = state.activeBank;
  b[6] = state.trial ? state.trial.bank : NO_TRIAL;
  b[7] = state.trial ? state.trial.attemptsLeft : 0;
  new DataView(b.buffer).setUint32(8, state.sequence, true);
  b.set(sha256(b.subarray(0, 32)), 32);
  return b;
}

export function decodeBootState(b: Uint8Array): BootState | undefined {
  if (b.length < BOOT_STATE_SIZE) return undefined;
  for (let i = 0; i < 4; i++) if (b[i] !== BOOT_STATE_MAGIC[i]) return undefined;
  if (!Buffer.from(sha256(b.subarray(0, 32))).equals(Buffer.from(b.subarray(32, 64)))) return undefined;
  if (b[4] !== 1) return undefined;
  const active = b[5];
  const trialBank = b[6];
  const attempts = b[7] ?? 0;
  if (active !== 0 && active !== 1) return undefined;
  if (trialBank !== NO_TRIAL && trialBank !== otherBank(active)) return undefined;
  for (let i = 12; i < 32; i++) if (b[i] !== 0) return undefined;
  const sequence = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(8, true);
  return {
    sequence,
    activeBank: active,
    trial: trialBank === NO_TRIAL ? undefined : { bank: trialBank as BankIndex, attemptsLeft: attempts },
  };
}

export interface StoredBootState {
  readonly state: BootState;
  /** The copy the state was read from; undefined when neither copy is valid (factory state). */
  readonly copy: 0 | 1 | undefined;
}

export function readBootState(flash: FlashMedium, layout: FlashLayout): StoredBootState {
  const copies = layout.bootState.map((s) => decodeBootState(flash.read(s.offset, BOOT_STATE_SIZE)));
  const [a, b] = copies;
  if (a && (!b || a.sequence >= b.sequence)) return { state: a, copy: 0 };
  if (b) return { state: b, copy: 1 };
  return { state: FACTORY_BOOT_STATE, copy: undefined };
}

/** Writes the next state into the copy that does not hold the current one; returns what was written. */
export function writeBootState(
  flash: FlashMedium,
  layout: FlashLayout,
  next: { activeBank: BankIndex; trial: Trial | undefined },
): BootState {
  const current = readBootState(flash, layout);
  const target = current.copy === 0 ? 1 : 0;
  const state: BootState = { sequence: (current.state.sequence + 1) >>> 0, ...next };
  const slot = layout.bootState[target];
  flash.erase(slot.offset, slot.size);
  flash.program(slot.offset, encodeBootState(state));
  return state;
}
