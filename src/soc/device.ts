/**
 * What every emulated device shares: the `Device` life cycle (reset / snapshot / restore), the MMIO
 * register-window interface the bus drives, and the context a device gets from its chip (clock, trace,
 * interrupt line, DMA port, deterministic randomness).
 */
import type { SeededRandom } from '../common/random.js';
import type { BusMaster, BusResult, Json, World } from './base.js';
import type { VirtualClock } from './clock.js';
import type { Trace } from './trace.js';

export type { Json, World } from './base.js';

/** The life cycle every device implements (v86 style). */
export interface Device<S extends Json = Json> {
  readonly name: string;
  readonly kind: string;
  /** Back to the power-on state; non-volatile state (flash cells, fuses, counters) survives. */
  reset(): void;
  /** Complete state as plain data: `restore(snapshot())` on a fresh instance gives the same device. */
  snapshot(): S;
  restore(snapshot: S): void;
}

/** Who issues an MMIO access: the bus fills this in from the master, never from the caller. */
export interface Access {
  readonly master: BusMaster;
  readonly world: World;
  readonly privileged: boolean;
  /** Index of the issuing CPU on its chip, or undefined for a DMA master. */
  readonly cpu: number | undefined;
}

/** A register access a device refuses (e.g. a non-secure read of the HUK): a fault, recorded by the bus. */
export interface MmioDenied {
  readonly ok: false;
  readonly reason: string;
}
export type MmioRead = { readonly ok: true; readonly value: number } | MmioDenied;
export type MmioWrite = { readonly ok: true } | MmioDenied;

export const DONE: MmioWrite = Object.freeze({ ok: true });
export function value(v: number): MmioRead {
  return { ok: true, value: v >>> 0 };
}
export function denied(reason: string): MmioDenied {
  return { ok: false, reason };
}

/** A device with a register window of 32-bit registers on its chip's bus. */
export interface MmioDevice<S extends Json = Json> extends Device<S> {
  /** Bytes of address space the register window occupies. */
  readonly windowSize: number;
  readRegister(offset: number, access: Access): MmioRead;
  writeRegister(offset: number, value: number, access: Access): MmioWrite;
  /** Handles an event the device scheduled on the virtual clock. */
  handleEvent?(action: string, data: Json): void;
}

/** Memory access on behalf of a DMA-capable device, checked by the bus like any other access. */
export interface DmaPort {
  read(address: number, length: number): BusResult<Uint8Array>;
  write(address: number, bytes: Uint8Array): BusResult<void>;
  readU32(address: number): BusResult<number>;
  writeU32(address: number, value: number): BusResult<void>;
}

/** What a chip gives each of its devices. */
export interface DeviceContext {
  /** `chip/device`, the device's name in traces and on the clock. */
  readonly path: string;
  readonly clock: VirtualClock;
  readonly trace: Trace;
  /** Deterministic randomness derived from the machine seed and `path`. */
  readonly random: SeededRandom;
  /** Bus-master port for DMA; the device's world is its TZPC assignment at the time of the access. */
  readonly dma: DmaPort;
  /** Raises the device's interrupt line (edge: sets it pending); a no-op if the board wired none. */
  raiseInterrupt(): void;
  /** Schedules `handleEvent(action, data)` on this device `delayNs` from now. */
  schedule(delayNs: number, action: string, data: Json): void;
  /** Drops every event this device has scheduled (on reset). */
  cancelEvents(): void;
  /** Records a device event in the machine trace (part of the run hash). */
  record(event: string, detail: Json): void;
}

// ---- helpers for device implementations ----

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Sparse snapshot of a byte array: only the pages that differ from `fill`, base64 per page. */
export function sparseSnapshot(bytes: Uint8Array, fill: number, pageSize = 4096): Record<string, string> {
  const pages: Record<string, string> = {};
  for (let page = 0; page * pageSize < bytes.length; page++) {
    const chunk = bytes.subarray(page * pageSize, Math.min(bytes.length, (page + 1) * pageSize));
    if (!isFilled(chunk, fill)) pages[String(page)] = toBase64(chunk);
  }
  return pages;
}

export function sparseRestore(
  bytes: Uint8Array,
  pages: Readonly<Record<string, string>>,
  fill: number,
  pageSize = 4096,
): void {
  bytes.fill(fill);
  for (const [page, data] of Object.entries(pages)) bytes.set(fromBase64(data), Number(page) * pageSize);
}

function isFilled(chunk: Uint8Array, fill: number): boolean {
  // Compare 32 bits at a time where alignment allows: snapshots of large RAM stay fast.
  if (chunk.byteOffset % 4 === 0 && chunk.length % 4 === 0) {
    const words = new Uint32Array(chunk.buffer, chunk.byteOffset, chunk.length / 4);
    const want = (fill * 0x01010101) >>> 0;
    for (let i = 0; i < words.length; i++) if (words[i] !== want) return false;
    return true;
  }
  for (let i = 0; i < chunk.length; i++) if (chunk[i] !== fill) return false;
  return true;
}

/** Reads little-endian 32-bit words out of bytes (registers expose byte arrays as words). */
export function wordOf(bytes: Uint8Array, index: number): number {
  let v = 0;
  for (let k = 3; k >= 0; k--) v = (v << 8) | (bytes[index * 4 + k] ?? 0);
  return v >>> 0;
}

export function setWord(bytes: Uint8Array, index: number, word: number): void {
  for (let k = 0; k < 4; k++) bytes[index * 4 + k] = (word >>> (8 * k)) & 0xff;
}
