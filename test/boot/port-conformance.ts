/**
 * What the boot chain assumes of each port, as checks that run against any implementation: the
 * in-memory fakes now, the adapters onto the emulated SoC's devices once they exist. One suite per
 * interface.
 */
import assert from 'node:assert/strict';
import { canonicalSecurityConfiguration } from '../../src/boot/security-config.js';
import type {
  FlashMedium,
  MonotonicCounters,
  RootOfTrust,
  SecurityConfiguration,
  SecurityConfigurator,
} from '../../src/boot/ports.js';

/** `flash` must be at least two erase blocks long and is erased by the suite. */
export function checkFlashMedium(flash: FlashMedium): void {
  const block = flash.eraseBlockSize;
  assert.ok(block > 0 && flash.size >= 2 * block && flash.size % block === 0, 'size is whole erase blocks');
  flash.erase(0, 2 * block);
  assert.ok(
    flash.read(0, 2 * block).every((b) => b === 0xff),
    'erase sets 0xFF',
  );
  // The chain only programs erased bytes (it never relies on what programming over data does).
  flash.program(10, Uint8Array.of(0x0f, 0xf0, 0x00));
  assert.deepEqual([...flash.read(10, 3)], [0x0f, 0xf0, 0x00], 'program stores bytes into erased flash');
  assert.deepEqual(
    [...flash.read(9, 1), ...flash.read(13, 1)],
    [0xff, 0xff],
    'program touches only its bytes',
  );
  // Reads are copies.
  const copy = flash.read(10, 3);
  copy[0] = 0x99;
  assert.equal(flash.read(10, 1)[0], 0x0f, 'a read returns a copy');
  // Erase is per block and leaves the other block alone.
  flash.program(block, Uint8Array.of(0x00));
  flash.erase(0, block);
  assert.equal(flash.read(10, 1)[0], 0xff);
  assert.equal(flash.read(block, 1)[0], 0x00);
  assert.throws(() => flash.read(flash.size - 1, 2), 'a read past the end throws');
  assert.throws(() => flash.program(flash.size, Uint8Array.of(0)), 'a program past the end throws');
  assert.throws(() => flash.erase(1, block), 'an unaligned erase throws');
  flash.erase(0, 2 * block);
}

export function checkMonotonicCounters(counters: MonotonicCounters): void {
  assert.ok(counters.count >= 2, 'at least the trusted and non-trusted counters');
  const i = counters.count - 1;
  const start = counters.read(i);
  counters.advanceTo(i, start + 3);
  assert.equal(counters.read(i), start + 3);
  counters.advanceTo(i, start + 3);
  assert.equal(counters.read(i), start + 3, 'advancing to the current value is a no-op');
  try {
    counters.advanceTo(i, start + 1);
  } catch {
    // refusing by throwing is allowed
  }
  assert.equal(counters.read(i), start + 3, 'a counter never goes back');
  assert.throws(() => counters.read(counters.count), 'no counter past the last');
}

export function checkRootOfTrust(rot: RootOfTrust): void {
  const first = rot.rotpkHash();
  const second = rot.rotpkHash().slice();
  assert.equal(first.length, 32);
  assert.deepEqual(first, second, 'fuses read the same every time');
  first.fill((first[0] as number) ^ 0xff);
  assert.deepEqual(rot.rotpkHash(), second, 'the fuse value is returned as a copy');
}

/** `configurator` must be unlocked (fresh from reset). */
export function checkSecurityConfigurator(
  configurator: SecurityConfigurator,
  config: SecurityConfiguration,
): void {
  assert.equal(configurator.isLocked(), false, 'unlocked after reset');
  configurator.apply(config);
  assert.deepEqual(
    canonicalSecurityConfiguration(configurator.readBack()),
    canonicalSecurityConfiguration(config),
  );
  configurator.lock();
  assert.equal(configurator.isLocked(), true);
  const other: SecurityConfiguration = {
    ...config,
    peripherals: config.peripherals.map((p) => ({
      ...p,
      world: p.world === 'secure' ? 'non-secure' : 'secure',
    })),
  };
  assert.throws(() => configurator.apply(other), 'a locked configuration cannot be reprogrammed');
  assert.deepEqual(
    canonicalSecurityConfiguration(configurator.readBack()),
    canonicalSecurityConfiguration(config),
  );
  assert.equal(configurator.isLocked(), true);
}
