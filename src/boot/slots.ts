/**
 * Reading an image out of a flash slot, and writing one in. The reader learns the image's extent from
 * its header and TLV area header, bounds it by the slot, then copies the whole image out in one read:
 * every later check runs on that copy, never on the flash again (no time-of-check/time-of-use gap).
 */
import { RampartError } from '../common/errors.js';
import {
  declaredTlvSize,
  fault,
  HEADER_SIZE,
  parseHeader,
  TLV_INFO_SIZE,
  type ImageFault,
} from './format.js';
import type { Slot } from './flash-layout.js';
import type { BootMedium, FlashMedium } from './ports.js';

export function readImageFromSlot(
  medium: BootMedium,
  slot: Slot,
): { ok: true; bytes: Uint8Array } | { ok: false; fault: ImageFault } {
  if (slot.size < HEADER_SIZE)
    return {
      ok: false,
      fault: fault('TRUNCATED', 'header', slot.size, `slot of ${slot.size} bytes cannot hold a header`),
    };
  const head = medium.read(slot.offset, HEADER_SIZE);
  if (head.every((b) => b === 0xff))
    return { ok: false, fault: fault('EMPTY_SLOT', 'header', 0, 'the slot is erased: no image') };
  const h = parseHeader(head);
  if (!h.ok) return h;
  const tlvOffset = HEADER_SIZE + h.header.manifestSize + h.header.payloadSize;
  if (tlvOffset + TLV_INFO_SIZE > slot.size)
    return {
      ok: false,
      fault: fault(
        'SIZE_OVERFLOW',
        'header.payloadSize',
        12,
        `the header declares ${tlvOffset + TLV_INFO_SIZE}+ bytes; the slot holds ${slot.size}`,
      ),
    };
  const info = medium.read(slot.offset + tlvOffset, TLV_INFO_SIZE);
  const padded = new Uint8Array(tlvOffset + TLV_INFO_SIZE);
  padded.set(info, tlvOffset);
  const tlvSize = declaredTlvSize(padded, tlvOffset);
  // A bad TLV header: read up to it and let the parser say what is wrong.
  if (tlvSize === undefined || tlvSize < TLV_INFO_SIZE)
    return { ok: true, bytes: medium.read(slot.offset, tlvOffset + TLV_INFO_SIZE) };
  if (tlvOffset + tlvSize > slot.size)
    return {
      ok: false,
      fault: fault(
        'SIZE_OVERFLOW',
        'tlv.totalSize',
        tlvOffset + 4,
        `the image declares ${tlvOffset + tlvSize} bytes; the slot holds ${slot.size}`,
      ),
    };
  return { ok: true, bytes: medium.read(slot.offset, tlvOffset + tlvSize) };
}

/** Erases the slot and programs the image at its start. */
export function writeImageToSlot(flash: FlashMedium, slot: Slot, image: Uint8Array): void {
  if (image.length > slot.size)
    throw new RampartError(
      'IMAGE_TOO_LARGE',
      `image of ${image.length} bytes does not fit a ${slot.size}-byte slot`,
    );
  flash.erase(slot.offset, slot.size);
  flash.program(slot.offset, image);
}
