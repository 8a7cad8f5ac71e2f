/**
 * Where things live in the boot flash: two copies of the boot state (one erase block each) and two banks
 * (A and B), each with a slot for the secure bundle and a slot for the Normal World image.
 */
import { RampartError } from '../common/errors.js';

export interface Slot {
  readonly offset: number;
  readonly size: number;
}

export interface Bank {
  readonly secure: Slot;
  readonly normal: Slot;
}

export type BankIndex = 0 | 1;
export const BANK_NAMES: readonly ['A', 'B'] = ['A', 'B'];

export interface FlashLayout {
  readonly bootState: readonly [Slot, Slot];
  readonly banks: readonly [Bank, Bank];
}

export function otherBank(bank: BankIndex): BankIndex {
  return bank === 0 ? 1 : 0;
}

function roundUp(n: number, block: number): number {
  return Math.ceil(n / block) * block;
}

/**
 * Lays out a flash of `flashSize` bytes: the two boot-state blocks first, then bank A, then bank B, each
 * slot rounded up to whole erase blocks. Throws if it does not fit.
 */
export function planFlashLayout(options: {
  flashSize: number;
  eraseBlockSize: number;
  secureSlotSize: number;
  normalSlotSize: number;
}): FlashLayout {
  const block = options.eraseBlockSize;
  const secure = roundUp(options.secureSlotSize, block);
  const normal = roundUp(options.normalSlotSize, block);
  const bank = (base: number): Bank => ({
    secure: { offset: base, size: secure },
    normal: { offset: base + secure, size: normal },
  });
  const layout: FlashLayout = {
    bootState: [
      { offset: 0, size: block },
      { offset: block, size: block },
    ],
    banks: [bank(2 * block), bank(2 * block + secure + normal)],
  };
  const problem = checkFlashLayout(layout, options.flashSize, block);
  if (problem) throw new RampartError('FLASH_LAYOUT', problem);
  return layout;
}

/** Every slot block-aligned, inside the flash, and no two overlapping; returns the first problem. */
export function checkFlashLayout(
  layout: FlashLayout,
  flashSize: number,
  eraseBlockSize: number,
): string | undefined {
  const slots: [string, Slot][] = [
    ['bootState[0]', layout.bootState[0]],
    ['bootState[1]', layout.bootState[1]],
    ...layout.banks.flatMap((b, i) => [
      [`banks[${i}].secure`, b.secure] as [string, Slot],
      [`banks[${i}].normal`, b.normal] as [string, Slot],
    ]),
  ];
  for (const [name, s] of slots) {
    if (s.size <= 0 || s.offset % eraseBlockSize !== 0 || s.size % eraseBlockSize !== 0)
      return `${name} is not a non-empty run of whole ${eraseBlockSize}-byte erase blocks`;
    if (s.offset < 0 || s.offset + s.size > flashSize) return `${name} ends past the ${flashSize}-byte flash`;
  }
  for (const [i, [a, s]] of slots.entries())
    for (const [b, t] of slots.slice(i + 1))
      if (s.offset < t.offset + t.size && t.offset < s.offset + s.size) return `${a} overlaps ${b}`;
  return undefined;
}
