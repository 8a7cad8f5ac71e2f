/**
 * Images in flash slots. A slot holds the image from its first byte and, in its last 16 bytes, a trailer
 * written after the image (like MCUboot's trailer magic): the number of bytes written, its complement, and
 * the magic "RSLOT-OK". No valid trailer means the write never completed.
 *
 * The reader copies exactly the written bytes out in one read; every later check runs on that copy and
 * never on the flash again (no time-of-check/time-of-use gap). The trailer is not trusted for anything
 * but the length of that read: the strict parser then finds a cut image TRUNCATED and an image followed
 * by extra bytes TRAILING_DATA, exactly as for a file.
 *
 * Trailer (16 bytes at slot end − 16): 0 4 length (LE) · 4 4 length XOR 0xFFFFFFFF · 8 8 "RSLOT-OK".
 */
import { RampartError } from '../common/errors.js';
import { fault, type ImageFault } from './format.js';
import type { Slot } from './flash-layout.js';
import type { BootMedium, FlashMedium } from './ports.js';

export const SLOT_TRAILER_SIZE = 16;
export const SLOT_TRAILER_MAGIC = new TextEncoder().encode('RSLOT-OK');

/** The largest image a slot can hold. */
export function slotCapacity(slot: Slot): number {
  return Math.max(0, slot.size - SLOT_TRAILER_SIZE);
}

function encodeTrailer(length: number): Uint8Array {
  const t = new Uint8Array(SLOT_TRAILER_SIZE);
  const v = new DataView(t.buffer);
  v.setUint32(0, length, true);
  v.setUint32(4, ~length >>> 0, true);
  t.set(SLOT_TRAILER_MAGIC, 8);
  return t;
}

function decodeTrailer(t: Uint8Array): number | undefined {
  const v = new DataView(t.buffer, t.byteOffset, t.byteLength);
  for (let i = 0; i < 8; i++) if (t[8 + i] !== SLOT_TRAILER_MAGIC[i]) return undefined;
  const length = v.getUint32(0, true);
  return v.getUint32(4, true) === ~length >>> 0 ? length : undefined;
}

export function readImageFromSlot(
  medium: BootMedium,
  slot: Slot,
): { ok: true; bytes: Uint8Array } | { ok: false; fault: ImageFault } {
  if (slot.size <= SLOT_TRAILER_SIZE)
    return {
      ok: false,
      fault: fault('TRUNCATED', 'slot', 0, `a ${slot.size}-byte slot cannot hold an image`),
    };
  const trailerAt = slot.offset + slot.size - SLOT_TRAILER_SIZE;
  const length = decodeTrailer(medium.read(trailerAt, SLOT_TRAILER_SIZE));
  if (length === undefined) {
    if (medium.read(slot.offset, Math.min(32, slotCapacity(slot))).every((b) => b === 0xff))
      return { ok: false, fault: fault('EMPTY_SLOT', 'slot', 0, 'the slot is erased: no image') };
    return {
      ok: false,
      fault: fault(
        'TRUNCATED',
        'slot.trailer',
        slot.size - SLOT_TRAILER_SIZE,
        'the slot has no valid trailer: its write never completed',
      ),
    };
  }
  if (length > slotCapacity(slot))
    return {
      ok: false,
      fault: fault(
        'SIZE_OVERFLOW',
        'slot.trailer.length',
        slot.size - SLOT_TRAILER_SIZE,
        `the slot trailer records ${length} bytes; the slot holds at most ${slotCapacity(slot)}`,
      ),
    };
  return { ok: true, bytes: medium.read(slot.offset, length) };
}

/** Erases the slot, programs the image at its start, then the trailer (last, so it marks completion). */
export function writeImageToSlot(flash: FlashMedium, slot: Slot, image: Uint8Array): void {
  if (image.length > slotCapacity(slot))
    throw new RampartError(
      'IMAGE_TOO_LARGE',
      `an image of ${image.length} bytes does not fit a ${slot.size}-byte slot`,
    );
  flash.erase(slot.offset, slot.size);
  flash.program(slot.offset, image);
  flash.program(slot.offset + slot.size - SLOT_TRAILER_SIZE, encodeTrailer(image.length));
}
