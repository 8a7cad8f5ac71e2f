/**
 * Physical memory regions. A region the board declares secure is backed by a plain `ArrayBuffer`, which
 * can never be shared with another isolate; a region the board declares non-secure by a
 * `SharedArrayBuffer`, which the kernel runtime maps into Normal World isolates. The TZASC decides at run
 * time whether a region is currently secure; `Chip.nonSecureBuffer` refuses any region that is not both
 * declared and currently non-secure.
 */
import { assert } from '../common/errors.js';
import type { Json, World } from './base.js';
import { sparseRestore, sparseSnapshot } from './device.js';

export type MemoryKind = 'ram' | 'rom';

export interface MemoryRegionSpec {
  readonly name: string;
  readonly kind: MemoryKind;
  readonly base: number;
  readonly size: number;
  /** Security the board declares; `undefined` on a chip without TrustZone. */
  readonly security: World | undefined;
}

export interface MemorySnapshot {
  readonly pages: Readonly<Record<string, string>>;
  readonly [key: string]: Json;
}

export class MemoryRegion {
  readonly name: string;
  readonly kind: MemoryKind;
  readonly base: number;
  readonly size: number;
  readonly declaredSecurity: World | undefined;
  /** `ArrayBuffer` for secure (and non-TrustZone) regions, `SharedArrayBuffer` for non-secure ones. */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly bytes: Uint8Array;

  constructor(spec: MemoryRegionSpec) {
    assert(spec.size > 0 && Number.isSafeInteger(spec.size), `region ${spec.name}: bad size`);
    this.name = spec.name;
    this.kind = spec.kind;
    this.base = spec.base;
    this.size = spec.size;
    this.declaredSecurity = spec.security;
    this.buffer =
      spec.security === 'non-secure' ? new SharedArrayBuffer(spec.size) : new ArrayBuffer(spec.size);
    this.bytes = new Uint8Array(this.buffer);
  }

  get end(): number {
    return this.base + this.size;
  }

  contains(address: number, length: number): boolean {
    return address >= this.base && address + length <= this.end;
  }

  /** Loads a mask-ROM image (manufacturing time); RAM is written through the bus instead. */
  loadRomImage(offset: number, image: Uint8Array): void {
    assert(this.kind === 'rom', `region ${this.name} is not a ROM`);
    assert(offset >= 0 && offset + image.length <= this.size, `ROM image does not fit ${this.name}`);
    this.bytes.set(image, offset);
  }

  /** RAM loses its content on reset; ROM keeps it. */
  reset(): void {
    if (this.kind === 'ram') this.bytes.fill(0);
  }

  snapshot(): MemorySnapshot {
    return { pages: sparseSnapshot(this.bytes, 0) };
  }

  restore(s: MemorySnapshot): void {
    sparseRestore(this.bytes, s.pages, 0);
  }
}
